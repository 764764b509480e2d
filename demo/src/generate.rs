//! `parindex generate`: fills a database directly — batched inserts, one transaction per
//! batch, no HTTP — with a country-sized tree (provinces → districts → communes), a
//! framework per province and year, and finalized self-assessments and appraisals with
//! realistic score spreads, scored by the real scoring engine. For load benchmarks.

use chrono::Utc;
use entity::{
    appraisal, assessment_entry, criterion, framework, publication, self_assessment, unit,
};
use indicatif::{ProgressBar, ProgressStyle};
use parindex_service::scoring::framework::parent_code;
use parindex_service::scoring::settle::settle;
use parindex_service::scoring::{
    CriteriaTree, Inputs, LeafScore, Method, round2, score_leaf, to_hundredths,
};
use parindex_service::services::frameworks::FrameworkSpec;
use parindex_service::state::AppState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, Set};
use serde_json::Value;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub communes: usize,
    pub years: Vec<i32>,
    /// Communes per district (the last district of a province may have fewer).
    pub communes_per_district: usize,
    pub districts_per_province: usize,
    /// Appraisals of the last year left `in_progress`, to measure finalization.
    pub pending: usize,
    pub seed: u64,
    /// Code prefix, so that several generations can share a database.
    pub prefix: String,
}

pub struct Generated {
    pub provinces: usize,
    pub districts: usize,
    pub communes: usize,
    pub entries: usize,
    pub seconds: f64,
}

/// Rows per INSERT statement: far below SQLite's 32 766 and PostgreSQL's 65 535 bound
/// parameters with our widest table (~17 columns).
const ROWS_PER_INSERT: usize = 1000;
/// Communes per transaction.
const COMMUNES_PER_BATCH: usize = 250;

async fn next_id<C: ConnectionTrait>(conn: &C, table: &str) -> Result<i64, anyhow::Error> {
    #[derive(FromQueryResult)]
    struct Max {
        max_id: Option<i64>,
    }
    let row = Max::find_by_statement(parindex_service::services::sql(
        conn,
        &format!("SELECT MAX(id) AS max_id FROM {table}"),
        vec![],
    ))
    .one(conn)
    .await?;
    Ok(row.and_then(|r| r.max_id).unwrap_or(0) + 1)
}

/// After inserting explicit ids, PostgreSQL's identity sequences must move past them.
async fn reset_sequences(db: &DatabaseConnection) -> Result<(), anyhow::Error> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in [
        "units",
        "frameworks",
        "criteria",
        "self_assessments",
        "appraisals",
        "assessment_entries",
        "publications",
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        ))
        .await?;
    }
    Ok(())
}

async fn insert_chunks<E, A, C>(conn: &C, rows: Vec<A>) -> Result<(), anyhow::Error>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Clone + Send,
    C: ConnectionTrait,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        E::insert_many(rows).exec_without_returning(conn).await?;
        rows = rest;
    }
    Ok(())
}

/// Inputs that make a leaf score about `fraction` of its max.
fn inputs_for(method: &Method, max: Decimal, share: f64, rng: &mut StdRng) -> Inputs {
    let f = share.clamp(0.0, 1.0);
    let pct = |f: f64| Decimal::from((f * 100.0).round() as i64);
    let mut i = Inputs::default();
    match method {
        Method::Manual {} => {
            i.score = Some(round2(max * fraction(f)));
        }
        Method::Ratio {} | Method::TargetRatio { .. } | Method::Threshold { .. } => {
            i.numerator = Some(pct(f));
            i.denominator = Some(Decimal::ONE_HUNDRED);
        }
        Method::PerItem { points } => {
            let n = (max / points).round();
            i.count = Some((f * decimal_f64(n)).round() as u32);
        }
        Method::PenaltyPerItem { points } => {
            let n = (max / points).round();
            i.count = Some(((1.0 - f) * decimal_f64(n)).round() as u32);
        }
        Method::Boolean {} => i.done = Some(rng.random::<f64>() < f),
        Method::StepTable { steps } => {
            let top = steps.last().map_or(1, |s| s.min_count);
            i.count = Some((f * f64::from(top)).round() as u32);
        }
        Method::RelativeToBest {} => i.value = Some(pct(f)),
    }
    i
}

