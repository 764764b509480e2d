//! Penalty points (điểm trừ) for violations, as some provinces compose the index: a
//! framework caps them (`penalty_max`), an appraisal lists them with their reasons and
//! documents, and the index is the appraised total plus the bonus minus their total.

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
                    .add_column(big_integer("penalty_max_x100").default(0))
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        for column in [
            text("penalties").default("[]").to_owned(),
            big_integer("penalty_total_x100").default(0).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("appraisals")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["penalties", "penalty_total_x100"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("appraisals")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .drop_column("penalty_max_x100")
                    .to_owned(),
            )
            .await
    }
}
