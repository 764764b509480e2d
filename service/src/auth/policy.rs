//! The access policy, in one place: which role may do what to which unit.
//!
//! Handlers call `authorize(principal, action, unit)` with the unit the resource belongs
//! to; nothing else in the code base decides access. Scopes are unit subtrees:
//! - `admin`: everything;
//! - `appraiser` (formerly `district_appraiser`): its unit's subtree (frameworks, appraisals,
//!   rankings, publication). The appraiser of a provincial agency (sở, ban, ngành) is a
//!   *field appraiser*: it reads the files of its province's units and enters the council's
//!   figures there, for the criteria assigned to its agency only (`entries`, by the
//!   framework); bonus, finalization, releases, appeals and publication stay with the
//!   *consolidating* appraisers (the province's, or Sở Nội vụ's);
//! - `unit_officer`: its own unit only (self-assessments, evidence, staff, remediation) and,
//!   once published, its results (with those of the old units merged into it, kept
//!   inactive below it) and its parent's ranking;
//! - `viewer`: read-only over its subtree; published results only;
//! - `unit_leader`: reads what its unit's officers read, and signs off the unit's
//!   self-assessment (`ApproveSelfAssessment`); it does not fill it in.

use super::{Principal, Role, UnitRef};
use crate::error::{ApiError, ApiResult, Text, text};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create, change, deactivate accounts.
    ManageUsers,
    /// Read a unit's record (its subtree, or one of the caller's own ancestors).
    ReadUnit,
    /// Create or change units below the target (the target is the parent or the unit).
    ManageUnits,
    /// Add or change the officers of a unit.
    ManageStaff,
    /// Read a framework owned by the target unit.
    ReadFramework,
    /// Create, edit, publish, copy a framework owned by the target unit.
    ManageFrameworks,
    /// Read a unit's self-assessment and appraisal.
    ReadAssessment,
    /// Open, fill, submit, withdraw the unit's own self-assessment.
    EditSelfAssessment,
    /// Sign off the unit's self-assessment as its leader.
    ApproveSelfAssessment,
    /// Object (kiến nghị) to the council's preliminary score of one of the unit's criteria.
    FileAppeal,
    /// Enter the council's inputs and comments, return criteria for supplementation.
    Appraise,
    /// Settle a file as the consolidating appraisers do: bonus, finalize, answer appeals,
    /// extend deadlines, import survey results.
    Consolidate,
    /// Reopen a finalized appraisal.
    ReopenAppraisal,
    /// Publish a year's results of the units under the target.
    Publish,
    /// Read a unit's index and details (`published`: are its results published?).
    ReadResults { published: bool },
    /// Read the ranking of the units under the target parent.
    ReadRanking { published: bool },
    /// Read a unit's remediation plan.
    ReadRemediation,
    /// Create a remediation plan from the unit's appraisal.
    CreateRemediation,
    /// Edit items of the unit's plan and report progress.
    ManageRemediation,
    /// Comment on the progress of the unit's plan.
    CommentRemediation,
    /// Read the audit trail of the unit (who may read its assessments may read their trail).
    ReadAudit,
    /// Read the unit's evidence files (who may read its assessments may read their files).
    ReadEvidence,
    /// Upload and delete the unit's evidence files.
    ManageEvidence,
    /// Subscribe to the events of the unit's subtree (webhooks), and manage those
    /// subscriptions.
    ManageWebhooks,
}

