//! Notifications people receive. An outbox event that concerns people (a file returned, a
//! deadline coming, results published, an appeal answered, a milestone due or overdue)
//! becomes, in the transaction that records the event, one notification per account it
//! concerns, and for accounts that want it at once and have an address, one e-mail in the
//! mail outbox (`mailer` sends it after commit). Nothing is sent before the change commits,
//! and nothing committed is forgotten by a crash.
//!
//! Each account chooses per kind whether it is listed in the app and how it is e-mailed
//! (`off`, `immediate`, `daily`: one digest a day); an unsubscribe link turns its e-mail off.

pub mod compose;
pub mod mailer;

use crate::auth::Principal;
use crate::error::Violations;
use crate::error::{ApiError, ApiResult, text};
use crate::services::scope::{Page, own_rows, path_within_sql};
use crate::services::{now, sql};
use crate::validation::PageRequest;
use compose::Kind;
use entity::status::DeliveryStatus;
use entity::{mail_message, notification, notification_preference, user};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;

/// How an account wants a kind e-mailed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailChoice {
    Off,
    /// One e-mail per notification, as it happens (the default).
    Immediate,
    /// One digest a day, from `PARINDEX_DIGEST_HOUR`.
    Daily,
}

impl EmailChoice {
    pub const ALL: [EmailChoice; 3] =
        [EmailChoice::Off, EmailChoice::Immediate, EmailChoice::Daily];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailChoice::Off => "off",
            EmailChoice::Immediate => "immediate",
            EmailChoice::Daily => "daily",
        }
    }

    pub fn parse(s: &str) -> Option<EmailChoice> {
        EmailChoice::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One kind's preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preference {
    pub kind: Kind,
    pub in_app: bool,
    pub email: EmailChoice,
}

impl Preference {
    fn default_for(kind: Kind) -> Preference {
        Preference {
            kind,
            in_app: true,
            email: EmailChoice::Immediate,
        }
    }
}

