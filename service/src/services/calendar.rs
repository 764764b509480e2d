//! The year as a campaign (issue 35): the dated events that concern the caller, as JSON
//! and as an iCalendar feed, and the personal feed URLs calendar programs subscribe to.
//!
//! Whose events:
//! - a unit's accounts (officers, leaders, viewers): the campaigns of the frameworks that
//!   score their unit (the deadline with the unit's extension applied, the preliminary
//!   results, the end of the appeal window, the announcement) and their unit's remediation
//!   milestones;
//! - the accounts of a framework's owner or above it (appraisers, the district's or the
//!   province's viewers): the whole campaign, appraisal and council dates included;
//! - an agency's accounts: the campaigns of the frameworks that assign criteria to their
//!   agency (the appraisal due "for the criteria assigned"), and, where the agency is
//!   itself scored, its own unit's dates;
//! - admins without a unit: every published campaign.
//!
//! A feed URL carries a token of 32 random bytes; only its SHA-256 is kept. It reads the
//! calendar of the account that made it, as that account is now (a deactivated account's
//! feed reads nothing), and grants nothing else.

use super::frameworks::{self, LoadedFramework};
use super::now;
use crate::auth::{Principal, UnitRef, random_token, token_hash};
use crate::error::{ApiError, ApiResult, Violations, text};
use chrono::{Datelike, NaiveDate};
use entity::status::FrameworkStatus;
use entity::{calendar_feed, framework, remediation_item, remediation_milestone, unit};
use parindex_domain::campaign::{self, EventKind};
use parindex_domain::ical::AllDayEvent;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::HashMap;

/// The widest range one read covers (two years and a day).
pub const MAX_DAYS: i64 = 732;

/// The most feed URLs an account keeps at once.
pub const MAX_FEEDS: usize = 10;

/// One dated event of the caller's calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarEvent {
    pub date: NaiveDate,
    pub kind: EventKind,
    pub title: String,
    pub note: Option<String>,
    /// The unit the event is about: the caller's unit for its own deadlines and
    /// milestones, the framework's owner for a campaign's dates.
    pub unit_id: Option<i64>,
    pub framework_id: Option<i64>,
    /// The API resource to open.
    pub link: String,
    /// Stable across reads (iCalendar UID).
    pub uid: String,
}

impl CalendarEvent {
    pub fn to_ical(&self) -> AllDayEvent {
        AllDayEvent {
            uid: self.uid.clone(),
            date: self.date,
            summary: self.title.clone(),
            description: self.note.clone(),
            url: None,
        }
    }
}

/// Whose a framework's campaign is to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    /// The framework scores the caller's unit.
    Scored,
    /// The caller's unit owns the framework or is above its owner.
    Council,
    /// The caller's agency appraises some of its criteria.
    Agency,
}

/// The range asked for: both ends given or defaulted (this year and the next), in order,
/// at most `MAX_DAYS` wide.
pub fn range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = parindex_domain::vietnam::day_of(now());
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = to.unwrap_or_else(|| NaiveDate::from_ymd_opt(from.year() + 1, 12, 31).unwrap_or(from));
    let mut v = Violations::new();
    if to < from {
        v.add(
            "to",
            "before_start",
            text!("ends before it starts", "kết thúc trước khi bắt đầu"),
        );
    } else if (to - from).num_days() > MAX_DAYS {
        v.add(
            "to",
            "too_long",
            text!(
                "at most {MAX_DAYS} days at once",
                "tối đa {MAX_DAYS} ngày mỗi lần"
            ),
        );
    }
    v.into_result()?;
    Ok((from, to))
}

