use sea_orm::entity::prelude::*;

/// One recorded change: who, when, what, and the old and new values (JSON text).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<i64>,
    pub actor_username: String,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub unit_id: Option<i64>,
    /// The year whose results the values carry (council scores, totals), if any.
    pub results_year: Option<i32>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub request_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
