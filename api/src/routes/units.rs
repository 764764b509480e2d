//! The unit tree and the officers of each unit.

use super::Page;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::etag::Precondition;
use crate::http::{Json, Query};
use crate::services::units::{
    self, NewStaff, NewUnit, StaffPatch, UnitFilter, UnitKind, UnitPatch,
};
use crate::services::versioned::etag_of;
use crate::state::AppState;
use crate::validation::PageParams;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::{staff, unit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_unit)
        .service(list_units)
        .service(get_unit)
        .service(update_unit)
        .service(delete_unit)
        .service(create_staff)
        .service(list_staff)
        .service(get_staff)
        .service(update_staff);
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::unit_response))]
pub struct UnitResponse {
    pub id: i64,
    /// The official unit code, unique.
    #[schema(example = "19744")]
    pub code: String,
    /// The name exactly as given (NFC-normalised), e.g. "Xã Vĩnh Long".
    #[schema(example = "Xã Vĩnh Long")]
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    /// 0 for a root unit.
    pub depth: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&unit::Model> for UnitResponse {
    fn from(u: &unit::Model) -> Self {
        UnitResponse {
            id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
            kind: UnitKind::parse(&u.kind).unwrap_or(UnitKind::Commune),
            parent_id: u.parent_id,
            depth: u.depth,
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

fn unit_response(status: actix_web::http::StatusCode, u: &unit::Model) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, etag_of::<entity::unit::Entity>(u)));
    if status == actix_web::http::StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("/api/v1/units/{}", u.id)));
    }
    response.json(UnitResponse::from(u))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::create_unit_request))]
pub struct CreateUnitRequest {
    #[schema(example = "19744", min_length = 1, max_length = 32)]
    pub code: String,
    #[schema(example = "Xã Vĩnh Long", min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: UnitKind,
    /// The parent unit; omit for a root (a province), which only an admin may create.
    pub parent_id: Option<i64>,
}

/// Create a unit.
///
/// A unit's kind must be below its parent's (province → district → commune/town/ward);
/// codes are unique (409).
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    request_body = CreateUnitRequest,
    responses(
        (status = 201, description = "Created", body = UnitResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateUnitRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let created = units::create_unit(
        &state.db,
        &principal,
        NewUnit {
            code: body.code,
            name: body.name,
            kind: body.kind,
            parent_id: body.parent_id,
        },
    )
    .await?;
    Ok(unit_response(
        actix_web::http::StatusCode::CREATED,
        &created,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Only the children of this unit.
    pub parent_id: Option<i64>,
    pub kind: Option<UnitKind>,
    /// Part of the name (case and accents ignored: "vinh long" finds "Vĩnh Long") or code.
    pub q: Option<String>,
    pub active: Option<bool>,
}

/// List the units the caller may see (its subtree), in tree order.
///
/// Admins see every unit; district appraisers and viewers their unit and everything below
/// it; unit officers their own unit only. Filter by `parent_id` to walk the tree one
/// level at a time, or search with `q` (accents and case ignored). Paginated: `total`
/// counts every match.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(UnitListQuery),
    responses((status = 200, description = "One page of units", body = Page<UnitResponse>))
)]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<UnitListQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found = units::list_units(
        &state.db,
        &principal,
        UnitFilter {
            parent_id: query.parent_id,
            kind: query.kind,
            q: query.q,
            active: query.active,
        },
        page,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |r| UnitResponse::from(r))))
}

/// Read a unit.
///
/// Any unit the caller may read: its own, those above it (so a commune sees its district
/// and province) and those below it. Keep the `ETag` to change the unit with `If-Match`.
/// 404 for a unit outside the caller's reach.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id")),
    responses(
        (status = 200, description = "The unit", body = UnitResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/units/{id}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let u = units::get_unit(&state.db, &principal, id.into_inner()).await?;
    Ok(unit_response(actix_web::http::StatusCode::OK, &u))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::update_unit_request))]
pub struct UpdateUnitRequest {
    #[schema(min_length = 1, max_length = 32)]
    pub code: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    /// Move the unit (and its subtree) under another parent.
    pub parent_id: Option<i64>,
    /// `false` deactivates the unit; its history is kept.
    pub active: Option<bool>,
}

/// Change or move a unit.
///
/// Moving a unit under itself or a descendant, or placing a kind above a lower one, is
/// refused (422).
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Unit id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateUnitRequest,
    responses(
        (status = 200, description = "Changed", body = UnitResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[patch("/units/{id}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    if_match: Precondition,
    body: Json<UpdateUnitRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let updated = units::update_unit(
        &state.db,
        &principal,
        id.into_inner(),
        UnitPatch {
            code: body.code,
            name: body.name,
            kind: body.kind,
            parent_id: body.parent_id,
            active: body.active,
        },
        &if_match,
    )
    .await?;
    Ok(unit_response(actix_web::http::StatusCode::OK, &updated))
}

/// Delete a unit that nothing refers to.
///
/// A unit with children, accounts, officers, frameworks, assessments or plans is refused
/// with 409: deactivate it instead, so its history stays.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[delete("/units/{id}")]
pub async fn delete_unit(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    units::delete_unit(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------
// Officers

#[derive(Serialize, Deserialize, ToSchema)]
pub struct StaffResponse {
    pub id: i64,
    pub unit_id: i64,
    #[schema(example = "Nguyễn Thị Liên")]
    pub full_name: String,
    #[schema(example = "Công chức Văn phòng - Thống kê")]
    pub title: String,
    /// The officer's account, if any.
    pub user_id: Option<i64>,
    pub active: bool,
    #[schema(example = "lien.nt@vinhlong.gov.vn")]
    pub email: Option<String>,
    #[schema(example = "0270 3822 123")]
    pub phone: Option<String>,
}

impl From<&staff::Model> for StaffResponse {
    fn from(s: &staff::Model) -> Self {
        StaffResponse {
            id: s.id,
            unit_id: s.unit_id,
            full_name: s.full_name.clone(),
            title: s.title.clone(),
            user_id: s.user_id,
            active: s.active,
            email: s.email.clone(),
            phone: s.phone.clone(),
        }
    }
}

fn staff_response(status: actix_web::http::StatusCode, s: &staff::Model) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, etag_of::<entity::staff::Entity>(s)));
    if status == actix_web::http::StatusCode::CREATED {
        response.insert_header((
            header::LOCATION,
            format!("/api/v1/units/{}/staff/{}", s.unit_id, s.id),
        ));
    }
    response.json(StaffResponse::from(s))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::create_staff_request))]
