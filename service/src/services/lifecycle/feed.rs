//! Indicator values into files: an import of values fed from other systems
//! (`indicators`) stores them, and each becomes the council's input of its unit's
//! criterion, with where it came from as the council's comment: at once when the file is
//! with the council, else when the unit first submits it. A value never lands on a
//! finalized file (the import is refused).

use super::council::write_council_entries;
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::ApiResult;
use crate::services::entries::{self, EntryInput, Reviewer, Scope, Side};
use crate::services::frameworks;
use crate::services::frameworks::LoadedFramework;
use crate::services::indicators::{
    self, CheckedRows, Feed, IndicatorRow, inputs_of, provenance_text,
};
use crate::services::scoresheet;
use crate::services::units::{find_unit, unit_ref};
use crate::services::versioned::Precondition;
use crate::services::versioned::Write;
use entity::{appraisal, indicator_value, self_assessment};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::{BTreeMap, HashSet};

/// What an import did (or, on a dry run, would do).
#[derive(Clone, Debug)]
pub struct FeedReport {
    pub rows: usize,
    /// Values that became the council's input of a file with the council.
    pub applied: usize,
    /// Values kept until their unit submits its file.
    pub waiting: usize,
    pub dry_run: bool,
    /// Survey rows that could not be placed, each with why (nothing stored for them).
    pub unplaced: Vec<crate::error::FieldError>,
}

/// The council's entry a stored value makes: its inputs, and its source as the comment
/// (and as the reason, should it replace what an agency scored).
fn entry_of(m: &indicator_value::Model) -> ApiResult<EntryInput> {
    let source = provenance_text(m);
    Ok(EntryInput {
        criterion_code: m.criterion_code.clone(),
        inputs: Some(inputs_of(m)?),
        text: Some(source.clone()),
        override_reason: Some(source),
        ..Default::default()
    })
}

