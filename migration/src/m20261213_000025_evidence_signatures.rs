//! The digital signatures found in an evidence PDF, as verified at upload (or again with
//! `parindex evidence verify-signatures` when the trust anchors change): a JSON array of
//! verdicts, and when they were computed. Both null for a file not (yet) checked: not a
//! PDF, or uploaded before signatures were verified.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("evidence_files")
                    .add_column(ColumnDef::new("signatures").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("evidence_files")
                    .add_column(
                        ColumnDef::new("signatures_checked_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["signatures_checked_at", "signatures"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("evidence_files")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
