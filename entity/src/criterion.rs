use sea_orm::entity::prelude::*;

/// One criterion of a framework, identified by its dotted code.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "criteria")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub framework_id: i64,
    pub code: String,
    pub parent_code: Option<String>,
    pub position: i32,
    pub title: String,
    pub max_score_x100: i64,
    pub is_leaf: bool,
    /// JSON of the scoring method (leaves only).
    pub method: Option<String>,
    /// `self`, `appraiser` or `survey`.
    pub scorer: String,
    /// The agency that appraises the criterion (its leaves inherit it), if any.
    pub appraised_by_unit_id: Option<i64>,
    /// The indicator of another system that feeds the leaf's council figure, if any.
    pub indicator_code: Option<String>,
    /// The indicator feeds the unit's side too.
    pub indicator_feeds_self: bool,
}

impl ActiveModelBehavior for ActiveModel {}
