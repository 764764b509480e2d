//! Subtree queries (a province's ranking, its criteria losses) select units by a range on
//! `path` in byte order. SQLite compares bytes already, so `ix_units_path` serves them; on
//! PostgreSQL the column's collation may be a language's (`en_US.UTF-8` ignores '/'), so
//! the range is written `COLLATE "C"` and needs an index in that collation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(r#"CREATE INDEX ix_units_path_c ON units (path COLLATE "C")"#)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX ix_units_path_c")
                .await?;
        }
        Ok(())
    }
}
