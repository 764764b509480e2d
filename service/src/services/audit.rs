//! The audit trail: who changed what, when, from which value to which. Always written on
//! the same transaction as the change it records, so one never exists without the other.

use crate::auth::Principal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};
use serde_json::Value;

/// One change to record; `old`/`new` are `None` when the record did not exist before/after.
pub struct Change<'a> {
    pub entity: &'a str,
    pub entity_id: i64,
    pub action: &'a str,
    pub unit_id: Option<i64>,
    /// The year whose results (council scores, comments, totals) the values carry, if
    /// any: such an event is shown only to those who may see that year's results.
    pub results_year: Option<i32>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    change: Change<'_>,
) -> Result<(), DbErr> {
    event(actor, change).insert(conn).await?;
    Ok(())
}

/// Records many changes by one actor in one statement (a batch of entries).
pub async fn record_all<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    changes: Vec<Change<'_>>,
) -> Result<(), DbErr> {
    let events = changes.into_iter().map(|c| event(actor, c)).collect();
    for batch in super::statement_batches(events, event_bytes) {
        entity::audit_event::Entity::insert_many(batch)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn event(actor: &Principal, change: Change<'_>) -> entity::audit_event::ActiveModel {
    entity::audit_event::ActiveModel {
        at: Set(super::now()),
        // CLI actions have no account: user id 0 is recorded as none.
        actor_user_id: Set((actor.user_id > 0).then_some(actor.user_id)),
        actor_username: Set(actor.audit_name()),
        entity: Set(change.entity.to_string()),
        entity_id: Set(change.entity_id),
        action: Set(change.action.to_string()),
        unit_id: Set(change.unit_id),
        results_year: Set(change.results_year),
        old_value: Set(change.old.map(|v| v.to_string())),
        new_value: Set(change.new.map(|v| v.to_string())),
        request_id: Set(actor.request_id.clone()),
        ..Default::default()
    }
}

pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The trail the caller may read (its units' records; admins everything), newest first.
pub async fn list(
    db: &sea_orm::DatabaseConnection,
    actor: &Principal,
    filter: AuditFilter,
    page: super::scope::PageRequest,
) -> crate::error::ApiResult<super::scope::Page<entity::audit_event::Model>> {
    use entity::audit_event::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait};
    let mut query = super::scope::scoped(
        Entity::find(),
        actor,
        Column::UnitId,
        super::scope::Reach::Records,
    )
    .order_by_desc(Column::At)
    .order_by_desc(Column::Id);
    if let Some(condition) = super::visibility::results_condition(
        actor,
        "audit_events.unit_id",
        "audit_events.results_year",
    ) {
        query = query.filter(sea_orm::sea_query::Expr::cust(condition));
    }
    if let Some(v) = filter.entity {
        query = query.filter(Column::Entity.eq(v));
    }
    if let Some(v) = filter.entity_id {
        query = query.filter(Column::EntityId.eq(v));
    }
    if let Some(v) = filter.unit_id {
        query = query.filter(Column::UnitId.eq(v));
    }
    if let Some(v) = filter.actor_user_id {
        query = query.filter(Column::ActorUserId.eq(v));
    }
    if let Some(v) = filter.action {
        query = query.filter(Column::Action.eq(v));
    }
    if let Some(v) = filter.since {
        query = query.filter(Column::At.gte(v));
    }
    if let Some(v) = filter.until {
        query = query.filter(Column::At.lt(v));
    }
    query.page(db, page).await
}

/// Roughly what an event weighs in a statement: its values before and after, and the rest.
fn event_bytes(e: &entity::audit_event::ActiveModel) -> usize {
    let len = |v: &sea_orm::ActiveValue<Option<String>>| {
        v.try_as_ref()
            .and_then(Option::as_ref)
            .map_or(0, String::len)
    };
    256 + len(&e.old_value) + len(&e.new_value)
}
