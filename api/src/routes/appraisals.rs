//! Appraisals by the district council: entries and comments, returns for supplementation,
//! bonus, finalization, and an admin's audited reopen.

use super::Page;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::etag::Precondition;
use crate::http::{Json, Query};
use crate::scoring::{Inputs, Method, Scorer};
use crate::services::appraisals::{self, AppraisalFilter, AppraisalView};
use crate::services::entries::{Batch, EntryInput};
use crate::services::lifecycle;
use crate::services::versioned::etag_of;
use crate::services::visibility::{Shown, Visible};
pub use entity::status::AppraisalStatus;

use crate::services::scoresheet::{Evidence, score_of};
use crate::state::AppState;
use crate::validation::PageParams;
use crate::validation::Year;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use entity::appraisal;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_appraisals)
        .service(get_appraisal)
        .service(upsert_appraisal_entries)
        .service(get_appraisal_workbook)
        .service(return_appraisal)
        .service(set_appraisal_bonus)
        .service(set_appraisal_penalties)
        .service(finalize_appraisal)
        .service(reopen_appraisal);
}

/// An appraisal without entries (lists); totals are stored at finalization.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AppraisalSummary {
    pub id: i64,
    pub self_assessment_id: i64,
    pub unit_id: i64,
    pub framework_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub status: AppraisalStatus,
    /// Whether the figures below may be shown to the caller: false for a unit's officers
    /// and viewers until the year's results are published (the figures are then null).
    pub results_visible: bool,
    /// Running until finalized.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub appraised_total: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub bonus: Option<Decimal>,
    /// Appraised total + bonus − penalties; null until finalized.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub index: Option<Decimal>,
    /// The label of the rating band (xếp loại) the index falls in, as the framework names
    /// it (e.g. "Tốt", "Khá"): bands are defined per framework, so this is free text. Null
    /// when no band covers the index or the figures are not visible.
    pub rating_band: Option<String>,
    pub finalized_at: Option<DateTime<Utc>>,
}

impl AppraisalSummary {
    fn of(m: &appraisal::Model, results_visible: bool) -> Self {
        let shown = |v| results_visible.then_some(v);
        AppraisalSummary {
            id: m.id,
            self_assessment_id: m.self_assessment_id,
            unit_id: m.unit_id,
            framework_id: m.framework_id,
            year: m.year,
            status: m.status,
            results_visible,
            appraised_total: shown(crate::scoring::from_hundredths(m.appraised_total_x100)),
            bonus: shown(crate::scoring::from_hundredths(m.bonus_x100)),
            index: score_of(m.index_x100).filter(|_| results_visible),
            rating_band: m.rating_band.clone().filter(|_| results_visible),
            finalized_at: m.finalized_at,
        }
    }
}

/// One return for supplementation.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RoundResponse {
    pub round: i32,
    pub note: String,
    pub criteria: Vec<String>,
    pub returned_at: DateTime<Utc>,
    /// When the unit resubmitted; null while the file is with the unit.
    pub resubmitted_at: Option<DateTime<Utc>>,
}

/// One leaf: the unit's side, the council's side, and the result.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AppraisalEntryResponse {
    pub criterion_code: String,
    pub title: String,
    #[schema(value_type = crate::schema::Score)]
    pub max_score: Decimal,
    pub method: Method,
    pub scorer: Scorer,
    /// What the unit entered (null if nothing).
    pub self_inputs: Option<Inputs>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub self_score: Option<Decimal>,
    pub explanation: Option<String>,
    pub evidence: Vec<Evidence>,
    /// The council's own inputs; null when it keeps the unit's (or the results are not
    /// visible to the caller).
    pub appraised_inputs: Option<Inputs>,
    /// The effective score (council's inputs, else the unit's); null while unscored or not
    /// visible.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub appraised_score: Option<Decimal>,
    /// Not applicable as scored (by the council's inputs where visible, else the unit's).
    pub not_applicable: bool,
    /// max − appraised score; null when not visible.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub deduction: Option<Decimal>,
    /// The council's comment (ý kiến hội đồng thẩm định); null when not visible.
    pub comment: Option<String>,
    /// The agency that appraises the criterion (the framework's assignment; null: the
    /// consolidating appraisers).
    pub appraised_by_unit_id: Option<i64>,
    /// The council's review of the criterion; null when not visible.
    pub review: Option<ReviewResponse>,
}

