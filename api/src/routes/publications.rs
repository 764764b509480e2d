//! Publications of results: announcing a year's results of a district or province under a
//! decision, frozen as announced, with their revisions.

use super::results::{RankedUnit, UnrankedUnit, ranked_unit, unranked_unit};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, Query};
use crate::services::results::{self, PublishRequest, ResultsReader};
use crate::validation::Year;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_publication)
        .service(list_publications)
        .service(get_publication)
        .service(get_publication_decision);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::publication_request))]
pub struct PublicationRequest {
    pub parent_unit_id: i64,
    pub year: Year,
    /// Number and symbol of the results notice or decision, e.g. `4006/TB-HĐTĐ`.
    #[schema(max_length = 100)]
    pub decision_number: Option<String>,
    /// The date the decision was signed.
    pub decided_on: Option<NaiveDate>,
}

/// The scope unit as it was when the results were announced.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublishedScope {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicationResponse {
    pub id: i64,
    pub parent_unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    /// 1 for the first announcement; each republication after a reopen adds one.
    pub revision: i32,
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub scope: PublishedScope,
    pub published_by: Option<i64>,
    pub published_at: DateTime<Utc>,
    /// Why this revision replaced the previous one (the reopens' reasons).
    pub reason: Option<String>,
    /// When an appraisal this revision announced was reopened (a new revision is due).
    pub reopened_at: Option<DateTime<Utc>>,
    pub reopen_reason: Option<String>,
    /// The revision that replaced this one; null for the current revision.
    pub superseded_by: Option<i64>,
}

impl From<&entity::publication::Model> for PublicationResponse {
    fn from(p: &entity::publication::Model) -> Self {
        PublicationResponse {
            id: p.id,
            parent_unit_id: p.parent_unit_id,
            year: p.year,
            revision: p.revision,
            decision_number: p.decision_number.clone(),
            decided_on: p.decided_on,
            scope: PublishedScope {
                code: p.scope_code.clone(),
                name: p.scope_name.clone(),
                kind: p.scope_kind.clone(),
            },
            published_by: p.published_by,
            published_at: p.published_at,
            reason: p.reason.clone(),
            reopened_at: p.reopened_at,
            reopen_reason: p.reopen_reason.clone(),
            superseded_by: p.superseded_by,
        }
    }
}

/// A publication with its ranking, as announced.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicationDetail {
    #[serde(flatten)]
    pub publication: PublicationResponse,
    pub ranked_units: usize,
    /// Every ranked unit with its index, band and rank, named as it was then.
    pub items: Vec<RankedUnit>,
    /// The units without a finalized appraisal then, with where they stood.
    pub unranked: Vec<UnrankedUnit>,
}

/// Publish a year's results of the units under a parent, frozen as announced.
///
/// District appraisers of the parent (or admins): from then on the officers and viewers
/// of those units can read their index, the ranking and the council's side of their
/// appraisal. The publication stores every unit's row as it stands (names, codes, index,
/// band; ranks follow from them); the scope's ranking, exports and chart and each unit's
/// index for that year are read from it from then on, whatever happens to the map.
///
/// 409 `nothing_to_publish` when no unit has a finalized appraisal for the year;
/// `already_published` when the scope is published and nothing was reopened since;
/// `appraisal_reopened` when a reopened appraisal is not finalized again yet. After a
/// reopen, publishing again makes the next revision; the earlier one stays readable.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    request_body = PublicationRequest,
    responses(
        (status = 201, description = "Published", body = PublicationResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/publications")]
pub async fn create_publication(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    body: Json<PublicationRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let p = results::publish(
        &reader.db,
        &principal,
        PublishRequest {
            parent_unit_id: body.parent_unit_id,
            year: body.year.get(),
            decision_number: body.decision_number,
            decided_on: body.decided_on,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(PublicationResponse::from(&p)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicationQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub parent_unit_id: Option<i64>,
    pub year: Option<Year>,
}

/// List publications of results, every revision.
///
/// Which years are published for which parents, within the caller's reach; filter by
/// parent and year. A front end uses it to tell a unit whether its results can be shown
/// yet.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(PublicationQuery),
    responses((status = 200, description = "One page of publications", body = super::Page<PublicationResponse>))
)]
#[get("/publications")]
pub async fn list_publications(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    query: Query<PublicationQuery>,
) -> ApiResult<HttpResponse> {
    let page = crate::validation::PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found = results::list_publications(
        &reader.db,
        &principal,
        query.parent_unit_id,
        query.year.map(Year::get),
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(super::Page::of(&found, |p| PublicationResponse::from(p))))
}

/// One publication with its ranking, exactly as announced.
///
/// Readable by whoever may read the ranking of its scope, or the published results of a
/// unit it ranked (a commune that has since moved or merged keeps it); 404 otherwise.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Publication id")),
    responses(
        (status = 200, description = "The publication", body = PublicationDetail),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/publications/{id}")]
pub async fn get_publication(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let record = results::get_publication(&reader.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(PublicationDetail {
        publication: PublicationResponse::from(&record.publication),
        ranked_units: record.ranked.len(),
        items: record.ranked.iter().map(ranked_unit).collect(),
        unranked: record.unranked.iter().map(unranked_unit).collect(),
    }))
}

/// The results notice of a publication, with its ranking annex, as a paper.
///
/// Laid out as Nghị định 30/2020/NĐ-CP prescribes: the scope's committee and the national
/// motto, the publication's `decision_number` and `decided_on` (or `number` and `date`),
/// "THÔNG BÁO" with its summary (and "điều chỉnh" for a later revision, with its reason),
/// the mean, highest and lowest index and the count per band, "Nơi nhận" and the
/// signature block. The annex, on a landscape page, is the ranking as frozen: rank, unit,
/// self, appraised, bonus, index, rank of the count, band, last year's rank and its
/// change, with the means. Same visibility as the publication. DOCX, or PDF when the server
/// has LibreOffice.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Publication id"), crate::routes::documents::PaperQuery),
    responses(
        (status = 200, description = "The notice", content(
            (crate::schema::DocxFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (crate::schema::PdfFile = "application/pdf"),
        ), headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 406, response = crate::openapi::PdfUnavailable),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/publications/{id}/decision")]
pub async fn get_publication_decision(
    state: web::Data<crate::state::AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<crate::routes::documents::PaperQuery>,
) -> ApiResult<HttpResponse> {
    let issue = query.issue()?;
    let record = results::get_publication(&state.db, &principal, id.into_inner()).await?;
    let ranking = results::Ranking::of_publication(&record);
    let p = &record.publication;
    let leader = crate::services::accounts::leader_name(&state.db, p.parent_unit_id).await?;
    let agencies = results::appraising_agencies_of(&state.db, &ranking).await?;
    let paper = crate::services::papers::results_notice(&ranking, p, leader, &issue, &agencies);
    let stem = format!(
        "Thông báo kết quả CCHC {} {}",
        p.scope_name.as_deref().unwrap_or_default(),
        p.year
    );
    crate::routes::documents::print(&state.config, &paper, &query, &stem).await
}