/// Records the notifications (and immediate e-mails) of outbox event `event_id`, in the
/// event's transaction. Events of other kinds concern no one in particular.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    event_id: i64,
    event_type: &str,
    unit_id: i64,
    unit_path: &str,
    data: &Value,
) -> ApiResult<()> {
    let Some(kind) = Kind::parse(event_type) else {
        return Ok(());
    };
    if unit_id <= 0 {
        return Ok(());
    }
    #[derive(FromQueryResult)]
    struct Recipient {
        id: i64,
        email: Option<String>,
        in_app: Option<bool>,
        email_choice: Option<String>,
    }
    let reach = if kind.reaches_below() {
        path_within_sql("un.path", "$3")
    } else {
        "un.id = $2".to_string()
    };
    let recipients = Recipient::find_by_statement(sql(
        conn,
        &format!(
            "SELECT u.id, u.email, p.in_app, p.email AS email_choice FROM users u \
             JOIN units un ON un.id = u.unit_id \
             LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.kind = $1 \
             WHERE u.active = $4 AND {reach} ORDER BY u.id"
        ),
        vec![
            kind.as_str().into(),
            unit_id.into(),
            unit_path.into(),
            true.into(),
        ],
    ))
    .all(conn)
    .await?;
    let notice = compose::notice(kind, data);
    let at = now();
    for r in recipients {
        let in_app = r.in_app.unwrap_or(true);
        let choice = r
            .email_choice
            .as_deref()
            .and_then(EmailChoice::parse)
            .unwrap_or(EmailChoice::Immediate);
        let address = r.email.filter(|_| choice != EmailChoice::Off);
        if !in_app && address.is_none() {
            continue;
        }
        let made = notification::ActiveModel {
            user_id: Set(r.id),
            event_id: Set(event_id),
            kind: Set(kind.as_str().to_string()),
            title: Set(notice.title.clone()),
            body: Set(notice.body.clone()),
            link: Set(notice.link.clone()),
            unit_id: Set(Some(unit_id)),
            listed: Set(in_app),
            digest_pending: Set(address.is_some() && choice == EmailChoice::Daily),
            created_at: Set(at),
            read_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        if let Some(to) = address
            && choice == EmailChoice::Immediate
        {
            queue_mail(
                conn,
                r.id,
                &format!("notification:{}", made.id),
                &[made.id],
                &to,
            )
            .await?;
        }
    }
    Ok(())
}

/// Puts one e-mail in the mail outbox (once per `dedup_key`); whether it was new.
pub(crate) async fn queue_mail<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    dedup_key: &str,
    notification_ids: &[i64],
    to: &str,
) -> ApiResult<bool> {
    let at = now();
    let inserted = mail_message::Entity::insert(mail_message::ActiveModel {
        user_id: Set(user_id),
        dedup_key: Set(dedup_key.to_string()),
        notification_ids: Set(serde_json::to_string(notification_ids).unwrap_or_default()),
        to_address: Set(to.to_string()),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Some(at)),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(at),
        sent_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(mail_message::Column::DedupKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(inserted > 0)
}

/// One page of the caller's notifications, newest first, and how many are unread.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Principal,
    unread_only: bool,
    page: PageRequest,
) -> ApiResult<(Page<notification::Model>, u64)> {
    let mine = || {
        notification::Entity::find()
            .filter(notification::Column::Listed.eq(true))
            .order_by_desc(notification::Column::CreatedAt)
            .order_by_desc(notification::Column::Id)
    };
    let unread = own_rows(
        mine().filter(notification::Column::ReadAt.is_null()),
        actor,
        notification::Column::UserId,
    )
    .count(db)
    .await?;
    let mut rows = mine();
    if unread_only {
        rows = rows.filter(notification::Column::ReadAt.is_null());
    }
    let found = own_rows(rows, actor, notification::Column::UserId)
        .page(db, page)
        .await?;
    Ok((found, unread))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(text!(
        "notification {id} does not exist",
        "không có thông báo {id}"
    ))
}

/// Marks one of the caller's notifications read (once: a second call keeps the first time).
pub async fn mark_read(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
) -> ApiResult<notification::Model> {
    notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::UserId.eq(actor.user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    own_rows(
        notification::Entity::find()
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::Listed.eq(true)),
        actor,
        notification::Column::UserId,
    )
    .one(db)
    .await?
    .ok_or_else(|| not_found(id))
}

/// The caller's address and its preference for every kind (defaults where none is stored).
pub async fn preferences(
    db: &DatabaseConnection,
    actor: &Principal,
) -> ApiResult<(Option<String>, Vec<Preference>)> {
    let account = account(db, actor).await?;
    let stored = notification_preference::Entity::find()
        .filter(notification_preference::Column::UserId.eq(account.id))
        .all(db)
        .await?;
    let prefs = Kind::ALL
        .into_iter()
        .map(|kind| {
            stored
                .iter()
                .find(|p| p.kind == kind.as_str())
                .map(|p| Preference {
                    kind,
                    in_app: p.in_app,
                    email: EmailChoice::parse(&p.email).unwrap_or(EmailChoice::Immediate),
                })
                .unwrap_or_else(|| Preference::default_for(kind))
        })
        .collect();
    Ok((account.email, prefs))
}

async fn account<C: ConnectionTrait>(conn: &C, actor: &Principal) -> ApiResult<user::Model> {
    if actor.user_id <= 0 {
        return Err(ApiError::forbidden(text!(
            "only an account has notifications",
            "chỉ tài khoản người dùng mới có thông báo"
        )));
    }
    user::Entity::find_by_id(actor.user_id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            ApiError::forbidden(text!(
                "the account no longer exists",
                "tài khoản không còn tồn tại"
            ))
        })
}

/// Replacements of one account's preferences (and its unsubscribe) run one after the
/// other (PostgreSQL: the account's row lock): two would both delete, then both insert the
/// same rows.
async fn lock_account<C: ConnectionTrait>(conn: &C, id: i64) -> ApiResult<()> {
    user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?;
    Ok(())
}

/// A preference as asked (strings read as they came, so that a bad one is a named error).
pub struct PreferenceInput {
    pub kind: String,
    pub in_app: bool,
    pub email: String,
}