/// Where the council's review of one criterion stands, and who decided.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReviewResponse {
    /// `pending` (nobody of the council decided), `scored` (by its agency) or `confirmed`
    /// (by the consolidating appraisers).
    pub state: entity::status::ReviewState,
    /// The account that last decided (null while pending).
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The score replaced with a reason, if one was: an agency's, replaced by the
    /// consolidating appraisers, or a value fed from another system, corrected.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub overridden_score: Option<Decimal>,
    /// Why it was replaced.
    pub override_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AppraisalResponse {
    pub id: i64,
    pub self_assessment_id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub framework_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub status: AppraisalStatus,
    /// The self-assessment's status (e.g. `returned` while out for supplementation).
    pub self_assessment_status: entity::status::SelfAssessmentStatus,
    /// Whether the council's side may be shown to the caller: false for a unit's officers
    /// and viewers until the year's results are published. The council's figures, inputs
    /// and comments are then null; the unit's own side and the return rounds are shown.
    pub results_visible: bool,
    #[schema(value_type = crate::schema::Score)]
    pub self_total: Decimal,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub appraised_total: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub bonus: Option<Decimal>,
    pub bonus_reason: Option<String>,
    /// Penalty points (điểm trừ) for violations; null when not visible.
    pub penalties: Option<Vec<PenaltyItemResponse>>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub penalty_total: Option<Decimal>,
    /// The index's components where the framework declares them (empty otherwise; null
    /// when not visible). A component without data needs no scores to finalize.
    pub components: Option<Vec<super::results::ComponentResponse>>,
    /// A component has no data and the framework leaves such units unranked (null when
    /// not visible).
    pub unranked: Option<bool>,
    /// appraised_total (or, with components, their counted total) + bonus −
    /// penalty_total, never below 0 (stored at finalization; live before).
    #[schema(value_type = Option<crate::schema::Score>)]
    pub index: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub deduction_total: Option<Decimal>,
    /// The label of the rating band (xếp loại) the index falls in, as the framework names
    /// it (e.g. "Tốt", "Khá"): bands are defined per framework, so this is free text. Null
    /// when no band covers the index or the figures are not visible.
    pub rating_band: Option<String>,
    pub finalized_at: Option<DateTime<Utc>>,
    /// Leaves nobody has scored: finalization needs none.
    pub unscored_codes: Vec<String>,
    pub rounds: Vec<RoundResponse>,
    pub entries: Vec<AppraisalEntryResponse>,
}

// Long by nature: both sides of every criterion, each field of the response in turn.
/// The council's answer to its own work: the appraisal with its results.
fn council_response(v: Visible<AppraisalView>) -> HttpResponse {
    response(v.get(), true)
}

/// An appraisal as its reader may see it.
fn shown_response(v: Shown<AppraisalView>) -> HttpResponse {
    let (v, visible) = v.into_parts();
    response(&v, visible)
}

fn response(v: &AppraisalView, visible: bool) -> HttpResponse {
    let shown = |value| visible.then_some(value);
    let entries = v
        .framework
        .tree
        .leaves()
        .map(|c| {
            let e = v.entries.get(&c.code);
            let effective = v
                .scores
                .get(&c.code)
                .and_then(|_| v.totals.by_code.get(&c.code))
                .map(|n| n.score);
            AppraisalEntryResponse {
                criterion_code: c.code.clone(),
                title: c.title.clone(),
                max_score: c.max_score,
                method: c.method.clone().unwrap_or(Method::Manual {}),
                scorer: c.scorer,
                self_inputs: e.and_then(|e| e.self_inputs.clone()),
                self_score: e.and_then(|e| score_of(e.model.self_score_x100)),
                explanation: e.and_then(|e| e.model.explanation.clone()),
                evidence: e.map(|e| e.evidence.clone()).unwrap_or_default(),
                appraised_inputs: e
                    .and_then(|e| e.appraised_inputs.clone())
                    .filter(|_| visible),
                appraised_score: if v.is_finalized() {
                    e.and_then(|e| score_of(e.model.final_score_x100))
                } else {
                    effective
                }
                .filter(|_| visible),
                not_applicable: e
                    .and_then(|e| {
                        if visible {
                            e.effective_inputs()
                        } else {
                            e.self_inputs.as_ref()
                        }
                    })
                    .is_some_and(|i| i.not_applicable),
                deduction: shown(v.deduction(&c.code)),
                comment: e.and_then(|e| e.model.comment.clone()).filter(|_| visible),
                appraised_by_unit_id: v.framework.tree.appraiser_of(&c.code),
                review: visible.then(|| ReviewResponse {
                    state: v.review_state(&c.code),
                    reviewed_by: e.and_then(|e| e.model.reviewed_by),
                    reviewed_at: e.and_then(|e| e.model.reviewed_at),
                    overridden_score: e.and_then(|e| score_of(e.model.overridden_score_x100)),
                    override_reason: e.and_then(|e| e.model.override_reason.clone()),
                }),
            }
        })
        .collect();
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag_of::<entity::appraisal::Entity>(&v.model)))
        .json(AppraisalResponse {
            id: v.model.id,
            self_assessment_id: v.model.self_assessment_id,
            unit_id: v.model.unit_id,
            unit_name: v.unit.name.clone(),
            framework_id: v.model.framework_id,
            year: v.model.year,
            status: v.model.status,
            self_assessment_status: v.self_assessment.status,
            results_visible: visible,
            self_total: v.self_total(),
            appraised_total: shown(v.appraised_total()),
            bonus: shown(v.bonus()),
            bonus_reason: v.model.bonus_reason.clone().filter(|_| visible),
            penalties: visible.then(|| {
                v.penalties()
                    .into_iter()
                    .map(|p| PenaltyItemResponse {
                        code: p.code,
                        points: p.points,
                        reason: p.reason,
                        document_ref: p.document_ref,
                    })
                    .collect()
            }),
            penalty_total: shown(v.penalty_total()),
            components: visible.then(|| super::results::components_response(v.components())),
            unranked: visible.then_some(v.unranked()),
            index: shown(v.index()),
            deduction_total: shown(v.deduction_total()),
            rating_band: v.rating_band().filter(|_| visible),
            finalized_at: v.model.finalized_at,
            unscored_codes: v.unscored.clone(),
            rounds: v
                .rounds
                .iter()
                .map(|r| RoundResponse {
                    round: r.round,
                    note: r.note.clone(),
                    criteria: serde_json::from_str(&r.criteria).unwrap_or_default(),
                    returned_at: r.returned_at,
                    resubmitted_at: r.resubmitted_at,
                })
                .collect(),
            entries,
        })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppraisalListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub year: Option<Year>,
    pub status: Option<AppraisalStatus>,
}

