use sea_orm::entity::prelude::*;

/// One of the units a merge joined.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_merge_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub merge_id: i64,
    pub from_unit_id: i64,
    /// Its weight in the weighted comparison (e.g. population), in hundredths.
    pub weight_x100: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
