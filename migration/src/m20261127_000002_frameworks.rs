//! Criteria frameworks and their criteria.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("frameworks")
                    .col(big_pk_auto("id"))
                    // The district (or province) whose units the framework scores.
                    .col(big_integer("owner_unit_id"))
                    .col(integer("year"))
                    .col(string("name"))
                    // Comma-separated unit kinds it applies to, e.g. "commune,town".
                    .col(string("unit_kinds"))
                    .col(string("status"))
                    .col(string("na_policy"))
                    .col(big_integer("bonus_max_x100"))
                    // JSON list of {label, min_index}.
                    .col(text("rating_bands"))
                    .col(date_null("submission_deadline"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(big_integer_null("created_by"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_frameworks_owner")
                            .from("frameworks", "owner_unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_frameworks_owner_year")
                    .table("frameworks")
                    .col("owner_unit_id")
                    .col("year")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("criteria")
                    .col(big_pk_auto("id"))
                    .col(big_integer("framework_id"))
                    .col(string("code"))
                    .col(string_null("parent_code"))
                    // Order of the code (1.9 before 1.10), for listing.
                    .col(integer("position"))
                    .col(text("title"))
                    .col(big_integer("max_score_x100"))
                    .col(boolean("is_leaf"))
                    // JSON of the scoring method (leaves only).
                    .col(text_null("method"))
                    .col(string("scorer"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_criteria_framework")
                            .from("criteria", "framework_id")
                            .to("frameworks", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_criteria_framework_code")
                    .table("criteria")
                    .col("framework_id")
                    .col("code")
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["criteria", "frameworks"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
