//! Indices, rankings, criteria analysis, comparisons, publication, and their exports.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::Query;
use crate::routes::documents::{PaperFormat, paper_response};
use crate::services::results::{self, Depth, Ranking, ResultsReader};
use crate::services::{remediation, reports};
use crate::sheets;
use crate::validation::Year;
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_unit_index)
        .service(get_unit_comparison)
        .service(get_criterion_history)
        .service(export_unit_appendix)
        .service(get_ranking)
        .service(get_criteria_ranking)
        .service(export_ranking)
        .service(get_ranking_chart);
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DepthParam {
    /// The parent's direct children (default).
    #[default]
    Children,
    /// Every commune, town and ward below the parent.
    All,
}

impl From<DepthParam> for Depth {
    fn from(d: DepthParam) -> Self {
        match d {
            DepthParam::Children => Depth::Children,
            DepthParam::All => Depth::All,
        }
    }
}

/// The group of kinds a ranking lists: agencies are ranked apart.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KindGroup {
    Local,
    Agency,
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SheetFormat {
    #[default]
    Xlsx,
    Csv,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[param(example = 2023)]
    pub year: Year,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PreviousYear {
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    #[schema(value_type = crate::schema::Score)]
    pub index: Decimal,
    /// Rank among the same siblings that year (null if none were ranked).
    pub rank: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct FieldSubtotal {
    pub code: String,
    pub title: String,
    #[schema(value_type = crate::schema::Score)]
    pub max_score: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub self_score: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub appraised_score: Decimal,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeductionResponse {
    pub criterion_code: String,
    pub title: String,
    #[schema(value_type = crate::schema::Score)]
    pub max_score: Decimal,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub self_score: Option<Decimal>,
    #[schema(value_type = crate::schema::Score)]
    pub appraised_score: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub deduction: Decimal,
    pub comment: Option<String>,
    /// It lost points the year before too (through the mapping between the two years'
    /// frameworks where one is recorded, else by code): a weakness that persists.
    pub repeat_loss: bool,
}

/// One component of an index (a framework with `components`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComponentResponse {
    #[schema(example = "survey")]
    pub code: String,
    #[schema(example = "Điều tra xã hội học")]
    pub name: String,
    /// The points its fields scored (0 without data).
    #[schema(value_type = crate::schema::Score)]
    pub points: Decimal,
    /// What its fields are worth.
    #[schema(value_type = crate::schema::Score)]
    pub max: Decimal,
    /// Whether any of its criteria has a council figure.
    pub has_data: bool,
    /// Scaled up to the framework's total because another component had no data.
    pub rescaled: bool,
    /// What it counts for in the index: `points`, scaled when rescaled, 0 without data.
    #[schema(value_type = crate::schema::Score)]
    pub counted: Decimal,
}

/// The components as responses show them.
pub fn components_response(
    figures: Vec<crate::scoring::composition::ComponentFigure>,
) -> Vec<ComponentResponse> {
    figures
        .into_iter()
        .map(|c| ComponentResponse {
            code: c.code,
            name: c.name,
            points: c.points,
            max: c.max,
            has_data: c.has_data,
            rescaled: c.rescaled,
            counted: c.counted,
        })
        .collect()
}

/// A unit's PAR index for a year.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::unit_index_response))]
pub struct UnitIndexResponse {
    pub unit_id: i64,
    pub unit_name: String,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub appraisal_id: i64,
    #[schema(value_type = crate::schema::Score)]
    pub self_total: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub appraised_total: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub bonus: Decimal,
    /// Penalty points (điểm trừ) subtracted after the bonus (0 when none).
    #[schema(value_type = crate::schema::Score)]
    pub penalty_total: Decimal,
    /// The index's components where the framework declares them (empty otherwise): the
    /// index is their counted total + bonus − penalty points.
    pub components: Vec<ComponentResponse>,
    #[schema(value_type = crate::schema::Score)]
    pub index: Decimal,
    /// The label of the rating band (xếp loại) the index falls in, as the framework names
    /// it (e.g. "Tốt", "Khá"): bands are defined per framework, so this is free text. Null
    /// when no band covers the index or the figures are not visible.
    pub rating_band: Option<String>,
    #[schema(value_type = crate::schema::Score)]
    pub deduction_total: Decimal,
    /// Rank among the siblings under the same parent (ties share a rank).
    pub rank: u32,
    /// How many siblings were ranked.
    pub ranked_units: usize,
    pub previous: Option<PreviousYear>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub index_change: Option<Decimal>,
    /// Previous rank − rank: −3 for a fall from 8th to 11th.
    pub rank_change: Option<i64>,
    /// Subtotals of each top-level field.
    pub fields: Vec<FieldSubtotal>,
    /// Criteria that lost points, by code.
    pub deductions: Vec<DeductionResponse>,
    /// On a merged unit's index for the merge's year: the old units it came from, each
    /// with its last published index, rank and how many units were ranked with it.
    pub predecessors: Vec<PredecessorResponse>,
}

/// A unit's index for a year: totals, bonus, rank, last year and the changes, field
/// subtotals and the deductions.
///
/// Unit officers and viewers see it once the year's results are published (403 before).
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id"), YearQuery),
    responses(
        (status = 200, description = "The index", body = UnitIndexResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/units/{id}/index")]
pub async fn get_unit_index(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    let body = results::unit_index_body(
        &reader,
        &principal,
        id.into_inner(),
        query.year.get(),
        |x| json_bytes(&unit_index_response(x)),
    )
    .await?
    .into_inner();
    Ok(json_body(body))
}

/// A unit's index as `GET /units/{id}/index` shows it.
fn unit_index_response(x: &results::UnitIndex) -> UnitIndexResponse {
    UnitIndexResponse {
        unit_id: x.unit_id,
        unit_name: x.unit_name.clone(),
        year: x.year,
        appraisal_id: x.appraisal_id,
        self_total: x.self_total,
        appraised_total: x.appraised_total,
        bonus: x.bonus,
        penalty_total: x.penalty_total,
        components: components_response(x.components.clone()),
        index: x.index,
        rating_band: x.rating_band.clone(),
        deduction_total: x.deduction_total,
        rank: x.rank,
        ranked_units: x.ranked_units,
        previous: x
            .previous
            .map(|(year, index, rank)| PreviousYear { year, index, rank }),
        index_change: x.index_change(),
        rank_change: x.rank_change(),
        fields: x
            .fields
            .iter()
            .map(|f| FieldSubtotal {
                code: f.code.clone(),
                title: f.title.clone(),
                max_score: f.max,
                self_score: f.self_score,
                appraised_score: f.appraised,
            })
            .collect(),
        deductions: x
            .deductions
            .iter()
            .map(|d| DeductionResponse {
                criterion_code: d.code.clone(),
                title: d.title.clone(),
                max_score: d.max,
                self_score: d.self_score,
                appraised_score: d.appraised,
                deduction: d.deduction,
                comment: d.comment.clone(),
                repeat_loss: d.repeat,
            })
            .collect(),
        predecessors: x
            .predecessors
            .iter()
            .map(|p| {
                let last = p.last_published.as_ref();
                PredecessorResponse {
                    unit_id: p.unit_id,
                    unit_code: p.code.clone(),
                    unit_name: p.name.clone(),
                    weight: p.weight,
                    year: last.map(|l| l.year),
                    publication_id: last.map(|l| l.publication_id),
                    index: last.map(|l| l.index),
                    rating_band: last.and_then(|l| l.rating_band.clone()),
                    rank: last.map(|l| l.rank),
                    ranked_units: last.map(|l| l.ranked_units),
                }
            })
            .collect(),
    }
}

/// A response body in JSON (what a results document stores).
pub(crate) fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))
}

/// A stored or rendered JSON body, sent as `HttpResponse::json` would.
fn json_body(body: results::Body) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComparisonQuery {
    pub year: Year,
    /// Defaults to `year − 1`.
    pub previous_year: Option<Year>,
    /// `previous_year` (default): the unit against itself; `predecessors`: a merged unit's
    /// first year against the old units it came from (their last published year).
    pub against: Option<Against>,
    /// With `against=predecessors`: `weighted` (default), the predecessors' mean weighted
    /// by the weights given at the merge (equal when none), or `best`, the highest.
    pub basis: Option<BasisParam>,
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    #[default]
    PreviousYear,
    Predecessors,
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BasisParam {
    #[default]
    Weighted,
    Best,
}

/// An old unit merged into this one, with its last published result.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PredecessorResponse {
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    /// Its weight in the weighted comparison (1 when none was given at the merge).
    #[schema(value_type = crate::schema::Score)]
    pub weight: Decimal,
    /// The year of its last published result (null when it has none).
    #[schema(value_type = Option<crate::validation::Year>)]
    pub year: Option<i32>,
    pub publication_id: Option<i64>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub index: Option<Decimal>,
    pub rating_band: Option<String>,
    pub rank: Option<u32>,
    pub ranked_units: Option<usize>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CriterionComparison {
    pub criterion_code: String,
    pub title: String,
    #[schema(value_type = crate::schema::Score)]
    pub max_then: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub max_now: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub score_then: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub score_now: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub change: Decimal,
    /// The earlier year's criteria it is compared with: its own code, or through the
    /// mapping between the two frameworks (several for a merge, summed).
    pub previous_codes: Vec<String>,
    /// The mapping's relation (null when no mapping is recorded: compared by code).
    pub relation: Option<crate::scoring::mapping::Relation>,
}

/// A criterion of the later year nothing in the earlier one compares with.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NotComparableCriterion {
    pub criterion_code: String,
    pub title: String,
    /// `new`, `split` (a part of an old criterion), or null: the mapping does not name it.
    pub relation: Option<crate::scoring::mapping::Relation>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComparisonResponse {
    pub unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    #[schema(value_type = crate::validation::Year)]
    pub previous_year: i32,
    #[schema(value_type = crate::schema::Score)]
    pub index: Decimal,
    /// The previous year's index, or the predecessors' combined.
    #[schema(value_type = crate::schema::Score)]
    pub previous_index: Decimal,
    pub against: Against,
    /// How the predecessors' scores were combined (null against the previous year).
    pub basis: Option<BasisParam>,
    /// The criteria compared (parents as subtotals): through the mapping between the two
    /// frameworks when one is recorded (`PUT /frameworks/{id}/mappings`), else by code.
    pub criteria: Vec<CriterionComparison>,
    /// The later year's criteria that cannot be compared (new, parts of a split, or left
    /// out of the mapping; against predecessors, of every predecessor's mapping); empty
    /// without a mapping.
    pub not_comparable: Vec<NotComparableCriterion>,
}

/// Compare a unit's scores per criterion between two years.
///
/// Each criterion's appraised score in `year` and in `previous_year` (default the year
/// before) and the change, with both indices (parents as subtotals). Where the later
/// framework records a mapping from the earlier one, criteria are matched through it (a
/// renumbered criterion with its old code, a merged one with its sources summed) and the
/// rest are listed in `not_comparable`; without one, criteria whose codes exist in both
/// years are compared. Same visibility as the unit's index.
///
/// `against=predecessors` compares a merged unit's first year (the year its merge took
/// effect) with the old units it came from, each in its last published year: per
/// criterion, `basis=weighted` takes their mean weighted by the weights given at the merge
/// (equal weights when none were given), `basis=best` the highest of them; the
/// predecessors' index is combined the same way. A predecessor scored on another
/// framework is matched through the mapping between the two when one is recorded (else by
/// code). 404 when no predecessor has a published result.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id"), ComparisonQuery),
    responses(
        (status = 200, description = "The comparison", body = ComparisonResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/units/{id}/comparison")]
pub async fn get_unit_comparison(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<ComparisonQuery>,
) -> ApiResult<HttpResponse> {
    let unit_id = id.into_inner();
    let year = query.year.get();
    let against = query.against.unwrap_or_default();
    let (now, previous_year, previous_index, basis, rows, apart) = match against {
        Against::PreviousYear => {
            let previous_year = query.previous_year.map_or(year - 1, Year::get);
            let (now, then, rows, apart) =
                results::compare_years(&reader, &principal, unit_id, year, previous_year)
                    .await?
                    .into_inner();
            (now, previous_year, then.index, None, rows, apart)
        }
        Against::Predecessors => {
            let basis = query.basis.unwrap_or_default();
            let (now, previous_index, previous_year, rows, apart) =
                results::compare_with_predecessors(
                    &reader,
                    &principal,
                    unit_id,
                    year,
                    match basis {
                        BasisParam::Weighted => results::Basis::Weighted,
                        BasisParam::Best => results::Basis::Best,
                    },
                )
                .await?
                .into_inner();
            (now, previous_year, previous_index, Some(basis), rows, apart)
        }
    };
    Ok(HttpResponse::Ok().json(ComparisonResponse {
        unit_id: now.unit_id,
        year: now.year,
        previous_year,
        index: now.index,
        previous_index,
        against,
        basis,
        criteria: rows
            .into_iter()
            .map(|c| CriterionComparison {
                change: c.now - c.then,
                criterion_code: c.code,
                title: c.title,
                max_then: c.max_then,
                max_now: c.max_now,
                score_then: c.then,
                score_now: c.now,
                previous_codes: c.previous_codes,
                relation: c.relation,
            })
            .collect(),
        not_comparable: apart
            .into_iter()
            .map(|n| NotComparableCriterion {
                criterion_code: n.code,
                title: n.title,
                relation: n.relation,
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The criterion's code in `year`'s framework.
    #[param(example = "1.1", max_length = 64)]
    pub criterion: String,
    /// The latest year.
    pub year: Year,
    /// How many years back, `year` included (1 to 20; default 5).
    #[param(minimum = 1, maximum = 20)]
    pub years: Option<u32>,
}

/// One year of a criterion's history.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HistoryPointResponse {
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    /// The criteria of that year's framework it was then (its code, or through the
    /// mappings: a renumbered criterion under its old code, a merged one's sources).
    pub codes: Vec<String>,
    /// How that year's criteria became the next year's, when a mapping says (null for
    /// the latest year, and without a mapping).
    pub relation: Option<crate::scoring::mapping::Relation>,
    #[schema(value_type = crate::schema::Score)]
    pub max: Decimal,
    /// The council's score (summed over `codes`).
    #[schema(value_type = crate::schema::Score)]
    pub score: Decimal,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CriterionHistoryResponse {
    pub unit_id: i64,
    pub criterion_code: String,
    /// Its title in the latest year.
    pub title: String,
    /// From the latest year back.
    pub items: Vec<HistoryPointResponse>,
    /// The earliest year followed when the year before it has nothing that compares (the
    /// criterion is new there, or a part of a split); null otherwise.
    #[schema(value_type = Option<crate::validation::Year>)]
    pub not_comparable_before: Option<i32>,
}

/// A unit's scores of one criterion over the years.
///
/// From `year` back over `years` years, the criterion followed through the mapping between
/// each two consecutive years' frameworks where one is recorded (`PUT
/// /frameworks/{id}/mappings`: a renumbered criterion under its old code, a merged one with
/// its sources summed), else by code. The history ends at the first year without a result
/// the caller may read, or where nothing compares (`not_comparable_before`). Same
/// visibility as the unit's index; 404 for a code not in `year`'s framework.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id"), HistoryQuery),
    responses(
        (status = 200, description = "The history", body = CriterionHistoryResponse),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/units/{id}/history")]
pub async fn get_criterion_history(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let unit_id = id.into_inner();
    let mut v = crate::error::Violations::new();
    let code = crate::validation::text(&mut v, "criterion", &query.criterion, 64, true);
    let years = query.years.unwrap_or(5);
    if !(1..=20).contains(&years) {
        v.add(
            "years",
            "out_of_range",
            crate::error::text!("must be between 1 and 20", "phải từ 1 đến 20"),
        );
    }
    v.into_result()?;
    let code = code.unwrap_or_default();
    let (title, points, cut) = results::criterion_history(
        &reader,
        &principal,
        unit_id,
        query.year.get(),
        &code,
        years as i32,
    )
    .await?
    .into_inner();
    Ok(HttpResponse::Ok().json(CriterionHistoryResponse {
        unit_id,
        criterion_code: code,
        title,
        items: points
            .into_iter()
            .map(|p| HistoryPointResponse {
                year: p.year,
                codes: p.codes,
                relation: p.relation,
                max: p.max,
                score: p.score,
            })
            .collect(),
        not_comparable_before: cut,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    pub year: Year,
    /// `xlsx` (default) or `csv`.
    pub format: Option<SheetFormat>,
}

/// A table as an XLSX or CSV download named `<file_stem>.<extension>`.
pub fn sheet_response(
    table: &sheets::Table,
    format: SheetFormat,
    file_stem: &str,
) -> ApiResult<HttpResponse> {
    let (content_type, extension, bytes) = match format {
        SheetFormat::Xlsx => (sheets::XLSX_CONTENT_TYPE, "xlsx", sheets::to_xlsx(table)),
        SheetFormat::Csv => (sheets::CSV_CONTENT_TYPE, "csv", sheets::to_csv(table)),
    };
    let bytes = bytes.map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            sheets::content_disposition(&format!("{file_stem}.{extension}")),
        ))
        .body(bytes))
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AppendixFormat {
    #[default]
    Xlsx,
    Csv,
    /// The printed appendix (Nghị định 30/2020 layout).
    Docx,
    /// The printed appendix as PDF (needs `PARINDEX_SOFFICE` on the server; 406 otherwise).
    Pdf,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppendixQuery {
    pub year: Year,
    /// `xlsx` (default), `csv`, `docx` or `pdf`.
    pub format: Option<AppendixFormat>,
    /// With `docx` or `pdf`: the number and symbol of the letter the appendix is attached
    /// to, e.g. `45/UBND-CCHC` (printed "Kèm theo Công văn số 45/UBND-CCHC …").
    #[param(max_length = 100)]
    pub letter_number: Option<String>,
    /// With `docx` or `pdf` and `letter_number`: the letter's date.
    pub letter_date: Option<chrono::NaiveDate>,
}

/// The unit's appendix of lost points as XLSX, CSV, DOCX or PDF.
///
/// The seed letter's "Phụ lục": one row per criterion that lost points (number,
/// criterion, maximum, self score, appraised score, points lost, the council's comment)
/// with a total row, and, when the unit has a remediation plan, each item's responsible
/// officers and actions with their deadlines. CSV is UTF-8 with a byte-order mark. DOCX is
/// the printed appendix (A4 landscape, Times New Roman, decimals with a comma), with
/// "Kèm theo Công văn số …" when `letter_number` is given; PDF is that DOCX printed by
/// LibreOffice (406 when the server has no `PARINDEX_SOFFICE`). Read the body as bytes.
/// Same visibility as the unit's index.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id"), AppendixQuery),
    responses(
        (status = 200, description = "The appendix", content(
            (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::schema::CsvFile = "text/csv"),
            (crate::schema::DocxFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (crate::schema::PdfFile = "application/pdf"),
        ), headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 406, response = crate::openapi::PdfUnavailable),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[get("/units/{id}/appendix")]
pub async fn export_unit_appendix(
    reader: web::Data<ResultsReader>,
    state: web::Data<crate::state::AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<AppendixQuery>,
) -> ApiResult<HttpResponse> {
    let mut v = crate::error::Violations::new();
    let letter = crate::validation::optional_text(
        &mut v,
        "letter_number",
        query.letter_number.as_deref(),
        100,
    );
    v.into_result()?;
    let x = results::unit_index(&reader, &principal, id.into_inner(), query.year.get())
        .await?
        .into_inner();
    let responsible = remediation::responsible_by_code(&reader.db, x.appraisal_id).await?;
    let agencies =
        crate::services::frameworks::appraising_agencies(&reader.db, &x.framework).await?;
    let sources =
        crate::services::indicators::sources_of(&reader.db, &x.framework, x.unit_id, false).await?;
    let table = reports::appendix_table(&x, &responsible, &agencies, &sources);
    let stem = format!("Phụ lục {} {}", x.unit_name, x.year);
    let format = match query.format.unwrap_or_default() {
        AppendixFormat::Xlsx => return sheet_response(&table, SheetFormat::Xlsx, &stem),
        AppendixFormat::Csv => return sheet_response(&table, SheetFormat::Csv, &stem),
        AppendixFormat::Docx => PaperFormat::Docx,
        AppendixFormat::Pdf => PaperFormat::Pdf,
    };
    let attached = letter.map(|n| {
        let date = query
            .letter_date
            .map(|d| format!(" ngày {}", d.format("%d/%m/%Y")))
            .unwrap_or_default();
        format!(
            "Công văn số {n}{date} của {}",
            crate::services::papers::committee_of(&x.unit_name)
        )
    });
    let docx =
        crate::documents::appendix(&table, attached.as_deref()).map_err(ApiError::internal)?;
    paper_response(&state.config, docx, format, &stem).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// The district (or any unit) whose units are ranked; omit (admins) for the whole country.
    pub parent_unit_id: Option<i64>,
    pub year: Year,
    pub depth: Option<DepthParam>,
    /// The kind group ranked: `agency` ranks the parent's agencies (sở, ban, ngành); any
    /// other kind, or none, ranks its communes, wards, towns and special zones together
    /// (agencies apart).
    pub kind: Option<crate::services::units::UnitKind>,
}

impl RankingQuery {
    /// The depth the services read: `kind=agency` is the parent's agencies.
    fn reach(&self) -> Depth {
        match self.kind {
            Some(crate::services::units::UnitKind::Agency) => Depth::Agencies,
            _ => self.depth.unwrap_or_default().into(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RankedUnit {
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_code: String,
    pub rank: u32,
    #[schema(value_type = crate::schema::Score)]
    pub index: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub self_total: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub appraised_total: Decimal,
    #[schema(value_type = crate::schema::Score)]
    pub bonus: Decimal,
    /// Penalty points (điểm trừ) subtracted after the bonus (0 when none).
    #[schema(value_type = crate::schema::Score)]
    pub penalty_total: Decimal,
    /// The index's components where the framework declares them (empty otherwise).
    pub components: Vec<ComponentResponse>,
    /// The label of the rating band (xếp loại) the index falls in, as the framework names
    /// it (e.g. "Tốt", "Khá"): bands are defined per framework, so this is free text. Null
    /// when no band covers the index or the figures are not visible.
    pub rating_band: Option<String>,
    pub previous_rank: Option<u32>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub previous_index: Option<Decimal>,
    /// previous_rank − rank.
    pub rank_change: Option<i64>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub index_change: Option<Decimal>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UnrankedUnit {
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_code: String,
    pub status: crate::services::results::Standing,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BandCount {
    pub label: String,
    pub count: usize,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RankingSummary {
    /// Ranked units.
    pub count: usize,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub mean: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub median: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub min: Option<Decimal>,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub max: Option<Decimal>,
    pub bands: Vec<BandCount>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::ranking_response))]
pub struct RankingResponse {
    pub parent_unit_id: Option<i64>,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    pub depth: DepthParam,
    /// Which units are ranked: `local` (communes, wards, towns, special zones; districts
    /// under a province before 2025) or `agency` (the parent's sở, ban, ngành).
    pub kind_group: KindGroup,
    /// Whether the year's results are published to the units.
    pub published: bool,
    pub ranked_units: usize,
    pub items: Vec<RankedUnit>,
    /// Units without a finalized appraisal, with where they stand.
    pub unranked: Vec<UnrankedUnit>,
    pub summary: RankingSummary,
}

/// A ranked unit's line, as rankings and publications show it.
pub fn ranked_unit(x: &results::Ranked) -> RankedUnit {
    RankedUnit {
        unit_id: x.row.unit_id,
        unit_name: x.row.unit_name.clone(),
        unit_code: x.row.unit_code.clone(),
        rank: x.rank,
        index: x.index(),
        self_total: crate::scoring::from_hundredths(x.row.self_total_x100.unwrap_or_default()),
        appraised_total: crate::scoring::from_hundredths(
            x.row.appraised_total_x100.unwrap_or_default(),
        ),
        bonus: crate::scoring::from_hundredths(x.row.bonus_x100.unwrap_or_default()),
        penalty_total: x.penalty_total(),
        components: components_response(x.row.components()),
        rating_band: x.row.rating_band.clone(),
        previous_rank: x.previous_rank,
        previous_index: x.previous_index(),
        rank_change: x.rank_change(),
        index_change: x.index_change(),
    }
}

/// An unranked unit's line.
pub fn unranked_unit(u: &results::ResultRow) -> UnrankedUnit {
    UnrankedUnit {
        unit_id: u.unit_id,
        unit_name: u.unit_name.clone(),
        unit_code: u.unit_code.clone(),
        status: u.standing(),
    }
}

fn ranking_response(r: &Ranking) -> RankingResponse {
    RankingResponse {
        parent_unit_id: r.parent.as_ref().map(|p| p.id),
        year: r.year,
        depth: match r.depth {
            Depth::Children | Depth::Agencies => DepthParam::Children,
            Depth::All => DepthParam::All,
        },
        kind_group: match r.depth {
            Depth::Agencies => KindGroup::Agency,
            Depth::Children | Depth::All => KindGroup::Local,
        },
        published: r.published,
        ranked_units: r.ranked.len(),
        items: r.ranked.iter().map(ranked_unit).collect(),
        unranked: r.unranked.iter().map(unranked_unit).collect(),
        summary: RankingSummary {
            count: r.ranked.len(),
            mean: r.summary.as_ref().map(|s| s.mean),
            median: r.summary.as_ref().map(|s| s.median),
            min: r.summary.as_ref().map(|s| s.min),
            max: r.summary.as_ref().map(|s| s.max),
            bands: r
                .bands
                .iter()
                .map(|(label, count)| BandCount {
                    label: label.clone(),
                    count: *count,
                })
                .collect(),
        },
    }
}

/// Rank the units under a parent by index for a year.
///
/// Ties share a rank (1, 2, 2, 4); units without a finalized appraisal are listed as
/// unranked with their status. Unit officers and viewers see it once published.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(RankingQuery),
    responses(
        (status = 200, description = "The ranking", body = RankingResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/rankings")]
pub async fn get_ranking(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    query: Query<RankingQuery>,
) -> ApiResult<HttpResponse> {
    let body = results::ranking_body(
        &reader,
        &principal,
        query.parent_unit_id,
        query.year.get(),
        query.reach(),
        |r| json_bytes(&ranking_response(r)),
    )
    .await?
    .into_inner();
    Ok(json_body(body))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CriteriaRankingQuery {
    pub parent_unit_id: i64,
    pub year: Year,
    pub depth: Option<DepthParam>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CriterionLossResponse {
    pub criterion_code: String,
    pub title: String,
    #[schema(value_type = Option<crate::schema::Score>)]
    pub max_score: Option<Decimal>,
    pub units_appraised: i64,
    /// Units that lost points on it.
    pub units_losing: i64,
    #[schema(value_type = crate::schema::Score)]
    pub total_deduction: Decimal,
    /// Total deduction / units appraised.
    #[schema(value_type = crate::schema::Score)]
    pub mean_deduction: Decimal,
    /// Units that lost points on it the year before too (through the mapping between
    /// their two years' frameworks where one is recorded, else by code).
    pub units_repeating: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CriteriaRankingResponse {
    pub parent_unit_id: i64,
    #[schema(value_type = crate::validation::Year)]
    pub year: i32,
    /// Criteria that lost points, most points lost first.
    pub items: Vec<CriterionLossResponse>,
}

/// Which criteria lose most points across the units under a parent.
///
/// Per criterion: how many points the units under the parent lost in total and on
/// average, and how many units lost any, most lost first — where a district's training
/// should go. `depth=all` counts every level below, not only the children. Same
/// visibility as the ranking.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(CriteriaRankingQuery),
    responses(
        (status = 200, description = "Criteria by points lost", body = CriteriaRankingResponse),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/rankings/criteria")]
pub async fn get_criteria_ranking(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    query: Query<CriteriaRankingQuery>,
) -> ApiResult<HttpResponse> {
    let year = query.year.get();
    let body = results::criteria_losses_body(
        &reader,
        &principal,
        query.parent_unit_id,
        year,
        query.depth.unwrap_or_default().into(),
        |parent, losses| {
            json_bytes(&CriteriaRankingResponse {
                parent_unit_id: parent.id,
                year,
                items: losses
                    .iter()
                    .map(|l| CriterionLossResponse {
                        criterion_code: l.code.clone(),
                        title: l.title.clone(),
                        max_score: l.max,
                        units_appraised: l.units_appraised,
                        units_losing: l.units_losing,
                        total_deduction: l.total_deduction,
                        mean_deduction: l.mean_deduction,
                        units_repeating: l.units_repeating,
                    })
                    .collect(),
            })
        },
    )
    .await?
    .into_inner();
    Ok(json_body(body))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingExportQuery {
    pub parent_unit_id: Option<i64>,
    pub year: Year,
    pub depth: Option<DepthParam>,
    /// `xlsx` (default) or `csv`.
    pub format: Option<SheetFormat>,
}

/// The ranking as an XLSX or CSV file.
///
/// The table `GET /rankings` returns, with Vietnamese column titles, as `format=xlsx` or
/// `format=csv`; cells that a spreadsheet would run as formulas are neutralised. CSV is
/// UTF-8 with a byte-order mark so that Excel shows Vietnamese correctly. Read the body
/// as bytes (binary). Same visibility as the ranking.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(RankingExportQuery),
    responses(
        (status = 200, description = "The ranking sheet", content(
            (crate::schema::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::schema::CsvFile = "text/csv"),
        ), headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/rankings/export")]
pub async fn export_ranking(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    query: Query<RankingExportQuery>,
) -> ApiResult<HttpResponse> {
    let r = results::ranking(
        &reader,
        &principal,
        query.parent_unit_id,
        query.year.get(),
        query.depth.unwrap_or_default().into(),
    )
    .await?
    .into_inner();
    let name = r
        .parent
        .as_ref()
        .map_or("Toàn quốc".to_string(), |p| p.name.clone());
    sheet_response(
        &reports::ranking_table(&r),
        query.format.unwrap_or_default(),
        &format!("Xếp hạng CCHC {name} {}", r.year),
    )
}

/// The ranking as an SVG bar chart.
///
/// Indices in rank order, last year's index marked, the rating bands shaded; an
/// `image/svg+xml` document to show as an image (it holds no script). Same parameters and
/// visibility as `GET /rankings`.
#[utoipa::path(
    tag = "results",
    security(("bearer_auth" = [])),
    params(RankingQuery),
    responses(
        (status = 200, description = "An SVG image (sent as an attachment named after the ranking)", content_type = "image/svg+xml", body = crate::schema::SvgImage, headers(("Content-Disposition" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/rankings/chart")]
pub async fn get_ranking_chart(
    reader: web::Data<ResultsReader>,
    principal: Principal,
    query: Query<RankingQuery>,
) -> ApiResult<HttpResponse> {
    let r = results::ranking(
        &reader,
        &principal,
        query.parent_unit_id,
        query.year.get(),
        query.depth.unwrap_or_default().into(),
    )
    .await?
    .into_inner();
    let (bands, bonus_max) = results::bands_of_year(&reader.db, &r).await?;
    let bars: Vec<crate::chart::Bar> = r
        .ranked
        .iter()
        .map(|x| crate::chart::Bar {
            rank: x.rank,
            name: x.row.unit_name.clone(),
            index: x.index(),
            previous_index: x.previous_index(),
        })
        .collect();
    let name = r
        .parent
        .as_ref()
        .map_or("Toàn quốc".to_string(), |p| p.name.clone());
    let svg = crate::chart::ranking_svg(
        &format!("Chỉ số cải cách hành chính năm {}", r.year),
        &format!("{name} — {} đơn vị được xếp hạng", r.ranked.len()),
        &bars,
        &bands,
        Decimal::from(100) + bonus_max,
    );
    // An attachment: Swagger UI shows any `+xml` body as text, but offers an attachment as
    // a file to save (an `<img src>` shows it either way).
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            sheets::content_disposition(&format!("Biểu đồ xếp hạng {name} {}.svg", r.year)),
        ))
        .body(svg))
}