impl Action {
    /// What the action does, in plain words, for refusals ("may not …").
    /// What the action is, in words for a refusal: "manage accounts".
    pub fn describe(self) -> Text {
        match self {
            Action::ManageUsers => text!("manage accounts", "quản lý tài khoản"),
            Action::ReadUnit => text!("read this unit", "xem đơn vị này"),
            Action::ManageUnits => text!("change units here", "thay đổi đơn vị ở đây"),
            Action::ManageStaff => text!(
                "change this unit's officers",
                "thay đổi công chức của đơn vị này"
            ),
            Action::ReadFramework => text!("read this framework", "xem bộ tiêu chí này"),
            Action::ManageFrameworks => {
                text!("change frameworks here", "thay đổi bộ tiêu chí ở đây")
            }
            Action::ReadAssessment => text!(
                "read this unit's assessments",
                "xem hồ sơ đánh giá của đơn vị này"
            ),
            Action::EditSelfAssessment => text!(
                "edit this unit's self-assessment",
                "sửa hồ sơ tự đánh giá của đơn vị này"
            ),
            Action::ApproveSelfAssessment => text!(
                "approve this unit's self-assessment",
                "phê duyệt hồ sơ tự đánh giá của đơn vị này"
            ),
            Action::FileAppeal => text!(
                "appeal this unit's preliminary results",
                "kiến nghị về kết quả thẩm định sơ bộ của đơn vị này"
            ),
            Action::Appraise => text!("appraise this unit", "thẩm định đơn vị này"),
            Action::Consolidate => text!(
                "consolidate this unit's appraisal (bonus, finalization, appeals, deadlines)",
                "tổng hợp kết quả thẩm định của đơn vị này (điểm thưởng, chốt kết quả, kiến nghị, gia hạn)"
            ),
            Action::ReopenAppraisal => text!("reopen an appraisal", "mở lại kết quả thẩm định"),
            Action::Publish => text!("publish results here", "công bố kết quả ở đây"),
            Action::ReadResults { .. } => {
                text!("read this unit's results", "xem kết quả của đơn vị này")
            }
            Action::ReadRanking { .. } => text!("read this ranking", "xem bảng xếp hạng này"),
            Action::ReadRemediation => text!(
                "read this unit's remediation plan",
                "xem kế hoạch khắc phục của đơn vị này"
            ),
            Action::CreateRemediation => text!(
                "make this unit's remediation plan",
                "lập kế hoạch khắc phục của đơn vị này"
            ),
            Action::ManageRemediation => text!(
                "change this unit's remediation plan",
                "thay đổi kế hoạch khắc phục của đơn vị này"
            ),
            Action::CommentRemediation => text!(
                "comment on this unit's remediation plan",
                "góp ý kế hoạch khắc phục của đơn vị này"
            ),
            Action::ReadAudit => text!(
                "read this unit's audit trail",
                "xem nhật ký thay đổi của đơn vị này"
            ),
            Action::ReadEvidence => text!(
                "read this unit's evidence files",
                "xem tài liệu kiểm chứng của đơn vị này"
            ),
            Action::ManageWebhooks => text!(
                "manage webhooks of this unit",
                "quản lý webhook của đơn vị này"
            ),
            Action::ManageEvidence => text!(
                "upload or delete this unit's evidence files",
                "tải lên hoặc xóa tài liệu kiểm chứng của đơn vị này"
            ),
        }
    }
}

/// Which units' records a principal may read (assessments, appraisals, plans, the trail;
/// units and frameworks add the ancestors of its unit). One value, decided here per role
/// with no default: a new role must be given a scope before the code compiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadScope {
    /// Everything (admins).
    All,
    /// The unit and everything below it (appraisers, viewers).
    Subtree(UnitRef),
    /// The unit itself (its officers).
    Own(UnitRef),
    /// Nothing (an account without a unit that is not an admin).
    Nothing,
}

pub fn read_scope(principal: &Principal) -> ReadScope {
    match (principal.role, &principal.unit) {
        (Role::Admin, _) => ReadScope::All,
        (Role::Appraiser, Some(_)) if field_appraiser(principal) => match reach(principal) {
            Some(province) => ReadScope::Subtree(province),
            None => ReadScope::Nothing,
        },
        (Role::Appraiser | Role::Viewer, Some(own)) => ReadScope::Subtree(own.clone()),
        (Role::UnitOfficer | Role::UnitLeader, Some(own)) => ReadScope::Own(own.clone()),
        (Role::Appraiser | Role::Viewer | Role::UnitOfficer | Role::UnitLeader, None) => {
            ReadScope::Nothing
        }
    }
}

impl ReadScope {
    /// May the records of `unit` be read?
    pub fn covers(&self, unit: &UnitRef) -> bool {
        match self {
            ReadScope::All => true,
            ReadScope::Subtree(own) => unit.is_within(own),
            ReadScope::Own(own) => unit.id == own.id,
            ReadScope::Nothing => false,
        }
    }

    /// The unit whose subtree the scope is (or `None` for all and nothing).
    pub fn unit(&self) -> Option<&UnitRef> {
        match self {
            ReadScope::Subtree(u) | ReadScope::Own(u) => Some(u),
            ReadScope::All | ReadScope::Nothing => None,
        }
    }
}

