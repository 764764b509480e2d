use sea_orm::entity::prelude::*;

/// A unit's self-assessment against one framework.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_assessments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub framework_id: i64,
    pub year: i32,
    pub status: crate::status::SelfAssessmentStatus,
    pub self_total_x100: i64,
    pub round: i32,
    pub submitted_at: Option<DateTimeUtc>,
    /// While returned: JSON list of the codes the unit may edit.
    pub editable_codes: Option<String>,
    /// The unit leader's sign-off (withdrawn by any later edit).
    pub approved_at: Option<DateTimeUtc>,
    pub approved_by: Option<i64>,
    /// The leader's name as it was when approving, printed on the documents.
    pub approved_by_name: Option<String>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