/// List the appraisals of the units the caller may read.
///
/// One appraisal exists per submitted self-assessment. Filter by unit, framework, year or
/// status (`in_progress` is the council's work list). Unit officers and viewers see the
/// totals only once the year's results are published (`results_visible`).
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(AppraisalListQuery),
    responses((status = 200, description = "One page", body = Page<AppraisalSummary>))
)]
#[get("/appraisals")]
pub async fn list_appraisals(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<AppraisalListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let found = appraisals::list(
        &state.db,
        &principal,
        AppraisalFilter {
            unit_id: q.unit_id,
            framework_id: q.framework_id,
            year: q.year.map(Year::get),
            status: q.status,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |a| {
        AppraisalSummary::of(a.get(), a.has_results())
    })))
}

/// Read an appraisal: both sides of every criterion, totals, rounds.
///
/// Per leaf: the unit's inputs and score, the council's inputs, the effective score, the
/// points lost and the council's comment, with totals, bonus and the return rounds. A
/// unit's officers see the council's side only once the results are published
/// (`results_visible`). Keep the `ETag` for every change.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Appraisal id")),
    responses(
        (status = 200, description = "The appraisal", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/appraisals/{id}")]
pub async fn get_appraisal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let v = appraisals::get(&state.db, &principal, id.into_inner()).await?;
    Ok(shown_response(v))
}

/// The council's inputs and/or comment on one criterion. Inputs as for self-assessment
/// entries; none keeps the criterion's current inputs; `reset: true` drops the council's
/// inputs so the unit's apply again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraisalEntryRequest {
    #[schema(example = "3.12.2")]
    pub criterion_code: String,
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub numerator: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub denominator: Option<Decimal>,
    /// 0 to 1,000,000.
    #[schema(minimum = 0, maximum = 1000000)]
    pub count: Option<u32>,
    pub done: Option<bool>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub value: Option<Decimal>,
    #[serde(default)]
    pub not_applicable: bool,
    #[serde(default)]
    pub reset: bool,
    #[schema(max_length = 5000)]
    pub comment: Option<String>,
    /// Record the review of the criterion as it stands, without changing its figures: an
    /// agency's appraiser agrees with the unit's figures (the criterion becomes `scored`),
    /// the consolidating appraisers confirm their agency's (`confirmed`).
    #[serde(default)]
    pub confirm: bool,
    /// Required when the consolidating appraisers replace the figures an agency scored, and
    /// when anyone of the council corrects a value fed from another system (an indicator
    /// or a survey): why. The replaced score and the reason are kept (`review` and the
    /// audit trail, `appraise_override`).
    #[schema(max_length = 2000)]
    pub override_reason: Option<String>,
}

