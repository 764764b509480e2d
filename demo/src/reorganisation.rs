//! `parindex demo-data --reorganise`: step 2 of the demo, ILLUSTRATIVE ONLY.
//!
//! Since 1 July 2025 Vietnam runs two tiers of local government: districts are gone and
//! most communes were merged from several old ones. This step plays that out on the demo
//! district so the service can be seen carrying it; the groupings, names, codes, figures
//! and decision numbers below are made up for the illustration (the decision texts say
//! so), not the real list of Quảng Trị's new communes:
//!
//! - on 2025-07-01 the 18 communes and towns of Huyện Vĩnh Linh merge into 4 communes
//!   directly under the province, and the district is deactivated (never deleted);
//! - a special zone (đặc khu) is added under the province, to show the kind;
//! - the district's appraiser and viewer accounts move to the province, as its staff did;
//! - the province's agencies appear, each with an appraiser account: Văn phòng UBND tỉnh,
//!   Sở Tư pháp, Sở Tài chính and Sở Khoa học và Công nghệ appraise their fields of the
//!   2025 framework; Sở Nội vụ consolidates (its account appraises for the province, so it
//!   settles every file: bonus, finalization, publication);
//! - one 2025 cycle is appraised (by the agencies and Sở Nội vụ) and ranked at province
//!   level, and published;
//! - Vĩnh Long's 2023 result still reads 88.25, rank 11/18, from the frozen publication,
//!   and the merged commune's 2025 index lists its predecessors.

use super::{DISTRICT, Loader, err, spec};
use chrono::NaiveDate;
use entity::{unit, user};
use parindex_service::auth::{Principal, Role};
use parindex_service::services::accounts::{self, UserPatch};
use parindex_service::services::frameworks;
use parindex_service::services::merges::{self, MergeRequest};
use parindex_service::services::results;
use parindex_service::services::units::{self, NewUnit, UnitKind, UnitPatch};
use parindex_service::services::versioned::Precondition;
use parindex_service::state::AppState;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::str::FromStr;

/// The illustrative new communes: code, name, how many of the old units (in code order)
/// each takes, and its made-up 2025 appraised score and bonus.
const NEW_COMMUNES: [(&str, &str, usize, &str, &str); 4] = [
    ("MH2025-01", "Xã Vĩnh Linh", 5, "92.40", "1"),
    ("MH2025-02", "Xã Cửa Tùng", 5, "90.15", "0.5"),
    ("MH2025-03", "Xã Vĩnh Hoàng", 4, "88.60", "0"),
    ("MH2025-04", "Xã Bến Quan", 4, "86.35", "0"),
];

/// Said on every record this step makes.
pub const ILLUSTRATIVE: &str = "MINH HỌA, không phải văn bản thật";

/// The province's agencies: code, name, the account of its appraisers, and the fields of
/// the 2025 framework it appraises (Sở Nội vụ: none; it consolidates).
pub const AGENCIES: [(&str, &str, &str, &[&str]); 5] = [
    (
        "MH2025-VP",
        "Văn phòng UBND tỉnh",
        "vpubnd.thamdinh",
        &["1"],
    ),
    ("MH2025-STP", "Sở Tư pháp", "stp.thamdinh", &["2"]),
    ("MH2025-STC", "Sở Tài chính", "stc.thamdinh", &["6"]),
    (
        "MH2025-KHCN",
        "Sở Khoa học và Công nghệ",
        "skhcn.thamdinh",
        &["7"],
    ),
    ("MH2025-SNV", "Sở Nội vụ", "snv.tonghop", &[]),
];

/// What the step made.
pub struct Reorganised {
    pub province_id: i64,
    pub new_commune_ids: Vec<i64>,
    /// The 2025 framework, appraised by the agencies.
    pub framework_id: i64,
}

