//! Accounts: login with throttling, the first admin, and user administration.

use super::scope::{Page, PageRequest, Reach, scoped};
use super::versioned::{Precondition, Write, record_created};
use super::{now, sql};
use crate::auth::password::{self, PasswordHasher};
use crate::auth::policy::require_admin;
use crate::auth::{Principal, Role, random_token};
use crate::config::{LoginThrottle, Secret};
use crate::error::{ApiError, ApiResult, Violations, text};
use crate::state::AppState;
use entity::{login_failure, unit, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;

pub const USERNAME_MAX: usize = 64;

/// What the bearer-token extractor needs about an account, in one query.
#[derive(Clone, Debug, FromQueryResult)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub unit_id: Option<i64>,
    pub unit_path: Option<String>,
    pub unit_kind: Option<String>,
    pub active: bool,
    pub token_version: i32,
}

impl AccountRow {
    /// Who the account acts as: its role and unit as the service keeps them (`None` for
    /// an inactive account or an unknown role). Bearer tokens and calendar feed URLs both
    /// come here, so nothing they carry can widen what the account may do.
    pub fn principal(&self, request_id: Option<String>) -> Option<crate::auth::Principal> {
        if !self.active {
            return None;
        }
        Some(crate::auth::Principal {
            user_id: self.id,
            username: self.username.clone(),
            role: crate::auth::Role::parse(&self.role)?,
            unit: match (self.unit_id, &self.unit_path) {
                (Some(id), Some(path)) => Some(crate::auth::UnitRef {
                    id,
                    path: path.clone(),
                }),
                _ => None,
            },
            agency: self.unit_kind.as_deref() == Some("agency"),
            request_id,
            key: None,
        })
    }
}

pub async fn load_principal(db: &DatabaseConnection, id: i64) -> Result<Option<AccountRow>, DbErr> {
    AccountRow::find_by_statement(sql(
        db,
        "SELECT u.id, u.username, u.role, u.unit_id, n.path AS unit_path, n.kind AS unit_kind, u.active, u.token_version \
         FROM users u LEFT JOIN units n ON n.id = u.unit_id WHERE u.id = $1",
        vec![id.into()],
    ))
    .one(db)
    .await
}

/// The id of the account named `username` (as an identity provider's token names it).
pub async fn account_id_by_username(
    db: &DatabaseConnection,
    username: &str,
) -> Result<Option<i64>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(normalise_username(username)))
        .one(db)
        .await?
        .map(|u| u.id))
}

/// Accounts as the authentication middleware last read them: every request of a busy
/// client would otherwise re-read its account. Any committed write (deactivation, password,
/// role, unit moves) makes it stale, this replica's at once and another's as soon as its
/// notice arrives (`changes`); `PARINDEX_AUTH_CACHE_MS` bounds an entry's life when
/// notices cannot be heard (1 s by default; 0 turns the cache off).
pub type AccountCache = crate::cache::ReadCache<i64, Option<AccountRow>>;

/// Usernames are case-insensitive: stored and compared in lower case.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase()
}

fn check_username(v: &mut Violations, username: &str) {
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if username.len() < 3 || username.len() > USERNAME_MAX || !ok_chars {
        v.add(
            "username",
            "invalid_format",
            text!(
                "3 to {USERNAME_MAX} characters: letters a-z, digits, '.', '_', '-', '@'",
                "từ 3 đến {USERNAME_MAX} ký tự: chữ a-z, chữ số, '.', '_', '-', '@'"
            ),
        );
    }
}

fn check_password(v: &mut Violations, field: &str, password: &str) {
    if let Err(reason) = password::check_policy(password) {
        v.add(field, "weak_password", reason);
    }
}

// ---------------------------------------------------------------------------------------
// Login

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(text!(
        "invalid username or password",
        "tên đăng nhập hoặc mật khẩu không đúng"
    ))
}

