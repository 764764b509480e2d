//! The one write path of a versioned record: optimistic concurrency and the audit trail
//! together, so that no change can skip either.
//!
//! Every mutable record has a version; its ETag names it (`"unit-12-v3"`). A change starts
//! with `Write::begin`, which checks the caller's precondition (from `If-Match`, or none)
//! against the version read inside the transaction and describes the record as it was;
//! the caller then makes whatever side changes it needs (criteria rows, milestones) and
//! ends with `finish`, which writes the row only if it still has that version (else 412:
//! a race between the check and the write is also a 412, never a lost update), bumps the
//! version, and records the audit event, before and after, in the same transaction.
//!
//! A record that follows a workflow (`Stateful`) changes its status only through
//! `transition`: the state machine (`workflow`) decides the next status, and the row is
//! written only if it still has the version and the status that were read; a row that
//! moved meanwhile is a 409, never a second transition from the same status.

use super::audit::{self, Change};
use super::now;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::workflow::WorkflowError;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::future::Future;

/// The strong entity tag of a record version, e.g. `"unit-12-v3"`.
pub fn etag(kind: &str, id: i64, version: i32) -> String {
    format!("\"{kind}-{id}-v{version}\"")
}

/// The ETag of a record as it is now.
pub fn etag_of<E: Versioned>(model: &E::Model) -> String {
    etag(E::KIND, E::id(model), E::version(model))
}

/// The 412 of a write that lost a race or carried a stale `If-Match`.
pub fn stale(current: &str) -> ApiError {
    ApiError::precondition_failed(text!(
        "the resource has changed since it was read (current ETag {current}); read it again and retry",
        "dữ liệu đã thay đổi kể từ lúc đọc (ETag hiện tại {current}); hãy đọc lại rồi thử lại"
    ))
}

/// What the writer expects of the record's version: the tags of an `If-Match` header
/// (built by the routes), or nothing (`any`: command-line tools, clients that do not send
/// one).
#[derive(Debug, Clone, Default)]
pub struct Precondition(Option<Vec<String>>);

impl Precondition {
    pub fn any() -> Self {
        Precondition(None)
    }

    pub fn tags(tags: &[&str]) -> Self {
        Precondition(Some(tags.iter().map(|t| t.to_string()).collect()))
    }

    /// From an `If-Match` value: comma-separated tags.
    pub fn from_if_match(value: &str) -> Self {
        Precondition(Some(
            value
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
        ))
    }

    /// Passes without tags, with `*`, or when a tag names the current version.
    pub fn check(&self, kind: &str, id: i64, version: i32) -> ApiResult<()> {
        let Some(tags) = &self.0 else {
            return Ok(());
        };
        let current = etag(kind, id, version);
        let matches = tags
            .iter()
            .any(|t| t == "*" || *t == current || t.strip_prefix("W/") == Some(current.as_str()));
        if matches {
            Ok(())
        } else {
            Err(stale(&current))
        }
    }
}

/// A table whose rows carry a version and are changed through `Write`.
pub trait Versioned: EntityTrait {
    /// The kind in its ETags: `"self-assessment"`.
    const KIND: &'static str;
    /// Its name in the audit trail: `"self_assessment"`.
    const AUDIT_ENTITY: &'static str;

    fn id_column() -> Self::Column;
    fn version_column() -> Self::Column;
    /// The `updated_at` column, if the table has one.
    fn updated_at_column() -> Option<Self::Column>;
    fn id(model: &Self::Model) -> i64;
    fn version(model: &Self::Model) -> i32;
    /// The unit the record belongs to (who may read its trail).
    fn unit_id(model: &Self::Model) -> Option<i64>;
    /// The year whose results the record's description carries, if any (`visibility`).
    fn results_year(_model: &Self::Model) -> Option<i32> {
        None
    }
    /// What the audit trail records of the record (side tables included).
    fn describe<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
    ) -> impl Future<Output = ApiResult<Value>>;
}

/// A versioned table whose rows follow a workflow: its status column and which status may
/// follow which (`workflow`, the one state machine).
pub trait Stateful: Versioned {
    type Status: Copy + PartialEq + std::fmt::Debug + Into<sea_orm::Value>;
    type Event: Copy;
    fn status_column() -> Self::Column;
    fn status(model: &Self::Model) -> Self::Status;
    /// The status the state machine gives `from` on `event`, or its refusal.
    fn next(from: Self::Status, event: Self::Event) -> Result<Self::Status, WorkflowError>;
}

