//! Remediation as the seed letter writes it: several officers per item (one lead, any
//! number supporting) and bodies outside the staff list; each milestone with its own
//! status, date met, note and evidence; recurring duties; tasks with a numeric target and
//! progress reports that measure it.
//!
//! Existing plans carry over: an item's single officer becomes its lead (the old column
//! is then left empty: the officers table is the one place), its phase dates are already
//! its milestones and start `pending`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite adds one column per statement.
async fn add(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &mut ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("remediation_item_officers")
                    .col(big_pk_auto("id"))
                    .col(big_integer("item_id"))
                    .col(big_integer("staff_id"))
                    // `lead` or `support`.
                    .col(string("role"))
                    .col(integer("position"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_item_officers_item")
                            .from("remediation_item_officers", "item_id")
                            .to("remediation_items", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_item_officers_staff")
                            .from("remediation_item_officers", "staff_id")
                            .to("staff", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_item_officers")
                    .table("remediation_item_officers")
                    .col("item_id")
                    .col("staff_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_item_officers_staff")
                    .table("remediation_item_officers")
                    .col("staff_id")
                    .to_owned(),
            )
            .await?;
        // Bodies outside the staff list ("UBMT xã", "Đoàn Thanh niên", "toàn bộ CBCC"), as
        // a JSON list; a recurring duty's rule (JSON); a task's numeric target.
        add(manager, "remediation_items", text("bodies").default("[]")).await?;
        add(manager, "remediation_items", &mut text_null("recurrence")).await?;
        add(
            manager,
            "remediation_items",
            &mut big_integer_null("target_value_x100"),
        )
        .await?;
        add(
            manager,
            "remediation_items",
            &mut string_null("target_unit"),
        )
        .await?;
        add(
            manager,
            "remediation_items",
            &mut string_null("target_direction"),
        )
        .await?;
        // Each milestone's own state; occurrences of a recurring duty are marked.
        add(
            manager,
            "remediation_milestones",
            string("status").default("pending"),
        )
        .await?;
        add(manager, "remediation_milestones", &mut date_null("met_on")).await?;
        add(manager, "remediation_milestones", &mut text_null("note")).await?;
        add(
            manager,
            "remediation_milestones",
            text("evidence").default("[]"),
        )
        .await?;
        add(
            manager,
            "remediation_milestones",
            boolean("recurring").default(false),
        )
        .await?;
        // What a progress report measured of a task's target.
        add(
            manager,
            "remediation_progress",
            &mut big_integer_null("measured_x100"),
        )
        .await?;
        add(
            manager,
            "remediation_progress",
            &mut date_null("measured_on"),
        )
        .await?;

        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO remediation_item_officers (item_id, staff_id, role, position) \
             SELECT id, responsible_staff_id, 'lead', 0 FROM remediation_items \
             WHERE responsible_staff_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared("UPDATE remediation_items SET responsible_staff_id = NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE remediation_items SET responsible_staff_id = \
             (SELECT staff_id FROM remediation_item_officers o \
              WHERE o.item_id = remediation_items.id AND o.role = 'lead')",
        )
        .await?;
        manager
            .drop_table(Table::drop().table("remediation_item_officers").to_owned())
            .await?;
        for (table, column) in [
            ("remediation_items", "bodies"),
            ("remediation_items", "recurrence"),
            ("remediation_items", "target_value_x100"),
            ("remediation_items", "target_unit"),
            ("remediation_items", "target_direction"),
            ("remediation_milestones", "status"),
            ("remediation_milestones", "met_on"),
            ("remediation_milestones", "note"),
            ("remediation_milestones", "evidence"),
            ("remediation_milestones", "recurring"),
            ("remediation_progress", "measured_x100"),
            ("remediation_progress", "measured_on"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
