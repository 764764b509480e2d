//! The audit trail: who changed what, when, from which value to which. Always written on
//! the same transaction as the change it records, so one never exists without the other.

use crate::auth::Principal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde_json::Value;

/// One change to record; `old`/`new` are `None` when the record did not exist before/after.
pub struct Change<'a> {
    pub entity: &'a str,
    pub entity_id: i64,
    pub action: &'a str,
    pub unit_id: Option<i64>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    change: Change<'_>,
) -> Result<(), DbErr> {
    entity::audit_event::ActiveModel {
        at: Set(super::now()),
        // CLI actions have no account: user id 0 is recorded as none.
        actor_user_id: Set((actor.user_id > 0).then_some(actor.user_id)),
        actor_username: Set(actor.username.clone()),
        entity: Set(change.entity.to_string()),
        entity_id: Set(change.entity_id),
        action: Set(change.action.to_string()),
        unit_id: Set(change.unit_id),
        old_value: Set(change.old.map(|v| v.to_string())),
        new_value: Set(change.new.map(|v| v.to_string())),
        request_id: Set(actor.request_id.clone()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
