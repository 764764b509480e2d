//! The year as a campaign: a framework's campaign dates (JSON, `campaign`), and personal
//! calendar feed URLs: each holds only the hash of its unguessable token, for the account
//! that made it, until revoked.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .add_column(text("campaign").default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("calendar_feeds")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string_len("token_hash", 64).unique_key())
                    .col(string_len_null("name", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_feeds_user")
                            .from("calendar_feeds", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_calendar_feeds_user")
                    .table("calendar_feeds")
                    .col("user_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("calendar_feeds").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .drop_column("campaign")
                    .to_owned(),
            )
            .await
    }
}