/// Counts a password attempt *before* the password is checked, so that parallel attempts
/// cannot race past the limit: the attempt is recorded, then the recorded attempts of the
/// window are counted including it. Of any number of parallel attempts, the k-th recorded
/// counts at least k, so at most the limit ever reach the password check. A refused
/// attempt is taken back (retrying while refused does not extend the wait); a failed one
/// stays as the failure it is; a successful one clears the username's record.
async fn begin_attempt(
    db: &DatabaseConnection,
    throttle: &LoginThrottle,
    username: &str,
    client_ip: &str,
) -> ApiResult<()> {
    let attempt = login_failure::ActiveModel {
        username: Set(username.to_string()),
        ip: Set(client_ip.to_string()),
        at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let refused = match throttled(
        db,
        login_failure::Column::Username,
        username,
        throttle.max_failures_per_username,
        throttle,
    )
    .await?
    {
        Some(wait) => Some(wait),
        None => {
            throttled(
                db,
                login_failure::Column::Ip,
                client_ip,
                throttle.max_failures_per_ip,
                throttle,
            )
            .await?
        }
    };
    if let Some(retry_after) = refused {
        login_failure::Entity::delete_by_id(attempt.id)
            .exec(db)
            .await?;
        return Err(ApiError::too_many_requests(
            text!(
                "too many failed attempts; wait before trying again",
                "đăng nhập sai quá nhiều lần; hãy chờ rồi thử lại"
            ),
            retry_after,
        ));
    }
    Ok(())
}

/// Seconds to wait when `key` (a username or an address) has more recorded attempts in the
/// window than `max` (the attempt being made included); `None` when it may go on.
async fn throttled(
    db: &DatabaseConnection,
    column: login_failure::Column,
    key: &str,
    max: u32,
    throttle: &LoginThrottle,
) -> ApiResult<Option<u64>> {
    let window = chrono::Duration::from_std(throttle.window).unwrap_or_default();
    let recent = login_failure::Entity::find()
        .filter(column.eq(key))
        .filter(login_failure::Column::At.gt(now() - window))
        .order_by_asc(login_failure::Column::At)
        .all(db)
        .await?;
    if recent.len() as u64 <= u64::from(max) {
        return Ok(None);
    }
    // Retry once the oldest counted failure leaves the window.
    let oldest = recent.first().map(|f| f.at).unwrap_or_else(now);
    Ok(Some((oldest + window - now()).num_seconds().max(1) as u64))
}

/// After a failed attempt: its record stays; records older than the window go.
async fn attempt_failed(db: &DatabaseConnection, throttle: &LoginThrottle) -> ApiResult<()> {
    let horizon = now()
        - chrono::Duration::from_std(throttle.window).unwrap_or_default()
        - chrono::Duration::hours(1);
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::At.lt(horizon))
        .exec(db)
        .await?;
    Ok(())
}

/// After a successful attempt: the username's failures are forgiven.
async fn attempt_succeeded(db: &DatabaseConnection, username: &str) -> ApiResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Username.eq(username))
        .exec(db)
        .await?;
    Ok(())
}

/// Checks the password (always spending one Argon2 verification, even for unknown or
/// inactive users) and issues a token. Attempts are counted per username and per address
/// before the password is checked (`begin_attempt`).
pub async fn login(
    state: &AppState,
    username: &str,
    password: String,
    client_ip: &str,
) -> ApiResult<(String, u64)> {
    let db = &state.db;
    let throttle = &state.config.login_throttle;
    let username = normalise_username(username);
    if !state.config.local_login && username != state.config.break_glass_admin {
        crate::metrics::login_refused("local_login_off");
        return Err(ApiError::forbidden(text!(
            "passwords are turned off here: sign in through the province's identity provider",
            "đăng nhập bằng mật khẩu đã tắt: hãy đăng nhập qua hệ thống xác thực của tỉnh"
        )));
    }
    if username.len() > USERNAME_MAX || password.chars().count() > password::MAX_PASSWORD_CHARS {
        crate::metrics::login_refused("credentials");
        return Err(invalid_credentials());
    }
    if let Err(e) = begin_attempt(db, throttle, &username, client_ip).await {
        if e.status() == http::StatusCode::TOO_MANY_REQUESTS {
            crate::metrics::login_refused("throttled");
        }
        return Err(e);
    }
    let account = user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(db)
        .await?;
    let hash = account
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone());
    let verified = state.hasher.verify(password, hash).await?;
    let account = match account {
        Some(account) if verified => account,
        _ => {
            crate::metrics::login_refused("credentials");
            attempt_failed(db, throttle).await?;
            return Err(invalid_credentials());
        }
    };
    attempt_succeeded(db, &username).await?;
    let token = state.jwt.issue(
        account.id,
        &account.role,
        account.unit_id,
        account.token_version,
    )?;
    Ok((token, state.jwt.ttl().as_secs()))
}

// ---------------------------------------------------------------------------------------
// The first admin

pub const FIRST_ADMIN: &str = "admin";

