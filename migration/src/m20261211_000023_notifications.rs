//! Notifications people receive: contact fields on accounts (`email`) and officers
//! (`email`, `phone`); one notification per account an event concerns; preferences per
//! account and kind; and the e-mail outbox: each message recorded in the transaction of
//! the change that caused it (like webhook deliveries), sent after commit, retried.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(string_len_null("email", 254))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("staff")
                    .add_column(string_len_null("email", 254))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("staff")
                    .add_column(string_len_null("phone", 30))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    // The outbox event it comes from: one notification per account and event.
                    .col(big_integer("event_id"))
                    .col(string_len("kind", 60))
                    .col(string_len("title", 300))
                    .col(text("body"))
                    .col(string_len("link", 300))
                    .col(big_integer_null("unit_id"))
                    // Listed in `GET /notifications` (the account's in-app preference).
                    .col(boolean("listed"))
                    // Waiting for the account's next daily digest.
                    .col(boolean("digest_pending"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_user")
                            .from("notifications", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_event")
                            .from("notifications", "event_id")
                            .to("webhook_events", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_notifications_user_event")
                    .table("notifications")
                    .col("user_id")
                    .col("event_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_user_created")
                    .table("notifications")
                    .col("user_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notification_preferences")
                    .col(big_integer("user_id"))
                    .col(string_len("kind", 60))
                    .col(boolean("in_app"))
                    // off, immediate or daily
                    .col(string_len("email", 20))
                    .primary_key(Index::create().col("user_id").col("kind"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_preferences_user")
                            .from("notification_preferences", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The token of an account's unsubscribe links (it grants only turning its e-mail
        // off); made with the first e-mail.
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(string_len_null("unsubscribe_token", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("mail_messages")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    // `notification:{id}` or `digest:{user}:{date}`: each message once.
                    .col(string_len("dedup_key", 120).unique_key())
                    // What it tells: one notification, or a digest's (a JSON array of ids);
                    // the text is written when sent, with the deployment's public URL.
                    .col(text("notification_ids"))
                    .col(string_len("to_address", 254))
                    .col(string_len("status", 20))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone_null("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(string_len_null("last_error", 500))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mail_messages_user")
                            .from("mail_messages", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mail_messages_due")
                    .table("mail_messages")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["mail_messages", "notification_preferences", "notifications"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            ("users", "unsubscribe_token"),
            ("staff", "phone"),
            ("staff", "email"),
            ("users", "email"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