/// How a transition is recorded in the audit trail.
pub enum Record<'a> {
    /// As `action`, with `details` beside the new value.
    As(&'a str, Option<Value>),
    /// Not on its own: the change is recorded by its parts in the same transaction
    /// (entries, each audited).
    ByItsParts,
}

/// The 409 of a transition whose row moved between the read and the write.
pub fn moved(kind: &str, id: i64) -> ApiError {
    ApiError::conflict(
        "concurrent_change",
        text!(
            "{kind} {id} changed while this request was handled; read it again and retry",
            "{kind} {id} đã thay đổi trong lúc xử lý yêu cầu này; hãy đọc lại rồi thử lại"
        ),
    )
}

/// Records the creation of a versioned record (its first version), described as `Write`
/// describes it.
pub async fn record_created<E: Versioned, C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    model: &E::Model,
    action: &str,
) -> ApiResult<()> {
    audit::record(
        conn,
        actor,
        Change {
            entity: E::AUDIT_ENTITY,
            entity_id: E::id(model),
            action,
            unit_id: E::unit_id(model),
            results_year: E::results_year(model),
            old: None,
            new: Some(E::describe(conn, model).await?),
        },
    )
    .await?;
    Ok(())
}

/// `Versioned` for an entity whose table has the usual `id`, `version` and `updated_at`
/// columns: its ETag kind, its audit name, its unit, and how the trail describes it.
///
/// ```ignore
/// versioned!(unit, kind = "unit", audit = "unit",
///     unit_id = |m| Some(m.id), describe = |_conn, m| Ok(unit_json(m)));
/// ```
#[macro_export]
macro_rules! versioned {
    ($table:ident, kind = $kind:literal, audit = $audit:literal,
     unit_id = |$u:ident| $unit_id:expr,
     $(results_year = |$y:ident| $year:expr,)?
     describe = |$conn:ident, $m:ident| $describe:expr $(,)?) => {
        impl $crate::services::versioned::Versioned for entity::$table::Entity {
            const KIND: &'static str = $kind;
            const AUDIT_ENTITY: &'static str = $audit;

            fn id_column() -> entity::$table::Column {
                entity::$table::Column::Id
            }
            fn version_column() -> entity::$table::Column {
                entity::$table::Column::Version
            }
            fn updated_at_column() -> Option<entity::$table::Column> {
                Some(entity::$table::Column::UpdatedAt)
            }
            fn id(m: &entity::$table::Model) -> i64 {
                m.id
            }
            fn version(m: &entity::$table::Model) -> i32 {
                m.version
            }
            fn unit_id($u: &entity::$table::Model) -> Option<i64> {
                $unit_id
            }
            $(fn results_year($y: &entity::$table::Model) -> Option<i32> {
                $year
            })?
            #[allow(clippy::manual_async_fn)]
            async fn describe<C: sea_orm::ConnectionTrait>(
                $conn: &C,
                $m: &entity::$table::Model,
            ) -> $crate::error::ApiResult<serde_json::Value> {
                $describe
            }
        }
    };
}

/// A change of one record under way: see the module documentation.
pub struct Write<'a, E: Versioned> {
    actor: &'a Principal,
    read: E::Model,
    before: Value,
    on_unique_violation: Option<ApiError>,
    /// A transition's status as read: the row is written only if it still has it.
    status_read: Option<(E::Column, sea_orm::Value)>,
}

