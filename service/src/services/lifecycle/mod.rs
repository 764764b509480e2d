//! A unit's file through its year, in one place: the self-assessment (`file`), the
//! council's appraisal of it (`council`) and the unit's appeals against the preliminary
//! results (`appeal`). Every change of status of these three records is made here, and
//! only here, through the state machine (`workflow`) and the one guarded, audited write
//! (`versioned::Write::transition`).
//!
//! This module calls only downward: the reads of the records (`assessments`,
//! `appraisals`, `appeals`), entries and evidence, frameworks, units, results (a reopen
//! marks a publication), webhooks and the audit trail. Nothing below calls back into it.
//!
//! Serialization. SQLite has one writer at a time, so its transactions never interleave;
//! PostgreSQL runs them side by side. Each change therefore locks the file's rows first
//! (`FileLock`): the appraisal's row when the file has one, then the self-assessment's,
//! always in that order, so that two changes of one file (two decisions on one appeal, a
//! finalize and an appeal, a return and a withdrawal) run one after the other and the
//! second sees what the first committed. A reopen also locks the ancestors of the unit
//! against a publication (`results::publication::lock_scope`), so that a publication and a
//! reopen of a unit it ranks end as one of them, then the other, would.

pub mod appeal;
pub mod council;
pub mod feed;
pub mod file;
mod status;

use super::appraisals;
use super::assessments;
use crate::error::ApiResult;
use entity::{appraisal, self_assessment};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

/// A file's rows, locked for the rest of the transaction (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite's write transaction holds the whole database already).
pub struct FileLock {
    pub self_assessment: self_assessment::Model,
    /// The council's appraisal, once the file was submitted.
    pub appraisal: Option<appraisal::Model>,
}

impl FileLock {
    /// Locks the file of self-assessment `id` (404 when there is none).
    pub async fn of_file<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<FileLock> {
        let appraisal_id = appraisal::Entity::find()
            .select_only()
            .column(appraisal::Column::Id)
            .filter(appraisal::Column::SelfAssessmentId.eq(id))
            .into_tuple::<i64>()
            .one(conn)
            .await?;
        let appraisal = match appraisal_id {
            Some(a) => lock_appraisal(conn, a).await?,
            None => None,
        };
        let self_assessment = self_assessment::Entity::find_by_id(id)
            .lock_exclusive()
            .one(conn)
            .await?
            .ok_or_else(|| assessments::not_found(id))?;
        Ok(FileLock {
            self_assessment,
            appraisal,
        })
    }

    /// Locks the file of appraisal `id` (404 when there is none).
    pub async fn of_appraisal<C: ConnectionTrait>(
        conn: &C,
        id: i64,
    ) -> ApiResult<(appraisal::Model, self_assessment::Model)> {
        let a = lock_appraisal(conn, id)
            .await?
            .ok_or_else(|| appraisals::not_found(id))?;
        let sa = self_assessment::Entity::find_by_id(a.self_assessment_id)
            .lock_exclusive()
            .one(conn)
            .await?
            .ok_or_else(|| assessments::not_found(a.self_assessment_id))?;
        Ok((a, sa))
    }
}

async fn lock_appraisal<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> ApiResult<Option<appraisal::Model>> {
    Ok(appraisal::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?)
}
