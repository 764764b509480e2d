//! The unit tree (province → district → commune/town/ward/special zone, any depth; since
//! 2025 communes sit directly under their province) and unit officers.
//!
//! Each unit stores its materialised path of ids (`/1/5/23/`), so "is X within Y's
//! subtree" is a prefix test, in Rust (the policy) and in SQL (`path LIKE '/1/5/%'`).

use super::audit::{self, Change};
use super::scope::{Page, PageRequest, Reach, scoped};
use super::versioned::{Precondition, Write, record_created};
use super::{now, sql};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, ApiResult, Lang, Text, Violations, text};
use crate::validation::{fold_for_search, text};
use entity::{staff, unit, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Province,
    District,
    Commune,
    Town,
    Ward,
    /// Đặc khu: an island special zone, at commune level since 2025.
    SpecialZone,
    /// A provincial agency (sở, ban, ngành, e.g. "Sở Tư pháp"): directly under its province,
    /// with no units under it. Its appraisers appraise the criteria of its field; it is
    /// assessed itself when a framework's kinds include it, and ranked apart from the
    /// communes, wards and special zones.
    Agency,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        UnitKind::Province,
        UnitKind::District,
        UnitKind::Commune,
        UnitKind::Town,
        UnitKind::Ward,
        UnitKind::SpecialZone,
        UnitKind::Agency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::District => "district",
            UnitKind::Commune => "commune",
            UnitKind::Town => "town",
            UnitKind::Ward => "ward",
            UnitKind::SpecialZone => "special_zone",
            UnitKind::Agency => "agency",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind in a Vietnamese sentence.
    pub fn words_vi(self) -> &'static str {
        match self {
            UnitKind::Province => "tỉnh",
            UnitKind::District => "huyện",
            UnitKind::Commune => "xã",
            UnitKind::Town => "thị trấn",
            UnitKind::Ward => "phường",
            UnitKind::SpecialZone => "đặc khu",
            UnitKind::Agency => "sở, ban, ngành",
        }
    }

    /// Administrative level: a unit's children must be of a strictly lower level.
    pub fn level(self) -> u8 {
        match self {
            UnitKind::Province => 0,
            UnitKind::District | UnitKind::Agency => 1,
            UnitKind::Commune | UnitKind::Town | UnitKind::Ward | UnitKind::SpecialZone => 2,
        }
    }
}

/// The level of communes, wards, towns and special zones: the units assessed.
pub const BASE_KIND_LEVEL: u8 = 2;

pub use crate::auth::unit_ref;

pub(crate) fn kind_of(u: &unit::Model) -> UnitKind {
    UnitKind::parse(&u.kind).unwrap_or(UnitKind::Commune)
}

fn unit_json(u: &unit::Model) -> serde_json::Value {
    json!({"code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id, "active": u.active})
}

crate::versioned!(
    unit,
    kind = "unit",
    audit = "unit",
    unit_id = |m| Some(m.id),
    describe = |_conn, m| Ok(unit_json(m)),
);

pub async fn find_unit<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<unit::Model> {
    unit::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!("unit {id} does not exist", "không có đơn vị {id}"))
        })
}

/// The names of units `ids` (those that exist), by id.
pub async fn names_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> ApiResult<std::collections::HashMap<i64, String>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids.to_vec()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// Reads a unit the caller may see.
pub async fn get_unit(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<unit::Model> {
    let u = find_unit(db, id).await?;
    authorize(actor, Action::ReadUnit, &unit_ref(&u))?;
    Ok(u)
}

fn check_code(v: &mut Violations, code: &str) -> String {
    let code = code.trim().to_string();
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok {
        v.add(
            "code",
            "invalid_format",
            text!(
                "1 to 32 characters: letters, digits, '.', '_', '-' (the official unit code)",
                "từ 1 đến 32 ký tự: chữ, chữ số, '.', '_', '-' (mã đơn vị chính thức)"
            ),
        );
    }
    code
}

fn duplicate_code(code: &str) -> ApiError {
    ApiError::conflict(
        "duplicate_code",
        text!(
            "another unit already has the code {code:?}",
            "đã có đơn vị khác mang mã {code:?}"
        ),
    )
}

fn map_unique(code: &str) -> impl FnOnce(sea_orm::DbErr) -> ApiError + '_ {
    move |e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => duplicate_code(code),
        _ => e.into(),
    }
}

