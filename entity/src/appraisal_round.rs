use sea_orm::entity::prelude::*;

/// A return of a file for supplementation: the note and the criteria concerned.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appraisal_rounds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub appraisal_id: i64,
    pub round: i32,
    pub note: String,
    /// JSON list of criterion codes.
    pub criteria: String,
    pub returned_by: Option<i64>,
    pub returned_at: DateTimeUtc,
    pub resubmitted_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
