//! Criteria frameworks: created by an admin or a district appraiser for the units under
//! an owner unit, `draft` until published, immutable once a unit has assessed against it.

use super::audit::{self, Change};
use super::now;
use super::scope::{Page, PageRequest, Reach, scoped};
use super::units::{UnitKind, find_unit, unit_ref};
use super::versioned::{Precondition, Versioned, Write, record_created};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, FieldError, Violations, text};
use crate::scoring::composition::{Composition, MissingComponent};
use crate::scoring::framework::{CriteriaTree, CriterionDef, DefinitionError, Scorer, parent_code};
use crate::scoring::totals::check_bands;
use crate::scoring::{
    Method, NotApplicablePolicy, RatingBand, from_hundredths, round2, to_hundredths,
};
use chrono::NaiveDate;
use entity::framework::EvidencePolicy;
use entity::status::FrameworkStatus;
use entity::{criterion, framework, self_assessment, unit};
use parindex_domain::campaign::Campaign;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

pub const MAX_BONUS: Decimal = Decimal::from_parts(20, 0, 0, false, 0);

/// Everything that defines a framework, as sent by clients.
#[derive(Clone, Debug)]
pub struct FrameworkSpec {
    pub year: i32,
    pub name: String,
    pub owner_unit_id: i64,
    pub unit_kinds: Vec<UnitKind>,
    pub na_policy: NotApplicablePolicy,
    pub evidence_policy: EvidencePolicy,
    /// A leader of the unit must approve its self-assessment before submission.
    pub requires_leader_approval: bool,
    /// Days units may appeal after the preliminary results are released (`None`: none).
    pub appeal_days: Option<i32>,
    pub bonus_max: Decimal,
    /// The most penalty points (điểm trừ) an appraisal may subtract (0: none).
    pub penalty_max: Decimal,
    pub rating_bands: Vec<RatingBand>,
    pub submission_deadline: Option<NaiveDate>,
    pub criteria: Vec<CriterionDef>,
    /// The index's components (none: the index is the criteria's sum) and what a unit's
    /// missing one does.
    pub composition: Composition,
    /// The year's campaign dates around the submission deadline and the appeal window.
    pub campaign: Campaign,
}

/// A framework with its validated criteria tree.
#[derive(Clone, Debug)]
pub struct LoadedFramework {
    pub model: framework::Model,
    pub tree: CriteriaTree,
    pub bands: Vec<RatingBand>,
    pub policy: NotApplicablePolicy,
    pub unit_kinds: Vec<UnitKind>,
    pub composition: Composition,
    pub campaign: Campaign,
}

impl LoadedFramework {
    pub fn bonus_max(&self) -> Decimal {
        from_hundredths(self.model.bonus_max_x100)
    }

    pub fn penalty_max(&self) -> Decimal {
        from_hundredths(self.model.penalty_max_x100)
    }

    pub fn is_published(&self) -> bool {
        self.model.status == FrameworkStatus::Published
    }

    /// The spec it was made from (for copies and exports).
    pub fn spec(&self) -> FrameworkSpec {
        FrameworkSpec {
            year: self.model.year,
            name: self.model.name.clone(),
            owner_unit_id: self.model.owner_unit_id,
            unit_kinds: self.unit_kinds.clone(),
            na_policy: self.policy,
            evidence_policy: self.model.evidence_policy,
            requires_leader_approval: self.model.requires_leader_approval,
            appeal_days: self.model.appeal_days,
            bonus_max: self.bonus_max(),
            penalty_max: self.penalty_max(),
            rating_bands: self.bands.clone(),
            submission_deadline: self.model.submission_deadline,
            criteria: self.tree.criteria().to_vec(),
            composition: self.composition.clone(),
            campaign: self.campaign.clone(),
        }
    }
}

fn definition_errors(errors: Vec<DefinitionError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| FieldError::new(e.field, e.code, e.message))
        .collect()
}

