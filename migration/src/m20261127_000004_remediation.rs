//! Remediation plans: one item per lost point, with actions, responsible officers,
//! phased milestones and a history of progress.

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
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        manager
            .create_table(
                Table::create()
                    .table("remediation_plans")
                    .col(big_pk_auto("id"))
                    .col(big_integer("appraisal_id"))
                    .col(big_integer("unit_id"))
                    // The year whose results it remedies, and the year it runs in.
                    .col(integer("source_year"))
                    .col(integer("year"))
                    .col(big_integer_null("created_by"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_plans_appraisal",
                        ("remediation_plans", "appraisal_id"),
                        ("appraisals", "id"),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_plans_unit",
                        ("remediation_plans", "unit_id"),
                        ("units", "id"),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_plans_appraisal",
            "remediation_plans",
            &["appraisal_id"],
            true,
        )
        .await?;
        index(
            manager,
            "ix_plans_unit_year",
            "remediation_plans",
            &["unit_id", "year"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("remediation_items")
                    .col(big_pk_auto("id"))
                    .col(big_integer("plan_id"))
                    .col(big_integer("unit_id"))
                    .col(integer("position"))
                    // Null for extra items not tied to a criterion.
                    .col(string_null("criterion_code"))
                    .col(text("title"))
                    .col(big_integer_null("max_score_x100"))
                    .col(big_integer_null("self_score_x100"))
                    .col(big_integer_null("appraised_score_x100"))
                    .col(big_integer_null("deduction_x100"))
                    .col(text_null("comment"))
                    .col(text_null("action"))
                    .col(big_integer_null("responsible_staff_id"))
                    .col(big_integer_null("target_score_x100"))
                    // not_started, in_progress, done, cancelled
                    .col(string("status"))
                    .col(text_null("cancel_reason"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_items_plan",
                        ("remediation_items", "plan_id"),
                        ("remediation_plans", "id"),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_items_staff",
                        ("remediation_items", "responsible_staff_id"),
                        ("staff", "id"),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_items_plan",
            "remediation_items",
            &["plan_id"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_items_unit_status",
            "remediation_items",
            &["unit_id", "status"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("remediation_milestones")
                    .col(big_pk_auto("id"))
                    .col(big_integer("item_id"))
                    .col(integer("position"))
                    .col(string("label"))
                    .col(date("due_on"))
                    .foreign_key(&mut fk(
                        "fk_milestones_item",
                        ("remediation_milestones", "item_id"),
                        ("remediation_items", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_milestones_item",
            "remediation_milestones",
            &["item_id"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_milestones_due",
            "remediation_milestones",
            &["due_on"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("remediation_progress")
                    .col(big_pk_auto("id"))
                    .col(big_integer("item_id"))
                    // progress (a status report) or comment (the district's remark)
                    .col(string("kind"))
                    .col(text("note"))
                    .col(string_null("status"))
                    .col(text_null("reason"))
                    .col(text("evidence"))
                    .col(big_integer_null("created_by"))
                    .col(string("created_by_name"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "fk_progress_item",
                        ("remediation_progress", "item_id"),
                        ("remediation_items", "id"),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_progress_item",
            "remediation_progress",
            &["item_id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "remediation_progress",
            "remediation_milestones",
            "remediation_items",
            "remediation_plans",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