fn decimal_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

/// Generated data only: a fraction in [0, 1] as a decimal with 4 places.
fn fraction(f: f64) -> Decimal {
    Decimal::new((f * 10_000.0).round() as i64, 4)
}

/// One leaf of a generated file: its code, the unit's inputs and score, the council's
/// inputs and score, the final score and the deduction (hundredths).
struct EntryRow {
    code: String,
    self_inputs: Inputs,
    self_score: Option<i64>,
    council_inputs: Inputs,
    council_score: Option<i64>,
    final_score: i64,
    deduction: i64,
}

/// A commune's year, scored: what gets inserted.
struct FileRows {
    self_total: i64,
    appraised_total: i64,
    bonus: i64,
    index: i64,
    deduction_total: i64,
    band: Option<String>,
    entries: Vec<EntryRow>,
}

fn score_file(
    spec: &FrameworkSpec,
    tree: &CriteriaTree,
    quality: f64,
    rng: &mut StdRng,
) -> Result<FileRows, anyhow::Error> {
    let mut self_scores = std::collections::HashMap::new();
    let mut council_scores = std::collections::HashMap::new();
    let mut rows = Vec::new();
    let hundred = Some(Decimal::ONE_HUNDRED);
    for c in tree.leaves() {
        let method = c.method.clone().unwrap_or(Method::Manual {});
        let council_f = quality + rng.random_range(-0.12..0.08);
        // Units grade themselves a little more kindly than the council does.
        let self_f = council_f + rng.random_range(0.0..0.1);
        let self_inputs = inputs_for(&method, c.max_score, self_f, rng);
        let council_inputs = inputs_for(&method, c.max_score, council_f, rng);
        let s = score_leaf(&method, c.max_score, &self_inputs, hundred)
            .unwrap_or(LeafScore::Scored(Decimal::ZERO));
        let a = score_leaf(&method, c.max_score, &council_inputs, hundred)
            .unwrap_or(LeafScore::Scored(Decimal::ZERO));
        self_scores.insert(c.code.clone(), s);
        council_scores.insert(c.code.clone(), a);
        rows.push((c.code.clone(), self_inputs, s, council_inputs, a));
    }
    let bonus = match rng.random_range(0..10) {
        0..=5 => Decimal::ZERO,
        6..=8 => Decimal::new(5, 1),
        _ => Decimal::ONE,
    };
    // The same computation as a council's finalization.
    let settled = settle(
        tree,
        spec.na_policy,
        &spec.rating_bands,
        &self_scores,
        &council_scores,
        bonus,
        Decimal::ZERO,
        None,
    )?;
    let stored = |s: LeafScore| match s {
        LeafScore::Scored(x) => Some(to_hundredths(x)),
        LeafScore::NotApplicable => None,
    };
    let entries = rows
        .into_iter()
        .map(|(code, si, s, ai, a)| {
            let leaf = settled.leaves.get(&code);
            EntryRow {
                final_score: leaf.map_or(0, |l| to_hundredths(l.final_score)),
                deduction: leaf.map_or(0, |l| to_hundredths(l.deduction)),
                code,
                self_inputs: si,
                self_score: stored(s),
                council_inputs: ai,
                council_score: stored(a),
            }
        })
        .collect();
    Ok(FileRows {
        self_total: to_hundredths(settled.self_total),
        appraised_total: to_hundredths(settled.appraised_total),
        bonus: to_hundredths(bonus),
        index: to_hundredths(settled.index),
        deduction_total: to_hundredths(settled.deduction_total),
        band: settled.band,
        entries,
    })
}