/// Runs step 2 on a database holding step 1; `None` when it already ran.
// Long by nature: the reorganisation is played out step by step, as a script reads.
pub async fn reorganise(state: &AppState) -> Result<Option<Reorganised>, anyhow::Error> {
    let db = &state.db;
    if unit::Entity::find()
        .filter(unit::Column::Code.eq(NEW_COMMUNES[0].0))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let data = super::json(DISTRICT)?;
    let code = |k: &str, default: &str| data[k]["code"].as_str().unwrap_or(default).to_string();
    let by_code = |code: String| async move {
        unit::Entity::find()
            .filter(unit::Column::Code.eq(code.clone()))
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("unit {code} is missing: run `demo-data` first"))
    };
    let province = by_code(code("province", "45")).await?;
    let district = by_code(code("district", "464")).await?;
    let actor = Principal::system("cli:demo-data --reorganise");
    let any = Precondition::any();
    let old_units = unit::Entity::find()
        .filter(unit::Column::ParentId.eq(district.id))
        .filter(unit::Column::Active.eq(true))
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await?;
    let effective_on =
        NaiveDate::from_ymd_opt(2025, 7, 1).ok_or_else(|| anyhow::anyhow!("bad date"))?;

    let mut new_ids = Vec::new();
    let mut rest = old_units.as_slice();
    for (code, name, take, _, _) in NEW_COMMUNES {
        let (group, others) = rest.split_at(take.min(rest.len()));
        rest = others;
        let merged = units::create_unit(
            db,
            &actor,
            NewUnit {
                code: code.to_string(),
                name: name.to_string(),
                kind: UnitKind::Commune,
                parent_id: Some(province.id),
            },
        )
        .await
        .map_err(err)?;
        merges::merge(
            db,
            &actor,
            MergeRequest {
                from_unit_ids: group.iter().map(|u| u.id).collect(),
                into_unit_id: merged.id,
                effective_on,
                decision: format!("Nghị quyết sắp xếp ĐVHC cấp xã năm 2025 ({ILLUSTRATIVE})"),
                weights: None,
                reassign_officers: false,
            },
        )
        .await
        .map_err(err)?;
        new_ids.push(merged.id);
    }
    units::create_unit(
        db,
        &actor,
        NewUnit {
            code: "MH2025-DK".to_string(),
            name: "Đặc khu Cồn Cỏ".to_string(),
            kind: UnitKind::SpecialZone,
            parent_id: Some(province.id),
        },
    )
    .await
    .map_err(err)?;
    // The district is abolished: kept, inactive, with its history.
    units::update_unit(
        db,
        &actor,
        district.id,
        UnitPatch {
            active: Some(false),
            ..Default::default()
        },
        &any,
    )
    .await
    .map_err(err)?;
    // Its appraisal staff now work for the province.
    let staff = user::Entity::find()
        .filter(user::Column::UnitId.eq(district.id))
        .all(db)
        .await?;
    for account in staff {
        accounts::update_user(
            state,
            &actor,
            account.id,
            UserPatch {
                unit_id: Some(Some(province.id)),
                ..Default::default()
            },
            &any,
        )
        .await
        .map_err(err)?;
    }

    // The province's agencies and their appraisers. Sở Nội vụ's account consolidates: it
    // belongs to the province (an agency's account appraises its own criteria only).
    let mut spec2025 = spec(2025, province.id)?;
    spec2025.unit_kinds = vec![UnitKind::Commune, UnitKind::Ward, UnitKind::SpecialZone];
    let mut agencies = Vec::new();
    for (code, name, username, fields) in AGENCIES {
        let agency = units::create_unit(
            db,
            &actor,
            NewUnit {
                code: code.to_string(),
                name: name.to_string(),
                kind: UnitKind::Agency,
                parent_id: Some(province.id),
            },
        )
        .await
        .map_err(err)?;
        let consolidates = fields.is_empty();
        let account = accounts::create_user(
            state,
            &actor,
            accounts::NewUser {
                username: username.to_string(),
                password: std::env::var("PARINDEX_DEMO_PASSWORD")
                    .unwrap_or_else(|_| super::DEMO_PASSWORD.to_string()),
                full_name: format!("Cán bộ thẩm định, {name} ({ILLUSTRATIVE})"),
                role: Role::Appraiser,
                unit_id: Some(if consolidates { province.id } else { agency.id }),
                email: None,
            },
        )
        .await
        .map_err(err)?;
        for c in spec2025.criteria.iter_mut() {
            if fields.contains(&c.code.as_str()) {
                c.appraised_by_unit_id = Some(agency.id);
            }
        }
        if !consolidates {
            agencies.push(Principal {
                user_id: account.id,
                username: account.username,
                role: Role::Appraiser,
                unit: Some(units::unit_ref(&agency)),
                agency: true,
                request_id: None,
                key: None,
            });
        }
    }

    // One 2025 cycle, appraised by the agencies and Sở Nội vụ, ranked at province level.
    let loader = Loader {
        state,
        actor: actor.clone(),
        paperwork: None,
        agencies,
    };
    let f2025 = frameworks::create_framework(db, &actor, spec2025)
        .await
        .map_err(err)?;
    let f2025 = frameworks::publish(db, &actor, f2025.model.id, &any)
        .await
        .map_err(err)?;
    for ((_, _, _, appraised, bonus), id) in NEW_COMMUNES.iter().zip(&new_ids) {
        loader
            .quick_file(
                &f2025,
                *id,
                Decimal::from_str(appraised)?,
                Decimal::from_str(bonus)?,
            )
            .await?;
    }
    results::publish(
        db,
        &actor,
        results::PublishRequest {
            parent_unit_id: province.id,
            year: 2025,
            decision_number: Some(format!("MH-01/QĐ-UBND ({ILLUSTRATIVE})")),
            decided_on: NaiveDate::from_ymd_opt(2025, 12, 30),
        },
    )
    .await
    .map_err(err)?;
    Ok(Some(Reorganised {
        province_id: province.id,
        new_commune_ids: new_ids,
        framework_id: f2025.model.id,
    }))
}
