//! Criteria frameworks: CRUD, publication, copies, and import/export as JSON, CSV, XLSX.

use super::Page;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, text};
use crate::http::etag::Precondition;
use crate::http::json::RawBody;
use crate::http::{Json, Query};
use crate::scoring::composition::{Component, Composition, MissingComponent};
use crate::scoring::framework::{CriterionDef, CriterionNode, Scorer};
use crate::scoring::{Method, NotApplicablePolicy, RatingBand};
use crate::services::framework_io;
use crate::services::frameworks::{self, FrameworkFilter, FrameworkSpec, LoadedFramework};
use crate::services::survey;
use crate::services::units::UnitKind;
use crate::services::versioned::etag_of;
use crate::sheets;
use crate::state::AppState;
use crate::uploads;
use crate::validation::PageParams;
use crate::validation::Year;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::framework;
use parindex_domain::campaign::Campaign;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_framework)
        .service(import_framework)
        .service(list_frameworks)
        .service(get_framework)
        .service(update_framework)
        .service(delete_framework)
        .service(get_framework_criteria)
        .service(replace_framework_criteria)
        .service(publish_framework)
        .service(copy_framework)
        .service(export_framework)
        .service(import_survey_results)
        .service(get_survey_results);
}

/// The kinds a framework of `year` scores when it names none: since the 2025
/// reorganisation (1 July) communes, wards and special zones (no more towns); before it,
/// communes, towns and wards.
fn default_kinds(year: i32) -> Vec<UnitKind> {
    if year >= 2025 {
        vec![UnitKind::Commune, UnitKind::Ward, UnitKind::SpecialZone]
    } else {
        vec![UnitKind::Commune, UnitKind::Town, UnitKind::Ward]
    }
}

/// A framework as clients define it; also what the JSON export returns.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::framework_body))]
pub struct FrameworkBody {
    #[schema(value_type = crate::validation::Year, example = 2023)]
    pub year: i32,
    #[schema(
        example = "Bộ chỉ số CCHC cấp xã năm 2023",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// The district (or province) whose units it scores.
    pub owner_unit_id: i64,
    /// Kinds of unit it applies to. Default: for 2025 on, `commune`, `ward`,
    /// `special_zone` (the kinds since the reorganisation); before 2025, `commune`, `town`,
    /// `ward`.
    #[serde(default)]
    pub unit_kinds: Option<Vec<UnitKind>>,
    /// What a not-applicable criterion scores (default `full_score`).
    #[serde(default)]
    pub na_policy: NotApplicablePolicy,
    /// What each criterion the unit scores must carry before submission (default `none`).
    #[serde(default)]
    pub evidence_policy: EvidencePolicy,
    /// A leader of the unit (`unit_leader`) must approve its self-assessment before it
    /// can be submitted (default false).
    #[serde(default)]
    pub requires_leader_approval: bool,
    /// Days after the council releases its preliminary results during which units may
    /// appeal (0 to 60; omitted: no appeals).
    #[schema(minimum = 0, maximum = 60)]
    pub appeal_days: Option<i32>,
    /// The most bonus points an appraisal may add (0 to 20, default 0).
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub bonus_max: Decimal,
    /// The most penalty points (điểm trừ, for violations) an appraisal may subtract after
    /// the bonus (0 to 20, default 0: none).
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub penalty_max: Decimal,
    /// Optional rating bands on the index, e.g. A ≥ 90, B ≥ 80.
    #[serde(default)]
    pub rating_bands: Vec<RatingBand>,
    /// Self-assessments cannot be submitted after this day (unless extended for a unit).
    pub submission_deadline: Option<NaiveDate>,
    /// The flat list of criteria with dotted codes.
    pub criteria: Vec<CriterionDef>,
    /// The index's components, each summing some top-level fields (e.g. `appraisal` =
    /// fields 1–7, `survey` = field 8); every field in exactly one. Omitted or empty: the
    /// index is the criteria's sum.
    #[serde(default)]
    pub components: Vec<Component>,
    /// What a unit's component without data (none of its leaves has a council figure)
    /// does: `rescale` (the others scaled up to the total), `zero` (default) or
    /// `unranked` (counts 0 and the unit is not ranked).
    #[serde(default)]
    pub missing_component: MissingComponent,
    /// The year's campaign: when units may open their files, when the appraisal is due,
    /// the council meets, preliminary results go out and results are announced, each with
    /// an optional note; checked to follow each other around `submission_deadline` and the
    /// appeal window. Calendars (`GET /calendar`) are made from it.
    #[serde(default)]
    pub campaign: Campaign,
}

