//! What each event's `data` holds: the types the emitters serialize, and the schemas the
//! OpenAPI document's `webhooks` section shows, so the two cannot drift apart. Thin by
//! design: ids, statuses, units and years, never scores.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

/// `self_assessment.submitted` and `self_assessment.returned`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FileEventData {
    pub self_assessment_id: i64,
    /// The council's appraisal of the file (null before one exists).
    pub appraisal_id: Option<i64>,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    /// The submission round (1 for the first submission).
    pub round: i32,
    /// On a return: the criteria the council asks to supplement (empty: the whole file).
    pub criteria: Vec<String>,
}

/// `appraisal.finalized`: read its figures with `GET /appraisals/{id}` (a unit sees them
/// once published).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AppraisalEventData {
    pub appraisal_id: i64,
    pub self_assessment_id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
}

/// `appraisal.agency_done` (`agency_unit_id` the agency) and `appraisal.agencies_done`
/// (`agency_unit_id` null): read the review of each criterion with `GET /appraisals/{id}`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AgencyReviewEventData {
    pub appraisal_id: i64,
    pub self_assessment_id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub agency_unit_id: Option<i64>,
}

/// `results.published`: read the ranking with `GET /publications/{id}`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublicationEventData {
    pub publication_id: i64,
    pub parent_unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub revision: i32,
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

/// `remediation.milestone_due_soon` and `remediation.milestone_overdue`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MilestoneEventData {
    pub milestone_id: i64,
    pub label: String,
    pub due_on: NaiveDate,
    pub item_id: i64,
    /// The criterion the item remedies, if it names one.
    pub criterion_code: Option<String>,
    pub plan_id: i64,
    pub unit_id: i64,
}

/// `appeal.filed` and `appeal.decided`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AppealEventData {
    pub appeal_id: i64,
    pub appraisal_id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub criterion_code: String,
    pub status: entity::status::AppealStatus,
}

impl AppealEventData {
    pub fn of(a: &entity::appeal::Model) -> Self {
        AppealEventData {
            appeal_id: a.id,
            appraisal_id: a.appraisal_id,
            unit_id: a.unit_id,
            year: a.year,
            criterion_code: a.criterion_code.clone(),
            status: a.status,
        }
    }
}

/// `self_assessment.deadline_soon`: a unit's submission deadline (its extension applied)
/// is `days_left` days away (7, then 1) and its file is not submitted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeadlineEventData {
    pub framework_id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub deadline: NaiveDate,
    #[schema(example = 7)]
    pub days_left: i64,
    /// The unit's file, when it has started one (a draft).
    pub self_assessment_id: Option<i64>,
}

/// `results.preliminary_released`: the council released its preliminary results under
/// `parent_unit_id`; each unit below reads its own appraisal and may appeal within the
/// framework's `appeal_days`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PreliminaryEventData {
    pub release_id: i64,
    pub parent_unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
}

/// `appraisal.criteria_assigned`: a published framework assigns `criteria` to the agency
/// `agency_unit_id` to appraise.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AssignmentEventData {
    pub framework_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub agency_unit_id: i64,
    pub criteria: Vec<String>,
}

/// `webhook.test`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TestEventData {
    pub subscription_id: i64,
    /// The account that asked for the test.
    pub sent_by: String,
}

/// The event types with their `data` schema and what they mean, for the document.
pub const EVENTS: [(&str, &str, &str); 14] = [
    (
        "self_assessment.submitted",
        "FileEventData",
        "A unit submitted its self-assessment (or resubmitted it after a return).",
    ),
    (
        "self_assessment.returned",
        "FileEventData",
        "The council returned a self-assessment for supplementation.",
    ),
    (
        "self_assessment.deadline_soon",
        "DeadlineEventData",
        "A unit's submission deadline (its extension applied) is 7 days away, then 1 day, and its file is not submitted; once per unit, deadline and reminder.",
    ),
    (
        "appraisal.finalized",
        "AppraisalEventData",
        "The council finalized an appraisal; its figures are visible to the unit once published.",
    ),
    (
        "results.preliminary_released",
        "PreliminaryEventData",
        "The council released its preliminary results of a district or province: each unit below reads its own appraisal and may appeal; sent to the subscriptions of that unit, above it and below it.",
    ),
    (
        "appraisal.criteria_assigned",
        "AssignmentEventData",
        "A published framework assigns criteria to an agency to appraise; once per framework and agency.",
    ),
    (
        "results.published",
        "PublicationEventData",
        "A district's or province's results were published (or a new revision of them); sent to the subscriptions of that unit, above it and below it.",
    ),
    (
        "remediation.milestone_due_soon",
        "MilestoneEventData",
        "A milestone of an open remediation item falls due within PARINDEX_WEBHOOK_DUE_SOON_DAYS (7); once per milestone and date.",
    ),
    (
        "remediation.milestone_overdue",
        "MilestoneEventData",
        "A milestone of an open remediation item passed its date unmet; once per milestone and date.",
    ),
    (
        "appraisal.agency_done",
        "AgencyReviewEventData",
        "An agency's appraisers decided on every criterion assigned to their agency in one file (none is pending).",
    ),
    (
        "appraisal.agencies_done",
        "AgencyReviewEventData",
        "Every agency decided on its criteria of one file: the consolidating appraisers can finalize it.",
    ),
    (
        "appeal.filed",
        "AppealEventData",
        "A unit appealed the council's preliminary score of a criterion.",
    ),
    (
        "appeal.decided",
        "AppealEventData",
        "The council answered an appeal (`accepted` changed its entry, or `rejected`).",
    ),
    (
        "webhook.test",
        "TestEventData",
        "Sent by `POST /webhooks/{id}/test` to that subscription only.",
    ),
];

/// Serializes a payload (these types cannot fail to serialize).
pub fn to_value<T: Serialize>(data: &T) -> serde_json::Value {
    serde_json::to_value(data).unwrap_or(serde_json::Value::Null)
}
