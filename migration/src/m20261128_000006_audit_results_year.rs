//! Audit events that carry a year's results (the council's scores and comments, an
//! appraisal's totals) are marked with that year, so that unit officers and viewers see
//! them only once the year's results are published to them. Existing events are marked
//! from the appraisals and entries they concern.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_events")
                    .add_column(ColumnDef::new("results_year").integer().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE audit_events SET results_year = \
             (SELECT a.year FROM appraisals a WHERE a.id = audit_events.entity_id) \
             WHERE entity = 'appraisal'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE audit_events SET results_year = \
             (SELECT s.year FROM assessment_entries e \
              JOIN self_assessments s ON s.id = e.self_assessment_id \
              WHERE e.id = audit_events.entity_id) \
             WHERE entity = 'assessment_entry' AND action IN ('appraise', 'appraise_reset')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_events")
                    .drop_column("results_year")
                    .to_owned(),
            )
            .await
    }
}
