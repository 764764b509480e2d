//! Remediation plans and items: created from an appraisal's deductions, assigned,
//! scheduled in phases, reported on, and exported as the year-end report.

use super::Page;
use super::results::{SheetFormat, sheet_response};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, HttpError, text};
use crate::http::etag::Precondition;
use crate::http::{Json, Query};
use crate::services::remediation::{
    self, Assignment, ItemFilter, ItemPatch, ItemStatus, ItemView, Milestone, MilestoneUpdate,
    NewItem, OfficerRole, PlanView, ProgressReport,
};
use crate::services::scoresheet::Evidence;
use crate::services::versioned::etag_of;
use crate::state::AppState;
use crate::validation::{PageParams, Year};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::status::MilestoneStatus;
use parindex_domain::schedule::{Recurrence, Target};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_remediation_plan)
        .service(list_remediation_plans)
        .service(get_remediation_plan)
        .service(add_remediation_item)
        .service(get_remediation_report)
        .service(get_remediation_letter)
        .service(list_remediation_items)
        .service(get_remediation_item)
        .service(update_remediation_item)
        .service(report_remediation_progress)
        .service(update_remediation_milestone)
        .service(comment_remediation_item);
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProgressResponse {
    pub id: i64,
    pub kind: crate::services::remediation::HistoryKind,
    pub note: String,
    pub status: Option<ItemStatus>,
    pub reason: Option<String>,
    pub evidence: Vec<Evidence>,
    /// What the report measured of a task's target, and as of which day.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub measured: Option<Decimal>,
    pub measured_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OfficerRef {
    pub id: i64,
    pub full_name: String,
    pub title: String,
}

/// An officer of the unit on an item.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ItemOfficer {
    pub staff_id: i64,
    pub full_name: String,
    pub title: String,
    pub role: OfficerRole,
}

/// One deadline of an item: its own, or an occurrence of its recurring duty.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MilestoneResponse {
    pub id: i64,
    #[schema(example = "đợt 1")]
    pub label: String,
    pub due_on: NaiveDate,
    pub status: MilestoneStatus,
    /// The day it was met.
    pub met_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub evidence: Vec<Evidence>,
    /// An occurrence of the item's recurring duty.
    pub recurring: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ItemResponse {
    pub id: i64,
    pub plan_id: i64,
    pub unit_id: i64,
    /// Null for an extra item not tied to a criterion.
    pub criterion_code: Option<String>,
    pub title: String,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub max_score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub self_score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub appraised_score: Option<Decimal>,
    /// Points lost.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub deduction: Option<Decimal>,
    /// The council's comment.
    pub comment: Option<String>,
    pub action: Option<String>,
    /// The lead officer's id (as in `officers`).
    pub responsible_staff_id: Option<i64>,
    /// The lead officer.
    pub responsible: Option<OfficerRef>,
    /// Every officer of the unit on it, the lead first.
    pub officers: Vec<ItemOfficer>,
    /// Bodies outside the staff list ("UBMT xã", "Đoàn Thanh niên", "toàn bộ CBCC").
    pub bodies: Vec<String>,
    /// Its deadlines by date: its own and its recurring duty's occurrences.
    pub milestones: Vec<MilestoneResponse>,
    /// A recurring duty ("ngày 25 hằng tháng"), if it is one.
    pub recurrence: Option<Recurrence>,
    /// The earliest milestone not met.
    pub next_due: Option<NaiveDate>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub target_score: Option<Decimal>,
    /// A task's numeric target ("≥ 50 %").
    pub target: Option<Target>,
    /// A task's latest measurement by its last deadline.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub achieved: Option<Decimal>,
    /// Whether that measurement meets the target (null without one).
    pub target_met: Option<bool>,
    pub status: ItemStatus,
    pub cancel_reason: Option<String>,
    /// Open with a milestone past its date and not met, on the day asked (today in
    /// Vietnam by default).
    pub overdue: bool,
    pub history: Vec<ProgressResponse>,
    pub updated_at: DateTime<Utc>,
}

