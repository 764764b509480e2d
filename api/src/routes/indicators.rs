//! Figures fed from other systems: import a framework's indicator values with their
//! provenance, and read them back.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Query;
use crate::http::json::RawBody;
use crate::scoring::Inputs;
use crate::services::indicators::{self, Feed, IndicatorRow};
use crate::services::lifecycle::feed;
use crate::state::AppState;
use crate::uploads;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(import_indicator_values)
        .service(list_indicator_values);
}

/// One indicator value: the unit and criterion, the figures the criterion's method reads
/// (as in entries), and where they come from.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValueRow {
    /// The unit's official code.
    #[schema(example = "19744", max_length = 32)]
    pub unit_code: String,
    /// A leaf of the framework with an `indicator_code`.
    #[schema(example = "7.3.1")]
    pub criterion_code: String,
    #[schema(value_type = Option<crate::schema::DecimalInput>)]
    pub score: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub numerator: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub denominator: Option<Decimal>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub count: Option<u32>,
    pub done: Option<bool>,
    #[schema(value_type = Option<crate::schema::FigureInput>)]
    pub value: Option<Decimal>,
    /// The system the figures were taken from, e.g. "Hệ thống QLVB tỉnh".
    #[schema(
        example = "Hệ thống quản lý văn bản và điều hành tỉnh",
        min_length = 1,
        max_length = 200
    )]
    pub source_system: String,
    /// The period the figures cover.
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    /// When they were taken from the system.
    pub retrieved_at: DateTime<Utc>,
    /// The report or page behind them: a number (103/BC-VP) or a URL.
    #[schema(max_length = 500)]
    pub document_ref: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValuesRequest {
    pub rows: Vec<IndicatorValueRow>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorImportQuery {
    /// `true`: check every row and answer as an import would, storing nothing.
    pub dry_run: Option<bool>,
}

/// What an import did, or on a dry run would do.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IndicatorImportResponse {
    pub rows: usize,
    /// Values that became the council's input of a file with the council.
    pub applied: usize,
    /// Values kept until their unit first submits its file.
    pub waiting: usize,
    pub dry_run: bool,
}

/// Import indicator values fed from other systems (all or nothing).
///
/// One row per unit and criterion fed from an indicator (`indicator_code` on the
/// criterion): the figures its method reads and their provenance. Each value is stored per
/// unit and year and becomes the council's input of the unit's criterion, with "Theo số
/// liệu trích từ …" as the council's comment: at once when the file is with the council,
/// else at its first submission. A re-import replaces a value; the audit trail keeps the
/// previous one (`indicator_value`, `reimport`). Every row is checked first and each
/// problem names its row: unknown units, criteria not fed, figures the method refuses,
/// provenance missing, duplicates, finalized appraisals. The framework owner's
/// consolidating appraisers, and admins.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id"), IndicatorImportQuery),
    request_body(content(
        (IndicatorValuesRequest = "application/json"),
        (crate::schema::CsvFile = "text/csv"),
        (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Stored (or checked, on a dry run)", body = IndicatorImportResponse),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[post("/frameworks/{id}/indicator-values")]
pub async fn import_indicator_values(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<IndicatorImportQuery>,
    body: RawBody,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if !body.is_json() {
        // Access first: nobody who may not consolidate here gets a file of theirs read.
        crate::services::survey::may_import(&state.db, &principal, id).await?;
        // Columns 0 and 1 hold codes.
        let rows = indicators::rows_of_sheet(uploads::read_sheet(body, &[0, 1]).await?)?;
        return imported(&state, &principal, id, rows, query.dry_run.unwrap_or(false)).await;
    }
    let rows = body
        .json::<IndicatorValuesRequest>()
        .await?
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| IndicatorRow {
            at: format!("rows[{i}]"),
            unit_code: r.unit_code,
            criterion_code: r.criterion_code,
            inputs: Inputs {
                score: r.score,
                numerator: r.numerator,
                denominator: r.denominator,
                count: r.count,
                done: r.done,
                value: r.value,
                not_applicable: false,
            },
            source_system: r.source_system,
            period_from: r.period_from,
            period_to: r.period_to,
            retrieved_at: r.retrieved_at,
            document_ref: r.document_ref,
        })
        .collect();
    imported(&state, &principal, id, rows, query.dry_run.unwrap_or(false)).await
}

async fn imported(
    state: &AppState,
    principal: &Principal,
    id: i64,
    rows: Vec<IndicatorRow>,
    dry_run: bool,
) -> ApiResult<HttpResponse> {
    let report = feed::import(&state.db, principal, id, rows, Feed::Indicator, dry_run).await?;
    Ok(HttpResponse::Ok().json(IndicatorImportResponse {
        rows: report.rows,
        applied: report.applied,
        waiting: report.waiting,
        dry_run: report.dry_run,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorListQuery {
    /// One unit's values.
    pub unit_id: Option<i64>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A stored value with its provenance.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IndicatorValueResponse {
    pub id: i64,
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub criterion_code: String,
    pub indicator_code: String,
    pub inputs: Inputs,
    pub source_system: String,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub retrieved_at: DateTime<Utc>,
    pub document_ref: Option<String>,
    pub imported_by: Option<i64>,
    pub imported_at: DateTime<Utc>,
    /// What papers print: "Theo số liệu trích từ …".
    pub provenance: String,
}

/// Read a framework's indicator values with their provenance.
///
/// For the appraisers of the framework's owner (agencies' included) and admins: every
/// value, or one unit's (`unit_id`). They are council figures: a unit reads them in its
/// appraisal once its results are published.
#[utoipa::path(
    tag = "frameworks",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Framework id"), IndicatorListQuery),
    responses(
        (status = 200, description = "One page of the values", body = super::Page<IndicatorValueResponse>),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/frameworks/{id}/indicator-values")]
pub async fn list_indicator_values(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<IndicatorListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let page = crate::validation::PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let values = feed::list(&state.db, &principal, id.into_inner(), q.unit_id, page).await?;
    let items = values
        .items()
        .iter()
        .map(|m| {
            Ok(IndicatorValueResponse {
                id: m.id,
                unit_id: m.unit_id,
                year: m.year,
                criterion_code: m.criterion_code.clone(),
                indicator_code: m.indicator_code.clone(),
                inputs: crate::services::indicators::inputs_of(m)?,
                source_system: m.source_system.clone(),
                period_from: m.period_from,
                period_to: m.period_to,
                retrieved_at: m.retrieved_at,
                document_ref: m.document_ref.clone(),
                imported_by: m.imported_by,
                imported_at: m.imported_at,
                provenance: crate::services::indicators::provenance_text(m),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(super::Page {
        items,
        page: values.page(),
        per_page: values.per_page(),
        total: values.total(),
    }))
}
