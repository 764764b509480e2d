use sea_orm::entity::prelude::*;

/// A unit's plan to recover, in `year`, the points lost in `source_year`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remediation_plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub appraisal_id: i64,
    pub unit_id: i64,
    pub source_year: i32,
    pub year: i32,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