fn framework_spec(year: i32, owner: i64) -> Result<FrameworkSpec, anyhow::Error> {
    let f: Value = serde_json::from_str(include_str!("../fixtures/commune_framework_2023.json"))?;
    Ok(FrameworkSpec {
        year,
        name: format!("Bộ chỉ số CCHC cấp xã năm {year}"),
        owner_unit_id: owner,
        unit_kinds: vec![
            parindex_service::services::units::UnitKind::Commune,
            parindex_service::services::units::UnitKind::Town,
        ],
        na_policy: parindex_service::scoring::NotApplicablePolicy::FullScore,
        evidence_policy: entity::framework::EvidencePolicy::None,
        requires_leader_approval: false,
        appeal_days: None,
        bonus_max: Decimal::from(3),
        penalty_max: Decimal::ZERO,
        rating_bands: serde_json::from_value(f["rating_bands"].clone())?,
        submission_deadline: None,
        criteria: serde_json::from_value(f["criteria"].clone())?,
        composition: Default::default(),
        campaign: Default::default(),
    })
}

// Long by nature: the generator's phases (tree, frameworks, files, indices) in order,
// each batched; splitting it would only pass its many counters around.
pub async fn generate(
    state: &AppState,
    opts: &GenerateOptions,
    progress: bool,
) -> Result<Generated, anyhow::Error> {
    let started = Instant::now();
    let db = &state.db;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let now = Utc::now();
    let per_district = opts.communes_per_district.max(1);
    let districts_total = opts.communes.div_ceil(per_district);
    let provinces_total = districts_total.div_ceil(opts.districts_per_province.max(1));

    // The tree, with explicit ids so that paths are known without reading back.
    let mut id = next_id(db, "units").await?;
    let mut province_ids = Vec::new();
    let mut district_ids = Vec::new();
    let mut communes: Vec<(i64, usize)> = Vec::new(); // (unit id, province index)
    let mut rows = Vec::new();
    let kinds = ["commune", "commune", "commune", "commune", "town", "ward"];
    let mut commune_no = 0;
    for p in 0..provinces_total {
        let pid = id;
        id += 1;
        province_ids.push(pid);
        rows.push(unit_row(
            pid,
            &format!("{}P{p}", opts.prefix),
            &format!("Tỉnh {p}"),
            "province",
            None,
            &format!("/{pid}/"),
            0,
            now,
        ));
        for d in 0..opts.districts_per_province {
            if district_ids.len() >= districts_total {
                break;
            }
            let did = id;
            id += 1;
            district_ids.push(did);
            let dpath = format!("/{pid}/{did}/");
            rows.push(unit_row(
                did,
                &format!("{}P{p}D{d}", opts.prefix),
                &format!("Huyện {p}-{d}"),
                "district",
                Some(pid),
                &dpath,
                1,
                now,
            ));
            for c in 0..per_district {
                if commune_no >= opts.communes {
                    break;
                }
                let cid = id;
                id += 1;
                let kind = kinds[commune_no % kinds.len()];
                let label = match kind {
                    "town" => "Thị trấn",
                    "ward" => "Phường",
                    _ => "Xã",
                };
                rows.push(unit_row(
                    cid,
                    &format!("{}P{p}D{d}C{c}", opts.prefix),
                    &format!("{label} {p}-{d}-{c}"),
                    kind,
                    Some(did),
                    &format!("{dpath}{cid}/"),
                    2,
                    now,
                ));
                communes.push((cid, p));
                commune_no += 1;
            }
        }
    }
    let txn = parindex_service::db::begin_write(db).await?;
    insert_chunks(&txn, rows).await?;
    txn.commit().await?;

    // A framework per province and year.
    let mut framework_id = next_id(db, "frameworks").await?;
    let mut criterion_id = next_id(db, "criteria").await?;
    let mut frameworks = std::collections::HashMap::new();
    let txn = parindex_service::db::begin_write(db).await?;
    let mut fw_rows = Vec::new();
    let mut crit_rows = Vec::new();
    for (p, pid) in province_ids.iter().enumerate() {
        for year in &opts.years {
            let spec = framework_spec(*year, *pid)?;
            let tree =
                CriteriaTree::build(spec.criteria.clone()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            fw_rows.push(framework::ActiveModel {
                id: Set(framework_id),
                owner_unit_id: Set(*pid),
                year: Set(*year),
                name: Set(spec.name.clone()),
                unit_kinds: Set("commune,town,ward".to_string()),
                status: Set(entity::status::FrameworkStatus::Published),
                na_policy: Set(spec.na_policy.as_str().to_string()),
                evidence_policy: Set(spec.evidence_policy),
                requires_leader_approval: Set(spec.requires_leader_approval),
                appeal_days: Set(spec.appeal_days),
                bonus_max_x100: Set(to_hundredths(spec.bonus_max)),
                penalty_max_x100: Set(to_hundredths(spec.penalty_max)),
                components: Set("[]".to_string()),
                missing_component: Set("zero".to_string()),
                campaign: Set("{}".to_string()),
                rating_bands: Set(serde_json::to_string(&spec.rating_bands)?),
                submission_deadline: Set(None),
                published_at: Set(Some(now)),
                created_by: Set(None),
                version: Set(2),
                created_at: Set(now),
                updated_at: Set(now),
            });
            for (position, c) in tree.criteria().iter().enumerate() {
                crit_rows.push(criterion::ActiveModel {
                    id: Set(criterion_id),
                    framework_id: Set(framework_id),
                    code: Set(c.code.clone()),
                    parent_code: Set(parent_code(&c.code).map(str::to_string)),
                    position: Set(position as i32),
                    title: Set(c.title.clone()),
                    max_score_x100: Set(to_hundredths(c.max_score)),
                    is_leaf: Set(tree.is_leaf(&c.code)),
                    method: Set(c
                        .method
                        .as_ref()
                        .map(|m| serde_json::to_string(m).unwrap_or_default())),
                    scorer: Set(c.scorer.as_str().to_string()),
                    appraised_by_unit_id: Set(None),
                    indicator_code: Set(None),
                    indicator_feeds_self: Set(false),
                });
                criterion_id += 1;
            }
            frameworks.insert((p, *year), (framework_id, spec, tree));
            framework_id += 1;
        }
    }
    insert_chunks(&txn, fw_rows).await?;
    insert_chunks(&txn, crit_rows).await?;
    txn.commit().await?;

    // Files: a self-assessment, an appraisal and every leaf's entry per commune and year.
    let bar = if progress {
        let bar = ProgressBar::new((communes.len() * opts.years.len()) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} files ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let quality: Vec<f64> = communes
        .iter()
        .map(|_| rng.random_range(0.72..0.98))
        .collect();
    let mut sa_id = next_id(db, "self_assessments").await?;
    let mut appraisal_id = next_id(db, "appraisals").await?;
    let mut entry_id = next_id(db, "assessment_entries").await?;
    let last_year = opts.years.iter().copied().max().unwrap_or_default();
    let mut entries_total = 0;
    for year in &opts.years {
        for (batch_no, batch) in communes.chunks(COMMUNES_PER_BATCH).enumerate() {
            let mut sa_rows = Vec::new();
            let mut appraisal_rows = Vec::new();
            let mut entry_rows = Vec::new();
            for (i, (unit_id, p)) in batch.iter().enumerate() {
                let n = batch_no * COMMUNES_PER_BATCH + i;
                let (fid, spec, tree) = &frameworks[&(*p, *year)];
                // Quality drifts a little from year to year.
                let q = quality[n] + rng.random_range(-0.03..0.03);
                let file = score_file(spec, tree, q, &mut rng)?;
                // The last communes' files stay in progress: the first districts are complete.
                let pending = *year == last_year && n + opts.pending >= communes.len();
                sa_rows.push(self_assessment::ActiveModel {
                    id: Set(sa_id),
                    unit_id: Set(*unit_id),
                    framework_id: Set(*fid),
                    year: Set(*year),
                    status: Set(if pending {
                        entity::status::SelfAssessmentStatus::Submitted
                    } else {
                        entity::status::SelfAssessmentStatus::Appraised
                    }),
                    self_total_x100: Set(file.self_total),
                    round: Set(1),
                    submitted_at: Set(Some(now)),
                    editable_codes: Set(None),
                    approved_at: Set(None),
                    approved_by: Set(None),
                    approved_by_name: Set(None),
                    created_by: Set(None),
                    version: Set(3),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                appraisal_rows.push(appraisal::ActiveModel {
                    id: Set(appraisal_id),
                    self_assessment_id: Set(sa_id),
                    unit_id: Set(*unit_id),
                    framework_id: Set(*fid),
                    year: Set(*year),
                    status: Set(if pending {
                        entity::status::AppraisalStatus::InProgress
                    } else {
                        entity::status::AppraisalStatus::Finalized
                    }),
                    appraised_total_x100: Set(file.appraised_total),
                    bonus_x100: Set(file.bonus),
                    bonus_reason: Set((file.bonus > 0).then(|| "Sáng kiến CCHC".to_string())),
                    self_total_x100: Set((!pending).then_some(file.self_total)),
                    index_x100: Set((!pending).then_some(file.index)),
                    deduction_total_x100: Set((!pending).then_some(file.deduction_total)),
                    rating_band: Set(if pending { None } else { file.band.clone() }),
                    penalties: Set("[]".to_string()),
                    penalty_total_x100: Set(0),
                    components: Set(None),
                    unranked: Set(false),
                    finalized_at: Set((!pending).then_some(now)),
                    finalized_by: Set(None),
                    version: Set(3),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                for e in file.entries {
                    entry_rows.push(assessment_entry::ActiveModel {
                        id: Set(entry_id),
                        self_assessment_id: Set(sa_id),
                        criterion_code: Set(e.code),
                        self_inputs: Set(Some(serde_json::to_string(&e.self_inputs)?)),
                        self_score_x100: Set(e.self_score),
                        self_not_applicable: Set(false),
                        explanation: Set(None),
                        evidence: Set("[]".to_string()),
                        appraised_inputs: Set(Some(serde_json::to_string(&e.council_inputs)?)),
                        appraised_score_x100: Set(e.council_score),
                        appraised_not_applicable: Set(false),
                        comment: Set((e.deduction > 0).then(|| "Chưa đạt yêu cầu".to_string())),
                        final_score_x100: Set((!pending).then_some(e.final_score)),
                        deduction_x100: Set((!pending).then_some(e.deduction)),
                        review_state: Set(entity::status::ReviewState::Confirmed),
                        reviewed_by: Set(None),
                        reviewed_at: Set(Some(now)),
                        overridden_score_x100: Set(None),
                        override_reason: Set(None),
                        updated_at: Set(now),
                    });
                    entry_id += 1;
                    entries_total += 1;
                }
                sa_id += 1;
                appraisal_id += 1;
            }
            let txn = parindex_service::db::begin_write(db).await?;
            insert_chunks(&txn, sa_rows).await?;
            insert_chunks(&txn, appraisal_rows).await?;
            insert_chunks(&txn, entry_rows).await?;
            txn.commit().await?;
            bar.inc(batch.len() as u64);
        }
    }
    bar.finish_and_clear();

    // Results published for every district, so officers and viewers can read them too.
    let mut publication_id = next_id(db, "publications").await?;
    let mut pub_rows = Vec::new();
    for did in district_ids.iter().chain(province_ids.iter()) {
        for year in &opts.years {
            pub_rows.push(publication::ActiveModel {
                id: Set(publication_id),
                parent_unit_id: Set(*did),
                year: Set(*year),
                published_by: Set(None),
                published_at: Set(now),
                revision: Set(1),
                ..Default::default()
            });
            publication_id += 1;
        }
    }
    let txn = parindex_service::db::begin_write(db).await?;
    insert_chunks(&txn, pub_rows).await?;
    parindex_service::services::results::freeze_unfrozen(&txn)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    txn.commit().await?;
    reset_sequences(db).await?;
    // Fresh statistics, so the planner knows the tables' new sizes.
    db.execute_unprepared("ANALYZE").await?;
    Ok(Generated {
        provinces: province_ids.len(),
        districts: district_ids.len(),
        communes: communes.len(),
        entries: entries_total,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[allow(clippy::too_many_arguments)]
fn unit_row(
    id: i64,
    code: &str,
    name: &str,
    kind: &str,
    parent: Option<i64>,
    path: &str,
    depth: i32,
    now: chrono::DateTime<Utc>,
) -> unit::ActiveModel {
    unit::ActiveModel {
        id: Set(id),
        code: Set(code.to_string()),
        name: Set(name.to_string()),
        name_search: Set(parindex_service::validation::fold_for_search(name)),
        kind: Set(kind.to_string()),
        parent_id: Set(parent),
        path: Set(path.to_string()),
        depth: Set(depth),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