/// An appraiser of a provincial agency: appraises its agency's criteria over the province.
pub fn field_appraiser(principal: &Principal) -> bool {
    principal.role == Role::Appraiser && principal.agency
}

/// The unit whose subtree the principal works on: its own, or for a field appraiser the
/// province its agency serves.
fn reach(principal: &Principal) -> Option<UnitRef> {
    let own = principal.unit.as_ref()?;
    if field_appraiser(principal) {
        own.parent()
    } else {
        Some(own.clone())
    }
}

/// `unit` is within the principal's reach (`reach`).
fn reached(principal: &Principal, unit: &UnitRef) -> bool {
    reach(principal).is_some_and(|r| unit.is_within(&r))
}

fn within(principal: &Principal, unit: &UnitRef) -> bool {
    principal
        .unit
        .as_ref()
        .is_some_and(|own| unit.is_within(own))
}

fn own(principal: &Principal, unit: &UnitRef) -> bool {
    principal.unit.as_ref().is_some_and(|own| own.id == unit.id)
}

/// The caller's own unit is inside `unit` (e.g. a commune officer reading its district).
fn beneath(principal: &Principal, unit: &UnitRef) -> bool {
    principal
        .unit
        .as_ref()
        .is_some_and(|own| own.is_within(unit))
}

/// Whether `principal` may do `action` on (the data of) `unit`.
pub fn allows(principal: &Principal, action: Action, unit: &UnitRef) -> bool {
    use Action::*;
    use Role::*;
    // A leader's sign-off is a person's signature under "CHỦ TỊCH": nobody signs in their
    // place, not even an admin.
    if action == ApproveSelfAssessment {
        return principal.role == UnitLeader && own(principal, unit);
    }
    if principal.role == Admin {
        return true;
    }
    let role = principal.role;
    if field_appraiser(principal) {
        return match action {
            ReadUnit | ReadFramework => {
                reached(principal, unit) || beneath(principal, unit) || within(principal, unit)
            }
            ReadAssessment | ReadAudit | ReadEvidence | Appraise | ReadResults { .. } => {
                reached(principal, unit)
            }
            ReadRanking { published } => published && reached(principal, unit),
            ReadRemediation => reached(principal, unit),
            _ => false,
        };
    }
    match action {
        ManageUsers | ReopenAppraisal => false,
        ReadUnit | ReadFramework => within(principal, unit) || beneath(principal, unit),
        ManageUnits | ManageFrameworks | Appraise | Consolidate | Publish => {
            role == Appraiser && within(principal, unit)
        }
        ManageStaff => match role {
            Appraiser => within(principal, unit),
            UnitOfficer => own(principal, unit),
            _ => false,
        },
        ReadAssessment | ReadRemediation | ReadAudit | ReadEvidence => {
            read_scope(principal).covers(unit)
        }
        EditSelfAssessment | ManageRemediation | ManageEvidence => {
            role == UnitOfficer && own(principal, unit)
        }
        ApproveSelfAssessment => role == UnitLeader && own(principal, unit),
        FileAppeal => matches!(role, UnitOfficer | UnitLeader) && own(principal, unit),
        CreateRemediation | CommentRemediation => match role {
            Appraiser => within(principal, unit),
            UnitOfficer => own(principal, unit),
            _ => false,
        },
        ManageWebhooks => match role {
            Appraiser => within(principal, unit),
            UnitOfficer => own(principal, unit),
            Viewer | UnitLeader | Admin => role == Admin,
        },
        ReadResults { published } => match role {
            Appraiser => within(principal, unit),
            Viewer => published && within(principal, unit),
            // Its own unit and the old units merged into it (kept below it).
            UnitOfficer | UnitLeader => published && within(principal, unit),
            Admin => true,
        },
        ReadRanking { published } => match role {
            Appraiser => within(principal, unit),
            Viewer | UnitOfficer | UnitLeader => {
                published && (within(principal, unit) || beneath(principal, unit))
            }
            Admin => true,
        },
    }
}

