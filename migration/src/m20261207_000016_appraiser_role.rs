//! The appraiser role is named after its function since 2025: `district_appraiser`
//! becomes `appraiser` in the stored accounts (the old name is still accepted on input).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE users SET role = 'appraiser' WHERE role = 'district_appraiser'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE users SET role = 'district_appraiser' WHERE role = 'appraiser'",
            )
            .await?;
        Ok(())
    }
}
