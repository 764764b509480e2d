//! Preliminary results and appeals (kiến nghị): the council releases its preliminary
//! results of a district or province to the units; during the framework's `appeal_days` a
//! unit files objections per criterion; the council answers each, and an accepted one
//! changes the council's entry. Finalization and publication wait for every answer.

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
                    .add_column(integer_null("appeal_days"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("preliminary_releases")
                    .col(big_pk_auto("id"))
                    .col(big_integer("parent_unit_id"))
                    .col(integer("year"))
                    .col(big_integer_null("released_by"))
                    .col(timestamp_with_time_zone("released_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_prelim_unit")
                            .from("preliminary_releases", "parent_unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_prelim_parent_year")
                    .table("preliminary_releases")
                    .col("parent_unit_id")
                    .col("year")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("appeals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("appraisal_id"))
                    .col(big_integer("unit_id"))
                    .col(integer("year"))
                    .col(string("criterion_code"))
                    .col(text("reason"))
                    // JSON array of evidence items, as entries carry them.
                    .col(text("evidence"))
                    // `open`, `accepted` or `rejected`.
                    .col(string("status"))
                    .col(big_integer_null("filed_by"))
                    .col(timestamp_with_time_zone("filed_at"))
                    .col(text_null("response"))
                    .col(big_integer_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(integer("version").default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeals_appraisal")
                            .from("appeals", "appraisal_id")
                            .to("appraisals", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_appeals_appraisal")
                    .table("appeals")
                    .col("appraisal_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("appeals").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("preliminary_releases").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .drop_column("appeal_days")
                    .to_owned(),
            )
            .await
    }
}
