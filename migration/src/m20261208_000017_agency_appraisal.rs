//! The province's appraisal since 2025: a criterion may name the agency (sở, ban, ngành)
//! that appraises it, and each leaf of a file keeps the council's review of it: `pending`,
//! `scored` by its agency, or `confirmed` by the consolidating appraisers, with who and
//! when, and the agency's score and the reason when the consolidator overrode it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ENTRY_COLUMNS: [&str; 5] = [
    "review_state",
    "reviewed_by",
    "reviewed_at",
    "overridden_score_x100",
    "override_reason",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("criteria")
                    .add_column(big_integer_null("appraised_by_unit_id"))
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        for column in [
            string_len("review_state", 16).default("pending").to_owned(),
            big_integer_null("reviewed_by"),
            timestamp_with_time_zone_null("reviewed_at"),
            big_integer_null("overridden_score_x100"),
            text_null("override_reason"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("assessment_entries")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ENTRY_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("assessment_entries")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("criteria")
                    .drop_column("appraised_by_unit_id")
                    .to_owned(),
            )
            .await
    }
}