fn item_response(v: &ItemView, as_of: NaiveDate) -> ItemResponse {
    let i = &v.item;
    ItemResponse {
        id: i.id,
        plan_id: i.plan_id,
        unit_id: i.unit_id,
        criterion_code: i.criterion_code.clone(),
        title: i.title.clone(),
        max_score: i.max_score_x100.map(crate::scoring::from_hundredths),
        self_score: i.self_score_x100.map(crate::scoring::from_hundredths),
        appraised_score: i.appraised_score_x100.map(crate::scoring::from_hundredths),
        deduction: i.deduction_x100.map(crate::scoring::from_hundredths),
        comment: i.comment.clone(),
        action: i.action.clone(),
        responsible_staff_id: v.lead().map(|o| o.id),
        responsible: v.lead().map(|o| OfficerRef {
            id: o.id,
            full_name: o.full_name.clone(),
            title: o.title.clone(),
        }),
        officers: v
            .officers
            .iter()
            .map(|(role, o)| ItemOfficer {
                staff_id: o.id,
                full_name: o.full_name.clone(),
                title: o.title.clone(),
                role: *role,
            })
            .collect(),
        bodies: v.bodies.clone(),
        milestones: v
            .milestones
            .iter()
            .map(|m| MilestoneResponse {
                id: m.id,
                label: m.label.clone(),
                due_on: m.due_on,
                status: m.status,
                met_on: m.met_on,
                note: m.note.clone(),
                evidence: serde_json::from_str(&m.evidence).unwrap_or_default(),
                recurring: m.recurring,
            })
            .collect(),
        recurrence: v.recurrence.clone(),
        next_due: v.next_due(),
        target_score: i.target_score_x100.map(crate::scoring::from_hundredths),
        target: v.target.clone(),
        achieved: v.achieved().map(|(a, _)| a),
        target_met: v.achieved().map(|(_, met)| met),
        status: i.status,
        cancel_reason: i.cancel_reason.clone(),
        overdue: v.is_overdue(as_of),
        history: v
            .history
            .iter()
            .map(|p| ProgressResponse {
                id: p.id,
                kind: crate::services::remediation::HistoryKind::of_stored(&p.kind),
                note: p.note.clone(),
                status: p.status,
                reason: p.reason.clone(),
                evidence: serde_json::from_str(&p.evidence).unwrap_or_default(),
                measured: p.measured_x100.map(crate::scoring::from_hundredths),
                measured_on: p.measured_on,
                created_by: p.created_by_name.clone(),
                created_at: p.created_at,
            })
            .collect(),
        updated_at: i.updated_at,
    }
}