/// Imports values for framework `framework_id` (all or nothing: every row placed is
/// stored, or none), as its consolidating appraisers: checked, stored per unit and year,
/// and applied to the files with the council (the others when they are submitted).
pub async fn import(
    db: &DatabaseConnection,
    actor: &Principal,
    framework_id: i64,
    rows: Vec<IndicatorRow>,
    feed: Feed,
    dry_run: bool,
) -> ApiResult<FeedReport> {
    let txn = crate::db::begin_write(db).await?;
    // Imports into one framework one at a time (PostgreSQL: a row lock; SQLite has one
    // writer): two at once would both insert the same unit's value.
    entity::framework::Entity::find_by_id(framework_id)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .one(&txn)
        .await?;
    let framework = frameworks::load(&txn, framework_id).await?;
    let owner = find_unit(&txn, framework.model.owner_unit_id).await?;
    authorize(actor, Action::Consolidate, &unit_ref(&owner))?;
    let CheckedRows {
        rows: checked,
        unplaced,
    } = indicators::check(&txn, &framework, &owner, rows, feed).await?;
    let applied = checked.iter().filter(|c| c.appraisal.is_some()).count();
    let report = FeedReport {
        rows: checked.len(),
        applied,
        waiting: checked.len() - applied,
        dry_run,
        unplaced,
    };
    if dry_run {
        // Nothing written: the transaction is dropped.
        return Ok(report);
    }
    let stored = indicators::store(&txn, actor, &framework, &checked).await?;
    // The unit's side first, where it is fed (a council decision on the same leaf then
    // stands after it).
    let mut by_file: BTreeMap<i64, (self_assessment::Model, Vec<&indicator_value::Model>)> =
        BTreeMap::new();
    for (c, m) in checked.iter().zip(&stored) {
        if let Some(file) = &c.file
            && feeds_self(&framework, m)
        {
            by_file
                .entry(file.id)
                .or_insert_with(|| (file.clone(), Vec::new()))
                .1
                .push(m);
        }
    }
    for (_, (file, values)) in by_file {
        // The file as it is now, locked like every change of it.
        let sa = super::FileLock::of_file(&txn, file.id)
            .await?
            .self_assessment;
        feed_unit_side(&txn, &framework, sa, &values).await?;
    }
    let mut by_appraisal: BTreeMap<i64, Vec<EntryInput>> = BTreeMap::new();
    for (c, m) in checked.iter().zip(&stored) {
        if let Some(a) = &c.appraisal {
            by_appraisal.entry(a.id).or_default().push(entry_of(m)?);
        }
    }
    for (id, batch) in by_appraisal {
        write_council_entries(&txn, actor, id, batch, &Precondition::any()).await?;
    }
    // The import itself, beside each value's event.
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "framework",
            entity_id: framework_id,
            action: match feed {
                Feed::Indicator => "import_indicator_values",
                Feed::Survey => "import_survey",
            },
            unit_id: Some(framework.model.owner_unit_id),
            results_year: Some(framework.model.year),
            old: None,
            new: Some(serde_json::json!({
                "rows": report.rows,
                "applied": report.applied,
                "waiting": report.waiting,
                "unplaced": report.unplaced.len(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(report)
}

/// The leaves of `framework` fed on the unit's side for which `unit_id` has a value: the
/// unit cannot change them.
pub(super) async fn fed_on_unit_side<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    unit_id: i64,
) -> ApiResult<HashSet<String>> {
    if !framework.tree.leaves().any(|c| c.indicator_feeds_self) {
        return Ok(HashSet::new());
    }
    Ok(indicators::values(conn, framework.model.id, Some(unit_id))
        .await?
        .into_iter()
        .filter(|m| feeds_self(framework, m))
        .map(|m| m.criterion_code)
        .collect())
}

fn feeds_self(framework: &LoadedFramework, m: &indicator_value::Model) -> bool {
    framework
        .tree
        .get(&m.criterion_code)
        .is_some_and(|c| c.indicator_feeds_self)
}

/// Writes the unit's side of the values that feed it into file `sa` (the feed's own
/// path: the unit's lock is for the unit), with the file's running self total. The file
/// as it is now.
async fn feed_unit_side<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    sa: self_assessment::Model,
    values: &[&indicator_value::Model],
) -> ApiResult<self_assessment::Model> {
    let mine: Vec<EntryInput> = values
        .iter()
        .filter(|m| feeds_self(framework, m))
        .map(|m| {
            Ok(EntryInput {
                criterion_code: m.criterion_code.clone(),
                inputs: Some(inputs_of(m)?),
                text: Some(provenance_text(m)),
                ..Default::default()
            })
        })
        .collect::<ApiResult<_>>()?;
    if mine.is_empty() {
        return Ok(sa);
    }
    let u = find_unit(conn, sa.unit_id).await?;
    let best = scoresheet::bests(conn, framework, u.parent_id, sa.id).await?;
    let scope = Scope {
        side: Side::Unit,
        framework,
        best: &best,
        editable: None,
        reviewer: None,
        fed: None,
        fed_values: None,
    };
    let feed = Principal::system("indicator-feed");
    entries::write_batch(conn, &feed, &sa, &scope, mine).await?;
    let stored = scoresheet::load_entries(conn, sa.id).await?;
    let total = scoresheet::total_of(
        framework,
        &scoresheet::self_scores(framework, &stored, &best),
    )?
    .total;
    let mut changes = self_assessment::ActiveModel {
        ..Default::default()
    };
    changes.self_total_x100 = Set(crate::scoring::to_hundredths(total));
    Write::<self_assessment::Entity>::begin(conn, &feed, &sa, &Precondition::any())
        .await?
        .finish_unrecorded(conn, changes)
        .await
}

/// A file just opened: the values already stored for its unit fill its side where they
/// feed it.
pub(super) async fn at_open<C: ConnectionTrait>(
    conn: &C,
    framework: &LoadedFramework,
    sa: self_assessment::Model,
) -> ApiResult<self_assessment::Model> {
    if !framework.tree.leaves().any(|c| c.indicator_feeds_self) {
        return Ok(sa);
    }
    let values = indicators::values(conn, framework.model.id, Some(sa.unit_id)).await?;
    let refs: Vec<&indicator_value::Model> = values.iter().collect();
    feed_unit_side(conn, framework, sa, &refs).await
}

/// Whether the file already had an appraisal before this submission.
pub(super) async fn had_appraisal<C: ConnectionTrait>(conn: &C, sa: i64) -> ApiResult<bool> {
    Ok(appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(sa))
        .one(conn)
        .await?
        .is_some())
}

/// At a file's first submission: the values stored for its unit become the council's
/// inputs (recorded as the feed's, in the submission's transaction).
pub(super) async fn at_first_submission<C: ConnectionTrait>(
    conn: &C,
    sa: &self_assessment::Model,
) -> ApiResult<()> {
    let values = indicators::values(conn, sa.framework_id, Some(sa.unit_id)).await?;
    if values.is_empty() {
        return Ok(());
    }
    let framework = frameworks::load(conn, sa.framework_id).await?;
    let u = find_unit(conn, sa.unit_id).await?;
    let best = scoresheet::bests(conn, &framework, u.parent_id, sa.id).await?;
    let scope = Scope {
        side: Side::Council,
        framework: &framework,
        best: &best,
        editable: None,
        reviewer: Some(Reviewer::Consolidator),
        fed: None,
        fed_values: None,
    };
    let batch = values.iter().map(entry_of).collect::<ApiResult<Vec<_>>>()?;
    let feed = Principal::system("indicator-feed");
    entries::write_batch(conn, &feed, sa, &scope, batch).await?;
    // The appraisal made by this submission carries the running total with the fed
    // figures (no one has read it yet: same transaction, same version).
    let Some(a) = appraisal::Entity::find()
        .filter(appraisal::Column::SelfAssessmentId.eq(sa.id))
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let current = crate::services::appraisals::view(conn, a.clone()).await?;
    let mut am: appraisal::ActiveModel = a.into();
    am.appraised_total_x100 = sea_orm::Set(crate::scoring::to_hundredths(current.totals.total));
    sea_orm::ActiveModelTrait::update(am, conn).await?;
    Ok(())
}

/// One page of the stored values of framework `framework_id` (one unit's when `unit_id`
/// is given), for those who appraise under its owner, within the caller's scope.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    framework_id: i64,
    unit_id: Option<i64>,
    page: crate::services::scope::PageRequest,
) -> ApiResult<crate::services::scope::Page<indicator_value::Model>> {
    use crate::services::scope::{Reach, scoped};
    use sea_orm::QueryOrder;
    let framework = frameworks::load(db, framework_id).await?;
    let scope = match unit_id {
        Some(id) => find_unit(db, id).await?,
        None => find_unit(db, framework.model.owner_unit_id).await?,
    };
    authorize(actor, Action::Appraise, &unit_ref(&scope))?;
    let mut query = indicator_value::Entity::find()
        .filter(indicator_value::Column::FrameworkId.eq(framework_id))
        .order_by_asc(indicator_value::Column::UnitId)
        .order_by_asc(indicator_value::Column::CriterionCode);
    if let Some(id) = unit_id {
        query = query.filter(indicator_value::Column::UnitId.eq(id));
    }
    scoped(
        query,
        actor,
        indicator_value::Column::UnitId,
        Reach::Records,
    )
    .page(db, page)
    .await
}