/// A child of `parent` may be of kind `kind` only below the parent's level; an agency
/// only directly under a province, and nothing under an agency.
fn check_kind_under(v: &mut Violations, kind: UnitKind, parent: Option<&unit::Model>) {
    let parent_kind = parent.map(kind_of);
    if kind == UnitKind::Agency && parent_kind != Some(UnitKind::Province) {
        v.add(
            "kind",
            "invalid_hierarchy",
            text!(
                "an agency sits directly under a province",
                "sở, ban, ngành phải trực thuộc tỉnh"
            ),
        );
        return;
    }
    if let Some(parent) = parent {
        let pk = kind_of(parent);
        if pk == UnitKind::Agency {
            let name = &parent.name;
            v.add(
                "parent_id",
                "invalid_hierarchy",
                text!(
                    "an agency ({name}) has no units under it",
                    "không đặt đơn vị nào dưới sở, ban, ngành ({name})"
                ),
            );
        } else if kind.level() <= pk.level() {
            v.add("kind", "invalid_hierarchy", {
                let (child, above, name) = (kind.as_str(), pk.as_str(), &parent.name);
                let (child_vi, above_vi) = (kind.words_vi(), pk.words_vi());
                text!(
                    "a {child} cannot be placed under a {above} ({name})",
                    "không thể đặt đơn vị cấp {child_vi} dưới đơn vị cấp {above_vi} ({name})"
                )
            });
        }
    }
}

pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
}

