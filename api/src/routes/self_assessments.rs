//! Self-assessments: open, fill in batches with evidence, submit, withdraw; deadline
//! extensions by the district.

use super::Page;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::etag::Precondition;
use crate::http::{Json, Query};
use crate::scoring::{Inputs, Method, Scorer};
use crate::services::assessments::{self, AssessmentFilter, AssessmentView};
use crate::services::entries::{Batch, EntryInput};
use crate::services::lifecycle;
use crate::services::scoresheet::{Evidence, score_of};
use crate::services::versioned::etag_of;
use crate::state::AppState;
use crate::validation::PageParams;
use crate::validation::Year;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::self_assessment;
pub use entity::status::SelfAssessmentStatus;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(open_self_assessment)
        .service(list_self_assessments)
        .service(get_self_assessment)
        .service(get_self_assessment_report)
        .service(get_self_assessment_workbook)
        .service(upsert_self_assessment_entries)
        .service(approve_self_assessment)
        .service(submit_self_assessment)
        .service(withdraw_self_assessment)
        .service(extend_self_assessment_deadline);
}

/// A self-assessment without its entries (lists).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SelfAssessmentSummary {
    pub id: i64,
    pub unit_id: i64,
    pub framework_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub status: SelfAssessmentStatus,
    /// How many times it was submitted.
    pub round: i32,
    /// The running total of the unit's own scores.
    #[schema(value_type = crate::schema::Score)]
    pub self_total: Decimal,
    pub submitted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&self_assessment::Model> for SelfAssessmentSummary {
    fn from(m: &self_assessment::Model) -> Self {
        SelfAssessmentSummary {
            id: m.id,
            unit_id: m.unit_id,
            framework_id: m.framework_id,
            year: m.year,
            status: m.status,
            round: m.round,
            self_total: crate::scoring::from_hundredths(m.self_total_x100),
            submitted_at: m.submitted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One self-scored leaf of the sheet; inputs are null until the unit enters them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SelfEntryResponse {
    pub criterion_code: String,
    pub title: String,
    #[schema(value_type = crate::schema::Score)]
    pub max_score: Decimal,
    pub method: Method,
    pub inputs: Option<Inputs>,
    /// The computed score; null when not entered or not applicable.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub self_score: Option<Decimal>,
    pub not_applicable: bool,
    pub explanation: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Serialize, ToSchema)]
pub struct SelfAssessmentResponse {
    #[serde(flatten)]
    pub summary: SelfAssessmentSummary,
    /// Created at the first submission.
    pub appraisal_id: Option<i64>,
    /// The submission deadline that applies to this unit (with any extension).
    pub deadline: Option<NaiveDate>,
    /// While returned: the criteria the unit may change.
    pub editable_codes: Option<Vec<String>>,
    /// Self-scored leaves without an entry: submission needs none left.
    pub missing_codes: Vec<String>,
    /// Whether the framework requires a leader's approval before submission.
    pub requires_leader_approval: bool,
    /// The leader's sign-off of the file as it stands (null: none, or withdrawn by a
    /// later edit).
    pub approval: Option<LeaderApproval>,
    pub entries: Vec<SelfEntryResponse>,
}

/// A unit leader's sign-off.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct LeaderApproval {
    pub approved_at: DateTime<Utc>,
    /// The leader's account (null if it was deleted since).
    pub approved_by: Option<i64>,
    /// The leader's name as it was when approving, as the documents print it.
    pub approved_by_name: Option<String>,
}

fn response(status: StatusCode, v: &AssessmentView) -> HttpResponse {
    let entries = v
        .framework
        .tree
        .leaves()
        .filter(|c| c.scorer == Scorer::SelfAssessed)
        .map(|c| {
            let entry = v.entries.get(&c.code);
            let inputs = entry.and_then(|e| e.self_inputs.clone());
            SelfEntryResponse {
                criterion_code: c.code.clone(),
                title: c.title.clone(),
                max_score: c.max_score,
                method: c.method.clone().unwrap_or(Method::Manual {}),
                not_applicable: inputs.as_ref().is_some_and(|i| i.not_applicable),
                inputs,
                self_score: entry.and_then(|e| score_of(e.model.self_score_x100)),
                explanation: entry.and_then(|e| e.model.explanation.clone()),
                evidence: entry.map(|e| e.evidence.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let mut builder = HttpResponse::build(status);
    builder.insert_header((
        header::ETAG,
        etag_of::<entity::self_assessment::Entity>(&v.model),
    ));
    if status == StatusCode::CREATED {
        builder.insert_header((
            header::LOCATION,
            format!("/api/v1/self-assessments/{}", v.model.id),
        ));
    }
    builder.json(SelfAssessmentResponse {
        summary: SelfAssessmentSummary::from(&v.model),
        requires_leader_approval: v.framework.model.requires_leader_approval,
        approval: v.model.approved_at.map(|approved_at| LeaderApproval {
            approved_at,
            approved_by: v.model.approved_by,
            approved_by_name: v.model.approved_by_name.clone(),
        }),
        appraisal_id: v.appraisal_id,
        deadline: v.deadline,
        editable_codes: v.editable_codes(),
        missing_codes: v.missing_codes(),
        entries,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::open_self_assessment_request))]
pub struct OpenSelfAssessmentRequest {
    pub unit_id: i64,
    /// A published framework covering the unit.
    pub framework_id: i64,
}

/// Open a unit's self-assessment on a published framework (one per unit and framework).
///
/// The unit's own officers (or admins) open one file per unit and framework; the
/// framework must be published and apply to the unit. The file starts as `draft` with no
/// entries; then `PUT .../entries` and `POST .../submit`. 409 when the unit already has
/// one on that framework.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    request_body = OpenSelfAssessmentRequest,
    responses(
        (status = 201, description = "Opened as a draft", body = SelfAssessmentResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/self-assessments")]
pub async fn open_self_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<OpenSelfAssessmentRequest>,
) -> ApiResult<HttpResponse> {
    let v = lifecycle::file::open(&state.db, &principal, body.unit_id, body.framework_id).await?;
    Ok(response(StatusCode::CREATED, &v))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SelfAssessmentListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub year: Option<Year>,
    pub status: Option<SelfAssessmentStatus>,
}

/// List the self-assessments of the units the caller may read.
///
/// Admins see all; district appraisers and viewers those of their subtree; unit officers
/// their own unit's. Filter by unit, framework, year or status (e.g. `submitted` for the
/// council's inbox).
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(SelfAssessmentListQuery),
    responses((status = 200, description = "One page", body = Page<SelfAssessmentSummary>))
)]
#[get("/self-assessments")]
pub async fn list_self_assessments(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<SelfAssessmentListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let found = assessments::list(
        &state.db,
        &principal,
        AssessmentFilter {
            unit_id: q.unit_id,
            framework_id: q.framework_id,
            year: q.year.map(Year::get),
            status: q.status,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |r| SelfAssessmentSummary::from(r))))
}

/// Read a self-assessment with every self-scored criterion.
///
/// The unit's inputs, explanations, evidence and score per self-scored leaf, with the
/// running total and, when returned, which criteria may change. Keep the `ETag` for `PUT
/// .../entries`, submit and withdraw.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Self-assessment id")),
    responses(
        (status = 200, description = "The self-assessment", body = SelfAssessmentResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/self-assessments/{id}")]
pub async fn get_self_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let v = assessments::get(&state.db, &principal, id.into_inner()).await?;
    Ok(response(StatusCode::OK, &v))
}

/// The unit's self-assessment report to the council, as a paper.
///
/// Laid out as Nghị định 30/2020/NĐ-CP prescribes: the committee and the national motto,
/// `…/BC-UBND` (blank until `number` is given), place and date, "BÁO CÁO" with its
/// summary, "Kính gửi" the council of the parent unit, the self total and each field's
/// score with a total row, "Nơi nhận" and the signature block. Signed with the leader's
/// recorded approval (name, time); marked "DỰ THẢO" while there is none. The annex, on a
/// landscape page, lists every criterion with its maximum, self score (fields and groups
/// summed), explanation and evidence. Same visibility as the file. DOCX, or PDF when the
/// server has LibreOffice.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Self-assessment id"), crate::routes::documents::PaperQuery),
    responses(
        (status = 200, description = "The report", content(
            (crate::schema::DocxFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (crate::schema::PdfFile = "application/pdf"),
        ), headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 406, response = crate::openapi::PdfUnavailable),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/self-assessments/{id}/report")]
pub async fn get_self_assessment_report(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<crate::routes::documents::PaperQuery>,
) -> ApiResult<HttpResponse> {
    let issue = query.issue()?;
    let v = assessments::get(&state.db, &principal, id.into_inner()).await?;
    let unit = crate::services::units::find_unit(&state.db, v.model.unit_id).await?;
    let parent = match unit.parent_id {
        Some(p) => Some(crate::services::units::find_unit(&state.db, p).await?),
        None => None,
    };
    let totals = assessments::self_totals(&state.db, &v, unit.parent_id).await?;
    // Every fed criterion's source: the council will score it from there.
    let sources =
        crate::services::indicators::sources_of(&state.db, &v.framework, unit.id, false).await?;
    let paper = crate::services::papers::self_assessment_report(
        &v,
        &unit.name,
        parent.as_ref().map(|p| p.name.as_str()),
        &totals,
        &sources,
        &issue,
    );
    let stem = format!("Báo cáo tự đánh giá CCHC {} {}", unit.name, v.model.year);
    crate::routes::documents::print(&state.config, &paper, &query, &stem).await
}

/// The file as an Excel workbook to fill in and upload back.
///
/// One row per criterion in framework order: fields and groups bold with their maxima;
/// leaves with code, title, maximum, the scoring rule in words, the input cells the
/// leaf's method reads (yellow, validated: numbers ≥ 0, whole counts, Có/Không; the others
/// grey and locked), the explanation, the evidence (read-only), and the score as a cell
/// formula that gives the service's number while typing. Pre-filled with what is stored;
/// the sheet is protected (no password) so that the structure stays. Upload it with
/// `PUT /self-assessments/{id}/entries`. Same visibility as the file.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Self-assessment id")),
    responses(
        (status = 200, description = "The workbook", content(
            (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ), headers(("Content-Disposition" = String), ("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/self-assessments/{id}/workbook")]
pub async fn get_self_assessment_workbook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (v, bytes) = assessments::workbook(&state.db, &principal, id.into_inner()).await?;
    let unit = crate::services::units::find_unit(&state.db, v.model.unit_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, crate::sheets::XLSX_CONTENT_TYPE))
        .insert_header((
            header::ETAG,
            etag_of::<entity::self_assessment::Entity>(&v.model),
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::sheets::content_disposition(&format!(
                "Tự đánh giá CCHC {} {}.xlsx",
                unit.name, v.model.year
            )),
        ))
        .body(bytes))
}

/// One criterion's raw inputs, explanation and evidence. Send the inputs its method reads:
/// `score` (manual), `numerator` + `denominator` (ratio, target_ratio, threshold), `count`
/// (per_item, penalty_per_item, step_table), `done` (boolean), `value` (relative_to_best),
/// or `not_applicable: true`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfEntryRequest {
    #[schema(example = "3.12.2")]
    pub criterion_code: String,
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::FigureInput>, example = 118)]
    pub numerator: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::FigureInput>, example = 1245)]
    pub denominator: Option<Decimal>,
    /// 0 to 1,000,000.
    #[schema(minimum = 0, maximum = 1000000)]
    pub count: Option<u32>,
    pub done: Option<bool>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub value: Option<Decimal>,
    #[serde(default)]
    pub not_applicable: bool,
    /// The unit's explanation (giải trình).
    #[schema(max_length = 5000)]
    pub explanation: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::self_entries_request))]
