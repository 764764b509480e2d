//! Webhooks from a transactional outbox.
//!
//! - `webhook_subscriptions`: who wants which events of which unit's subtree, where, and
//!   the signing secret (and the previous one, still signed with for a day after a
//!   rotation).
//! - `webhook_events`: the outbox. An event is written in the transaction of the change
//!   that causes it; `dedup_key` makes a time-based event (a milestone due soon) exist
//!   once, however many replicas notice it.
//! - `webhook_deliveries`: one per event and matching subscription, written in the same
//!   transaction; dispatchers claim the due ones (`FOR UPDATE SKIP LOCKED` on PostgreSQL)
//!   with a lease, so two replicas do not send the same delivery.
//! - `webhook_attempts`: every attempt's outcome.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook_subscriptions")
                    .col(big_pk_auto("id"))
                    .col(string_len("url", 2000))
                    // A JSON array of event types.
                    .col(text("events"))
                    .col(big_integer_null("unit_id"))
                    .col(big_integer_null("created_by"))
                    .col(string_null("description"))
                    .col(string("secret"))
                    .col(string_null("previous_secret"))
                    .col(timestamp_with_time_zone_null("previous_secret_until"))
                    .col(boolean("active").default(true))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_webhook_sub_unit",
                        ("webhook_subscriptions", "unit_id"),
                        "units",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_webhook_sub_user",
                        ("webhook_subscriptions", "created_by"),
                        "users",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(big_pk_auto("id"))
                    // The `webhook-id` header: the same on every attempt.
                    .col(string_len("webhook_id", 64).unique_key())
                    .col(string("event_type"))
                    // The unit the event concerns, and its path then (for scopes).
                    .col(big_integer_null("unit_id"))
                    .col(string_null("unit_path"))
                    .col(text("payload"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(string_null("dedup_key").unique_key())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("event_id"))
                    .col(big_integer("subscription_id"))
                    // `pending`, `delivered` or `failed`.
                    .col(string("status"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone_null("next_attempt_at"))
                    // A dispatcher's lease on it while it sends.
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(integer_null("last_status_code"))
                    .col(string_null("last_error"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "fk_webhook_del_event",
                        ("webhook_deliveries", "event_id"),
                        "webhook_events",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_webhook_del_sub",
                        ("webhook_deliveries", "subscription_id"),
                        "webhook_subscriptions",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_del_event_sub")
                    .table("webhook_deliveries")
                    .col("event_id")
                    .col("subscription_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_del_due")
                    .table("webhook_deliveries")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_del_sub")
                    .table("webhook_deliveries")
                    .col("subscription_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_attempts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("delivery_id"))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .col(integer_null("status_code"))
                    .col(string_null("error"))
                    .col(big_integer("duration_ms"))
                    .foreign_key(&mut fk(
                        "fk_webhook_att_del",
                        ("webhook_attempts", "delivery_id"),
                        "webhook_deliveries",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_att_del")
                    .table("webhook_attempts")
                    .col("delivery_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_events",
            "webhook_subscriptions",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
