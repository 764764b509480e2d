use sea_orm::entity::prelude::*;

/// One row of a framework's mapping from the framework it follows: an old criterion's
/// successor and the relation (`same`, `renamed`, `split`, `merged`, `new`, `removed`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "criterion_mappings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub framework_id: i64,
    pub from_framework_id: i64,
    pub position: i32,
    pub from_code: Option<String>,
    pub to_code: Option<String>,
    pub relation: String,
}

impl ActiveModelBehavior for ActiveModel {}