/// On an empty database, creates `admin` with `PARINDEX_ADMIN_PASSWORD`, or with a random
/// password printed once to the log.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    configured: Option<&Secret>,
) -> Result<(), anyhow::Error> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match configured {
        Some(p) => (p.expose().to_string(), false),
        None => (random_token(12), true),
    };
    let hash = hasher
        .hash(password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = now();
    let inserted = user::ActiveModel {
        username: Set(FIRST_ADMIN.to_string()),
        password_hash: Set(hash),
        full_name: Set("Administrator".to_string()),
        role: Set(Role::Admin.as_str().to_string()),
        unit_id: Set(None),
        active: Set(true),
        token_version: Set(0),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) if generated => tracing::warn!(
            "created the first admin account `{FIRST_ADMIN}` with the random password {password} \
             (shown only this once: log in and change it with POST /api/v1/auth/password, \
             or set PARINDEX_ADMIN_PASSWORD before the first start)"
        ),
        Ok(_) => tracing::info!(
            "created the first admin account `{FIRST_ADMIN}` with PARINDEX_ADMIN_PASSWORD"
        ),
        // Another replica starting at the same moment created it first.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// `parindex create-admin`: creates the admin account, or resets its password, role and
/// active flag, invalidating its existing tokens.
pub async fn create_or_reset_admin(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    username: &str,
    new_password: &str,
) -> Result<bool, anyhow::Error> {
    let username = normalise_username(username);
    let mut v = Violations::new();
    check_username(&mut v, &username);
    check_password(&mut v, "password", new_password);
    if let Err(e) = v.into_result() {
        let errors = e
            .field_errors()
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        anyhow::bail!("{errors}");
    }
    let hash = hasher
        .hash(new_password.to_string())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = Principal::system("cli:create-admin");
    let txn = crate::db::begin_write(db).await?;
    let existing = user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(&txn)
        .await?;
    let t = now();
    let created = match existing {
        Some(u) => {
            let write = Write::<user::Entity>::begin(&txn, &actor, &u, &Precondition::any())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut am = user::ActiveModel {
                ..Default::default()
            };
            am.password_hash = Set(hash);
            am.role = Set(Role::Admin.as_str().to_string());
            am.active = Set(true);
            am.token_version = Set(u.token_version + 1);
            write
                .finish(&txn, am, "reset_admin", None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            false
        }
        None => {
            let created = user::ActiveModel {
                username: Set(username.clone()),
                password_hash: Set(hash),
                full_name: Set("Administrator".to_string()),
                role: Set(Role::Admin.as_str().to_string()),
                unit_id: Set(None),
                active: Set(true),
                token_version: Set(0),
                version: Set(1),
                created_at: Set(t),
                updated_at: Set(t),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            record_created::<user::Entity, _>(&txn, &actor, &created, "create")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            true
        }
    };
    txn.commit().await?;
    Ok(created)
}

// ---------------------------------------------------------------------------------------
// User administration

/// The audited view of an account: never the password hash.
fn user_json(u: &user::Model) -> serde_json::Value {
    json!({
        "username": u.username,
        "full_name": u.full_name,
        "role": u.role,
        "unit_id": u.unit_id,
        "active": u.active,
        "email": u.email,
    })
}

pub struct NewUser {
    pub username: String,
    pub password: String,
    pub full_name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub email: Option<String>,
}

/// Checks that a role has a unit when it needs one and that the unit exists and is active.
async fn check_role_unit<C: ConnectionTrait>(
    conn: &C,
    v: &mut Violations,
    role: Role,
    unit_id: Option<i64>,
) -> Result<(), DbErr> {
    match unit_id {
        None if role != Role::Admin => v.add("unit_id", "required", {
            let (role, role_vi) = (role.as_str(), role.words_vi());
            text!(
                "a {role} must belong to a unit",
                "tài khoản {role_vi} phải thuộc một đơn vị"
            )
        }),
        None => {}
        Some(id) => match unit::Entity::find_by_id(id).one(conn).await? {
            None => v.add(
                "unit_id",
                "not_found",
                text!("unit {id} does not exist", "không có đơn vị {id}"),
            ),
            Some(u) if !u.active => v.add(
                "unit_id",
                "inactive",
                text!("unit {id} is inactive", "đơn vị {id} đã ngừng hoạt động"),
            ),
            Some(_) => {}
        },
    }
    Ok(())
}

pub async fn create_user(
    state: &AppState,
    actor: &Principal,
    input: NewUser,
) -> ApiResult<user::Model> {
    require_admin(actor)?;
    let mut v = Violations::new();
    let username = normalise_username(&input.username);
    check_username(&mut v, &username);
    check_password(&mut v, "password", &input.password);
    let full_name = crate::validation::text(&mut v, "full_name", &input.full_name, 200, true);
    let email = crate::validation::email(&mut v, "email", input.email.as_deref());
    check_role_unit(&state.db, &mut v, input.role, input.unit_id).await?;
    v.into_result()?;
    let hash = state.hasher.hash(input.password).await?;

    let txn = crate::db::begin_write(&state.db).await?;
    let t = now();
    let created = user::ActiveModel {
        username: Set(username.clone()),
        password_hash: Set(hash),
        full_name: Set(full_name.unwrap_or_default()),
        role: Set(input.role.as_str().to_string()),
        unit_id: Set(input.unit_id),
        email: Set(email),
        active: Set(true),
        token_version: Set(0),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "username_taken",
            text!(
                "the username {username:?} is already taken",
                "tên đăng nhập {username:?} đã có người dùng"
            ),
        ),
        _ => e.into(),
    })?;
    record_created::<user::Entity, _>(&txn, actor, &created, "create").await?;
    txn.commit().await?;
    Ok(created)
}

pub struct UserFilter {
    pub role: Option<Role>,
    pub unit_id: Option<i64>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

pub async fn list_users(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: UserFilter,
    page: PageRequest,
) -> ApiResult<Page<user::Model>> {
    require_admin(actor)?;
    let mut query = scoped(
        user::Entity::find(),
        actor,
        user::Column::UnitId,
        Reach::Records,
    )
    .order_by_asc(user::Column::Id);
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role.as_str()));
    }
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(user::Column::UnitId.eq(unit_id));
    }
    if let Some(active) = filter.active {
        query = query.filter(user::Column::Active.eq(active));
    }
    if let Some(q) = filter.q.filter(|q| !q.trim().is_empty()) {
        let q = q.trim().to_lowercase();
        query = query.filter(
            sea_orm::Condition::any()
                .add(super::contains_literally(user::Column::Username, &q))
                .add(super::contains_literally(user::Column::FullName, &q)),
        );
    }
    query.page(db, page).await
}