/// Validates a spec against its owner unit; returns the normalised spec and its tree.
// Long by nature: every setting of a framework checked in turn, all problems collected.
fn validate(
    spec: FrameworkSpec,
    owner: Option<&unit::Model>,
) -> ApiResult<(FrameworkSpec, CriteriaTree)> {
    let mut v = Violations::new();
    let name = crate::validation::text(&mut v, "name", &spec.name, 200, true).unwrap_or_default();
    if !(2000..=2100).contains(&spec.year) {
        v.add(
            "year",
            "out_of_range",
            text!("must be between 2000 and 2100", "phải từ 2000 đến 2100"),
        );
    }
    if spec.unit_kinds.is_empty() {
        v.add(
            "unit_kinds",
            "required",
            text!(
                "name at least one kind of unit",
                "cần nêu ít nhất một loại đơn vị"
            ),
        );
    }
    if let Some(owner) = owner {
        let owner_kind = UnitKind::parse(&owner.kind).unwrap_or(UnitKind::Commune);
        if let Some(k) = spec
            .unit_kinds
            .iter()
            .find(|k| k.level() <= owner_kind.level())
        {
            v.add(
                "unit_kinds",
                "invalid_hierarchy",
                {
                    let (owner, kind) = (owner_kind.as_str(), k.as_str());
                    let (owner_vi, kind_vi) = (owner_kind.words_vi(), k.words_vi());
                    text!(
                        "a framework owned by a {owner} scores the units below it, not a {kind}",
                        "bộ tiêu chí của cấp {owner_vi} chấm các đơn vị cấp dưới, không chấm cấp {kind_vi}"
                    )
                },
            );
        }
    }
    if spec.bonus_max < Decimal::ZERO || spec.bonus_max > MAX_BONUS {
        v.add(
            "bonus_max",
            "out_of_range",
            text!(
                "must be between 0 and {MAX_BONUS}",
                "phải từ 0 đến {MAX_BONUS}"
            ),
        );
    } else if crate::scoring::decimal::has_more_places_than(spec.bonus_max, 2) {
        v.add(
            "bonus_max",
            "too_many_decimals",
            text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
        );
    }
    if spec.penalty_max < Decimal::ZERO || spec.penalty_max > MAX_BONUS {
        v.add(
            "penalty_max",
            "out_of_range",
            text!(
                "must be between 0 and {MAX_BONUS}",
                "phải từ 0 đến {MAX_BONUS}"
            ),
        );
    } else if crate::scoring::decimal::has_more_places_than(spec.penalty_max, 2) {
        v.add(
            "penalty_max",
            "too_many_decimals",
            text!("at most 2 decimal places", "tối đa 2 chữ số thập phân"),
        );
    }
    for e in
        parindex_domain::campaign::check(&spec.campaign, spec.submission_deadline, spec.appeal_days)
    {
        v.add(e.field, e.code, e.message);
    }
    if spec.appeal_days.is_some_and(|d| !(0..=60).contains(&d)) {
        v.add(
            "appeal_days",
            "out_of_range",
            text!("must be between 0 and 60", "phải từ 0 đến 60"),
        );
    }
    for e in check_bands(&spec.rating_bands, spec.bonus_max) {
        v.add(e.field, e.code, e.message);
    }
    let mut criteria = spec.criteria.clone();
    for (i, c) in criteria.iter_mut().enumerate() {
        c.code = c.code.trim().to_string();
        c.title = crate::validation::text(
            &mut v,
            &format!("criteria[{i}].title"),
            &c.title,
            1000,
            true,
        )
        .unwrap_or_default();
    }
    match CriteriaTree::build(criteria.clone()) {
        Ok(_) if v.is_empty() => {}
        Ok(_) => return Err(ApiError::validation(v.into_vec())),
        Err(errors) => {
            let mut all = v.into_vec();
            all.extend(definition_errors(errors));
            return Err(ApiError::validation(all));
        }
    }
    check_indicators(&criteria)?;
    if let Ok(tree) = CriteriaTree::build(criteria.clone()) {
        let errors = crate::scoring::composition::check(&tree, &spec.composition);
        if !errors.is_empty() {
            return Err(ApiError::validation(definition_errors(errors)));
        }
    }
    let mut kinds = spec.unit_kinds.clone();
    kinds.dedup();
    // Validated to at most 2 places: written with exactly 2 from here on.
    let criteria: Vec<CriterionDef> = criteria
        .into_iter()
        .map(|c| CriterionDef {
            max_score: round2(c.max_score),
            method: c.method.as_ref().map(Method::normalised),
            ..c
        })
        .collect();
    let rating_bands = spec
        .rating_bands
        .iter()
        .map(|b| RatingBand {
            label: b.label.trim().to_string(),
            min_index: round2(b.min_index),
        })
        .collect();
    let tree = CriteriaTree::build(criteria.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("normalised criteria invalid: {e:?}")))?;
    Ok((
        FrameworkSpec {
            name,
            criteria,
            unit_kinds: kinds,
            bonus_max: round2(spec.bonus_max),
            penalty_max: round2(spec.penalty_max),
            rating_bands,
            ..spec
        },
        tree,
    ))
}

