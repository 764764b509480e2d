//! Criteria that carry across years: for a framework and the one it follows, each old
//! criterion's successor and the relation (same, renamed, split, merged, new, removed).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("criterion_mappings")
                    .col(big_pk_auto("id"))
                    .col(big_integer("framework_id"))
                    .col(big_integer("from_framework_id"))
                    .col(integer("position"))
                    .col(string_len_null("from_code", 64))
                    .col(string_len_null("to_code", 64))
                    .col(string_len("relation", 16))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_criterion_mappings_framework")
                            .from("criterion_mappings", "framework_id")
                            .to("frameworks", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_criterion_mappings_from")
                            .from("criterion_mappings", "from_framework_id")
                            .to("frameworks", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_criterion_mappings_pair")
                    .table("criterion_mappings")
                    .col("framework_id")
                    .col("from_framework_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("criterion_mappings").to_owned())
            .await
    }
}