pub async fn create_unit(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewUnit,
) -> ApiResult<unit::Model> {
    let mut v = Violations::new();
    let code = check_code(&mut v, &input.code);
    let name = text(&mut v, "name", &input.name, 200, true).unwrap_or_default();
    let txn = crate::db::begin_write(db).await?;
    let parent = match input.parent_id {
        Some(pid) => match unit::Entity::find_by_id(pid).one(&txn).await? {
            Some(p) => Some(p),
            None => {
                v.add(
                    "parent_id",
                    "not_found",
                    text!("unit {pid} does not exist", "không có đơn vị {pid}"),
                );
                None
            }
        },
        None => None,
    };
    match &parent {
        Some(p) => authorize(actor, Action::ManageUnits, &unit_ref(p))?,
        None if input.parent_id.is_none() => {
            crate::auth::policy::require_admin(actor)?;
        }
        None => {}
    }
    check_kind_under(&mut v, input.kind, parent.as_ref());
    v.into_result()?;

    let t = now();
    let created = unit::ActiveModel {
        code: Set(code.clone()),
        name: Set(name.clone()),
        name_search: Set(fold_for_search(&name)),
        kind: Set(input.kind.as_str().to_string()),
        parent_id: Set(parent.as_ref().map(|p| p.id)),
        // The path needs the id: written just below, in the same transaction.
        path: Set(String::new()),
        depth: Set(parent.as_ref().map_or(0, |p| p.depth + 1)),
        active: Set(true),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(map_unique(&code))?;
    let path = format!(
        "{}{}/",
        parent.as_ref().map_or("/", |p| p.path.as_str()),
        created.id
    );
    let mut am: unit::ActiveModel = created.into();
    am.path = Set(path);
    let created = am.update(&txn).await?;
    record_created::<unit::Entity, _>(&txn, actor, &created, "create").await?;
    txn.commit().await?;
    Ok(created)
}

pub struct UnitFilter {
    pub parent_id: Option<i64>,
    pub kind: Option<UnitKind>,
    pub q: Option<String>,
    pub active: Option<bool>,
}

/// Units the caller may see (its subtree; everything for an admin), filtered.
pub async fn list_units(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: UnitFilter,
    page: PageRequest,
) -> ApiResult<Page<unit::Model>> {
    let mut query = scoped(unit::Entity::find(), actor, unit::Column::Id, Reach::Units)
        .order_by_asc(unit::Column::Path);
    if let Some(parent_id) = filter.parent_id {
        query = query.filter(unit::Column::ParentId.eq(parent_id));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(unit::Column::Kind.eq(kind.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(unit::Column::Active.eq(active));
    }
    if let Some(raw) = filter
        .q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty())
    {
        query = query.filter(
            sea_orm::Condition::any()
                .add(super::contains_literally(
                    unit::Column::NameSearch,
                    &fold_for_search(&raw),
                ))
                .add(super::contains_literally(unit::Column::Code, &raw)),
        );
    }
    query.page(db, page).await
}

#[derive(Default)]
pub struct UnitPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    pub parent_id: Option<i64>,
    pub active: Option<bool>,
}

/// The parent a patched unit will have (its current one unless moved), checked: it
/// exists, the caller manages it, and it is not the unit itself or below it.
async fn patched_parent<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    current: &unit::Model,
    patch: &UnitPatch,
    v: &mut Violations,
) -> ApiResult<(bool, Option<unit::Model>)> {
    let moving = patch
        .parent_id
        .is_some_and(|p| Some(p) != current.parent_id);
    let Some(pid) = (if moving {
        patch.parent_id
    } else {
        current.parent_id
    }) else {
        return Ok((moving, None));
    };
    let Some(parent) = unit::Entity::find_by_id(pid).one(conn).await? else {
        v.add(
            "parent_id",
            "not_found",
            text!("unit {pid} does not exist", "không có đơn vị {pid}"),
        );
        return Ok((moving, None));
    };
    if moving {
        authorize(actor, Action::ManageUnits, &unit_ref(&parent))?;
        if unit_ref(&parent).is_within(&unit_ref(current)) {
            v.add(
                "parent_id",
                "cycle",
                text!(
                    "a unit cannot be moved under itself or one of its descendants",
                    "không thể chuyển đơn vị vào dưới chính nó hoặc đơn vị cấp dưới của nó"
                ),
            );
        }
    }
    Ok((moving, Some(parent)))
}

/// A new kind must stay above the unit's children.
async fn check_kind_over_children<C: ConnectionTrait>(
    conn: &C,
    current: &unit::Model,
    kind: UnitKind,
    v: &mut Violations,
) -> ApiResult<()> {
    // Old units merged into this one stay below it, inactive: they do not bind its kind.
    let children = unit::Entity::find()
        .filter(unit::Column::ParentId.eq(current.id))
        .filter(unit::Column::Active.eq(true))
        .all(conn)
        .await?;
    if let Some(child) = children
        .iter()
        .find(|c| kind == UnitKind::Agency || kind_of(c).level() <= kind.level())
    {
        v.add("kind", "invalid_hierarchy", {
            let (above, name, below) = (kind.as_str(), &child.name, &child.kind);
            let (above_vi, below_vi) = (kind.words_vi(), kind_of(child).words_vi());
            text!(
                "a {above} cannot be above its child {name} ({below})",
                "đơn vị cấp {above_vi} không thể đứng trên đơn vị con {name} ({below_vi})"
            )
        });
    }
    Ok(())
}

