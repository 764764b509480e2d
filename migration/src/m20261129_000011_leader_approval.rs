//! The commune leader's sign-off: a framework may require that a leader of the unit
//! (chủ tịch or phó chủ tịch, role `unit_leader`) approves its self-assessment before it
//! can be submitted; the approval, its time and the leader's name are kept on the file,
//! and any later edit withdraws it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            timestamp_with_time_zone_null("approved_at"),
            big_integer_null("approved_by"),
            string_null("approved_by_name"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("self_assessments")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .add_column(boolean("requires_leader_approval").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["approved_at", "approved_by", "approved_by_name"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("self_assessments")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .drop_column("requires_leader_approval")
                    .to_owned(),
            )
            .await
    }
}