/// Each criterion's appraising agency must be an active agency directly under the
/// framework's owner (its field appraisers work over the owner's units).
async fn check_assignments<C: ConnectionTrait>(
    conn: &C,
    owner: &unit::Model,
    criteria: &[CriterionDef],
) -> ApiResult<()> {
    let mut ids: Vec<i64> = criteria
        .iter()
        .filter_map(|c| c.appraised_by_unit_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    ids.sort_unstable();
    ids.dedup();
    let units: std::collections::HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut errors = Vec::new();
    for (i, c) in criteria.iter().enumerate() {
        let Some(id) = c.appraised_by_unit_id else {
            continue;
        };
        let owner_name = &owner.name;
        let problem = match units.get(&id) {
            None => Some(text!("unit {id} does not exist", "không có đơn vị {id}")),
            Some(u) if crate::services::units::kind_of(u) != UnitKind::Agency => {
                let name = &u.name;
                Some(text!(
                    "{name} is not an agency (sở, ban, ngành)",
                    "{name} không phải sở, ban, ngành"
                ))
            }
            Some(u) if u.parent_id != Some(owner.id) || !u.active => {
                let name = &u.name;
                Some(text!(
                    "{name} is not an active agency of {owner_name}",
                    "{name} không phải sở, ban, ngành đang hoạt động của {owner_name}"
                ))
            }
            Some(_) => None,
        };
        if let Some(message) = problem {
            errors.push(FieldError::new(
                format!("criteria[{i}].appraised_by_unit_id"),
                "invalid_agency",
                message,
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// An indicator code names its system, then the indicator (`qlvb.documents_signed_digitally`),
/// and only a leaf is fed.
fn check_indicators(criteria: &[CriterionDef]) -> ApiResult<()> {
    let tree_codes: std::collections::HashSet<&str> = criteria
        .iter()
        .filter_map(|c| parent_code(&c.code))
        .collect();
    let mut errors = Vec::new();
    for (i, c) in criteria.iter().enumerate() {
        if c.indicator_feeds_self
            && (c.indicator_code.is_none() || c.scorer != Scorer::SelfAssessed)
        {
            let code = &c.code;
            errors.push(FieldError::new(
                format!("criteria[{i}].indicator_feeds_self"),
                "not_fed",
                text!(
                    "{code}: only a self-scored leaf with an indicator_code feeds the unit's side",
                    "{code}: chỉ tiêu chí lá do đơn vị tự chấm có indicator_code mới lấy số liệu cho đơn vị"
                ),
            ));
        }
        let Some(code) = &c.indicator_code else {
            continue;
        };
        let parts: Vec<&str> = code.split('.').collect();
        let well_formed = code.len() <= 64
            && parts.len() >= 2
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            });
        let field = format!("criteria[{i}].indicator_code");
        if !well_formed {
            errors.push(FieldError::new(
                field,
                "invalid_format",
                text!(
                    "the system, then the indicator, in lower-case words joined by dots (e.g. qlvb.documents_signed_digitally), at most 64 characters",
                    "tên hệ thống rồi tên chỉ tiêu, chữ thường nối bằng dấu chấm (ví dụ qlvb.documents_signed_digitally), tối đa 64 ký tự"
                ),
            ));
        } else if tree_codes.contains(c.code.as_str()) {
            let code = &c.code;
            errors.push(FieldError::new(
                field,
                "not_a_leaf",
                text!(
                    "{code} is not a leaf: only leaves are fed from an indicator",
                    "{code} không phải tiêu chí lá: chỉ tiêu chí lá lấy số liệu từ chỉ tiêu"
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

fn kinds_text(kinds: &[UnitKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn bands_text(bands: &[RatingBand]) -> String {
    serde_json::to_string(bands).unwrap_or_else(|_| "[]".into())
}

fn criterion_rows(framework_id: i64, tree: &CriteriaTree) -> Vec<criterion::ActiveModel> {
    tree.criteria()
        .iter()
        .enumerate()
        .map(|(position, c)| criterion::ActiveModel {
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
            appraised_by_unit_id: Set(c.appraised_by_unit_id),
            indicator_code: Set(c.indicator_code.clone()),
            indicator_feeds_self: Set(c.indicator_feeds_self),
            ..Default::default()
        })
        .collect()
}

async fn replace_criterion_rows<C: ConnectionTrait>(
    conn: &C,
    framework_id: i64,
    tree: &CriteriaTree,
) -> ApiResult<()> {
    criterion::Entity::delete_many()
        .filter(criterion::Column::FrameworkId.eq(framework_id))
        .exec(conn)
        .await?;
    for chunk in criterion_rows(framework_id, tree).chunks(200) {
        criterion::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// What the audit trail keeps of a framework: its settings and criteria.
fn framework_json(f: &LoadedFramework) -> serde_json::Value {
    json!({
        "year": f.model.year,
        "name": f.model.name,
        "owner_unit_id": f.model.owner_unit_id,
        "status": f.model.status,
        "unit_kinds": f.model.unit_kinds,
        "na_policy": f.model.na_policy,
        "evidence_policy": f.model.evidence_policy,
        "requires_leader_approval": f.model.requires_leader_approval,
        "appeal_days": f.model.appeal_days,
        "bonus_max": from_hundredths(f.model.bonus_max_x100),
        "penalty_max": from_hundredths(f.model.penalty_max_x100),
        "components": f.composition.components,
        "missing_component": f.composition.missing,
        "campaign": f.campaign,
        "rating_bands": f.bands,
        "submission_deadline": f.model.submission_deadline,
        "criteria": f.tree.criteria(),
    })
}

// Described with its criteria (another table).
crate::versioned!(
    framework,
    kind = "framework",
    audit = "framework",
    unit_id = |m| Some(m.owner_unit_id),
    describe = |conn, m| Ok(framework_json(&load(conn, m.id).await?)),
);

/// Loads a framework and rebuilds its tree.
pub async fn load<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<LoadedFramework> {
    let model = framework::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "framework {id} does not exist",
                "không có bộ tiêu chí {id}"
            ))
        })?;
    let rows = criterion::Entity::find()
        .filter(criterion::Column::FrameworkId.eq(id))
        .order_by_asc(criterion::Column::Position)
        .all(conn)
        .await?;
    let criteria = rows
        .into_iter()
        .map(|r| {
            let method: Option<Method> = match &r.method {
                Some(text) => Some(serde_json::from_str(text).map_err(ApiError::internal)?),
                None => None,
            };
            Ok(CriterionDef {
                code: r.code,
                title: r.title,
                max_score: from_hundredths(r.max_score_x100),
                method,
                scorer: Scorer::parse(&r.scorer).unwrap_or_default(),
                appraised_by_unit_id: r.appraised_by_unit_id,
                indicator_code: r.indicator_code,
                indicator_feeds_self: r.indicator_feeds_self,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let tree = CriteriaTree::build(criteria).map_err(|e| {
        ApiError::internal(anyhow::anyhow!("stored framework {id} is invalid: {e:?}"))
    })?;
    let bands: Vec<RatingBand> =
        serde_json::from_str(&model.rating_bands).map_err(ApiError::internal)?;
    let policy = NotApplicablePolicy::parse(&model.na_policy).unwrap_or_default();
    let unit_kinds = model
        .unit_kinds
        .split(',')
        .filter_map(UnitKind::parse)
        .collect();
    let composition = Composition {
        components: serde_json::from_str(&model.components).map_err(ApiError::internal)?,
        missing: MissingComponent::parse(&model.missing_component).unwrap_or_default(),
    };
    let campaign = serde_json::from_str(&model.campaign).map_err(ApiError::internal)?;
    Ok(LoadedFramework {
        model,
        tree,
        bands,
        policy,
        unit_kinds,
        composition,
        campaign,
    })
}

/// Frameworks that are in use (a unit has a finalized appraisal on them), built once per
/// process: such frameworks can no longer change (see `in_use`), so a cached one is
/// never stale. One cache per `AppState`, so per database.
#[derive(Clone, Default)]
pub struct FrameworkCache(
    std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<i64, std::sync::Arc<LoadedFramework>>>,
    >,
);

impl FrameworkCache {
    /// The framework `id`, which the caller knows to be in use.
    pub async fn in_use<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: i64,
    ) -> ApiResult<std::sync::Arc<LoadedFramework>> {
        if let Some(f) = self.0.lock().ok().and_then(|c| c.get(&id).cloned()) {
            return Ok(f);
        }
        let f = std::sync::Arc::new(load(conn, id).await?);
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(id, std::sync::Arc::clone(&f));
        }
        Ok(f)
    }
}

/// The name of the agency appraising each leaf of `framework` that has one (empty when
/// the framework assigns none).
pub async fn appraising_agencies<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
) -> ApiResult<std::collections::HashMap<String, String>> {
    let assigned: Vec<(String, i64)> = framework
        .tree
        .assigned_leaves()
        .map(|(leaf, agency)| (leaf.code.clone(), agency))
        .collect();
    if assigned.is_empty() {
        return Ok(Default::default());
    }
    let ids: Vec<i64> = assigned.iter().map(|(_, a)| *a).collect();
    let names = crate::services::units::names_of(conn, &ids).await?;
    Ok(assigned
        .into_iter()
        .filter_map(|(code, agency)| names.get(&agency).map(|n| (code, n.clone())))
        .collect())
}

/// Reads a framework the caller may see.
pub async fn get_framework(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<LoadedFramework> {
    let f = load(db, id).await?;
    let owner = find_unit(db, f.model.owner_unit_id).await?;
    authorize(actor, Action::ReadFramework, &unit_ref(&owner))?;
    Ok(f)
}

/// The unit a new framework would belong to, if the caller may manage its frameworks:
/// checked before an uploaded spreadsheet is read at all.
pub async fn may_create_for(
    db: &DatabaseConnection,
    actor: &Principal,
    owner_unit_id: i64,
) -> ApiResult<unit::Model> {
    let owner = unit::Entity::find_by_id(owner_unit_id).one(db).await?;
    let Some(owner) = owner else {
        return Err(ApiError::validation(vec![FieldError::new(
            "owner_unit_id",
            "not_found",
            text!(
                "unit {owner_unit_id} does not exist",
                "không có đơn vị {owner_unit_id}"
            ),
        )]));
    };
    authorize(actor, Action::ManageFrameworks, &unit_ref(&owner))?;
    Ok(owner)
}

/// Whether the caller may change framework `id`: checked before an uploaded spreadsheet
/// of new criteria is read at all.
pub async fn may_change(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let current = load(db, id).await?;
    let owner = find_unit(db, current.model.owner_unit_id).await?;
    authorize(actor, Action::ManageFrameworks, &unit_ref(&owner))
}

pub async fn create_framework(
    db: &DatabaseConnection,
    actor: &Principal,
    spec: FrameworkSpec,
) -> ApiResult<LoadedFramework> {
    let owner = may_create_for(db, actor, spec.owner_unit_id).await?;
    let (spec, tree) = validate(spec, Some(&owner))?;
    let txn = crate::db::begin_write(db).await?;
    check_assignments(&txn, &owner, &spec.criteria).await?;
    let t = now();
    let created = framework::ActiveModel {
        owner_unit_id: Set(owner.id),
        year: Set(spec.year),
        name: Set(spec.name.clone()),
        unit_kinds: Set(kinds_text(&spec.unit_kinds)),
        status: Set(FrameworkStatus::Draft),
        na_policy: Set(spec.na_policy.as_str().to_string()),
        bonus_max_x100: Set(to_hundredths(spec.bonus_max)),
        penalty_max_x100: Set(to_hundredths(spec.penalty_max)),
        components: Set(
            serde_json::to_string(&spec.composition.components).map_err(ApiError::internal)?
        ),
        missing_component: Set(spec.composition.missing.as_str().to_string()),
        campaign: Set(serde_json::to_string(&spec.campaign).map_err(ApiError::internal)?),
        rating_bands: Set(bands_text(&spec.rating_bands)),
        submission_deadline: Set(spec.submission_deadline),
        evidence_policy: Set(spec.evidence_policy),
        requires_leader_approval: Set(spec.requires_leader_approval),
        appeal_days: Set(spec.appeal_days),
        published_at: Set(None),
        created_by: Set(Some(actor.user_id).filter(|id| *id > 0)),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    replace_criterion_rows(&txn, created.id, &tree).await?;
    let loaded = load(&txn, created.id).await?;
    record_created::<framework::Entity, _>(&txn, actor, &created, "create").await?;
    txn.commit().await?;
    Ok(loaded)
}

pub struct FrameworkFilter {
    pub year: Option<i32>,
    pub owner_unit_id: Option<i64>,
    pub status: Option<FrameworkStatus>,
}

/// Frameworks the caller may see: owned by its unit, a unit above it, or a unit below it.
pub async fn list_frameworks(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: FrameworkFilter,
    page: PageRequest,
) -> ApiResult<Page<framework::Model>> {
    let mut query = scoped(
        framework::Entity::find(),
        actor,
        framework::Column::OwnerUnitId,
        Reach::OwnedAbove,
    )
    .order_by_desc(framework::Column::Year)
    .order_by_asc(framework::Column::Id);
    if let Some(year) = filter.year {
        query = query.filter(framework::Column::Year.eq(year));
    }
    if let Some(owner) = filter.owner_unit_id {
        query = query.filter(framework::Column::OwnerUnitId.eq(owner));
    }
    if let Some(status) = filter.status {
        query = query.filter(framework::Column::Status.eq(status));
    }
    query.page(db, page).await
}

/// True when a unit has opened a self-assessment on the framework.
pub async fn in_use<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<bool> {
    Ok(self_assessment::Entity::find()
        .filter(self_assessment::Column::FrameworkId.eq(id))
        .count(conn)
        .await?
        > 0)
}

fn immutable(id: i64) -> ApiError {
    ApiError::conflict(
        "framework_in_use",
        text!(
            "framework {id} is published and units have assessed against it: it cannot change; \
             copy it into a new framework instead",
            "bộ tiêu chí {id} đã ban hành và đã có đơn vị tự đánh giá theo nó: không thể sửa; \
             hãy sao chép thành bộ tiêu chí mới"
        ),
    )
}

/// Loads for a change: checks access, the ETag, and that no assessment uses it yet.
async fn load_for_change<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: i64,
    if_match: &Precondition,
) -> ApiResult<(LoadedFramework, unit::Model)> {
    let current = load(conn, id).await?;
    let owner = find_unit(conn, current.model.owner_unit_id).await?;
    authorize(actor, Action::ManageFrameworks, &unit_ref(&owner))?;
    if_match.check(
        framework::Entity::KIND,
        current.model.id,
        current.model.version,
    )?;
    if in_use(conn, id).await? {
        return Err(immutable(id));
    }
    Ok((current, owner))
}

/// Replaces a framework's settings and criteria (the owner stays).
pub async fn update_framework(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    spec: FrameworkSpec,
    if_match: &Precondition,
) -> ApiResult<LoadedFramework> {
    let txn = crate::db::begin_write(db).await?;
    let (current, owner) = load_for_change(&txn, actor, id, if_match).await?;
    if spec.owner_unit_id != current.model.owner_unit_id {
        return Err(ApiError::validation(vec![FieldError::new(
            "owner_unit_id",
            "immutable",
            text!(
                "a framework's owner cannot change; copy it instead",
                "không thể đổi đơn vị sở hữu bộ tiêu chí; hãy sao chép thành bộ mới"
            ),
        )]));
    }
    let (spec, tree) = validate(spec, Some(&owner))?;
    check_assignments(&txn, &owner, &spec.criteria).await?;
    let write = Write::<framework::Entity>::begin(&txn, actor, &current.model, if_match).await?;
    replace_criterion_rows(&txn, id, &tree).await?;
    let mut am = framework::ActiveModel {
        ..Default::default()
    };
    am.year = Set(spec.year);
    am.name = Set(spec.name.clone());
    am.unit_kinds = Set(kinds_text(&spec.unit_kinds));
    am.na_policy = Set(spec.na_policy.as_str().to_string());
    am.bonus_max_x100 = Set(to_hundredths(spec.bonus_max));
    am.penalty_max_x100 = Set(to_hundredths(spec.penalty_max));
    am.components =
        Set(serde_json::to_string(&spec.composition.components).map_err(ApiError::internal)?);
    am.missing_component = Set(spec.composition.missing.as_str().to_string());
    am.campaign = Set(serde_json::to_string(&spec.campaign).map_err(ApiError::internal)?);
    am.rating_bands = Set(bands_text(&spec.rating_bands));
    am.submission_deadline = Set(spec.submission_deadline);
    am.evidence_policy = Set(spec.evidence_policy);
    am.requires_leader_approval = Set(spec.requires_leader_approval);
    am.appeal_days = Set(spec.appeal_days);
    write.finish(&txn, am, "update", None).await?;
    let updated = load(&txn, id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Replaces only the criteria.
pub async fn replace_criteria(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    criteria: Vec<CriterionDef>,
    if_match: &Precondition,
) -> ApiResult<LoadedFramework> {
    let current = load(db, id).await?;
    let spec = FrameworkSpec {
        criteria,
        ..current.spec()
    };
    update_framework(db, actor, id, spec, if_match).await
}

/// Publishes a draft: units may then open self-assessments on it. Refused when another
/// published framework of the same owner and year already covers one of its unit kinds.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    if_match: &Precondition,
) -> ApiResult<LoadedFramework> {
    let txn = crate::db::begin_write(db).await?;
    let current = load(&txn, id).await?;
    let owner = find_unit(&txn, current.model.owner_unit_id).await?;
    authorize(actor, Action::ManageFrameworks, &unit_ref(&owner))?;
    let write = Write::<framework::Entity>::begin(&txn, actor, &current.model, if_match).await?;
    if current.is_published() {
        return Err(ApiError::conflict(
            "already_published",
            text!(
                "framework {id} is already published",
                "bộ tiêu chí {id} đã được ban hành"
            ),
        ));
    }
    let siblings = framework::Entity::find()
        .filter(framework::Column::OwnerUnitId.eq(current.model.owner_unit_id))
        .filter(framework::Column::Year.eq(current.model.year))
        .filter(framework::Column::Status.eq(FrameworkStatus::Published))
        .all(&txn)
        .await?;
    for other in siblings {
        let overlap: Vec<&str> = other
            .unit_kinds
            .split(',')
            .filter(|k| current.unit_kinds.iter().any(|c| c.as_str() == *k))
            .collect();
        if !overlap.is_empty() {
            return Err(ApiError::conflict(
                "overlapping_framework",
                text!(
                    "framework {} is already published for {} of this owner in {}",
                    "bộ tiêu chí {} của đơn vị này đã được ban hành cho {} năm {}",
                    other.id,
                    overlap.join(", "),
                    other.year
                ),
            ));
        }
    }
    let mut am = framework::ActiveModel {
        ..Default::default()
    };
    am.status = Set(FrameworkStatus::Published);
    am.published_at = Set(Some(now()));
    write.finish(&txn, am, "publish", None).await?;
    let updated = load(&txn, id).await?;
    announce_assignments(&txn, &updated).await?;
    txn.commit().await?;
    Ok(updated)
}

/// `appraisal.criteria_assigned` for each agency a framework being published assigns
/// criteria to (through the outbox: its webhooks and its accounts' notifications).
async fn announce_assignments<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
) -> ApiResult<()> {
    let mut by_agency: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    for c in framework.tree.criteria() {
        if let Some(agency) = c.appraised_by_unit_id {
            by_agency.entry(agency).or_default().push(c.code.clone());
        }
    }
    for (agency, criteria) in by_agency {
        let unit = find_unit(conn, agency).await?;
        let kind = crate::services::webhooks::EventType::CriteriaAssigned;
        crate::services::webhooks::emit(
            conn,
            crate::services::webhooks::Event {
                kind,
                unit_id: unit.id,
                unit_path: unit.path.clone(),
                data: crate::services::webhooks::payloads::to_value(
                    &crate::services::webhooks::payloads::AssignmentEventData {
                        framework_id: framework.model.id,
                        year: framework.model.year,
                        agency_unit_id: unit.id,
                        criteria,
                    },
                ),
                dedup_key: Some(format!(
                    "{}:{}:{}",
                    kind.as_str(),
                    framework.model.id,
                    unit.id
                )),
            },
        )
        .await?;
    }
    Ok(())
}

/// Copies a framework into a new draft (usually for the next year).
pub async fn copy(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    year: i32,
    name: Option<String>,
) -> ApiResult<LoadedFramework> {
    let source = get_framework(db, actor, id).await?;
    let spec = FrameworkSpec {
        year,
        name: name.unwrap_or_else(|| format!("{} ({year})", source.model.name)),
        // A new year has a new deadline and new campaign dates.
        submission_deadline: None,
        campaign: Campaign::default(),
        ..source.spec()
    };
    let created = create_framework(db, actor, spec).await?;
    // Every criterion carries over as itself until the mapping says otherwise.
    super::mapping_rows::store(
        db,
        actor,
        &created.model,
        source.model.id,
        &crate::scoring::mapping::same_for_all(&source.tree),
    )
    .await?;
    Ok(created)
}

/// Deletes a framework no unit has assessed against.
pub async fn delete(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let (current, owner) = load_for_change(&txn, actor, id, &Precondition::any()).await?;
    framework::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "framework",
            entity_id: id,
            action: "delete",
            unit_id: Some(owner.id),
            results_year: None,
            old: Some(framework_json(&current)),
            new: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