/// May `principal` read a published ranking of the units under `parent`? Whoever may read
/// the ranking, or the published results of one unit it ranked: a commune that moved out
/// of the district that announced its result (2025's reorganisation) still reads the
/// ranking it was announced in.
pub fn allows_published_ranking(
    principal: &Principal,
    parent: &UnitRef,
    ranked: &[UnitRef],
) -> bool {
    allows(principal, Action::ReadRanking { published: true }, parent)
        || ranked
            .iter()
            .any(|u| allows(principal, Action::ReadResults { published: true }, u))
}

/// `allows`, as a 403 problem saying what was refused.
pub fn authorize(principal: &Principal, action: Action, unit: &UnitRef) -> ApiResult<()> {
    if allows(principal, action, unit) {
        return Ok(());
    }
    let detail = match action {
        Action::ReadResults { published: false } | Action::ReadRanking { published: false }
            if matches!(
                principal.role,
                Role::UnitOfficer | Role::UnitLeader | Role::Viewer
            ) =>
        {
            text!(
                "these results are not published yet",
                "kết quả này chưa được công bố"
            )
        }
        _ => {
            let role = principal.role.as_str().replace('_', " ");
            let role_vi = principal.role.words_vi();
            let action = action.describe();
            let (what, what_vi) = (action.en, action.vi);
            text!(
                "this account ({role}) may not {what}",
                "tài khoản này ({role_vi}) không được {what_vi}"
            )
        }
    };
    Err(ApiError::forbidden(detail))
}