impl From<FrameworkBody> for FrameworkSpec {
    fn from(b: FrameworkBody) -> Self {
        FrameworkSpec {
            year: b.year,
            name: b.name,
            owner_unit_id: b.owner_unit_id,
            unit_kinds: b.unit_kinds.unwrap_or_else(|| default_kinds(b.year)),
            na_policy: b.na_policy,
            evidence_policy: b.evidence_policy,
            requires_leader_approval: b.requires_leader_approval,
            appeal_days: b.appeal_days,
            bonus_max: b.bonus_max,
            penalty_max: b.penalty_max,
            rating_bands: b.rating_bands,
            submission_deadline: b.submission_deadline,
            criteria: b.criteria,
            composition: Composition {
                components: b.components,
                missing: b.missing_component,
            },
            campaign: b.campaign,
        }
    }
}

impl From<FrameworkSpec> for FrameworkBody {
    fn from(s: FrameworkSpec) -> Self {
        FrameworkBody {
            year: s.year,
            name: s.name,
            owner_unit_id: s.owner_unit_id,
            unit_kinds: Some(s.unit_kinds),
            na_policy: s.na_policy,
            evidence_policy: s.evidence_policy,
            requires_leader_approval: s.requires_leader_approval,
            appeal_days: s.appeal_days,
            bonus_max: s.bonus_max,
            penalty_max: s.penalty_max,
            rating_bands: s.rating_bands,
            submission_deadline: s.submission_deadline,
            criteria: s.criteria,
            components: s.composition.components,
            missing_component: s.composition.missing,
            campaign: s.campaign,
        }
    }
}

pub use entity::framework::EvidencePolicy;
pub use entity::status::FrameworkStatus;