/// Moves `current`'s descendants under its new path (they keep their suffix), and sets
/// the unit's own path, depth and parent in `am`.
pub(crate) async fn move_subtree<C: ConnectionTrait>(
    conn: &C,
    current: &unit::Model,
    parent: &unit::Model,
    am: &mut unit::ActiveModel,
) -> ApiResult<()> {
    let new_path = format!("{}{}/", parent.path, current.id);
    let depth_delta = parent.depth + 1 - current.depth;
    conn.execute_raw(sql(
        conn,
        &format!(
            "UPDATE units SET path = $1 || substr(path, CAST($2 AS INTEGER)), depth = depth + $3 \
             WHERE {} AND id <> $5",
            super::scope::path_within_sql("path", "$4")
        ),
        vec![
            new_path.clone().into(),
            (current.path.chars().count() as i64 + 1).into(),
            depth_delta.into(),
            current.path.clone().into(),
            current.id.into(),
        ],
    ))
    .await?;
    am.parent_id = Set(Some(parent.id));
    am.path = Set(new_path);
    am.depth = Set(parent.depth + 1);
    Ok(())
}

/// Changes a unit; moving it (a new `parent_id`) moves its whole subtree. Cycles and
/// kinds out of order (a commune above a district) are refused.
pub async fn update_unit(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    patch: UnitPatch,
    precondition: &Precondition,
) -> ApiResult<unit::Model> {
    let mut v = Violations::new();
    let code = patch.code.as_deref().map(|c| check_code(&mut v, c));
    let name = patch
        .name
        .as_deref()
        .and_then(|n| text(&mut v, "name", n, 200, true));
    let txn = crate::db::begin_write(db).await?;
    let current = find_unit(&txn, id).await?;
    authorize(actor, Action::ManageUnits, &unit_ref(&current))?;
    let write = Write::<unit::Entity>::begin(&txn, actor, &current, precondition).await?;
    let kind = patch.kind.unwrap_or_else(|| kind_of(&current));
    let (moving, parent) = patched_parent(&txn, actor, &current, &patch, &mut v).await?;
    check_kind_under(&mut v, kind, parent.as_ref());
    if patch.kind.is_some() {
        check_kind_over_children(&txn, &current, kind, &mut v).await?;
    }
    v.into_result()?;

    let mut am = unit::ActiveModel {
        ..Default::default()
    };
    if let Some(code) = &code {
        am.code = Set(code.clone());
    }
    if let Some(name) = &name {
        am.name = Set(name.clone());
        am.name_search = Set(fold_for_search(name));
    }
    am.kind = Set(kind.as_str().to_string());
    if let Some(active) = patch.active {
        am.active = Set(active);
    }
    if moving && let Some(parent) = &parent {
        move_subtree(&txn, &current, parent, &mut am).await?;
    }
    let write = match &code {
        Some(code) => write.on_unique_violation(duplicate_code(code)),
        None => write,
    };
    let updated = write.finish(&txn, am, "update", None).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a unit nothing refers to; otherwise 409 saying what is still there (deactivate
/// it instead to keep its history).
// Long by nature: each kind of record that keeps a unit in use is looked for in turn.
pub async fn delete_unit(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let current = find_unit(&txn, id).await?;
    authorize(actor, Action::ManageUnits, &unit_ref(&current))?;
    let children = unit::Entity::find()
        .filter(unit::Column::ParentId.eq(id))
        .count(&txn)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::UnitId.eq(id))
        .count(&txn)
        .await?;
    let officers = staff::Entity::find()
        .filter(staff::Column::UnitId.eq(id))
        .count(&txn)
        .await?;
    let mut in_use = Vec::new();
    if children > 0 {
        in_use.push(text!("{children} child unit(s)", "{children} đơn vị con"));
    }
    if users > 0 {
        in_use.push(text!("{users} account(s)", "{users} tài khoản"));
    }
    if officers > 0 {
        in_use.push(text!("{officers} officer(s)", "{officers} công chức"));
    }
    // Records whose history must stay: assessments, frameworks it owns, publications.
    #[derive(FromQueryResult)]
    struct Uses {
        assessments: i64,
        frameworks: i64,
        publications: i64,
    }
    let uses = Uses::find_by_statement(sql(
        &txn,
        "SELECT (SELECT COUNT(*) FROM self_assessments WHERE unit_id = $1) AS assessments, \
                (SELECT COUNT(*) FROM frameworks WHERE owner_unit_id = $1) AS frameworks, \
                (SELECT COUNT(*) FROM publications WHERE parent_unit_id = $1) AS publications",
        vec![id.into()],
    ))
    .one(&txn)
    .await?;
    if let Some(u) = uses {
        if u.assessments > 0 {
            in_use.push(text!(
                "{} self-assessment(s)",
                "{} hồ sơ tự đánh giá",
                u.assessments
            ));
        }
        if u.frameworks > 0 {
            in_use.push(text!("{} framework(s)", "{} bộ tiêu chí", u.frameworks));
        }
        if u.publications > 0 {
            in_use.push(text!(
                "{} publication(s)",
                "{} lần công bố kết quả",
                u.publications
            ));
        }
    }
    if !in_use.is_empty() {
        return Err(ApiError::conflict(
            "unit_in_use",
            Text::join(in_use, ", ").map(|uses, lang| match lang {
                Lang::En => format!("unit {id} still has {uses}; deactivate it instead"),
                Lang::Vi => {
                    format!("đơn vị {id} vẫn còn {uses}; hãy ngừng hoạt động đơn vị thay vì xóa")
                }
            }),
        ));
    }
    unit::Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            // Anything else still refers to it: its history must stay.
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::conflict(
                "unit_in_use",
                text!(
                    "unit {id} has frameworks, assessments or plans; deactivate it instead",
                    "đơn vị {id} có bộ tiêu chí, hồ sơ đánh giá hoặc kế hoạch; hãy ngừng hoạt động đơn vị thay vì xóa"
                ),
            ),
            _ => e.into(),
        })?;
    audit::record(
        &txn,
        actor,
        Change {
            entity: "unit",
            entity_id: current.id,
            action: "delete",
            unit_id: Some(current.id),
            results_year: None,
            old: Some(unit_json(&current)),
            new: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Officers

fn staff_json(s: &staff::Model) -> serde_json::Value {
    json!({"full_name": s.full_name, "title": s.title, "user_id": s.user_id, "active": s.active})
}

crate::versioned!(
    staff,
    kind = "staff",
    audit = "staff",
    unit_id = |m| Some(m.unit_id),
    describe = |_conn, m| Ok(staff_json(m)),
);

/// A linked account must exist and belong to the officer's unit.
async fn check_linked_user<C: ConnectionTrait>(
    conn: &C,
    v: &mut Violations,
    unit_id: i64,
    user_id: Option<i64>,
) -> ApiResult<()> {
    if let Some(uid) = user_id {
        // Another unit's account reads like a missing one: an error must not tell what
        // exists elsewhere.
        match user::Entity::find_by_id(uid).one(conn).await? {
            Some(u) if u.unit_id == Some(unit_id) => {}
            _ => v.add(
                "user_id",
                "not_found",
                text!(
                    "this unit has no account {uid}",
                    "đơn vị này không có tài khoản {uid}"
                ),
            ),
        }
    }
    Ok(())
}

pub struct NewStaff {
    pub full_name: String,
    pub title: String,
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub async fn create_staff(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: i64,
    input: NewStaff,
) -> ApiResult<staff::Model> {
    let txn = crate::db::begin_write(db).await?;
    let u = find_unit(&txn, unit_id).await?;
    authorize(actor, Action::ManageStaff, &unit_ref(&u))?;
    let mut v = Violations::new();
    let full_name = text(&mut v, "full_name", &input.full_name, 200, true).unwrap_or_default();
    let title = text(&mut v, "title", &input.title, 200, true).unwrap_or_default();
    let email = crate::validation::email(&mut v, "email", input.email.as_deref());
    let phone = crate::validation::phone(&mut v, "phone", input.phone.as_deref());
    check_linked_user(&txn, &mut v, unit_id, input.user_id).await?;
    v.into_result()?;
    let t = now();
    let created = staff::ActiveModel {
        unit_id: Set(unit_id),
        full_name: Set(full_name),
        title: Set(title),
        user_id: Set(input.user_id),
        email: Set(email),
        phone: Set(phone),
        active: Set(true),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_created::<staff::Entity, _>(&txn, actor, &created, "create").await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn list_staff(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: i64,
    active: Option<bool>,
    page: PageRequest,
) -> ApiResult<Page<staff::Model>> {
    let unit = find_unit(db, unit_id).await?;
    let reader = super::scope::found(actor, Action::ReadUnit, Some(&unit_ref(&unit)), unit)?;
    let mut query = super::scope::rows_of(
        staff::Entity::find().filter(staff::Column::UnitId.eq(unit_id)),
        &reader,
    )
    .order_by_asc(staff::Column::Id);
    if let Some(active) = active {
        query = query.filter(staff::Column::Active.eq(active));
    }
    query.page(db, page).await
}

pub async fn find_staff<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
    staff_id: i64,
) -> ApiResult<staff::Model> {
    staff::Entity::find_by_id(staff_id)
        .filter(staff::Column::UnitId.eq(unit_id))
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "unit {unit_id} has no officer {staff_id}",
                "đơn vị {unit_id} không có công chức {staff_id}"
            ))
        })
}