/// For operations with no unit (e.g. managing accounts): admins only.
pub fn require_admin(principal: &Principal) -> ApiResult<()> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(text!(
            "only an admin may do this",
            "chỉ quản trị viên được làm việc này"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    fn unit(id: i64, path: &str) -> UnitRef {
        UnitRef {
            id,
            path: path.to_string(),
        }
    }

    fn who(role: Role, own: Option<UnitRef>) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            role,
            unit: own,
            agency: false,
            request_id: None,
            key: None,
        }
    }

    #[test]
    fn after_the_map_changes_a_commune_keeps_its_announced_ranking_and_history() {
        // Commune 23 moved from district 5 to directly under province 1; commune 30 merged
        // into commune 40 and is kept below it.
        let district = unit(5, "/1/5/");
        let moved = unit(23, "/1/23/");
        let merged_away = unit(30, "/1/40/30/");
        let merged_into = unit(40, "/1/40/");
        let officer = who(Role::UnitOfficer, Some(moved.clone()));
        assert!(!allows(
            &officer,
            ReadRanking { published: true },
            &district
        ));
        assert!(allows_published_ranking(
            &officer,
            &district,
            std::slice::from_ref(&moved)
        ));
        assert!(!allows_published_ranking(
            &officer,
            &district,
            std::slice::from_ref(&merged_away)
        ));
        let new_officer = who(Role::UnitOfficer, Some(merged_into));
        assert!(allows(
            &new_officer,
            ReadResults { published: true },
            &merged_away
        ));
        assert!(!allows(
            &new_officer,
            ReadResults { published: false },
            &merged_away
        ));
        assert!(!allows(&new_officer, EditSelfAssessment, &merged_away));
        let province = who(Role::Appraiser, Some(unit(1, "/1/")));
        assert!(allows(
            &province,
            ReadResults { published: false },
            &merged_away
        ));
        let other = who(Role::Viewer, Some(unit(9, "/9/")));
        assert!(!allows_published_ranking(
            &other,
            &district,
            &[moved, merged_away]
        ));
    }

    #[test]
    fn scopes_follow_the_unit_tree() {
        let province = unit(1, "/1/");
        let district = unit(5, "/1/5/");
        let commune_a = unit(23, "/1/5/23/");
        let commune_b = unit(24, "/1/5/24/");
        let other_district = unit(6, "/1/6/");

        let appraiser = who(Role::Appraiser, Some(district.clone()));
        assert!(allows(&appraiser, Appraise, &commune_a));
        assert!(allows(&appraiser, Publish, &district));
        assert!(!allows(&appraiser, Appraise, &other_district));
        assert!(!allows(&appraiser, EditSelfAssessment, &commune_a));
        assert!(!allows(&appraiser, ManageUsers, &district));
        assert!(
            allows(&appraiser, ReadFramework, &province),
            "reads what is above it"
        );

        let officer = who(Role::UnitOfficer, Some(commune_a.clone()));
        assert!(allows(&officer, EditSelfAssessment, &commune_a));
        assert!(!allows(&officer, EditSelfAssessment, &commune_b));
        assert!(!allows(&officer, ReadAssessment, &commune_b));
        assert!(!allows(&officer, Appraise, &commune_a));
        assert!(allows(&officer, ReadFramework, &district));
        assert!(!allows(
            &officer,
            ReadResults { published: false },
            &commune_a
        ));
        assert!(allows(
            &officer,
            ReadResults { published: true },
            &commune_a
        ));
        assert!(!allows(
            &officer,
            ReadResults { published: true },
            &commune_b
        ));
        assert!(allows(&officer, ReadRanking { published: true }, &district));
        assert!(!allows(
            &officer,
            ReadRanking { published: false },
            &district
        ));
        assert!(!allows(
            &officer,
            ReadRanking { published: true },
            &other_district
        ));

        let viewer = who(Role::Viewer, Some(district.clone()));
        assert!(allows(&viewer, ReadAssessment, &commune_b));
        assert!(!allows(&viewer, EditSelfAssessment, &commune_b));
        assert!(!allows(&viewer, ManageStaff, &commune_b));

        let admin = who(Role::Admin, None);
        assert!(allows(&admin, ReopenAppraisal, &commune_b));
        assert!(allows(&admin, ManageUsers, &province));
    }

    #[test]
    fn an_agency_appraiser_appraises_over_its_province_and_consolidates_nothing() {
        let province = unit(1, "/1/");
        let agency = unit(7, "/1/7/");
        let commune = unit(23, "/1/23/");
        let elsewhere = unit(90, "/90/91/");
        let field = Principal {
            agency: true,
            ..who(Role::Appraiser, Some(agency.clone()))
        };
        assert!(field_appraiser(&field));
        assert!(allows(&field, Appraise, &commune));
        assert!(allows(&field, ReadAssessment, &commune));
        assert!(allows(&field, ReadEvidence, &commune));
        assert!(allows(&field, ReadFramework, &province));
        assert!(!allows(&field, Appraise, &elsewhere));
        assert!(!allows(&field, ReadAssessment, &elsewhere));
        for refused in [
            Consolidate,
            Publish,
            ManageFrameworks,
            ManageUnits,
            ManageStaff,
        ] {
            assert!(!allows(&field, refused, &commune), "{refused:?}");
            assert!(!allows(&field, refused, &province), "{refused:?}");
        }
        assert!(!allows(&field, ReadRanking { published: false }, &province));
        assert_eq!(read_scope(&field), ReadScope::Subtree(province.clone()));
        // The province's own appraiser consolidates.
        let consolidator = who(Role::Appraiser, Some(province));
        assert!(allows(&consolidator, Consolidate, &commune));
        assert!(!field_appraiser(&consolidator));
        // An agency's officer is not an appraiser: it works on its own unit only.
        let officer = Principal {
            agency: true,
            ..who(Role::UnitOfficer, Some(agency.clone()))
        };
        assert!(!allows(&officer, Appraise, &commune));
        assert!(allows(&officer, EditSelfAssessment, &agency));
    }

    #[test]
    fn read_scopes_follow_roles() {
        let district = unit(5, "/1/5/");
        let commune = unit(23, "/1/5/23/");
        let other = unit(24, "/1/5/24/");
        assert_eq!(read_scope(&who(Role::Admin, None)), ReadScope::All);
        let appraiser = read_scope(&who(Role::Appraiser, Some(district.clone())));
        assert!(appraiser.covers(&commune) && appraiser.covers(&other));
        let officer = read_scope(&who(Role::UnitOfficer, Some(commune.clone())));
        assert!(officer.covers(&commune) && !officer.covers(&other) && !officer.covers(&district));
        for role in [Role::Appraiser, Role::UnitOfficer, Role::Viewer] {
            assert_eq!(read_scope(&who(role, None)), ReadScope::Nothing, "{role:?}");
        }
    }

    #[test]
    fn refusals_are_403_problems() {
        let officer = who(Role::UnitOfficer, Some(unit(23, "/1/5/23/")));
        let e = authorize(
            &officer,
            ReadResults { published: false },
            &unit(23, "/1/5/23/"),
        )
        .unwrap_err();
        assert_eq!(e.status().as_u16(), 403);
        assert!(e.detail().contains("not published"));
        assert_eq!(require_admin(&officer).unwrap_err().status().as_u16(), 403);
    }
}
