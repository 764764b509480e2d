//! Stored results documents (`services::results::documents`): the JSON body of a ranking,
//! a district's criteria losses or a unit's index, with the facts its access is checked
//! on, stamped with the results generation it was built at.
//!
//! The generation moves on with every committed write: a sequence on PostgreSQL (bumped
//! after each commit, without locks, so writers never wait for each other), a one-row
//! table on SQLite (bumped inside each write transaction: SQLite has one writer anyway).

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("result_documents")
                    .col(string_len("kind", 32))
                    .col(big_integer("scope_id"))
                    .col(integer("year"))
                    .col(string_len("depth", 16))
                    .col(big_integer("generation"))
                    .col(text("access"))
                    .col(text("body"))
                    .primary_key(
                        Index::create()
                            .col("kind")
                            .col("scope_id")
                            .col("year")
                            .col("depth"),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared("CREATE SEQUENCE parindex_results_generation")
                    .await?;
            }
            _ => {
                manager
                    .create_table(
                        Table::create()
                            .table("results_generation")
                            .col(integer("id").primary_key())
                            .col(big_integer("value"))
                            .to_owned(),
                    )
                    .await?;
                conn.execute_unprepared("INSERT INTO results_generation (id, value) VALUES (1, 1)")
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                manager
                    .get_connection()
                    .execute_unprepared("DROP SEQUENCE parindex_results_generation")
                    .await?;
            }
            _ => {
                manager
                    .drop_table(Table::drop().table("results_generation").to_owned())
                    .await?;
            }
        }
        manager
            .drop_table(Table::drop().table("result_documents").to_owned())
            .await
    }
}