pub struct SelfEntriesRequest {
    /// Any subset of the leaves, upserted by criterion code.
    pub entries: Vec<SelfEntryRequest>,
}

/// Enter or change criteria in bulk (all or nothing), as JSON or as the file's workbook.
///
/// A draft accepts any self-scored leaf; a returned file only the returned criteria
/// (409 otherwise). One bad entry and none is stored (422 naming each).
///
/// The body may also be the workbook of `GET /self-assessments/{id}/workbook`, filled in
/// (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`): the same batch,
/// read within the upload budget; only criteria that differ from what is stored are
/// written (a workbook uploaded unchanged changes nothing), evidence is kept, score cells
/// are ignored (the service scores the inputs). Each problem names its cell, e.g.
/// `Tự đánh giá!F14 (3.12.2, Mẫu số): phải là số nguyên`; a workbook of another file,
/// another framework or an older version of it is refused (422).
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Self-assessment id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body(content(
        (SelfEntriesRequest = "application/json"),
        (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Stored; the running self total is updated", body = SelfAssessmentResponse,
            headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[put("/self-assessments/{id}/entries")]
pub async fn upsert_self_assessment_entries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: crate::http::json::RawBody,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if !body.is_json() {
        // Access first: nobody who may not edit this file gets a workbook of theirs read.
        lifecycle::file::may_edit(&state.db, &principal, id).await?;
        let (identity, framework) = assessments::workbook_identity(&state.db, id).await?;
        let leaves = crate::uploads::read_workbook(body, &identity, &framework).await?;
        let v = lifecycle::file::upsert_entries(
            &state.db,
            &principal,
            id,
            Batch::Workbook(leaves),
            &if_match,
        )
        .await?;
        return Ok(response(StatusCode::OK, &v));
    }
    let batch = body
        .json::<SelfEntriesRequest>()
        .await?
        .entries
        .into_iter()
        .map(|e| EntryInput {
            criterion_code: e.criterion_code,
            inputs: Some(Inputs {
                score: e.score,
                numerator: e.numerator,
                denominator: e.denominator,
                count: e.count,
                done: e.done,
                value: e.value,
                not_applicable: e.not_applicable,
            }),
            reset: false,
            text: e.explanation,
            evidence: e.evidence,
            ..Default::default()
        })
        .collect();
    let v = lifecycle::file::upsert_entries(
        &state.db,
        &principal,
        id,
        Batch::Entries(batch),
        &if_match,
    )
    .await?;
    Ok(response(StatusCode::OK, &v))
}

/// Approve the self-assessment as a leader of the unit.
///
/// A `unit_leader` of the unit (or an admin) signs off a draft or returned file as it
/// stands; the time and the leader's name are recorded, audited, and printed on the
/// documents. Any later edit of the entries withdraws the approval. When the framework
/// `requires_leader_approval`, submission waits for it (422 `leader_approval_required`).
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Self-assessment id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being approved"),
    ),
    responses(
        (status = 200, description = "Approved", body = SelfAssessmentResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[post("/self-assessments/{id}/approve")]
pub async fn approve_self_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
) -> ApiResult<HttpResponse> {
    let v = lifecycle::file::approve(&state.db, &principal, id.into_inner(), &if_match).await?;
    Ok(response(StatusCode::OK, &v))
}

/// Submit the self-assessment to the district council.
///
/// Refused with 422 (`incomplete`, listing the codes) while self-scored leaves have no
/// entry, with 422 (`leader_approval_required`) when the framework requires a leader's
/// approval of the file as it stands, and with 409 (`deadline_passed`) after the deadline
/// unless extended.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Self-assessment id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being submitted"),
    ),
    responses(
        (status = 200, description = "Submitted; `appraisal_id` names the appraisal", body = SelfAssessmentResponse,
            headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/self-assessments/{id}/submit")]
pub async fn submit_self_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
) -> ApiResult<HttpResponse> {
    let v = lifecycle::file::submit(&state.db, &principal, id.into_inner(), &if_match).await?;
    Ok(response(StatusCode::OK, &v))
}

/// Withdraw a submitted self-assessment back to draft, until the council starts on it.
///
/// The unit's officers take a submitted file back to correct it, as long as the council
/// has entered nothing (409 `not_withdrawable` after). Send `If-Match` with the `ETag`
/// read.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Self-assessment id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being withdrawn"),
    ),
    responses(
        (status = 200, description = "Back to draft", body = SelfAssessmentResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[post("/self-assessments/{id}/withdraw")]
pub async fn withdraw_self_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
) -> ApiResult<HttpResponse> {
    let v = lifecycle::file::withdraw(&state.db, &principal, id.into_inner(), &if_match).await?;
    Ok(response(StatusCode::OK, &v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::deadline_extension_request))]
pub struct DeadlineExtensionRequest {
    /// The last day the unit may submit.
    pub until: NaiveDate,
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Extend the submission deadline for this unit (district appraisers).
///
/// District appraisers of the unit's district (or admins) let one unit submit after the
/// framework's deadline, until the given day; the reason is kept in the audit trail.
#[utoipa::path(
    tag = "self-assessments",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Self-assessment id")),
    request_body = DeadlineExtensionRequest,
    responses(
        (status = 200, description = "Extended", body = SelfAssessmentResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[put("/self-assessments/{id}/deadline-extension")]
pub async fn extend_self_assessment_deadline(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<DeadlineExtensionRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let v = lifecycle::file::extend_deadline(
        &state.db,
        &principal,
        id.into_inner(),
        body.until,
        body.reason,
    )
    .await?;
    Ok(response(StatusCode::OK, &v))
}
