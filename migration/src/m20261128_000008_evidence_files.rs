//! Evidence files (tài liệu kiểm chứng): the metadata of each uploaded document, its bytes
//! kept by the blob store under their sha256; and the framework's evidence policy, which
//! says what a scored criterion must carry before a self-assessment can be submitted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("evidence_files")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    // The assessment year the file was uploaded for.
                    .col(integer("year"))
                    .col(string("filename"))
                    .col(string("content_type"))
                    .col(big_integer("size"))
                    // Lower-case hex: the blob's key in the store.
                    .col(string_len("sha256", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(big_integer_null("created_by"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_files_unit")
                            .from("evidence_files", "unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_files_user")
                            .from("evidence_files", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_files_unit_year")
                    .table("evidence_files")
                    .col("unit_id")
                    .col("year")
                    .to_owned(),
            )
            .await?;
        // The garbage collector asks "does any metadata name this blob?".
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_files_sha256")
                    .table("evidence_files")
                    .col("sha256")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    // `none`, `evidence_or_explanation` or `evidence`.
                    .add_column(string("evidence_policy").default("none"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("frameworks")
                    .drop_column("evidence_policy")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("evidence_files").to_owned())
            .await
    }
}
