use sea_orm::entity::prelude::*;

/// One action of a plan: usually for a criterion that lost points.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remediation_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub unit_id: i64,
    pub position: i32,
    pub criterion_code: Option<String>,
    pub title: String,
    pub max_score_x100: Option<i64>,
    pub self_score_x100: Option<i64>,
    pub appraised_score_x100: Option<i64>,
    pub deduction_x100: Option<i64>,
    pub comment: Option<String>,
    pub action: Option<String>,
    // The officers are in `remediation_item_officers` (the old `responsible_staff_id`
    // column stays in the table, empty, for SQLite's sake).
    pub target_score_x100: Option<i64>,
    pub status: crate::status::RemediationItemStatus,
    pub cancel_reason: Option<String>,
    /// Bodies outside the staff list, as a JSON list of names.
    pub bodies: String,
    /// A recurring duty's rule (JSON), if it is one.
    pub recurrence: Option<String>,
    /// A task's numeric target: value (hundredths), unit, direction.
    pub target_value_x100: Option<i64>,
    pub target_unit: Option<String>,
    pub target_direction: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
