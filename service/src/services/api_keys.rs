//! API keys for systems: a commune's software sends `Authorization: Bearer pik_…` instead
//! of holding a person's password. A key acts as the account that made it, never more: a
//! `read` key may only read; the account's role, unit and active flag decide the rest at
//! every request. Only the key's SHA-256 is kept (the key is shown once); revocation and
//! expiry take effect at the next request. Keys cannot make or revoke keys.

use super::now;
use super::scope::{Page, PageRequest, account_rows};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Violations, text};
use chrono::{DateTime, Utc};
use entity::{api_key, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// How every key starts: a token that is a key is told apart from a sign-in token by it.
pub const KEY_PREFIX: &str = "pik_";
/// Live keys per account.
pub const MAX_KEYS: usize = 20;
/// What is shown of a key after its creation: `pik_` and 8 characters.
const SHOWN: usize = 12;

/// A key's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

/// The scopes stored for a key (`read` or `read,write`).
pub fn scopes_of(m: &api_key::Model) -> Vec<Scope> {
    let mut out = vec![Scope::Read];
    if m.scopes.split(',').any(|s| s == "write") {
        out.push(Scope::Write);
    }
    out
}

fn refuse_keys(actor: &Principal) -> ApiResult<()> {
    if actor.key.is_some() {
        return Err(ApiError::forbidden(text!(
            "an API key cannot make or revoke API keys: sign in as the account",
            "khóa API không được tạo hoặc thu hồi khóa API: hãy đăng nhập bằng tài khoản"
        )));
    }
    if actor.user_id <= 0 {
        return Err(ApiError::forbidden(text!(
            "only an account may have API keys",
            "chỉ tài khoản người dùng mới có khóa API"
        )));
    }
    Ok(())
}

/// A key made: its row, and the key itself (shown once).
pub struct NewKey {
    pub model: api_key::Model,
    pub key: String,
}

/// Makes a key for the caller: `scopes` among `read` and `write` (write includes read),
/// `expires_at` in the future or none.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Principal,
    name: &str,
    scopes: &[String],
    expires_at: Option<DateTime<Utc>>,
) -> ApiResult<NewKey> {
    refuse_keys(actor)?;
    let mut v = Violations::new();
    let name = crate::validation::text(&mut v, "name", name, 200, true).unwrap_or_default();
    let mut write = false;
    if scopes.is_empty() {
        v.add(
            "scopes",
            "required",
            text!(
                "give read, or read and write",
                "hãy chọn read, hoặc read và write"
            ),
        );
    }
    for (i, s) in scopes.iter().enumerate() {
        match s.as_str() {
            "read" => {}
            "write" => write = true,
            other => v.add(
                format!("scopes[{i}]"),
                "unknown",
                text!(
                    "{other:?} is not read or write",
                    "{other:?} không phải là read hoặc write"
                ),
            ),
        }
    }
    if let Some(at) = expires_at
        && at <= Utc::now()
    {
        v.add(
            "expires_at",
            "in_the_past",
            text!("must be in the future", "phải là thời điểm trong tương lai"),
        );
    }
    v.into_result()?;
    let txn = crate::db::begin_write(db).await?;
    // Keys made at once by one account are counted one after the other.
    user::Entity::find_by_id(actor.user_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let live = api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(actor.user_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .filter(|k| k.expires_at.is_none_or(|at| at > Utc::now()))
        .count();
    if live >= MAX_KEYS {
        return Err(ApiError::conflict(
            "too_many_keys",
            text!(
                "at most {MAX_KEYS} live API keys per account: revoke one first",
                "mỗi tài khoản tối đa {MAX_KEYS} khóa API còn hiệu lực: hãy thu hồi bớt trước"
            ),
        ));
    }
    let key = format!("{KEY_PREFIX}{}", crate::auth::random_token(32));
    let model = api_key::ActiveModel {
        user_id: Set(actor.user_id),
        name: Set(name),
        prefix: Set(key[..SHOWN].to_string()),
        key_hash: Set(crate::auth::token_hash(&key)),
        scopes: Set(if write { "read,write" } else { "read" }.to_string()),
        expires_at: Set(expires_at),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "api_key",
            entity_id: model.id,
            action: "create",
            unit_id: actor.unit.as_ref().map(|u| u.id),
            results_year: None,
            old: None,
            new: Some(serde_json::json!({
                "name": model.name, "prefix": model.prefix, "scopes": model.scopes,
                "expires_at": model.expires_at,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(NewKey { model, key })
}

/// The caller's keys (an admin: every account's), newest first; never the keys.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    page: PageRequest,
) -> ApiResult<Page<api_key::Model>> {
    account_rows(
        api_key::Entity::find().order_by_desc(api_key::Column::Id),
        actor,
        api_key::Column::UserId,
    )
    .page(db, page)
    .await
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "API key {id} does not exist",
        "không có khóa API {id}"
    ))
}

/// Revokes a key at once: its owner's, or any for an admin (404 for another's).
pub async fn revoke(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    refuse_keys(actor)?;
    let txn = crate::db::begin_write(db).await?;
    let key = api_key::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|k| actor.is_admin() || k.user_id == actor.user_id)
        .ok_or_else(|| not_found(id))?;
    if key.revoked_at.is_none() {
        api_key::Entity::update_many()
            .col_expr(
                api_key::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(now()),
            )
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        crate::services::audit::record(
            &txn,
            actor,
            crate::services::audit::Change {
                entity: "api_key",
                entity_id: id,
                action: "revoke",
                unit_id: actor.unit.as_ref().map(|u| u.id),
                results_year: None,
                old: Some(serde_json::json!({"prefix": key.prefix, "user_id": key.user_id})),
                new: None,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Revokes every live key of an account (it is deactivated), in the change's transaction.
pub async fn revoke_all_of<C: ConnectionTrait>(conn: &C, user_id: i64) -> ApiResult<u64> {
    Ok(api_key::Entity::update_many()
        .col_expr(
            api_key::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(api_key::Column::UserId.eq(user_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// The live key `key` is, if any (not revoked, not expired), and notes its use (at most
/// once a minute per key: a read-only request should not write on every call).
pub async fn authenticate(
    db: &DatabaseConnection,
    key: &str,
) -> Result<Option<api_key::Model>, sea_orm::DbErr> {
    if !key.starts_with(KEY_PREFIX) || key.len() > 100 {
        return Ok(None);
    }
    let Some(found) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(crate::auth::token_hash(key)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let at = Utc::now();
    if found.expires_at.is_some_and(|e| e <= at) {
        return Ok(None);
    }
    if found
        .last_used_at
        .is_none_or(|last| at - last > chrono::Duration::seconds(60))
    {
        // Best effort: a key that cannot be marked used still works.
        if let Err(e) = api_key::Entity::update_many()
            .col_expr(
                api_key::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now()),
            )
            .filter(api_key::Column::Id.eq(found.id))
            .exec(db)
            .await
        {
            tracing::warn!(key = found.id, error = %e, "cannot note an API key's use");
        }
    }
    Ok(Some(found))
}
