//! The index's composition: a framework's components (JSON: code, name, the top-level
//! fields each sums) and what a unit's missing component does (`rescale`, `zero`,
//! `unranked`); each finalized appraisal keeps its components' figures and whether it is
//! left out of rankings, and a publication freezes them with the penalty points.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column) pairs added, for `down`.
const ADDED: [(&str, &str); 7] = [
    ("frameworks", "components"),
    ("frameworks", "missing_component"),
    ("appraisals", "components"),
    ("appraisals", "unranked"),
    ("publication_results", "components"),
    ("publication_results", "unranked"),
    ("publication_results", "penalty_total_x100"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for (table, column) in [
            ("frameworks", text("components").default("[]").to_owned()),
            (
                "frameworks",
                string_len("missing_component", 16)
                    .default("zero")
                    .to_owned(),
            ),
            ("appraisals", text_null("components").to_owned()),
            ("appraisals", boolean("unranked").default(false).to_owned()),
            ("publication_results", text_null("components").to_owned()),
            (
                "publication_results",
                boolean("unranked").default(false).to_owned(),
            ),
            (
                "publication_results",
                big_integer_null("penalty_total_x100").to_owned(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        // Publications made before: their penalty points as they were derived then.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE publication_results SET penalty_total_x100 = \
                   appraised_total_x100 + bonus_x100 - index_x100 \
                 WHERE index_x100 IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in ADDED {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