pub struct CreateStaffRequest {
    #[schema(example = "Nguyễn Thị Liên", min_length = 1, max_length = 200)]
    pub full_name: String,
    #[schema(
        example = "Công chức Tư pháp – Hộ tịch",
        min_length = 1,
        max_length = 200
    )]
    pub title: String,
    /// Link to the officer's account (which must belong to this unit).
    pub user_id: Option<i64>,
    #[schema(example = "lien.nt@vinhlong.gov.vn", max_length = 254)]
    pub email: Option<String>,
    /// Digits, spaces and `+ - . ( )`, 6 to 15 digits.
    #[schema(example = "0270 3822 123", max_length = 30)]
    pub phone: Option<String>,
}

/// Add an officer to a unit.
///
/// District appraisers add officers to the units of their district; a unit officer to its
/// own unit. `user_id` links the officer to an account of the same unit (422 otherwise).
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id")),
    request_body = CreateStaffRequest,
    responses(
        (status = 201, description = "Created", body = StaffResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[post("/units/{id}/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    body: Json<CreateStaffRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let created = units::create_staff(
        &state.db,
        &principal,
        id.into_inner(),
        NewStaff {
            full_name: body.full_name,
            title: body.title,
            user_id: body.user_id,
            email: body.email,
            phone: body.phone,
        },
    )
    .await?;
    Ok(staff_response(
        actix_web::http::StatusCode::CREATED,
        &created,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffListQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    pub active: Option<bool>,
}

/// List a unit's officers.
///
/// The officers (cán bộ, công chức) of one unit, in the order they were added, to pick a
/// responsible officer for a remediation item. `active=false` lists those who left.
/// Readable by whoever may read the unit.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(("id" = i64, Path, description = "Unit id"), StaffListQuery),
    responses(
        (status = 200, description = "One page of the officers", body = Page<StaffResponse>),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/units/{id}/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<i64>,
    query: Query<StaffListQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .resolve()?;
    let found =
        units::list_staff(&state.db, &principal, id.into_inner(), query.active, page).await?;
    Ok(HttpResponse::Ok().json(Page::of(&found, |s| StaffResponse::from(s))))
}

/// Read one officer.
///
/// One officer of the unit in the path (404 if the officer belongs to another unit). Keep
/// the `ETag` for a change with `If-Match`.
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Unit id"),
        ("staff_id" = i64, Path, description = "Officer id"),
    ),
    responses(
        (status = 200, description = "The officer", body = StaffResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/units/{id}/staff/{staff_id}")]
pub async fn get_staff(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (unit_id, staff_id) = path.into_inner();
    let s = units::get_staff(&state.db, &principal, unit_id, staff_id).await?;
    Ok(staff_response(actix_web::http::StatusCode::OK, &s))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(crate::examples::update_staff_request))]
pub struct UpdateStaffRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// An account id, or `null` to unlink.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<i64>)]
    pub user_id: Option<Option<i64>>,
    /// `false` when the officer leaves; assignments keep naming them.
    pub active: Option<bool>,
    /// An address, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
    /// A number, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::http::json::explicit_null")]
    #[schema(value_type = Option<String>, max_length = 30)]
    pub phone: Option<Option<String>>,
}

/// Change an officer.
///
/// Rename, retitle, link or unlink (`user_id: null`) an account, or mark the officer as
/// having left (`active: false`); remediation items keep naming them. Who may: as for
/// adding an officer. Send `If-Match` with the `ETag` read (412 when it changed since).
#[utoipa::path(
    tag = "units",
    security(("bearer_auth" = [])),
    params(
        ("id" = i64, Path, description = "Unit id"),
        ("staff_id" = i64, Path, description = "Officer id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed"),
    ),
    request_body = UpdateStaffRequest,
    responses(
        (status = 200, description = "Changed", body = StaffResponse, headers(("ETag" = String))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
#[patch("/units/{id}/staff/{staff_id}")]
pub async fn update_staff(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(i64, i64)>,
    if_match: Precondition,
    body: Json<UpdateStaffRequest>,
) -> ApiResult<HttpResponse> {
    let (unit_id, staff_id) = path.into_inner();
    let body = body.into_inner();
    let updated = units::update_staff(
        &state.db,
        &principal,
        unit_id,
        staff_id,
        StaffPatch {
            full_name: body.full_name,
            title: body.title,
            user_id: body.user_id,
            active: body.active,
            email: body.email,
            phone: body.phone,
        },
        &if_match,
    )
    .await?;
    Ok(staff_response(actix_web::http::StatusCode::OK, &updated))
}