/// An account, for an admin.
pub async fn get_user(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<user::Model> {
    require_admin(actor)?;
    find_user(db, id).await
}

/// The caller's own account (`GET /auth/me`).
pub async fn own_account(db: &DatabaseConnection, actor: &Principal) -> ApiResult<user::Model> {
    find_user(db, actor.user_id).await
}

async fn find_user<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!("user {id} does not exist", "không có tài khoản {id}"))
        })
}

#[derive(Default)]
pub struct UserPatch {
    pub full_name: Option<String>,
    pub role: Option<Role>,
    /// `Some(None)` detaches the account from its unit (admins only).
    pub unit_id: Option<Option<i64>>,
    pub active: Option<bool>,
    /// An admin's reset of the user's password.
    pub password: Option<String>,
    /// `Some(None)` removes the address.
    pub email: Option<Option<String>>,
}

/// Refuses a change that would leave no active admin.
async fn keep_an_admin<C: ConnectionTrait>(conn: &C, target: &user::Model) -> ApiResult<()> {
    let others = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.ne(target.id))
        .count(conn)
        .await?;
    if others == 0 {
        return Err(ApiError::conflict(
            "last_admin",
            text!(
                "this is the last active admin: create or activate another admin first",
                "đây là quản trị viên cuối cùng còn hoạt động: hãy tạo hoặc kích hoạt quản trị viên khác trước"
            ),
        ));
    }
    Ok(())
}