impl AppraisalEntryRequest {
    /// The entry the services write (the same for a batch and an accepted appeal).
    pub fn into_input(self) -> EntryInput {
        let inputs = Inputs {
            score: self.score,
            numerator: self.numerator,
            denominator: self.denominator,
            count: self.count,
            done: self.done,
            value: self.value,
            not_applicable: self.not_applicable,
        };
        EntryInput {
            criterion_code: self.criterion_code,
            inputs: (!inputs.is_empty()).then_some(inputs),
            reset: self.reset,
            text: self.comment,
            evidence: Vec::new(),
            confirm: self.confirm,
            override_reason: self.override_reason,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::appraisal_entries_request))]
pub struct AppraisalEntriesRequest {
    pub entries: Vec<AppraisalEntryRequest>,
}

/// Enter the council's inputs and comments in bulk (all or nothing), as JSON or as the
/// appraisal's workbook.
///
/// District appraisers of the unit's district. Each entry names a criterion by code and
/// carries the council's inputs (which replace the unit's for scoring), a comment, or
/// `reset: true` to go back to the unit's inputs. One bad entry and nothing is stored
/// (422 naming each). 409 once finalized. Send `If-Match` with the `ETag` read.
///
/// The body may also be the workbook of `GET /appraisals/{id}/workbook`, filled in: only
/// criteria whose council inputs or comment differ from what is stored are written;
/// emptied council inputs go back to the unit's; each problem names its cell
/// (`Thẩm định!T14 (3.12.2, Hội đồng: Mẫu số): …`); a workbook of another appraisal or
/// framework version is refused (422).
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Appraisal id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body(content(
        (AppraisalEntriesRequest = "application/json"),
        (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Stored", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[put("/appraisals/{id}/entries")]
pub async fn upsert_appraisal_entries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: crate::http::json::RawBody,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let batch = if body.is_json() {
        Batch::Entries(
            body.json::<AppraisalEntriesRequest>()
                .await?
                .entries
                .into_iter()
                .map(AppraisalEntryRequest::into_input)
                .collect(),
        )
    } else {
        // Access first: nobody who may not appraise this file gets a workbook read.
        lifecycle::council::may_appraise(&state.db, &principal, id).await?;
        let (identity, framework) = appraisals::workbook_identity(&state.db, id).await?;
        Batch::Workbook(crate::uploads::read_workbook(body, &identity, &framework).await?)
    };
    let v = lifecycle::council::upsert_entries(&state.db, &principal, id, batch, &if_match).await?;
    Ok(council_response(v))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkbookQuery {
    /// One agency's workbook: only the rows of the criteria assigned to it are open. An
    /// agency's appraisers always get their agency's.
    pub agency_unit_id: Option<i64>,
}

/// The appraisal as an Excel workbook for the council.
///
/// The same rows as the unit's workbook; the unit's inputs and score read-only, then the
/// council's inputs (yellow, validated), its comment, the evidence, and the council's
/// score as a formula (its own inputs where it entered any, else the unit's). Upload it
/// with `PUT /appraisals/{id}/entries`. The council's staff read it at any time; the
/// unit once the results are released to it (403 before). An agency's appraisers get
/// their agency's rows open and the rest read-only (`agency_unit_id` gives a consolidator
/// that cut).
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Appraisal id"), WorkbookQuery),
    responses(
        (status = 200, description = "The workbook", content(
            (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ), headers(("Content-Disposition" = String), ("ETag" = String))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/appraisals/{id}/workbook")]
pub async fn get_appraisal_workbook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<WorkbookQuery>,
) -> ApiResult<HttpResponse> {
    let (v, bytes) =
        appraisals::workbook(&state.db, &principal, id.into_inner(), query.agency_unit_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, crate::sheets::XLSX_CONTENT_TYPE))
        .insert_header((header::ETAG, etag_of::<entity::appraisal::Entity>(&v.model)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::sheets::content_disposition(&format!(
                "Thẩm định CCHC {} {}.xlsx",
                v.unit.name, v.self_assessment.year
            )),
        ))
        .body(bytes))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::return_request))]
pub struct ReturnRequest {
    /// What the unit must supplement.
    #[schema(min_length = 1, max_length = 5000)]
    pub note: String,
    /// The criteria the unit may change.
    pub criteria: Vec<String>,
}

/// Return the file to the unit for supplementation of some criteria.
///
/// District appraisers send the file back for supplementation (bổ sung) with a note and
/// the criteria the unit may change; the self-assessment becomes `returned` until the
/// unit resubmits, and the council's comments stay. 409 when already returned or
/// finalized.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Appraisal id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being returned"),
    ),
    request_body = ReturnRequest,
    responses(
        (status = 200, description = "Returned; the round is recorded", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[post("/appraisals/{id}/return")]
pub async fn return_appraisal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<ReturnRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let v = lifecycle::council::return_for_supplementation(
        &state.db,
        &principal,
        id.into_inner(),
        body.note,
        body.criteria,
        &if_match,
    )
    .await?;
    Ok(council_response(v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::bonus_request))]
pub struct BonusRequest {
    /// 0 to the framework's bonus maximum, at most 2 decimals.
    #[schema(value_type = crate::schema::DecimalInput, example = 1)]
    pub points: Decimal,
    /// Required when points > 0.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Set the bonus points.
///
/// District appraisers award bonus points (điểm thưởng) up to the framework's bonus
/// maximum, with a reason when above zero; the index is the appraised total plus the
/// bonus. 409 once finalized. Send `If-Match` with the `ETag` read.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Appraisal id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = BonusRequest,
    responses(
        (status = 200, description = "Set", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[put("/appraisals/{id}/bonus")]
pub async fn set_appraisal_bonus(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<BonusRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let v = lifecycle::council::set_bonus(
        &state.db,
        &principal,
        id.into_inner(),
        body.points,
        body.reason,
        &if_match,
    )
    .await?;
    Ok(council_response(v))
}

/// One penalty (điểm trừ).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PenaltyItemResponse {
    /// The violation's code in the province's list, e.g. `VP-03`.
    #[schema(max_length = 32, example = "VP-03")]
    pub code: String,
    /// More than 0, at most 2 decimals.
    #[schema(value_type = crate::schema::DecimalInput, example = "0.5")]
    pub points: Decimal,
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// The document that records the violation: a number or a URL.
    #[schema(max_length = 500)]
    pub document_ref: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PenaltiesRequest {
    /// Every penalty of the appraisal (replaces the list; empty clears it). Their total is
    /// at most the framework's `penalty_max`.
    pub items: Vec<PenaltyItemResponse>,
}

/// Set the penalty points (điểm trừ).
///
/// The consolidating appraisers subtract penalty points for violations after the bonus,
/// each with a code, a reason and the document recording it; their total is capped by the
/// framework's `penalty_max` (422 `over_cap`), and the index never falls below 0. The list
/// replaces the previous one (audited). 409 once finalized. Send `If-Match`.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Appraisal id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = PenaltiesRequest,
    responses(
        (status = 200, description = "Set", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[put("/appraisals/{id}/penalties")]
pub async fn set_appraisal_penalties(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<PenaltiesRequest>,
) -> ApiResult<HttpResponse> {
    let items = body
        .into_inner()
        .items
        .into_iter()
        .map(|p| lifecycle::council::PenaltyInput {
            code: p.code,
            points: p.points,
            reason: p.reason,
            document_ref: p.document_ref,
        })
        .collect();
    let v =
        lifecycle::council::set_penalties(&state.db, &principal, id.into_inner(), items, &if_match)
            .await?;
    Ok(council_response(v))
}

/// Finalize an appraisal: store its totals, index, band and deductions.
///
/// District appraisers close the appraisal: totals, the index (appraised total + bonus),
/// the rating band and the deductions per criterion are stored and never recomputed; it
/// becomes read-only and counts in rankings. 422 `unscored` lists the leaves nobody has
/// scored; 409 while the file is returned or when already finalized. The unit sees the
/// result once the year is published.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Appraisal id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being finalized"),
    ),
    responses(
        (status = 200, description = "Finalized", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/appraisals/{id}/finalize")]
pub async fn finalize_appraisal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
) -> ApiResult<HttpResponse> {
    let v = lifecycle::council::finalize(&state.db, &principal, id.into_inner(), &if_match).await?;
    Ok(council_response(v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::reopen_request))]
pub struct ReopenRequest {
    /// Why the finalized result must change (kept in the audit trail).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Reopen a finalized appraisal.
///
/// Admins only, with a reason kept in the audit trail: the appraisal goes back to
/// `in_progress` so the council can correct it, and must be finalized again. 409 when it
/// is not finalized.
#[utoipa::path(
    tag = "appraisals",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Appraisal id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being reopened"),
    ),
    request_body = ReopenRequest,
    responses(
        (status = 200, description = "Reopened", body = AppraisalResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[post("/appraisals/{id}/reopen")]
pub async fn reopen_appraisal(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<ReopenRequest>,
) -> ApiResult<HttpResponse> {
    let v = lifecycle::council::reopen(
        &state.db,
        &principal,
        id.into_inner(),
        body.into_inner().reason,
        &if_match,
    )
    .await?;
    Ok(council_response(v))
}
