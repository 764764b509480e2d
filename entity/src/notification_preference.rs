use sea_orm::entity::prelude::*;

/// An account's choice for one kind of notification; a kind without a row has the
/// defaults (listed in the app, e-mailed at once).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub in_app: bool,
    /// `off`, `immediate` or `daily`.
    pub email: String,
}

impl ActiveModelBehavior for ActiveModel {}