/// A framework without its criteria (lists).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FrameworkSummary {
    pub id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub name: String,
    pub owner_unit_id: i64,
    pub unit_kinds: Vec<UnitKind>,
    pub status: FrameworkStatus,
    pub na_policy: NotApplicablePolicy,
    pub evidence_policy: EvidencePolicy,
    pub requires_leader_approval: bool,
    pub appeal_days: Option<i32>,
    #[schema(value_type = crate::schema::Score)]
    pub bonus_max: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub penalty_max: Decimal,
    pub components: Vec<Component>,
    pub missing_component: MissingComponent,
    pub campaign: Campaign,
    pub submission_deadline: Option<NaiveDate>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&framework::Model> for FrameworkSummary {
    fn from(m: &framework::Model) -> Self {
        FrameworkSummary {
            id: m.id,
            year: m.year,
            name: m.name.clone(),
            owner_unit_id: m.owner_unit_id,
            unit_kinds: m
                .unit_kinds
                .split(',')
                .filter_map(UnitKind::parse)
                .collect(),
            status: m.status,
            na_policy: NotApplicablePolicy::parse(&m.na_policy).unwrap_or_default(),
            evidence_policy: m.evidence_policy,
            requires_leader_approval: m.requires_leader_approval,
            appeal_days: m.appeal_days,
            bonus_max: crate::scoring::from_hundredths(m.bonus_max_x100),
            penalty_max: crate::scoring::from_hundredths(m.penalty_max_x100),
            components: serde_json::from_str(&m.components).unwrap_or_default(),
            missing_component: MissingComponent::parse(&m.missing_component).unwrap_or_default(),
            campaign: serde_json::from_str(&m.campaign).unwrap_or_default(),
            submission_deadline: m.submission_deadline,
            published_at: m.published_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One criterion in the flat list of a response.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CriterionResponse {
    pub code: String,
    /// The parent's code; null for a top-level field.
    pub parent_code: Option<String>,
    pub title: String,
    #[schema(value_type = crate::schema::Score)]
    pub max_score: Decimal,
    pub is_leaf: bool,
    /// Leaves only.
    pub method: Option<Method>,
    /// Leaves only.
    pub scorer: Option<Scorer>,
    /// The agency that appraises the criterion, as set on it (leaves inherit their
    /// group's: see `tree`); null: none set here.
    pub appraised_by_unit_id: Option<i64>,
    /// The indicator of another system that feeds the leaf's council figure; null: none.
    pub indicator_code: Option<String>,
    /// The indicator feeds the unit's side too.
    pub indicator_feeds_self: bool,
}

/// A framework with its criteria, flat and as a tree.
#[derive(Serialize, ToSchema)]
pub struct FrameworkResponse {
    #[serde(flatten)]
    pub summary: FrameworkSummary,
    pub rating_bands: Vec<RatingBand>,
    pub leaf_count: usize,
    pub criteria: Vec<CriterionResponse>,
    pub tree: Vec<CriterionNode>,
}

fn criteria_response(f: &LoadedFramework) -> Vec<CriterionResponse> {
    f.tree
        .criteria()
        .iter()
        .map(|c| {
            let leaf = f.tree.is_leaf(&c.code);
            CriterionResponse {
                code: c.code.clone(),
                parent_code: crate::scoring::framework::parent_code(&c.code).map(str::to_string),
                title: c.title.clone(),
                max_score: crate::scoring::round2(c.max_score),
                is_leaf: leaf,
                method: c.method.clone(),
                scorer: leaf.then_some(c.scorer),
                appraised_by_unit_id: c.appraised_by_unit_id,
                indicator_code: c.indicator_code.clone(),
                indicator_feeds_self: c.indicator_feeds_self,
            }
        })
        .collect()
}

fn framework_response(status: StatusCode, f: &LoadedFramework) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, etag_of::<entity::framework::Entity>(&f.model)));
    if status == StatusCode::CREATED {
        response.insert_header((
            header::LOCATION,
            format!("/api/v1/frameworks/{}", f.model.id),
        ));
    }
    response.json(FrameworkResponse {
        summary: FrameworkSummary::from(&f.model),
        rating_bands: f.bands.clone(),
        leaf_count: f.tree.leaves().count(),
        criteria: criteria_response(f),
        tree: f.tree.nested(),
    })
}

/// Create a framework (as a draft).
///
/// Every rule is checked and every failure named: missing parent codes, duplicate codes,
/// a parent's max differing from the sum of its children's, leaves not summing to 100, a
/// leaf without a method or a parent with one, method parameters out of range, more than
/// 2 decimal places.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    request_body = FrameworkBody,
    responses(
        (status = 201, description = "Created as a draft", body = FrameworkResponse,
            headers(("Location" = String), ("ETag" = String))),
    )
)]
#[post("/frameworks")]
pub async fn create_framework(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<FrameworkBody>,
) -> ApiResult<HttpResponse> {
    let created =
        frameworks::create_framework(&state.db, &principal, body.into_inner().into()).await?;
    Ok(framework_response(StatusCode::CREATED, &created))
}

/// Criteria from an uploaded CSV or XLSX, read within the upload budget off the workers.
async fn criteria_upload(body: RawBody) -> ApiResult<Vec<CriterionDef>> {
    // Column 0 holds codes: 1.10 typed as a number would read as 1.1.
    let rows = uploads::read_sheet(body, &[0]).await?;
    framework_io::parse_rows(rows)
        .map(|(criteria, _)| criteria)
        .map_err(|e| ApiError::validation(e).into())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    pub year: Year,
    pub name: String,
    pub owner_unit_id: i64,
    /// Comma-separated kinds (default: `commune,ward,special_zone` for 2025 on,
    /// `commune,town,ward` before).
    pub unit_kinds: Option<String>,
    pub na_policy: Option<NotApplicablePolicy>,
    pub evidence_policy: Option<EvidencePolicy>,
    pub requires_leader_approval: Option<bool>,
    pub appeal_days: Option<i32>,
    pub bonus_max: Option<Decimal>,
    pub penalty_max: Option<Decimal>,
    pub submission_deadline: Option<NaiveDate>,
}