pub async fn get_staff(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: i64,
    staff_id: i64,
) -> ApiResult<staff::Model> {
    get_unit(db, actor, unit_id).await?;
    find_staff(db, unit_id, staff_id).await
}

#[derive(Default)]
pub struct StaffPatch {
    pub full_name: Option<String>,
    pub title: Option<String>,
    pub user_id: Option<Option<i64>>,
    pub active: Option<bool>,
    /// `Some(None)` removes it.
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

pub async fn update_staff(
    db: &DatabaseConnection,
    actor: &Principal,
    unit_id: i64,
    staff_id: i64,
    patch: StaffPatch,
    if_match: &Precondition,
) -> ApiResult<staff::Model> {
    let txn = crate::db::begin_write(db).await?;
    let u = find_unit(&txn, unit_id).await?;
    authorize(actor, Action::ManageStaff, &unit_ref(&u))?;
    let current = find_staff(&txn, unit_id, staff_id).await?;
    let write = Write::<staff::Entity>::begin(&txn, actor, &current, if_match).await?;
    let mut v = Violations::new();
    let full_name = patch
        .full_name
        .as_deref()
        .and_then(|n| text(&mut v, "full_name", n, 200, true));
    let title = patch
        .title
        .as_deref()
        .and_then(|n| text(&mut v, "title", n, 200, true));
    if let Some(user_id) = patch.user_id {
        check_linked_user(&txn, &mut v, unit_id, user_id).await?;
    }
    let email = patch
        .email
        .as_ref()
        .map(|e| crate::validation::email(&mut v, "email", e.as_deref()));
    let phone = patch
        .phone
        .as_ref()
        .map(|p| crate::validation::phone(&mut v, "phone", p.as_deref()));
    v.into_result()?;
    let mut am = staff::ActiveModel {
        ..Default::default()
    };
    if let Some(n) = full_name {
        am.full_name = Set(n);
    }
    if let Some(t) = title {
        am.title = Set(t);
    }
    if let Some(user_id) = patch.user_id {
        am.user_id = Set(user_id);
    }
    if let Some(active) = patch.active {
        am.active = Set(active);
    }
    if let Some(email) = email {
        am.email = Set(email);
    }
    if let Some(phone) = phone {
        am.phone = Set(phone);
    }
    let updated = write.finish(&txn, am, "update", None).await?;
    txn.commit().await?;
    Ok(updated)
}