fn item_http(status: StatusCode, v: &ItemView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            header::ETAG,
            etag_of::<entity::remediation_item::Entity>(&v.item),
        ))
        .json(item_response(v, parindex_domain::vietnam::today()))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct StatusCount {
    pub status: ItemStatus,
    pub count: usize,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OfficerSummary {
    /// Null for items nobody is assigned to.
    pub staff_id: Option<i64>,
    pub full_name: String,
    pub items: usize,
    pub done: usize,
    pub overdue: usize,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PlanSummary {
    pub by_status: Vec<StatusCount>,
    pub overdue: usize,
    /// Points lost on the plan's criteria.
    #[schema(value_type = crate::schema::Score)]
    pub points_at_stake: Decimal,
    /// Points regained on them in the plan's year, once that year's appraisal is
    /// finalized (null before).
    #[schema(value_type = Option<crate::schema::Score>)]
    pub points_recovered: Option<Decimal>,
    pub by_officer: Vec<OfficerSummary>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PlanResponse {
    pub id: i64,
    pub appraisal_id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// The year whose results it remedies.
    #[schema(value_type = crate::validation::Year)]
    pub source_year: i32,
    /// The year it runs in.
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub created_at: DateTime<Utc>,
    pub summary: PlanSummary,
    /// Most points lost first; extra items after.
    pub items: Vec<ItemResponse>,
}

fn plan_response(v: &PlanView, as_of: NaiveDate) -> PlanResponse {
    let s = v.summary(as_of);
    PlanResponse {
        id: v.plan.id,
        appraisal_id: v.plan.appraisal_id,
        unit_id: v.plan.unit_id,
        unit_name: v.unit.name.clone(),
        source_year: v.plan.source_year,
        year: v.plan.year,
        created_at: v.plan.created_at,
        summary: PlanSummary {
            by_status: s
                .by_status
                .iter()
                .map(|(status, n)| StatusCount {
                    status: *status,
                    count: *n,
                })
                .collect(),
            overdue: s.overdue,
            points_at_stake: s.points_at_stake,
            points_recovered: s.points_recovered,
            by_officer: s
                .by_officer
                .iter()
                .map(|(id, name, items, done, overdue)| OfficerSummary {
                    staff_id: *id,
                    full_name: name.clone(),
                    items: *items,
                    done: *done,
                    overdue: *overdue,
                })
                .collect(),
        },
        items: v.items.iter().map(|i| item_response(i, as_of)).collect(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::create_plan_request))]
pub struct CreatePlanRequest {
    /// A finalized appraisal.
    pub appraisal_id: i64,
    /// Deadlines copied to every item, e.g. đợt 1 2024-10-31 and đợt 2 2024-12-15.
    #[serde(default)]
    pub milestones: Vec<Milestone>,
}

/// Create the remediation plan of a finalized appraisal.
///
/// The unit's officers or its district's appraisers turn a finalized appraisal's
/// deductions into a plan (kế hoạch khắc phục): one item per criterion that lost points
/// (code, title, points lost, the council's comment), most points lost first, each with
/// the plan's default phase deadlines. Then assign officers and deadlines with `PATCH
/// /remediation-items/{id}`. 409 `not_finalized` or `already_exists`.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    request_body = CreatePlanRequest,
    responses(
        (status = 201, description = "Created", body = PlanResponse, headers(("Location" = String))),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/remediation-plans")]
pub async fn create_remediation_plan(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreatePlanRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let v =
        remediation::create_plan(&state.db, &principal, body.appraisal_id, body.milestones).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/remediation-plans/{}", v.plan.id),
        ))
        .json(plan_response(&v, parindex_domain::vietnam::today())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub unit_id: Option<i64>,
    /// The year the plans run in.
    pub year: Option<Year>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PlanListItem {
    pub id: i64,
    pub appraisal_id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub source_year: i32,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
}

/// List the plans of the units the caller may read.
///
/// Plans within the caller's read scope, filtered by unit and year, each with its
/// appraisal and years; read one with `GET /remediation-plans/{id}`.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(PlanListQuery),
    responses((status = 200, description = "One page of plans", body = Page<PlanListItem>))
)]
#[get("/remediation-plans")]
pub async fn list_remediation_plans(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<PlanListQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found = remediation::list_plans(
        &state.db,
        &principal,
        query.unit_id,
        query.year.map(Year::get),
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |p| PlanListItem {
        id: p.id,
        appraisal_id: p.appraisal_id,
        unit_id: p.unit_id,
        source_year: p.source_year,
        year: p.year,
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The day overdue is judged on (default: today in Vietnam).
    pub as_of: Option<NaiveDate>,
}

/// Read a plan: its items with milestones and history, and a summary.
///
/// Every item with its officers, bodies, milestones (each with its status), recurring
/// duties, targets and history, and a summary (items by status, overdue and due soon
/// judged on `as_of`, default today in Vietnam).
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Plan id"), AsOfQuery),
    responses(
        (status = 200, description = "The plan", body = PlanResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/remediation-plans/{id}")]
pub async fn get_remediation_plan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<AsOfQuery>,
) -> ApiResult<HttpResponse> {
    let v = remediation::get_plan(&state.db, &principal, id.into_inner()).await?;
    let as_of = query.as_of.unwrap_or_else(parindex_domain::vietnam::today);
    Ok(HttpResponse::Ok().json(plan_response(&v, as_of)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::new_item_request))]
pub struct NewItemRequest {
    #[schema(
        example = "Mỗi công chức đề xuất 01 sáng kiến, giải pháp",
        min_length = 1,
        max_length = 1000
    )]
    pub title: String,
    #[schema(max_length = 5000)]
    pub action: Option<String>,
    /// The lead officer (an officer of the plan's unit); the same as a `lead` in
    /// `officers`.
    pub responsible_staff_id: Option<i64>,
    /// Officers of the plan's unit: at most one lead, any number supporting.
    #[serde(default)]
    pub officers: Vec<Assignment>,
    /// Bodies outside the staff list ("UBMT xã", "Đoàn Thanh niên", "toàn bộ CBCC").
    #[serde(default)]
    pub bodies: Vec<String>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
    /// A recurring duty: its occurrences in the plan's year become milestones.
    pub recurrence: Option<Recurrence>,
    /// A numeric target ("≥ 50 %", "≥ 2 cuộc"), measured by progress reports.
    pub target: Option<Target>,
}

/// Add an item not tied to a criterion (e.g. "each officer proposes one initiative").
///
/// An item that comes from no criterion: a task with a numeric target (e.g. at least 50 %
/// of dossiers online) measured by progress reports, or an action for everyone. The
/// unit's officers (or admins).
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Plan id")),
    request_body = NewItemRequest,
    responses(
        (status = 201, description = "Added", body = ItemResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/remediation-plans/{id}/items")]
pub async fn add_remediation_item(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<NewItemRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let v = remediation::add_item(
        &state.db,
        &principal,
        id.into_inner(),
        NewItem {
            title: b.title,
            action: b.action,
            officers: with_lead(b.officers, b.responsible_staff_id),
            bodies: b.bodies,
            recurrence: b.recurrence,
            target: b.target,
            milestones: b.milestones,
        },
    )
    .await?;
    Ok(item_http(StatusCode::CREATED, &v))
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    Xlsx,
    Csv,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (default), `xlsx` or `csv`.
    pub format: Option<ReportFormat>,
    /// The day overdue is judged on (default: today in Vietnam).
    pub as_of: Option<NaiveDate>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportRow {
    /// TT: the row number.
    pub number: usize,
    pub criterion_code: Option<String>,
    pub title: String,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub max_score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub self_score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub appraised_score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub deduction: Option<Decimal>,
    pub comment: Option<String>,
    /// Officer, action and deadlines, as printed in the appendix.
    pub responsible: String,
    pub status: ItemStatus,
    pub overdue: bool,
    /// The latest progress note.
    pub latest_note: Option<String>,
    /// The criterion's score in the plan's year, once appraised.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub next_score: Option<Decimal>,
    /// A task's target in words ("≥ 50 %").
    pub target: Option<String>,
    /// What was achieved of it by its last deadline.
    #[schema(value_type = Option<crate::schema::Score>)]
    pub achieved: Option<Decimal>,
    pub target_met: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportResponse {
    pub plan_id: i64,
    pub unit_name: String,
    #[schema(value_type = crate::validation::Year)]
    pub source_year: i32,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub as_of: NaiveDate,
    pub summary: PlanSummary,
    pub rows: Vec<ReportRow>,
    #[schema(value_type = crate::schema::Score)]
    pub total_deduction: Decimal,
}

fn report(v: &PlanView, as_of: NaiveDate) -> ReportResponse {
    let rows: Vec<ReportRow> = v
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| ReportRow {
            number: n + 1,
            criterion_code: i.item.criterion_code.clone(),
            title: i.item.title.clone(),
            max_score: i.item.max_score_x100.map(crate::scoring::from_hundredths),
            self_score: i.item.self_score_x100.map(crate::scoring::from_hundredths),
            appraised_score: i
                .item
                .appraised_score_x100
                .map(crate::scoring::from_hundredths),
            deduction: i.item.deduction_x100.map(crate::scoring::from_hundredths),
            comment: i.item.comment.clone(),
            responsible: i.responsible_text(),
            status: i.item.status,
            overdue: i.is_overdue(as_of),
            latest_note: i
                .history
                .iter()
                .rev()
                .find(|p| p.kind == crate::services::remediation::HistoryKind::Progress.as_str())
                .map(|p| p.note.clone()),
            next_score: v.next_score(&i.item),
            target: i.target.as_ref().map(|t| t.words()),
            achieved: i.achieved().map(|(a, _)| a),
            target_met: i.achieved().map(|(_, met)| met),
        })
        .collect();
    let total_deduction = rows.iter().filter_map(|r| r.deduction).sum();
    ReportResponse {
        plan_id: v.plan.id,
        unit_name: v.unit.name.clone(),
        source_year: v.plan.source_year,
        year: v.plan.year,
        as_of,
        summary: plan_response(v, as_of).summary,
        rows,
        total_deduction,
    }
}

/// The plan's year-end report as JSON, XLSX or CSV.
///
/// For each item: points lost, action, responsible officers, its deadlines and whether
/// each was met, and for tasks the target against the achieved value; XLSX/CSV in the
/// shape of the seed's appendix (TT, criterion, maximum, self, appraised, deducted,
/// council comment, officers, action with deadlines, status) with a total row. CSV is
/// UTF-8 with a byte-order mark; read XLSX and CSV bodies as bytes.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Plan id"), ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (ReportResponse = "application/json"),
            (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::schema::CsvFile = "text/csv"),
        )),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/remediation-plans/{id}/report")]
pub async fn get_remediation_report(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let v = remediation::get_plan(&state.db, &principal, id.into_inner()).await?;
    let as_of = query.as_of.unwrap_or_else(parindex_domain::vietnam::today);
    let r = report(&v, as_of);
    let file = format!("Báo cáo khắc phục {} {}", r.unit_name, r.year);
    let format = match query.format.unwrap_or_default() {
        ReportFormat::Json => return Ok(HttpResponse::Ok().json(r)),
        ReportFormat::Xlsx => SheetFormat::Xlsx,
        ReportFormat::Csv => SheetFormat::Csv,
    };
    sheet_response(
        &crate::services::reports::remediation_table(&v, as_of),
        format,
        &file,
    )
}

/// The commune's remediation letter (công văn), as the seed writes it, with its appendix.
///
/// Laid out as Nghị định 30/2020/NĐ-CP prescribes: the committee and the national motto,
/// number and symbol (`…/UBND-CCHC`, blank until `number` is given), place and date,
/// subject, "Kính gửi" (the bodies the plan names and the unit's officers, or
/// `recipients`), then the result it cites (the publication's number and date, the self,
/// appraised and bonus points, the index, the rank and its change, the points lost), each
/// officer's tasks with actions, targets and deadlines, "Nơi nhận" and the signature block
/// (the unit's leader account, or `signer`). The appendix of lost points follows on a
/// landscape page, "Kèm theo Công văn số …". Needs the source year's results to be
/// readable by the caller (published, or the council's staff). DOCX, or PDF when the server
/// has LibreOffice.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Plan id"), crate::routes::documents::PaperQuery),
    responses(
        (status = 200, description = "The letter", content(
            (crate::schema::DocxFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (crate::schema::PdfFile = "application/pdf"),
        ), headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 406, response = crate::openapi::PdfUnavailable),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/remediation-plans/{id}/letter")]
pub async fn get_remediation_letter(
    state: web::Data<AppState>,
    reader: web::Data<crate::services::results::ResultsReader>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<crate::routes::documents::PaperQuery>,
) -> ApiResult<HttpResponse> {
    use crate::services::results;
    let issue = query.issue()?;
    let v = remediation::get_plan(&state.db, &principal, id.into_inner()).await?;
    let index = results::unit_index(&reader, &principal, v.unit.id, v.plan.source_year)
        .await?
        .into_inner();
    let notice = results::current_of_unit(&state.db, v.unit.id, v.plan.source_year).await?;
    let leader = crate::services::accounts::leader_name(&state.db, v.unit.id).await?;
    let agencies =
        crate::services::frameworks::appraising_agencies(&state.db, &index.framework).await?;
    let sources =
        crate::services::indicators::sources_of(&state.db, &index.framework, v.unit.id, false)
            .await?;
    let appendix = crate::services::reports::appendix_table(
        &index,
        &v.responsible_by_code(),
        &agencies,
        &sources,
    );
    let paper = crate::services::papers::remediation_letter(
        &v,
        &index,
        notice.as_ref(),
        appendix,
        leader,
        &issue,
    );
    let stem = format!("Công văn khắc phục CCHC {} {}", v.unit.name, v.plan.year);
    crate::routes::documents::print(&state.config, &paper, &query, &stem).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub unit_id: Option<i64>,
    /// Every unit below this one (e.g. a district).
    pub parent_unit_id: Option<i64>,
    pub plan_id: Option<i64>,
    pub status: Option<ItemStatus>,
    pub responsible_staff_id: Option<i64>,
    /// Only items with a milestone before `as_of` that are not done or cancelled.
    pub overdue: Option<bool>,
    /// Only open items with a milestone within this many days from `as_of`.
    #[param(minimum = 0, maximum = 3660)]
    pub due_within_days: Option<u32>,
    /// The day to judge on (default: today in Vietnam).
    pub as_of: Option<NaiveDate>,
}

/// One page of items, and the day they were judged on.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ItemListResponse {
    pub as_of: NaiveDate,
    pub items: Vec<ItemResponse>,
    /// The page number, from 1.
    pub page: u64,
    pub per_page: u64,
    /// How many items all pages hold together.
    pub total: u64,
}

/// List remediation items across a unit or a district.
///
/// Filter by unit, by everything under a district (`parent_unit_id`), plan, status or any
/// officer (lead or support). `overdue=true` gives items with a milestone past its date
/// and not met; `due_within_days=N` those with one due within N days; both judged on
/// `as_of` (default today in Vietnam).
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(ItemListQuery),
    responses(
        (status = 200, description = "Items", body = ItemListResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/remediation-items")]
pub async fn list_remediation_items(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<ItemListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    if q.due_within_days.is_some_and(|d| d > 3660) {
        return Err(HttpError::from(ApiError::bad_request(
            "invalid_query",
            text!(
                "due_within_days must be at most 3660",
                "due_within_days không được quá 3660"
            ),
        )));
    }
    let page = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let (as_of, found) = remediation::list_items(
        &state.db,
        &principal,
        ItemFilter {
            unit_id: q.unit_id,
            parent_unit_id: q.parent_unit_id,
            plan_id: q.plan_id,
            status: q.status,
            responsible_staff_id: q.responsible_staff_id,
            overdue: q.overdue.unwrap_or(false),
            due_within_days: q.due_within_days,
            as_of: q.as_of,
        },
        page,
    )
    .await?;
    let page = Page::of(&found, |i| item_response(i, as_of));
    Ok(HttpResponse::Ok().json(ItemListResponse {
        as_of,
        items: page.items,
        page: page.page,
        per_page: page.per_page,
        total: page.total,
    }))
}

/// Read one item with its history.
///
/// The item's officers, bodies, milestones with their status, recurring occurrences,
/// target and measured progress, and every progress report and comment. Keep the `ETag`
/// for a change with `If-Match`.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item", body = ItemResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/remediation-items/{id}")]
pub async fn get_remediation_item(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let v = remediation::get_item(&state.db, &principal, id.into_inner()).await?;
    Ok(item_http(StatusCode::OK, &v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::update_item_request))]
pub struct UpdateItemRequest {
    /// Extra items only (a criterion's item keeps the criterion's title).
    #[schema(min_length = 1, max_length = 1000)]
    pub title: Option<String>,
    /// The action; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub action: Option<Option<String>>,
    /// The lead officer (an officer of the unit); `null` removes the lead. Supporting
    /// officers stay.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<i64>)]
    pub responsible_staff_id: Option<Option<i64>>,
    /// Replaces every officer: at most one lead, any number supporting.
    pub officers: Option<Vec<Assignment>>,
    /// Replaces the bodies outside the staff list.
    pub bodies: Option<Vec<String>>,
    /// Replaces the item's own dated milestones (a recurring duty's occurrences stay).
    pub milestones: Option<Vec<Milestone>>,
    /// Sets the recurring duty (its occurrences in the plan's year are made anew); `null`
    /// removes it.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<Recurrence>)]
    pub recurrence: Option<Option<Recurrence>>,
    /// A task's numeric target; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<Target>)]
    pub target: Option<Option<Target>>,
    /// The score aimed at next year; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub target_score: Option<Option<Decimal>>,
}

/// Edit a remediation item.
///
/// The unit's officers change the action, the lead and supporting officers (officers of
/// the unit), the bodies, the milestones, the recurring rule or the target; status
/// changes follow the items' state machine (409 for a move it refuses). Send `If-Match`
/// with the `ETag` read (412 when it changed since).
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Item id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateItemRequest,
    responses(
        (status = 200, description = "Changed", body = ItemResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[patch("/remediation-items/{id}")]
pub async fn update_remediation_item(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<UpdateItemRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let v = remediation::update_item(
        &state.db,
        &principal,
        id.into_inner(),
        ItemPatch {
            title: b.title,
            action: b.action,
            responsible_staff_id: b.responsible_staff_id,
            officers: b.officers,
            bodies: b.bodies,
            milestones: b.milestones,
            recurrence: b.recurrence,
            target_score: b.target_score,
            target: b.target,
        },
        &if_match,
    )
    .await?;
    Ok(item_http(StatusCode::OK, &v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::progress_request))]
pub struct ProgressRequest {
    #[schema(min_length = 1, max_length = 5000)]
    pub note: String,
    /// The item's new status, if it changes.
    pub status: Option<ItemStatus>,
    /// Required for `cancelled`.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// What was measured of a task's target (tasks with a target only)…
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub measured: Option<Decimal>,
    /// …as of this day (default: today). A target is met by the measure of its last
    /// deadline or before.
    pub measured_on: Option<NaiveDate>,
}

/// Report progress on a remediation item.
///
/// The unit's officers add a dated note with evidence, optionally a new status and, for a
/// task with a target, the measured value; the report is kept in the item's history. Send
/// `If-Match` with the `ETag` read.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Item id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = ProgressRequest,
    responses(
        (status = 201, description = "Recorded", body = ItemResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[post("/remediation-items/{id}/progress")]
pub async fn report_remediation_progress(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<ProgressRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let v = remediation::report_progress(
        &state.db,
        &principal,
        id.into_inner(),
        ProgressReport {
            note: b.note,
            status: b.status,
            reason: b.reason,
            evidence: b.evidence,
            measured: b.measured,
            measured_on: b.measured_on,
        },
        &if_match,
    )
    .await?;
    Ok(item_http(StatusCode::CREATED, &v))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::comment_request))]
pub struct CommentRequest {
    #[schema(min_length = 1, max_length = 5000)]
    pub note: String,
}

/// Comment on a remediation item.
///
/// District appraisers of the unit's district, or the unit's officers, leave a remark
/// (e.g. the district's follow-up); comments are kept in the item's history and change no
/// status.
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Item id")),
    request_body = CommentRequest,
    responses(
        (status = 201, description = "Recorded", body = ItemResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/remediation-items/{id}/comments")]
pub async fn comment_remediation_item(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<CommentRequest>,
) -> ApiResult<HttpResponse> {
    let v = remediation::comment(
        &state.db,
        &principal,
        id.into_inner(),
        body.into_inner().note,
    )
    .await?;
    Ok(item_http(StatusCode::CREATED, &v))
}

/// `officers` with `responsible_staff_id` as its lead (the older single-officer field).
fn with_lead(mut officers: Vec<Assignment>, lead: Option<i64>) -> Vec<Assignment> {
    if let Some(id) = lead
        && !officers.iter().any(|a| a.staff_id == id)
    {
        officers.insert(
            0,
            Assignment {
                staff_id: id,
                role: OfficerRole::Lead,
            },
        );
    }
    officers
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::milestone_request))]
pub struct MilestoneRequest {
    /// `met`, `missed`, or back to `pending`.
    pub status: MilestoneStatus,
    /// The day it was met (default: today in Vietnam); with `met` only.
    pub met_on: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// Mark one deadline of an item met (on a day), missed, or pending again.
///
/// A met milestone is never overdue; an item is overdue while one of its milestones is
/// past its date and not met. Audited on the item (its ETag changes).
#[utoipa::path(
    tag = "remediation",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Item id"),
        ("milestone_id" = i64, Path, description = "Milestone id (in the item's `milestones`)"),
        ("If-Match" = Option<String>, Header, description = "ETag of the item's version being changed"),
    ),
    request_body = MilestoneRequest,
    responses(
        (status = 200, description = "The item", body = ItemResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[patch("/remediation-items/{id}/milestones/{milestone_id}")]
pub async fn update_remediation_milestone(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(i64, i64)>,
    if_match: Precondition,
    body: Json<MilestoneRequest>,
) -> ApiResult<HttpResponse> {
    let (id, milestone_id) = path.into_inner();
    let b = body.into_inner();
    let v = remediation::update_milestone(
        &state.db,
        &principal,
        id,
        milestone_id,
        MilestoneUpdate {
            status: b.status,
            met_on: b.met_on,
            note: b.note,
            evidence: b.evidence,
        },
        &if_match,
    )
    .await?;
    Ok(item_http(StatusCode::OK, &v))
}
