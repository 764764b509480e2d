//! Figures from other systems: a leaf may be fed from a named indicator (`indicator_code`
//! on the criterion), and the values imported for it are kept per framework, unit and
//! criterion with where they came from (system, period, when retrieved, document); a
//! value becomes the council's input of the unit's file when it has one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("criteria")
                    .add_column(string_len_null("indicator_code", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("criteria")
                    .add_column(boolean("indicator_feeds_self").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("indicator_values")
                    .col(big_pk_auto("id"))
                    .col(big_integer("framework_id"))
                    .col(big_integer("unit_id"))
                    .col(integer("year"))
                    .col(string("criterion_code"))
                    .col(string_len("indicator_code", 64))
                    // The method's inputs, as entries carry them (JSON).
                    .col(text("inputs"))
                    .col(string_len("source_system", 200))
                    .col(date_null("period_from"))
                    .col(date_null("period_to"))
                    .col(timestamp_with_time_zone("retrieved_at"))
                    .col(string_len_null("document_ref", 500))
                    .col(big_integer_null("imported_by"))
                    .col(timestamp_with_time_zone("imported_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_indicator_values_framework")
                            .from("indicator_values", "framework_id")
                            .to("frameworks", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_indicator_values_unit")
                            .from("indicator_values", "unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_indicator_values_unit_criterion")
                    .table("indicator_values")
                    .col("framework_id")
                    .col("unit_id")
                    .col("criterion_code")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("indicator_values").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("criteria")
                    .drop_column("indicator_code")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("criteria")
                    .drop_column("indicator_feeds_self")
                    .to_owned(),
            )
            .await
    }
}
