//! A one-row table the readiness check writes to after a write failed for want of the
//! database (a full disk): readiness then means that a write can commit again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("health_probe")
                    .col(integer("id").primary_key())
                    .col(timestamp_with_time_zone_null("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO health_probe (id, at) VALUES (1, NULL)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("health_probe").to_owned())
            .await
    }
}
