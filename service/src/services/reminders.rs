//! Reminders of the submission deadline: 7 days and 1 day before a unit's deadline (its
//! extension applied), while its file is not submitted, a `self_assessment.deadline_soon`
//! event, once per unit, deadline and reminder however many replicas look (its
//! `dedup_key`). Through the outbox it reaches webhooks and the unit's notifications.

use super::frameworks;
use super::scope::within;
use super::units::kind_of;
use super::webhooks::{self, Event, EventType};
use crate::auth::unit_ref;
use chrono::{Datelike, NaiveDate};
use entity::status::{FrameworkStatus, SelfAssessmentStatus};
use entity::{deadline_extension, framework, self_assessment, unit};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use std::collections::HashMap;
use std::time::Duration;

/// The reminders, in days before the deadline.
pub const DAYS_BEFORE: [i64; 2] = [7, 1];
/// How often the deadlines are looked at (a date passing is what moves them).
const EVERY: Duration = Duration::from_secs(300);

/// Runs for the life of the process.
pub async fn run(db: DatabaseConnection) {
    loop {
        if let Err(e) = scan(&db, parindex_domain::vietnam::today()).await {
            tracing::warn!(error = %e, "deadline reminder scan failed");
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Records the reminders due on `today`; how many were new.
pub async fn scan(db: &DatabaseConnection, today: NaiveDate) -> Result<usize, anyhow::Error> {
    let due = |d: NaiveDate| DAYS_BEFORE.contains(&(d - today).num_days());
    let published = framework::Entity::find()
        .filter(framework::Column::Status.eq(FrameworkStatus::Published))
        .filter(framework::Column::Year.between(today.year() - 1, today.year() + 1))
        .all(db)
        .await?;
    let mut recorded = 0;
    for f in published {
        let extended: HashMap<i64, NaiveDate> = deadline_extension::Entity::find()
            .filter(deadline_extension::Column::FrameworkId.eq(f.id))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.unit_id, e.until))
            .collect();
        if !f.submission_deadline.is_some_and(due) && !extended.values().any(|d| due(*d)) {
            continue;
        }
        let Some(owner) = unit::Entity::find_by_id(f.owner_unit_id).one(db).await? else {
            continue;
        };
        let loaded = frameworks::load(db, f.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let files: HashMap<i64, self_assessment::Model> = self_assessment::Entity::find()
            .filter(self_assessment::Column::FrameworkId.eq(f.id))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.unit_id, s))
            .collect();
        let units = unit::Entity::find()
            .filter(within(unit::Column::Id, &unit_ref(&owner)))
            .filter(unit::Column::Active.eq(true))
            .all(db)
            .await?;
        for u in units {
            if u.id == owner.id || !loaded.unit_kinds.contains(&kind_of(&u)) {
                continue;
            }
            let Some(deadline) = extended.get(&u.id).copied().or(f.submission_deadline) else {
                continue;
            };
            let file = files.get(&u.id);
            if !due(deadline) || file.is_some_and(|s| s.status != SelfAssessmentStatus::Draft) {
                continue;
            }
            let days_left = (deadline - today).num_days();
            let txn = db.begin().await?;
            let emitted = webhooks::emit(
                &txn,
                Event {
                    kind: EventType::DeadlineSoon,
                    unit_id: u.id,
                    unit_path: u.path.clone(),
                    data: webhooks::payloads::to_value(&webhooks::payloads::DeadlineEventData {
                        framework_id: f.id,
                        unit_id: u.id,
                        year: f.year,
                        deadline,
                        days_left,
                        self_assessment_id: file.map(|s| s.id),
                    }),
                    dedup_key: Some(format!(
                        "{}:{}:{}:{deadline}:{days_left}",
                        EventType::DeadlineSoon.as_str(),
                        f.id,
                        u.id
                    )),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            txn.commit().await?;
            if emitted.is_some() {
                recorded += 1;
            }
        }
    }
    Ok(recorded)
}