/// Create a framework (draft) from a spreadsheet of criteria.
///
/// The body is a CSV (UTF-8) or XLSX file whose first row is the header
/// `code, title, max_score, method, parameters, scorer` and then one row per criterion,
/// as `GET /frameworks/{id}/export` writes it. Every bad row is reported as
/// `rows[N].<column>` with its row number, and nothing is imported.
///
/// The caller's right to create the framework is checked before the file is read. A file is
/// read within a budget (32 MiB inflated, 10,000 rows, 64 columns, 200,000 cells, 32,767
/// characters a cell, 10 s): over it, 413 or 422 `upload_over_budget` naming the limit.
/// An XLSX file is read as a workbook by its content even when sent as `text/csv`.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(ImportQuery),
    request_body(content(
        (crate::schema::CsvFile = "text/csv"),
        (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ), description = "The criteria as CSV or XLSX"),
    responses(
        (status = 201, description = "Created as a draft", body = FrameworkResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[post("/frameworks/import")]
pub async fn import_framework(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<ImportQuery>,
    body: RawBody,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    // Access first: nobody without the right to create a framework here gets a spreadsheet
    // of theirs read, let alone parsed.
    frameworks::may_create_for(&state.db, &principal, query.owner_unit_id).await?;
    let criteria = criteria_upload(body).await?;
    let unit_kinds = match query.unit_kinds {
        None => default_kinds(query.year.get()),
        Some(list) => list
            .split(',')
            .map(|k| {
                UnitKind::parse(k.trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        text!("unknown unit kind {k:?}", "không có loại đơn vị {k:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
    };
    let spec = FrameworkSpec {
        year: query.year.get(),
        name: query.name,
        owner_unit_id: query.owner_unit_id,
        unit_kinds,
        na_policy: query.na_policy.unwrap_or_default(),
        evidence_policy: query.evidence_policy.unwrap_or_default(),
        requires_leader_approval: query.requires_leader_approval.unwrap_or_default(),
        appeal_days: query.appeal_days,
        bonus_max: query.bonus_max.unwrap_or_default(),
        penalty_max: query.penalty_max.unwrap_or_default(),
        rating_bands: Vec::new(),
        submission_deadline: query.submission_deadline,
        criteria,
        // A spreadsheet carries criteria only; components and dates are set with PUT.
        composition: Composition::default(),
        campaign: Campaign::default(),
    };
    let created = frameworks::create_framework(&state.db, &principal, spec).await?;
    Ok(framework_response(StatusCode::CREATED, &created))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FrameworkListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub year: Option<Year>,
    pub owner_unit_id: Option<i64>,
    pub status: Option<FrameworkStatus>,
}

/// List the frameworks the caller may see (of its units, above and below).
///
/// Frameworks owned by the caller's units or by units above or below them (a commune sees
/// its district's and province's). Filter by year, owner or status; newest year first.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(FrameworkListQuery),
    responses((status = 200, description = "One page of frameworks", body = Page<FrameworkSummary>))
)]
#[get("/frameworks")]
pub async fn list_frameworks(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<FrameworkListQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found = frameworks::list_frameworks(
        &state.db,
        &principal,
        FrameworkFilter {
            year: query.year.map(Year::get),
            owner_unit_id: query.owner_unit_id,
            status: query.status,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |r| FrameworkSummary::from(r))))
}

/// Read a framework with its whole criteria tree.
///
/// Settings, rating bands and every criterion (fields, groups and scored leaves with
/// their scoring methods) as a tree in code order. Keep the `ETag` to replace or publish
/// it with `If-Match`.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id")),
    responses(
        (status = 200, description = "The framework", body = FrameworkResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/frameworks/{id}")]
pub async fn get_framework(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let f = frameworks::get_framework(&state.db, &principal, id.into_inner()).await?;
    Ok(framework_response(StatusCode::OK, &f))
}

/// Replace a framework's settings and criteria.
///
/// Refused with 409 once a unit has opened a self-assessment on it.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Framework id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = FrameworkBody,
    responses(
        (status = 200, description = "Replaced", body = FrameworkResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[put("/frameworks/{id}")]
pub async fn update_framework(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<FrameworkBody>,
) -> ApiResult<HttpResponse> {
    let updated = frameworks::update_framework(
        &state.db,
        &principal,
        id.into_inner(),
        body.into_inner().into(),
        &if_match,
    )
    .await?;
    Ok(framework_response(StatusCode::OK, &updated))
}

/// Delete a framework no unit has assessed against.
///
/// District appraisers of the owning unit, or admins. A framework that any self-
/// assessment uses is refused with 409: it is the record of that year.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[delete("/frameworks/{id}")]
pub async fn delete_framework(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    frameworks::delete(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The criteria, flat and as a tree.
#[derive(Serialize, ToSchema)]
pub struct CriteriaResponse {
    pub criteria: Vec<CriterionResponse>,
    pub tree: Vec<CriterionNode>,
}

/// Read a framework's criteria.
///
/// The criteria tree alone, in the shape `PUT /frameworks/{id}/criteria` takes, to edit
/// and send back.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id")),
    responses(
        (status = 200, description = "The criteria", body = CriteriaResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/frameworks/{id}/criteria")]
pub async fn get_framework_criteria(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let f = frameworks::get_framework(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(CriteriaResponse {
        criteria: criteria_response(&f),
        tree: f.tree.nested(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::criteria_body))]
pub struct CriteriaBody {
    pub criteria: Vec<CriterionDef>,
}

/// Replace a framework's criteria, from JSON or from a CSV/XLSX spreadsheet.
///
/// Spreadsheets have the columns `code, title, max_score, method, parameters, scorer`;
/// bad rows are reported by row number and nothing changes. Access is checked before a
/// spreadsheet is read, and it is read within the budget of `POST /frameworks/import`.
/// An XLSX file is read as a workbook by its content even when sent as `text/csv`.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Framework id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body(content(
        (CriteriaBody = "application/json"),
        (crate::schema::CsvFile = "text/csv"),
        (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ), description = "The new criteria"),
    responses(
        (status = 200, description = "Replaced", body = FrameworkResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[put("/frameworks/{id}/criteria")]
pub async fn replace_framework_criteria(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: RawBody,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    frameworks::may_change(&state.db, &principal, id).await?;
    let criteria = if body.is_json() {
        body.json::<CriteriaBody>().await?.criteria
    } else {
        criteria_upload(body).await?
    };
    let updated =
        frameworks::replace_criteria(&state.db, &principal, id, criteria, &if_match).await?;
    Ok(framework_response(StatusCode::OK, &updated))
}

/// Publish a draft framework: units can then open self-assessments on it.
///
/// District appraisers of the owning unit, or admins. The framework is validated again;
/// 409 when it is already published or another framework of the same owner is published
/// for that year. Send `If-Match` with the `ETag` read.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Framework id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being published"),
    ),
    responses(
        (status = 200, description = "Published", body = FrameworkResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[post("/frameworks/{id}/publish")]
pub async fn publish_framework(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
) -> ApiResult<HttpResponse> {
    let f = frameworks::publish(&state.db, &principal, id.into_inner(), &if_match).await?;
    Ok(framework_response(StatusCode::OK, &f))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::copy_framework_request))]
pub struct CopyFrameworkRequest {
    /// The new framework's year.
    #[schema(value_type = crate::validation::Year, example = 2024)]
    pub year: i32,
    /// Defaults to the source's name with the year.
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// Copy a framework into a new draft, usually for the next year.
///
/// Makes a draft with the same settings, bands and criteria for another year, owned by
/// the same unit; edit it, then publish it. Who may: as for creating a framework.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework to copy")),
    request_body = CopyFrameworkRequest,
    responses(
        (status = 201, description = "The new draft", body = FrameworkResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/frameworks/{id}/copy")]
pub async fn copy_framework(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<CopyFrameworkRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let created =
        frameworks::copy(&state.db, &principal, id.into_inner(), body.year, body.name).await?;
    Ok(framework_response(StatusCode::CREATED, &created))
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[serde(rename_all = "snake_case")]
pub enum FrameworkExportFormat {
    /// The body of `POST /frameworks`.
    #[default]
    Json,
    Csv,
    Xlsx,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<FrameworkExportFormat>,
}

/// Export a framework as JSON, CSV or XLSX.
///
/// `format=json` (default) gives the body `POST /frameworks` takes; `csv` and `xlsx` give
/// one row per criterion with the columns `POST /frameworks/import` reads, so a framework
/// can be edited in Excel and imported back. CSV is UTF-8 with a byte-order mark; read
/// XLSX and CSV bodies as bytes.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id"), ExportQuery),
    responses(
        (status = 200, description = "The framework as a file", content(
            (FrameworkBody = "application/json"),
            (crate::schema::CsvFile = "text/csv"),
            (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ), headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/frameworks/{id}/export")]
pub async fn export_framework(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let f = frameworks::get_framework(&state.db, &principal, id.into_inner()).await?;
    let base = format!("framework-{}-{}", f.model.id, f.model.year);
    let (content_type, file, bytes) = match query.format.unwrap_or_default() {
        FrameworkExportFormat::Json => (
            "application/json".to_string(),
            format!("{base}.json"),
            serde_json::to_vec_pretty(&FrameworkBody::from(f.spec()))
                .map_err(ApiError::internal)?,
        ),
        FrameworkExportFormat::Csv => (
            sheets::CSV_CONTENT_TYPE.to_string(),
            format!("{base}.csv"),
            sheets::to_csv(&framework_io::criteria_table(&f.tree)).map_err(ApiError::internal)?,
        ),
        FrameworkExportFormat::Xlsx => (
            sheets::XLSX_CONTENT_TYPE.to_string(),
            format!("{base}.xlsx"),
            sheets::to_xlsx(&framework_io::criteria_table(&f.tree)).map_err(ApiError::internal)?,
        ),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            sheets::content_disposition(&file),
        ))
        .body(bytes))
}

/// One unit's survey result for one criterion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyResultRequest {
    #[schema(example = "19744", max_length = 50)]
    pub unit_code: String,
    #[schema(example = "7.1", max_length = 50)]
    pub criterion_code: String,
    /// The survey's figure: a percentage 0–100 (ratio, target_ratio, threshold), the
    /// figure compared with the best (relative_to_best), a count (per_item,
    /// penalty_per_item, step_table) or 1/0 (boolean).
    #[schema(value_type = Option<crate::schema::FigureInput>, example = 86.5)]
    pub value: Option<Decimal>,
    /// The score itself, for a criterion scored by hand (manual).
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub score: Option<Decimal>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyResultsRequest {
    /// At most 5,000 rows.
    pub results: Vec<SurveyResultRequest>,
    /// The survey, as the provenance of its figures (default "Kết quả điều tra xã hội
    /// học"); overrides the query's.
    #[schema(example = "Điều tra xã hội học năm 2023 (SIPAS)", max_length = 200)]
    pub source_system: Option<String>,
    /// The report behind it: a number or a URL.
    #[schema(max_length = 500)]
    pub document_ref: Option<String>,
}

/// A unit's survey-scored criterion as stored on its appraisal.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SurveyResultItem {
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub appraisal_id: i64,
    pub criterion_code: String,
    /// The council's inputs the survey set; null until imported.
    pub inputs: Option<crate::scoring::Inputs>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub score: Option<Decimal>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SurveyResultsResponse {
    pub items: Vec<SurveyResultItem>,
    /// On an import: what it stored (or on a dry run would store); null on a read.
    pub import: Option<SurveyImportReport>,
}

/// What a survey import did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SurveyImportReport {
    /// Rows stored per unit and year.
    pub stored: usize,
    /// Of them, the results that became the council's input of a file with the council.
    pub applied: usize,
    /// The results kept until their unit's file reaches the council (not opened, a draft,
    /// not yet submitted).
    pub waiting: usize,
    pub dry_run: bool,
    /// The rows that could not be placed, each named with why (an unknown unit, one the
    /// framework does not score, a finalized appraisal): nothing stored for them.
    pub unplaced: Vec<crate::error::FieldError>,
}

fn survey_response(
    results: Vec<crate::services::survey::SurveyResult>,
    import: Option<SurveyImportReport>,
) -> HttpResponse {
    HttpResponse::Ok().json(SurveyResultsResponse {
        import,
        items: results
            .into_iter()
            .map(|r| SurveyResultItem {
                unit_id: r.unit_id,
                unit_code: r.unit_code,
                unit_name: r.unit_name,
                appraisal_id: r.appraisal_id,
                criterion_code: r.criterion_code,
                inputs: r.inputs,
                score: r.score,
            })
            .collect(),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SurveyImportQuery {
    /// `true`: check every row and answer as an import would, storing nothing.
    pub dry_run: Option<bool>,
    /// The survey (for CSV and XLSX uploads; a JSON body says it itself).
    pub source_system: Option<String>,
    /// The report behind it.
    pub document_ref: Option<String>,
}

/// Import the survey results of the framework's units (JSON, CSV or XLSX).
///
/// One row per unit and `survey`-scored criterion (several survey groups, e.g. citizens,
/// officials and leaders, are separate criteria): the unit's code, the criterion's code,
/// and the survey's `value` (a percentage 0–100 for ratio, target-ratio and threshold
/// criteria; the figure for relative-to-best; a count; 1/0 for yes/no) or the `score` of
/// a hand-scored criterion. Results are stored per unit and year whatever state the
/// unit's file is in (audited per value, re-imports with the value replaced): a file with
/// the council takes them at once as the council's inputs, through the same path as
/// `PUT /appraisals/{id}/entries`, so indices and rankings follow; a file not yet there
/// takes them when first submitted. Rows whose unit cannot take them (unknown, not scored
/// on this framework, finalized) are named in `import.unplaced` and left out. Any other
/// problem refuses the whole request, each problem named by its row (`results[3]` in
/// JSON, `row 4` in a file): criteria not scored by survey, duplicates, figures out of
/// range. CSV and XLSX take a header row (`unit_code`, `criterion_code`, `value`,
/// `score`, or Mã đơn vị, Mã tiêu chí, Giá trị, Điểm) and are read within the upload
/// budget. `dry_run=true` checks a table without storing it. District appraisers of the
/// framework's owner, and admins.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id"), SurveyImportQuery),
    request_body(content(
        (SurveyResultsRequest = "application/json"),
        (crate::schema::CsvFile = "text/csv"),
        (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Stored; every survey criterion of the units the caller reads", body = SurveyResultsResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[post("/frameworks/{id}/survey-results")]
pub async fn import_survey_results(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<SurveyImportQuery>,
    body: RawBody,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let query = query.into_inner();
    let mut source = survey::SurveySource {
        name: query.source_system,
        document_ref: query.document_ref,
    };
    let rows = if body.is_json() {
        let request = body.json::<SurveyResultsRequest>().await?;
        if request.source_system.is_some() {
            source.name = request.source_system;
        }
        if request.document_ref.is_some() {
            source.document_ref = request.document_ref;
        }
        request
            .results
            .into_iter()
            .enumerate()
            .map(|(i, r)| survey::SurveyRow {
                at: format!("results[{i}]"),
                unit_code: r.unit_code,
                criterion_code: r.criterion_code,
                value: r.value,
                score: r.score,
            })
            .collect()
    } else {
        // Access first: nobody who may not appraise here gets a file of theirs read.
        survey::may_import(&state.db, &principal, id).await?;
        // Columns 0 and 1 hold codes.
        survey::rows_of_sheet(uploads::read_sheet(body, &[0, 1]).await?)?
    };
    let dry_run = query.dry_run.unwrap_or(false);
    let done = survey::import(&state.db, &principal, id, rows, source, dry_run).await?;
    let report = SurveyImportReport {
        stored: done.report.rows,
        applied: done.report.applied,
        waiting: done.report.waiting,
        dry_run: done.report.dry_run,
        unplaced: done.report.unplaced,
    };
    Ok(survey_response(done.results.into_inner(), Some(report)))
}

/// The survey-scored criteria of the framework's units, as stored.
///
/// One item per unit with a file on the framework and survey criterion: the council's
/// inputs the survey set and the resulting score (null until imported). Like every
/// result, a unit's rows show to its officers and to viewers only once its year is
/// published (or released to it); the district's appraisers see them at once.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id")),
    responses(
        (status = 200, description = "The stored survey results", body = SurveyResultsResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/frameworks/{id}/survey-results")]
pub async fn get_survey_results(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    frameworks::get_framework(&state.db, &principal, id).await?;
    Ok(survey_response(
        survey::results(&state.db, &principal, id)
            .await?
            .into_inner(),
        None,
    ))
}