/// Replaces the caller's preferences (kinds not listed go back to the defaults) and sets
/// its address (`None`: no e-mail).
pub async fn set_preferences(
    db: &DatabaseConnection,
    actor: &Principal,
    email: Option<String>,
    items: Vec<PreferenceInput>,
) -> ApiResult<(Option<String>, Vec<Preference>)> {
    let mut v = Violations::new();
    let email = crate::validation::email(&mut v, "email", email.as_deref());
    let mut chosen: Vec<Preference> = Vec::new();
    if items.len() > Kind::ALL.len() {
        v.add(
            "items",
            "too_many",
            text!(
                "at most one item per kind ({})",
                "mỗi loại thông báo nhiều nhất một mục ({})",
                Kind::ALL.len()
            ),
        );
    }
    for (i, item) in items.iter().enumerate() {
        let kind = Kind::parse(&item.kind);
        let choice = EmailChoice::parse(&item.email);
        if kind.is_none() {
            v.add(
                format!("items[{i}].kind"),
                "unknown",
                text!(
                    "{:?} is not a kind of notification",
                    "{:?} không phải là loại thông báo",
                    item.kind
                ),
            );
        }
        if choice.is_none() {
            v.add(
                format!("items[{i}].email"),
                "unknown",
                text!(
                    "{:?} is not one of off, immediate, daily",
                    "{:?} không phải là off, immediate hoặc daily",
                    item.email
                ),
            );
        }
        if let (Some(kind), Some(email)) = (kind, choice) {
            if chosen.iter().any(|p| p.kind == kind) {
                v.add(
                    format!("items[{i}].kind"),
                    "duplicate",
                    text!("{} is listed twice", "{} được nêu hai lần", kind.as_str()),
                );
            }
            chosen.push(Preference {
                kind,
                in_app: item.in_app,
                email,
            });
        }
    }
    v.into_result()?;
    let txn = crate::db::begin_write(db).await?;
    let account = account(&txn, actor).await?;
    lock_account(&txn, account.id).await?;
    notification_preference::Entity::delete_many()
        .filter(notification_preference::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    let rows: Vec<notification_preference::ActiveModel> = chosen
        .iter()
        .map(|p| notification_preference::ActiveModel {
            user_id: Set(account.id),
            kind: Set(p.kind.as_str().to_string()),
            in_app: Set(p.in_app),
            email: Set(p.email.as_str().to_string()),
        })
        .collect();
    if !rows.is_empty() {
        notification_preference::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    if account.email != email {
        user::Entity::update_many()
            .col_expr(
                user::Column::Email,
                sea_orm::sea_query::Expr::value(email.clone()),
            )
            .filter(user::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
    }
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "notification_preferences",
            entity_id: account.id,
            action: "update",
            unit_id: actor.unit.as_ref().map(|u| u.id),
            results_year: None,
            old: Some(serde_json::json!({"email": account.email})),
            new: Some(serde_json::json!({
                "email": email,
                "items": chosen.iter().map(|p| serde_json::json!({
                    "kind": p.kind.as_str(), "in_app": p.in_app, "email": p.email.as_str()
                })).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    preferences(db, actor).await
}

/// The account an unsubscribe link names, if its token is live.
async fn account_of_token<C: ConnectionTrait>(conn: &C, token: &str) -> ApiResult<user::Model> {
    let unknown = || {
        ApiError::not_found(text!(
            "this unsubscribe link is not valid",
            "đường dẫn ngừng nhận thư không hợp lệ"
        ))
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unknown());
    }
    user::Entity::find()
        .filter(user::Column::UnsubscribeToken.eq(token))
        .one(conn)
        .await?
        .ok_or_else(unknown)
}

/// Checks an unsubscribe link (for the page that asks to confirm).
pub async fn check_unsubscribe(db: &DatabaseConnection, token: &str) -> ApiResult<()> {
    account_of_token(db, token).await.map(|_| ())
}

/// Turns the e-mail of every kind off for the account of an unsubscribe link (its in-app
/// choices stay); its pending digest is dropped.
pub async fn unsubscribe(db: &DatabaseConnection, token: &str) -> ApiResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let account = account_of_token(&txn, token).await?;
    lock_account(&txn, account.id).await?;
    let stored = notification_preference::Entity::find()
        .filter(notification_preference::Column::UserId.eq(account.id))
        .all(&txn)
        .await?;
    notification_preference::Entity::delete_many()
        .filter(notification_preference::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    let rows: Vec<notification_preference::ActiveModel> = Kind::ALL
        .into_iter()
        .map(|kind| notification_preference::ActiveModel {
            user_id: Set(account.id),
            kind: Set(kind.as_str().to_string()),
            in_app: Set(stored
                .iter()
                .find(|p| p.kind == kind.as_str())
                .is_none_or(|p| p.in_app)),
            email: Set(EmailChoice::Off.as_str().to_string()),
        })
        .collect();
    notification_preference::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    notification::Entity::update_many()
        .col_expr(
            notification::Column::DigestPending,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(notification::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    let principal = Principal {
        user_id: account.id,
        username: account.username.clone(),
        role: crate::auth::Role::parse(&account.role).unwrap_or(crate::auth::Role::Viewer),
        unit: None,
        agency: false,
        request_id: None,
        key: None,
    };
    crate::services::audit::record(
        &txn,
        &principal,
        crate::services::audit::Change {
            entity: "notification_preferences",
            entity_id: account.id,
            action: "unsubscribe",
            unit_id: account.unit_id,
            results_year: None,
            old: None,
            new: Some(serde_json::json!({"email": EmailChoice::Off.as_str()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