impl<'a, E: Versioned> Write<'a, E>
where
    E::Model: Clone,
{
    /// Checks `precondition` against the record as read in this transaction and
    /// describes it as it was.
    pub async fn begin<C: ConnectionTrait>(
        conn: &C,
        actor: &'a Principal,
        read: &E::Model,
        precondition: &Precondition,
    ) -> ApiResult<Self> {
        precondition.check(E::KIND, E::id(read), E::version(read))?;
        Ok(Write {
            actor,
            before: E::describe(conn, read).await?,
            read: read.clone(),
            on_unique_violation: None,
            status_read: None,
        })
    }

    /// The problem to answer when the write breaks a unique constraint (a duplicate code).
    pub fn on_unique_violation(mut self, problem: ApiError) -> Self {
        self.on_unique_violation = Some(problem);
        self
    }

    /// Writes `changes` if the row still has the version read (else 412), bumps the
    /// version, and records `action` (with `details` beside the new value).
    pub async fn finish<C: ConnectionTrait>(
        self,
        conn: &C,
        changes: E::ActiveModel,
        action: &str,
        details: Option<Value>,
    ) -> ApiResult<E::Model> {
        let actor = self.actor;
        let before = self.before.clone();
        let written = self.write(conn, changes).await?;
        let mut after = E::describe(conn, &written).await?;
        if let Some(details) = details {
            after["details"] = details;
        }
        audit::record(
            conn,
            actor,
            Change {
                entity: E::AUDIT_ENTITY,
                entity_id: E::id(&written),
                action,
                unit_id: E::unit_id(&written),
                results_year: E::results_year(&written),
                old: Some(before),
                new: Some(after),
            },
        )
        .await?;
        Ok(written)
    }

    /// Moves the record on `event` with `changes`: the state machine decides the status
    /// (its refusal is a 409 with its own code), the row is written only if it still has
    /// the version and status read (else 409 `concurrent_change`), and the change is
    /// recorded as `record` says.
    pub async fn transition<C: ConnectionTrait>(
        mut self,
        conn: &C,
        event: E::Event,
        mut changes: E::ActiveModel,
        record: Record<'_>,
    ) -> ApiResult<E::Model>
    where
        E: Stateful,
    {
        let from = E::status(&self.read);
        let to = E::next(from, event)?;
        changes.set(E::status_column(), to.into());
        self.status_read = Some((E::status_column(), from.into()));
        match record {
            Record::As(action, details) => self.finish(conn, changes, action, details).await,
            Record::ByItsParts => self.write(conn, changes).await,
        }
    }

    /// `finish` for a change that is recorded by its parts in the same transaction (a
    /// running total after entries that are each audited): the version guard and bump
    /// without an event of its own.
    pub async fn finish_unrecorded<C: ConnectionTrait>(
        self,
        conn: &C,
        changes: E::ActiveModel,
    ) -> ApiResult<E::Model> {
        self.write(conn, changes).await
    }

    async fn write<C: ConnectionTrait>(
        self,
        conn: &C,
        mut changes: E::ActiveModel,
    ) -> ApiResult<E::Model> {
        let (id, version) = (E::id(&self.read), E::version(&self.read));
        changes.set(E::version_column(), (version + 1).into());
        if let Some(column) = E::updated_at_column() {
            changes.set(column, now().into());
        }
        let mut update = E::update_many()
            .set(changes)
            .filter(E::id_column().eq(id))
            .filter(E::version_column().eq(version));
        let transition = self.status_read.is_some();
        if let Some((column, status)) = self.status_read {
            update = update.filter(column.eq(status));
        }
        let result = update.exec(conn).await;
        let result = match (result, self.on_unique_violation) {
            (Err(e), Some(problem))
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                return Err(problem);
            }
            (result, _) => result?,
        };
        if result.rows_affected == 0 {
            return Err(if transition {
                moved(E::KIND, id)
            } else {
                stale(&etag(E::KIND, id, version))
            });
        }
        E::find()
            .filter(E::id_column().eq(id))
            .one(conn)
            .await?
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("{} {id} vanished while written", E::KIND))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions_compare_tags() {
        assert_eq!(etag("unit", 12, 3), "\"unit-12-v3\"");
        assert!(Precondition::any().check("unit", 12, 3).is_ok());
        assert!(
            Precondition::tags(&["\"unit-12-v3\""])
                .check("unit", 12, 3)
                .is_ok()
        );
        assert!(
            Precondition::tags(&["W/\"unit-12-v3\""])
                .check("unit", 12, 3)
                .is_ok()
        );
        assert!(Precondition::tags(&["*"]).check("unit", 12, 3).is_ok());
        assert!(
            Precondition::from_if_match("\"unit-12-v1\", \"unit-12-v3\"")
                .check("unit", 12, 3)
                .is_ok()
        );
        let e = Precondition::tags(&["\"unit-12-v2\""])
            .check("unit", 12, 3)
            .unwrap_err();
        assert_eq!(e.status().as_u16(), 412);
        assert!(
            Precondition::tags(&["\"unit-13-v3\""])
                .check("unit", 12, 3)
                .is_err()
        );
    }
}
