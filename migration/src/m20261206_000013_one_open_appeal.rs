//! At most one open appeal per criterion of an appraisal, kept by the database: a unique
//! index over the open appeals only (a partial index, on SQLite and PostgreSQL alike).
//!
//! Before it, concurrent filings on PostgreSQL could leave several open appeals on one
//! criterion. Those are settled first, so that the index can be built: the oldest stays
//! open, each later one is closed as rejected with a response naming the one kept, and
//! nothing is deleted. (Literal statuses: a migration states the data as it was stored
//! when it was written, whatever the code calls it later.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE appeals SET status = 'rejected', \
               response = 'Trùng với kiến nghị ' || CAST((SELECT MIN(k.id) FROM appeals k \
                 WHERE k.appraisal_id = appeals.appraisal_id \
                 AND k.criterion_code = appeals.criterion_code AND k.status = 'open') AS TEXT) \
                 || ' về cùng tiêu chí (đóng khi nâng cấp) / a duplicate of appeal ' \
                 || CAST((SELECT MIN(k.id) FROM appeals k \
                 WHERE k.appraisal_id = appeals.appraisal_id \
                 AND k.criterion_code = appeals.criterion_code AND k.status = 'open') AS TEXT) \
                 || ' on the same criterion (closed on upgrade)', \
               version = version + 1 \
             WHERE status = 'open' AND id > (SELECT MIN(k.id) FROM appeals k \
               WHERE k.appraisal_id = appeals.appraisal_id \
               AND k.criterion_code = appeals.criterion_code AND k.status = 'open')",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_appeals_one_open ON appeals (appraisal_id, criterion_code) \
             WHERE status = 'open'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_appeals_one_open")
            .await?;
        Ok(())
    }
}
