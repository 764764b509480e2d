use sea_orm::entity::prelude::*;

/// A year's criteria framework for some kinds of unit under an owner unit.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "frameworks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_unit_id: i64,
    pub year: i32,
    pub name: String,
    /// Comma-separated unit kinds, e.g. `commune,town`.
    pub unit_kinds: String,
    pub status: crate::status::FrameworkStatus,
    /// `full_score` or `rescale`.
    pub na_policy: String,
    pub bonus_max_x100: i64,
    /// The most penalty points (điểm trừ) an appraisal may subtract (0: none).
    pub penalty_max_x100: i64,
    /// JSON list of the index's components (code, name, fields); `[]`: none.
    pub components: String,
    /// What a unit's missing component does: `rescale`, `zero` or `unranked`.
    pub missing_component: String,
    /// JSON of the year's campaign dates (`parindex_domain::campaign::Campaign`).
    pub campaign: String,
    /// JSON list of rating bands.
    pub rating_bands: String,
    pub submission_deadline: Option<Date>,
    /// What each scored criterion must carry before submission.
    pub evidence_policy: EvidencePolicy,
    /// A leader of the unit must approve its self-assessment before submission.
    pub requires_leader_approval: bool,
    /// Days after the preliminary results are released during which units may appeal;
    /// `None`: no appeals.
    pub appeal_days: Option<i32>,
    pub published_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// What a framework asks of each criterion the unit scores before its self-assessment can
/// be submitted.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum EvidencePolicy {
    /// Nothing: evidence is welcome but not required.
    #[default]
    None,
    /// An attached evidence file, or else an explanation of why there is none.
    EvidenceOrExplanation,
    /// At least one attached evidence file.
    Evidence,
}