pub async fn update_user(
    state: &AppState,
    actor: &Principal,
    id: i64,
    patch: UserPatch,
    if_match: &Precondition,
) -> ApiResult<user::Model> {
    require_admin(actor)?;
    let mut v = Violations::new();
    let full_name = patch
        .full_name
        .as_deref()
        .and_then(|n| crate::validation::text(&mut v, "full_name", n, 200, true));
    if let Some(p) = &patch.password {
        check_password(&mut v, "password", p);
    }
    let email = patch
        .email
        .as_ref()
        .map(|e| crate::validation::email(&mut v, "email", e.as_deref()));
    v.into_result()?;
    let hash = match patch.password {
        Some(p) => Some(state.hasher.hash(p).await?),
        None => None,
    };

    let txn = crate::db::begin_write(&state.db).await?;
    let current = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!("user {id} does not exist", "không có tài khoản {id}"))
        })?;
    let write = Write::<user::Entity>::begin(&txn, actor, &current, if_match).await?;

    let role = patch
        .role
        .unwrap_or(Role::parse(&current.role).unwrap_or(Role::Viewer));
    let unit_id = patch.unit_id.unwrap_or(current.unit_id);
    let active = patch.active.unwrap_or(current.active);
    let was_admin = current.role == Role::Admin.as_str() && current.active;
    if was_admin && (role != Role::Admin || !active) {
        keep_an_admin(&txn, &current).await?;
    }
    let mut v = Violations::new();
    if patch.role.is_some() || patch.unit_id.is_some() {
        check_role_unit(&txn, &mut v, role, unit_id).await?;
    }
    v.into_result()?;

    let invalidate_tokens = hash.is_some() || (current.active && !active);
    let mut am = user::ActiveModel {
        ..Default::default()
    };
    if let Some(name) = full_name {
        am.full_name = Set(name);
    }
    if let Some(email) = email {
        am.email = Set(email);
    }
    am.role = Set(role.as_str().to_string());
    am.unit_id = Set(unit_id);
    am.active = Set(active);
    if let Some(hash) = hash {
        am.password_hash = Set(hash);
    }
    if invalidate_tokens {
        am.token_version = Set(current.token_version + 1);
    }
    // A deactivated account's API keys stop at once, and stay revoked if it comes back.
    if current.active && !active {
        crate::services::api_keys::revoke_all_of(&txn, current.id).await?;
    }
    let updated = write.finish(&txn, am, "update", None).await?;
    txn.commit().await?;
    Ok(updated)
}

crate::versioned!(
    user,
    kind = "user",
    audit = "user",
    unit_id = |m| m.unit_id,
    describe = |_conn, m| Ok(user_json(m)),
);

pub async fn deactivate_user(
    state: &AppState,
    actor: &Principal,
    id: i64,
    if_match: &Precondition,
) -> ApiResult<user::Model> {
    update_user(
        state,
        actor,
        id,
        UserPatch {
            active: Some(false),
            ..Default::default()
        },
        if_match,
    )
    .await
}

/// A user changing its own password: the current one is required; every token of the
/// account, including the one used here, stops working.
pub async fn change_own_password(
    state: &AppState,
    actor: &Principal,
    current_password: String,
    new_password: String,
    client_ip: &str,
) -> ApiResult<()> {
    let mut v = Violations::new();
    check_password(&mut v, "new_password", &new_password);
    if current_password == new_password {
        v.add(
            "new_password",
            "unchanged",
            text!(
                "must differ from the current password",
                "phải khác mật khẩu hiện tại"
            ),
        );
    }
    v.into_result()?;
    let account = own_account(&state.db, actor).await?;
    // A stolen token must not become a way to guess the password: the current password is
    // checked under the same throttle as logins.
    let throttle = &state.config.login_throttle;
    begin_attempt(&state.db, throttle, &account.username, client_ip).await?;
    if !state
        .hasher
        .verify(current_password, Some(account.password_hash.clone()))
        .await?
    {
        attempt_failed(&state.db, throttle).await?;
        return Err(ApiError::validation(vec![crate::error::FieldError::new(
            "current_password",
            "incorrect",
            text!(
                "is not the account's current password",
                "không phải mật khẩu hiện tại của tài khoản"
            ),
        )]));
    }
    attempt_succeeded(&state.db, &account.username).await?;
    let hash = state.hasher.hash(new_password).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let write = Write::<user::Entity>::begin(&txn, actor, &account, &Precondition::any()).await?;
    let mut am = user::ActiveModel {
        ..Default::default()
    };
    am.password_hash = Set(hash);
    am.token_version = Set(account.token_version + 1);
    write.finish(&txn, am, "change_password", None).await?;
    txn.commit().await?;
    Ok(())
}

/// The name a unit's papers are signed with by default: its first active leader account
/// (`unit_leader`), if it has one.
pub async fn leader_name(db: &DatabaseConnection, unit_id: i64) -> ApiResult<Option<String>> {
    Ok(user::Entity::find()
        .filter(user::Column::UnitId.eq(unit_id))
        .filter(user::Column::Role.eq(Role::UnitLeader.as_str()))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .one(db)
        .await?
        .map(|u| u.full_name))
}
