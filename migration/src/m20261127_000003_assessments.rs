//! Self-assessments, their entries (self and appraised sides), appraisals, the rounds of
//! returns for supplementation, deadline extensions and publications of results.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).to_owned();
    for c in cols {
        index.col(*c);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        manager
            .create_table(
                Table::create()
                    .table("self_assessments")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(big_integer("framework_id"))
                    .col(integer("year"))
                    // draft, submitted, returned, appraised
                    .col(string("status"))
                    .col(big_integer("self_total_x100"))
                    // How many times it was submitted.
                    .col(integer("round"))
                    .col(timestamp_with_time_zone_null("submitted_at"))
                    // While returned: JSON list of the codes the unit may edit.
                    .col(text_null("editable_codes"))
                    .col(big_integer_null("created_by"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_sa_unit",
                        ("self_assessments", "unit_id"),
                        ("units", "id"),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_sa_framework",
                        ("self_assessments", "framework_id"),
                        ("frameworks", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_sa_unit_framework",
            "self_assessments",
            &["unit_id", "framework_id"],
            true,
        )
        .await?;
        index(
            manager,
            "ix_sa_framework",
            "self_assessments",
            &["framework_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("assessment_entries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("self_assessment_id"))
                    .col(string("criterion_code"))
                    // The unit's side: raw inputs (JSON), computed score, explanation, evidence.
                    .col(text_null("self_inputs"))
                    .col(big_integer_null("self_score_x100"))
                    .col(boolean("self_not_applicable").default(false))
                    .col(text_null("explanation"))
                    .col(text("evidence"))
                    // The council's side; null inputs mean "keeps the self-assessed inputs".
                    .col(text_null("appraised_inputs"))
                    .col(big_integer_null("appraised_score_x100"))
                    .col(boolean("appraised_not_applicable").default(false))
                    .col(text_null("comment"))
                    // Written at finalization: the effective score and the points lost.
                    .col(big_integer_null("final_score_x100"))
                    .col(big_integer_null("deduction_x100"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_entries_sa",
                        ("assessment_entries", "self_assessment_id"),
                        ("self_assessments", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_entries_sa_code",
            "assessment_entries",
            &["self_assessment_id", "criterion_code"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("appraisals")
                    .col(big_pk_auto("id"))
                    .col(big_integer_uniq("self_assessment_id"))
                    .col(big_integer("unit_id"))
                    .col(big_integer("framework_id"))
                    .col(integer("year"))
                    // pending (not started), in_progress, finalized
                    .col(string("status"))
                    .col(big_integer("appraised_total_x100"))
                    .col(big_integer("bonus_x100"))
                    .col(text_null("bonus_reason"))
                    // Stored at finalization, for rankings that scale.
                    .col(big_integer_null("self_total_x100"))
                    .col(big_integer_null("index_x100"))
                    .col(big_integer_null("deduction_total_x100"))
                    .col(string_null("rating_band"))
                    .col(timestamp_with_time_zone_null("finalized_at"))
                    .col(big_integer_null("finalized_by"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_appraisals_sa",
                        ("appraisals", "self_assessment_id"),
                        ("self_assessments", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_appraisals_unit",
                        ("appraisals", "unit_id"),
                        ("units", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_appraisals_unit_year",
            "appraisals",
            &["unit_id", "year"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_appraisals_year_status",
            "appraisals",
            &["year", "status"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("appraisal_rounds")
                    .col(big_pk_auto("id"))
                    .col(big_integer("appraisal_id"))
                    .col(integer("round"))
                    .col(text("note"))
                    // JSON list of the criterion codes returned for supplementation.
                    .col(text("criteria"))
                    .col(big_integer_null("returned_by"))
                    .col(timestamp_with_time_zone("returned_at"))
                    .col(timestamp_with_time_zone_null("resubmitted_at"))
                    .foreign_key(&mut fk(
                        "fk_rounds_appraisal",
                        ("appraisal_rounds", "appraisal_id"),
                        ("appraisals", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_rounds_appraisal",
            "appraisal_rounds",
            &["appraisal_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("deadline_extensions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("framework_id"))
                    .col(big_integer("unit_id"))
                    .col(date("until"))
                    .col(text_null("reason"))
                    .col(big_integer_null("granted_by"))
                    .col(timestamp_with_time_zone("granted_at"))
                    .foreign_key(&mut fk(
                        "fk_ext_framework",
                        ("deadline_extensions", "framework_id"),
                        ("frameworks", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_ext_unit",
                        ("deadline_extensions", "unit_id"),
                        ("units", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_ext_framework_unit",
            "deadline_extensions",
            &["framework_id", "unit_id"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("publications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("parent_unit_id"))
                    .col(integer("year"))
                    .col(big_integer_null("published_by"))
                    .col(timestamp_with_time_zone("published_at"))
                    .foreign_key(&mut fk(
                        "fk_pub_unit",
                        ("publications", "parent_unit_id"),
                        ("units", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_pub_parent_year",
            "publications",
            &["parent_unit_id", "year"],
            true,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "publications",
            "deadline_extensions",
            "appraisal_rounds",
            "appraisals",
            "assessment_entries",
            "self_assessments",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
