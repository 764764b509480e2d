//! The map changes, the record does not (2025's two-tier local government).
//!
//! - A publication becomes a frozen record: its decision (number and date), a revision
//!   number (a reopened appraisal leads to a new revision; the old one stays), the scope
//!   unit as it was named then, and `publication_results`: every unit's row of the
//!   ranking as it stood at publication. Existing publications are frozen from today's
//!   data, the best record there is of what they announced.
//! - `unit_merges` and their sources: communes merged into one, kept for lineage.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite alters one column per statement.
async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(column.to_owned())
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let p = "publications";
        add_column(manager, p, integer("revision").default(1).to_owned()).await?;
        add_column(manager, p, string_null("decision_number")).await?;
        add_column(manager, p, date_null("decided_on")).await?;
        // The scope unit as it was at publication: districts are renamed and abolished.
        add_column(manager, p, string_null("scope_code")).await?;
        add_column(manager, p, string_null("scope_name")).await?;
        add_column(manager, p, string_null("scope_kind")).await?;
        add_column(manager, p, string_null("scope_path")).await?;
        // Why this revision replaced the previous one (the reopens' reasons).
        add_column(manager, p, text_null("reason")).await?;
        // Set while an appraisal this revision covers has been reopened since.
        add_column(manager, p, timestamp_with_time_zone_null("reopened_at")).await?;
        add_column(manager, p, text_null("reopen_reason")).await?;
        add_column(manager, p, big_integer_null("superseded_by")).await?;
        manager
            .drop_index(Index::drop().name("ux_pub_parent_year").table(p).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_pub_parent_year_revision")
                    .table(p)
                    .col("parent_unit_id")
                    .col("year")
                    .col("revision")
                    .unique()
                    .to_owned(),
            )
            .await?;

        // The frozen rows: no foreign key to units, the record outlives them.
        manager
            .create_table(
                Table::create()
                    .table("publication_results")
                    .col(big_pk_auto("id"))
                    .col(big_integer("publication_id"))
                    .col(big_integer("unit_id"))
                    .col(string("unit_code"))
                    .col(string("unit_name"))
                    .col(string("unit_kind"))
                    .col(string("unit_path"))
                    .col(big_integer_null("parent_id"))
                    .col(big_integer_null("self_assessment_id"))
                    .col(big_integer_null("appraisal_id"))
                    .col(big_integer_null("framework_id"))
                    .col(string_null("appraisal_status"))
                    .col(string_null("self_assessment_status"))
                    .col(big_integer_null("index_x100"))
                    .col(big_integer_null("self_total_x100"))
                    .col(big_integer_null("appraised_total_x100"))
                    .col(big_integer_null("bonus_x100"))
                    .col(big_integer_null("deduction_total_x100"))
                    .col(string_null("rating_band"))
                    .col(big_integer_null("previous_index_x100"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pub_results_pub")
                            .from("publication_results", "publication_id")
                            .to("publications", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_pub_results_pub", "publication_id"),
            ("ix_pub_results_unit", "unit_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("publication_results")
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        // Freeze what was published before this migration, from the data as it stands.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE publications SET \
               scope_code = (SELECT code FROM units WHERE id = publications.parent_unit_id), \
               scope_name = (SELECT name FROM units WHERE id = publications.parent_unit_id), \
               scope_kind = (SELECT kind FROM units WHERE id = publications.parent_unit_id), \
               scope_path = (SELECT path FROM units WHERE id = publications.parent_unit_id)",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO publication_results (publication_id, unit_id, unit_code, unit_name, \
                unit_kind, unit_path, parent_id, self_assessment_id, appraisal_id, framework_id, \
                appraisal_status, self_assessment_status, index_x100, self_total_x100, \
                appraised_total_x100, bonus_x100, deduction_total_x100, rating_band, \
                previous_index_x100) \
             SELECT pub.id, u.id, u.code, u.name, u.kind, u.path, u.parent_id, s.id, a.id, \
                a.framework_id, a.status, s.status, a.index_x100, a.self_total_x100, \
                a.appraised_total_x100, a.bonus_x100, a.deduction_total_x100, a.rating_band, \
                prev.index_x100 \
             FROM publications pub \
             JOIN units u ON u.parent_id = pub.parent_unit_id AND u.active = TRUE \
             LEFT JOIN self_assessments s ON s.unit_id = u.id AND s.year = pub.year \
             LEFT JOIN appraisals a ON a.self_assessment_id = s.id \
             LEFT JOIN appraisals prev ON prev.unit_id = u.id AND prev.year = pub.year - 1 \
                AND prev.status = 'finalized'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("unit_merges")
                    .col(big_pk_auto("id"))
                    .col(big_integer("into_unit_id"))
                    .col(date("effective_on"))
                    // The decision that made it (e.g. "1687/NQ-UBTVQH15").
                    .col(string("decision"))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_merges_into")
                            .from("unit_merges", "into_unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("unit_merge_sources")
                    .col(big_pk_auto("id"))
                    .col(big_integer("merge_id"))
                    .col(big_integer("from_unit_id"))
                    // For the weighted comparison (e.g. population); equal when null.
                    .col(big_integer_null("weight_x100"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_merge_sources_merge")
                            .from("unit_merge_sources", "merge_id")
                            .to("unit_merges", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_merge_sources_unit")
                            .from("unit_merge_sources", "from_unit_id")
                            .to("units", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_merge_sources_unit")
                    .table("unit_merge_sources")
                    .col("from_unit_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_merges_into")
                    .table("unit_merges")
                    .col("into_unit_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["unit_merge_sources", "unit_merges", "publication_results"] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ux_pub_parent_year_revision")
                    .table("publications")
                    .to_owned(),
            )
            .await?;
        for c in [
            "revision",
            "decision_number",
            "decided_on",
            "scope_code",
            "scope_name",
            "scope_kind",
            "scope_path",
            "reason",
            "reopened_at",
            "reopen_reason",
            "superseded_by",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("publications")
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_pub_parent_year")
                    .table("publications")
                    .col("parent_unit_id")
                    .col("year")
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
