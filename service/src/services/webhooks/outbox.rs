//! The outbox: an event is written in the transaction of the change that causes it,
//! together with one pending delivery per matching subscription. A rolled-back change
//! leaves neither; a committed one leaves both, whatever happens to the process next.
//!
//! Events are thin: ids, statuses, the unit and year, never scores. A receiver reads the
//! figures with its own token, so a subscription can never show what its owner may not
//! see (a unit's council scores before publication, say).

use crate::error::ApiResult;
use crate::services::scope::path_within_sql;
use crate::services::{now, sql};
use entity::status::DeliveryStatus;
use entity::webhook_event;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

/// What a subscription can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    SelfAssessmentSubmitted,
    SelfAssessmentReturned,
    /// A unit's submission deadline is 7 days, then 1 day away and its file not submitted.
    DeadlineSoon,
    AppraisalFinalized,
    /// An agency decided on all its criteria of a file.
    AppraisalAgencyDone,
    /// Every agency decided on its criteria of a file.
    AppraisalAgenciesDone,
    ResultsPublished,
    /// The council released its preliminary results of a district or province.
    PreliminaryReleased,
    /// A published framework assigns criteria to an agency.
    CriteriaAssigned,
    MilestoneDueSoon,
    MilestoneOverdue,
    AppealFiled,
    AppealDecided,
    /// `POST /webhooks/{id}/test`: to that subscription only.
    Test,
}

impl EventType {
    /// The types a subscription may list (`webhook.test` goes to whoever asks for it).
    pub const SUBSCRIBABLE: [EventType; 13] = [
        EventType::SelfAssessmentSubmitted,
        EventType::SelfAssessmentReturned,
        EventType::DeadlineSoon,
        EventType::AppraisalFinalized,
        EventType::AppraisalAgencyDone,
        EventType::AppraisalAgenciesDone,
        EventType::ResultsPublished,
        EventType::PreliminaryReleased,
        EventType::CriteriaAssigned,
        EventType::MilestoneDueSoon,
        EventType::MilestoneOverdue,
        EventType::AppealFiled,
        EventType::AppealDecided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SelfAssessmentSubmitted => "self_assessment.submitted",
            EventType::SelfAssessmentReturned => "self_assessment.returned",
            EventType::DeadlineSoon => "self_assessment.deadline_soon",
            EventType::AppraisalFinalized => "appraisal.finalized",
            EventType::AppraisalAgencyDone => "appraisal.agency_done",
            EventType::AppraisalAgenciesDone => "appraisal.agencies_done",
            EventType::ResultsPublished => "results.published",
            EventType::PreliminaryReleased => "results.preliminary_released",
            EventType::CriteriaAssigned => "appraisal.criteria_assigned",
            EventType::MilestoneDueSoon => "remediation.milestone_due_soon",
            EventType::MilestoneOverdue => "remediation.milestone_overdue",
            EventType::AppealFiled => "appeal.filed",
            EventType::AppealDecided => "appeal.decided",
            EventType::Test => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::SUBSCRIBABLE
            .into_iter()
            .find(|e| e.as_str() == s)
    }

    /// Results (preliminary or published) for a district concern the units below it too:
    /// their subscriptions receive it. Every other event concerns one unit and goes to the
    /// subscriptions over it.
    fn reaches_below(self) -> bool {
        matches!(
            self,
            EventType::ResultsPublished | EventType::PreliminaryReleased
        )
    }
}

/// An event to record.
pub struct Event {
    pub kind: EventType,
    /// The unit it concerns and its path now.
    pub unit_id: i64,
    pub unit_path: String,
    pub data: Value,
    /// Set for events that must happen once however often they are noticed.
    pub dedup_key: Option<String>,
}

/// Records `event`, its deliveries and the notifications of the people it concerns on
/// `conn` (the change's transaction). `None` when an event with the same `dedup_key`
/// exists already.
pub async fn emit<C: ConnectionTrait>(conn: &C, event: Event) -> ApiResult<Option<i64>> {
    let Some(id) = insert_event(conn, &event).await? else {
        return Ok(None);
    };
    crate::services::notifications::record(
        conn,
        id,
        event.kind.as_str(),
        event.unit_id,
        &event.unit_path,
        &event.data,
    )
    .await?;
    let up = path_within_sql("$4", "su.path");
    let covers = if event.kind.reaches_below() {
        format!("({up} OR {})", path_within_sql("su.path", "$4"))
    } else {
        up
    };
    let active = if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        "1"
    } else {
        "TRUE"
    };
    // Paths hold only digits and '/': no LIKE wildcard can hide in them. Event types are
    // stored in a JSON array of known names, matched with their quotes.
    let text = format!(
        "INSERT INTO webhook_deliveries (event_id, subscription_id, status, attempts, \
            next_attempt_at, created_at) \
         SELECT $1, s.id, $5, 0, $2, $2 FROM webhook_subscriptions s \
         LEFT JOIN units su ON su.id = s.unit_id \
         WHERE s.active = {active} AND s.events LIKE $3 AND (s.unit_id IS NULL OR {covers})"
    );
    let at = now();
    conn.execute_raw(sql(
        conn,
        &text,
        vec![
            id.into(),
            at.into(),
            format!("%\"{}\"%", event.kind.as_str()).into(),
            event.unit_path.clone().into(),
            DeliveryStatus::Pending.into(),
        ],
    ))
    .await?;
    Ok(Some(id))
}

/// Records a test event for one subscription.
pub async fn emit_test<C: ConnectionTrait>(
    conn: &C,
    subscription_id: i64,
    data: Value,
) -> ApiResult<i64> {
    let event = Event {
        kind: EventType::Test,
        unit_id: 0,
        unit_path: String::new(),
        data,
        dedup_key: None,
    };
    let id = insert_event(conn, &event)
        .await?
        .ok_or_else(|| crate::error::ApiError::internal(anyhow::anyhow!("test event lost")))?;
    let at = now();
    let delivery = entity::webhook_delivery::ActiveModel {
        event_id: Set(id),
        subscription_id: Set(subscription_id),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Some(at)),
        created_at: Set(at),
        ..Default::default()
    };
    entity::webhook_delivery::Entity::insert(delivery)
        .exec_without_returning(conn)
        .await?;
    Ok(id)
}

async fn insert_event<C: ConnectionTrait>(conn: &C, event: &Event) -> ApiResult<Option<i64>> {
    let webhook_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let model = webhook_event::ActiveModel {
        webhook_id: Set(webhook_id.clone()),
        event_type: Set(event.kind.as_str().to_string()),
        unit_id: Set((event.unit_id > 0).then_some(event.unit_id)),
        unit_path: Set((!event.unit_path.is_empty()).then(|| event.unit_path.clone())),
        payload: Set(event.data.to_string()),
        occurred_at: Set(now()),
        dedup_key: Set(event.dedup_key.clone()),
        ..Default::default()
    };
    let inserted = webhook_event::Entity::insert(model)
        .on_conflict(
            OnConflict::column(webhook_event::Column::DedupKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    Ok(webhook_event::Entity::find()
        .filter(webhook_event::Column::WebhookId.eq(webhook_id))
        .one(conn)
        .await?
        .map(|e| e.id))
}