/// The caller's events between `from` and `to` (both included), by date.
// Long by nature: each kind of caller's events in turn.
pub async fn events(
    db: &DatabaseConnection,
    actor: &Principal,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<CalendarEvent>> {
    let me: Option<unit::Model> = match &actor.unit {
        Some(u) => unit::Entity::find_by_id(u.id).one(db).await?,
        None => None,
    };
    // Campaigns reach a few months past their year (announcements in the next January).
    let published = framework::Entity::find()
        .filter(framework::Column::Status.eq(FrameworkStatus::Published))
        .filter(framework::Column::Year.between(from.year() - 1, to.year() + 1))
        .order_by_asc(framework::Column::Id)
        .all(db)
        .await?;
    let owners: HashMap<i64, unit::Model> = unit::Entity::find()
        .filter(
            unit::Column::Id.is_in(
                published
                    .iter()
                    .map(|f| f.owner_unit_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut out = Vec::new();
    for f in published {
        let Some(owner) = owners.get(&f.owner_unit_id) else {
            continue;
        };
        let loaded = frameworks::load(db, f.id).await?;
        let Some(standing) = standing(actor, me.as_ref(), owner, &loaded) else {
            continue;
        };
        let deadline = match (standing, &me) {
            (Standing::Scored, Some(u)) => {
                crate::services::assessments::deadline_for(db, &loaded, u.id).await?
            }
            _ => loaded.model.submission_deadline,
        };
        let extended = deadline != loaded.model.submission_deadline;
        let year = loaded.model.year;
        for (kind, date, note) in
            campaign::events(&loaded.campaign, deadline, loaded.model.appeal_days)
        {
            let concerns = match standing {
                Standing::Council => true,
                Standing::Agency => !matches!(kind, EventKind::AppealWindowCloses),
                Standing::Scored => {
                    !matches!(kind, EventKind::AppraisalDue | EventKind::CouncilMeets)
                }
            };
            if !concerns || date < from || date > to {
                continue;
            }
            let (unit_id, whose) = match (standing, &me) {
                (Standing::Scored, Some(u)) => (u.id, "unit"),
                _ => (owner.id, "framework"),
            };
            let mut title = kind.title_vi(year);
            if standing == Standing::Agency && kind == EventKind::AppraisalDue {
                title = format!("Hạn thẩm định các tiêu chí được giao (chỉ số CCHC năm {year})");
            }
            if kind == EventKind::SubmissionDeadline && extended {
                title.push_str(" (đã gia hạn)");
            }
            out.push(CalendarEvent {
                date,
                kind,
                title,
                note,
                unit_id: Some(unit_id),
                framework_id: Some(f.id),
                link: format!("/api/v1/frameworks/{}", f.id),
                uid: format!("{}-{}-{whose}-{unit_id}@parindex", kind.as_str(), f.id),
            });
        }
    }
    if let Some(u) = &me {
        out.extend(milestones(db, u, from, to).await?);
    }
    out.sort_by(|a, b| (a.date, &a.uid).cmp(&(b.date, &b.uid)));
    Ok(out)
}

/// How a framework's campaign concerns the caller, if it does.
fn standing(
    actor: &Principal,
    me: Option<&unit::Model>,
    owner: &unit::Model,
    f: &LoadedFramework,
) -> Option<Standing> {
    let Some(me) = me else {
        return actor.is_admin().then_some(Standing::Council);
    };
    let mine = UnitRef {
        id: me.id,
        path: me.path.clone(),
    };
    let owner_ref = crate::auth::unit_ref(owner);
    if owner_ref.is_within(&mine) {
        return Some(Standing::Council);
    }
    let scored =
        mine.is_within(&owner_ref) && f.unit_kinds.contains(&crate::services::units::kind_of(me));
    if me.kind == "agency" && f.tree.assigned_leaves().any(|(_, agency)| agency == me.id) {
        return Some(Standing::Agency);
    }
    scored.then_some(Standing::Scored)
}

/// The remediation milestones of `u`'s items due in the range.
async fn milestones(
    db: &DatabaseConnection,
    u: &unit::Model,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<CalendarEvent>> {
    let items: HashMap<i64, remediation_item::Model> = remediation_item::Entity::find()
        .filter(remediation_item::Column::UnitId.eq(u.id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let found = remediation_milestone::Entity::find()
        .filter(
            remediation_milestone::Column::ItemId.is_in(items.keys().copied().collect::<Vec<_>>()),
        )
        .filter(remediation_milestone::Column::DueOn.between(from, to))
        .order_by_asc(remediation_milestone::Column::DueOn)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter_map(|m| {
            let item = items.get(&m.item_id)?;
            let what = match &item.criterion_code {
                Some(code) => format!("{code} {}", item.title),
                None => item.title.clone(),
            };
            Some(CalendarEvent {
                date: m.due_on,
                kind: EventKind::RemediationMilestone,
                title: format!("Hạn khắc phục ({}): {what}", m.label),
                note: m.note.clone(),
                unit_id: Some(u.id),
                framework_id: None,
                link: format!("/api/v1/remediation-plans/{}", item.plan_id),
                uid: format!("remediation_milestone-{}@parindex", m.id),
            })
        })
        .collect())
}

/// The calendar's name in calendar programs.
pub fn calendar_name(actor: &Principal) -> String {
    format!("Lịch CCHC ({})", actor.username)
}

/// A feed URL made: its id, and its token, shown once.
pub struct NewFeed {
    pub feed: calendar_feed::Model,
    pub token: String,
}

/// Makes a feed URL for the caller (at most `MAX_FEEDS` live ones).
pub async fn create_feed(
    db: &DatabaseConnection,
    actor: &Principal,
    name: Option<String>,
) -> ApiResult<NewFeed> {
    if actor.user_id <= 0 {
        return Err(ApiError::forbidden(text!(
            "only an account may have a calendar feed",
            "chỉ tài khoản người dùng mới có lịch đăng ký"
        )));
    }
    let mut v = Violations::new();
    let name = crate::validation::optional_text(&mut v, "name", name.as_deref(), 200);
    v.into_result()?;
    let txn = crate::db::begin_write(db).await?;
    // Feeds made at once by one account are counted one after the other (PostgreSQL: the
    // account's row lock), so the limit holds.
    entity::user::Entity::find_by_id(actor.user_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let live = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::UserId.eq(actor.user_id))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .all(&txn)
        .await?;
    if live.len() >= MAX_FEEDS {
        return Err(ApiError::conflict(
            "too_many_feeds",
            text!(
                "at most {MAX_FEEDS} feed URLs at once: revoke one first",
                "tối đa {MAX_FEEDS} đường dẫn lịch cùng lúc: hãy thu hồi bớt trước"
            ),
        ));
    }
    let token = random_token(32);
    let feed = calendar_feed::ActiveModel {
        user_id: Set(actor.user_id),
        token_hash: Set(token_hash(&token)),
        name: Set(name),
        created_at: Set(now()),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "calendar_feed",
            entity_id: feed.id,
            action: "create",
            unit_id: actor.unit.as_ref().map(|u| u.id),
            results_year: None,
            old: None,
            new: Some(serde_json::json!({"name": feed.name})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(NewFeed { feed, token })
}

/// The caller's feed URLs (live and revoked), newest first; never their tokens.
pub async fn list_feeds(
    db: &DatabaseConnection,
    actor: &Principal,
) -> ApiResult<Vec<calendar_feed::Model>> {
    // At most `MAX_FEEDS` are live: the newest `LISTED_FEEDS` hold them all and the most
    // recently revoked, however many an account revoked over the years.
    Ok(calendar_feed::Entity::find()
        .filter(calendar_feed::Column::UserId.eq(actor.user_id))
        .order_by_desc(calendar_feed::Column::RevokedAt.is_null())
        .order_by_desc(calendar_feed::Column::Id)
        .limit(LISTED_FEEDS)
        .all(db)
        .await?)
}

/// How many feed URLs the list shows: the live ones first, then the latest revoked.
pub const LISTED_FEEDS: u64 = 50;

/// Revokes one of the caller's feed URLs at once (404 for another account's).
pub async fn revoke_feed(db: &DatabaseConnection, actor: &Principal, id: i64) -> ApiResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let feed = calendar_feed::Entity::find_by_id(id)
        .filter(calendar_feed::Column::UserId.eq(actor.user_id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(text!(
                "you have no calendar feed {id}",
                "bạn không có đường dẫn lịch {id}"
            ))
        })?;
    if feed.revoked_at.is_some() {
        return Ok(());
    }
    let mut am: calendar_feed::ActiveModel = feed.into();
    am.revoked_at = Set(Some(now()));
    am.update(&txn).await?;
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Change {
            entity: "calendar_feed",
            entity_id: id,
            action: "revoke",
            unit_id: actor.unit.as_ref().map(|u| u.id),
            results_year: None,
            old: None,
            new: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The account a feed token reads as: 404 for an unknown or revoked token and for an
/// account that can no longer sign in (nothing tells them apart).
pub async fn principal_of_feed(db: &DatabaseConnection, token: &str) -> ApiResult<Principal> {
    let missing = || {
        ApiError::not_found(text!(
            "no such calendar feed",
            "không có đường dẫn lịch này"
        ))
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let feed = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(token_hash(token)))
        .filter(calendar_feed::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(missing)?;
    let account = crate::services::accounts::load_principal(db, feed.user_id)
        .await?
        .and_then(|a| a.principal(None))
        .ok_or_else(missing)?;
    Ok(account)
}
