//! Which status may follow which: the one state machine of self-assessments, appraisals,
//! appeals, remediation items and milestones, and webhook deliveries. Pure: services ask
//! it before they write a status, and write the status it answers; nothing else decides a
//! transition.
//!
//! Self-assessment: `draft` → `submitted` → (`returned` → `submitted`)* → `appraised`,
//! withdrawn back to `draft` while the council has not started, reopened to `submitted`.
//! Appraisal: `pending` → `in_progress` → `finalized`, reopened to `in_progress`.
//! Remediation item: `not_started` → `in_progress` → `done`, or `cancelled` from any open
//! status; a done item may be reopened and a cancelled one reinstated.
//! Milestone: `pending` → `met` or `missed`; a missed one may still be met (late), and a
//! mistaken mark goes back to `pending`.
//! Appeal: `open` → `accepted` or `rejected`, once.
//! Webhook delivery: `pending` → `delivered`, or `failed` after the last attempt; any
//! delivery may be sent again (`pending`).

use crate::error::{Text, text};
use entity::status::{
    AppealStatus, AppraisalStatus, DeliveryStatus, MilestoneStatus, RemediationItemStatus,
    SelfAssessmentStatus,
};

/// A refused transition: the stable code clients branch on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowError {
    pub code: &'static str,
    pub message: Text,
}

fn refused(code: &'static str, message: Text) -> WorkflowError {
    WorkflowError { code, message }
}

/// What happens to a self-assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileEvent {
    /// The unit changes entries (the status stays).
    Edit,
    /// A leader of the unit signs it off (the status stays).
    Approve,
    Submit,
    /// The unit takes a file the council has not started back.
    Withdraw,
    /// The council returns it for supplementation.
    Return,
    /// The council finalizes its appraisal.
    Appraise,
    /// An admin reopens the finalized appraisal.
    Reopen,
}

impl FileEvent {
    pub const ALL: [FileEvent; 7] = [
        FileEvent::Edit,
        FileEvent::Approve,
        FileEvent::Submit,
        FileEvent::Withdraw,
        FileEvent::Return,
        FileEvent::Appraise,
        FileEvent::Reopen,
    ];
}

/// The status a self-assessment in `from` takes on `event`.
pub fn self_assessment(
    from: SelfAssessmentStatus,
    event: FileEvent,
) -> Result<SelfAssessmentStatus, WorkflowError> {
    use FileEvent as E;
    use SelfAssessmentStatus as S;
    match (from, event) {
        (S::Draft | S::Returned, E::Edit | E::Approve) => Ok(from),
        (S::Draft | S::Returned, E::Submit) => Ok(S::Submitted),
        (S::Submitted, E::Withdraw) => Ok(S::Draft),
        (S::Submitted, E::Return) => Ok(S::Returned),
        (S::Submitted, E::Appraise) => Ok(S::Appraised),
        (S::Appraised, E::Reopen) => Ok(S::Submitted),
        (from, event) => {
            let (from, vi) = (from.as_str(), from.words_vi());
            Err(match event {
                E::Edit => refused(
                    "not_editable",
                    text!(
                        "the self-assessment is {from}: only a draft or a returned file can be edited",
                        "hồ sơ tự đánh giá đang ở trạng thái {vi}: chỉ sửa được bản nháp hoặc hồ sơ bị trả lại"
                    ),
                ),
                E::Approve => refused(
                    "not_approvable",
                    text!(
                        "the self-assessment is {from}: a leader approves a draft or a returned file before it is submitted",
                        "hồ sơ tự đánh giá đang ở trạng thái {vi}: lãnh đạo phê duyệt bản nháp hoặc hồ sơ bị trả lại trước khi nộp"
                    ),
                ),
                E::Submit => refused(
                    "not_submittable",
                    text!(
                        "the self-assessment is already {from}",
                        "hồ sơ tự đánh giá đã ở trạng thái {vi}"
                    ),
                ),
                E::Withdraw => refused(
                    "not_withdrawable",
                    text!(
                        "only a submitted file the council has not started appraising can be withdrawn",
                        "chỉ rút lại được hồ sơ đã nộp mà hội đồng chưa bắt đầu thẩm định"
                    ),
                ),
                E::Return => refused(
                    "not_returnable",
                    text!(
                        "the self-assessment is {from}; only a submitted file can be returned",
                        "hồ sơ tự đánh giá đang ở trạng thái {vi}; chỉ trả lại được hồ sơ đã nộp"
                    ),
                ),
                E::Appraise => refused(
                    "not_finalizable",
                    text!(
                        "the self-assessment is {from}: wait for the unit to resubmit",
                        "hồ sơ tự đánh giá đang ở trạng thái {vi}: chờ đơn vị nộp lại"
                    ),
                ),
                E::Reopen => refused(
                    "not_finalized",
                    text!(
                        "the self-assessment is {from}: only an appraised file is reopened",
                        "hồ sơ tự đánh giá đang ở trạng thái {vi}: chỉ mở lại được hồ sơ đã thẩm định"
                    ),
                ),
            })
        }
    }
}

/// What happens to an appraisal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppraisalEvent {
    /// The council enters scores or comments, sets the bonus, or returns the file.
    Work,
    Finalize,
    /// An admin reopens it.
    Reopen,
    /// The unit withdraws its file: a pending appraisal goes away.
    Withdraw,
}

impl AppraisalEvent {
    pub const ALL: [AppraisalEvent; 4] = [
        AppraisalEvent::Work,
        AppraisalEvent::Finalize,
        AppraisalEvent::Reopen,
        AppraisalEvent::Withdraw,
    ];
}

/// The status an appraisal in `from` takes on `event` (`Withdraw` answers `pending`: the
/// record is then deleted).
pub fn appraisal(
    from: AppraisalStatus,
    event: AppraisalEvent,
) -> Result<AppraisalStatus, WorkflowError> {
    use AppraisalEvent as E;
    use AppraisalStatus as A;
    match (from, event) {
        (A::Pending | A::InProgress, E::Work) => Ok(A::InProgress),
        (A::Pending | A::InProgress, E::Finalize) => Ok(A::Finalized),
        (A::Finalized, E::Reopen) => Ok(A::InProgress),
        (A::Pending, E::Withdraw) => Ok(A::Pending),
        (A::Finalized, E::Work | E::Finalize) => Err(refused(
            "finalized",
            text!(
                "the appraisal is finalized; an admin must reopen it first",
                "kết quả thẩm định đã chốt; quản trị viên phải mở lại trước"
            ),
        )),
        (_, E::Reopen) => Err(refused(
            "not_finalized",
            text!(
                "the appraisal is not finalized",
                "kết quả thẩm định chưa chốt"
            ),
        )),
        (_, E::Withdraw) => Err(refused(
            "not_withdrawable",
            text!(
                "the council has started appraising",
                "hội đồng đã bắt đầu thẩm định"
            ),
        )),
    }
}

/// The council's answer to an appeal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppealEvent {
    Accept,
    Reject,
}

impl AppealEvent {
    pub const ALL: [AppealEvent; 2] = [AppealEvent::Accept, AppealEvent::Reject];
}

/// The status an appeal in `from` takes on `event`: an appeal is answered once.
pub fn appeal(from: AppealStatus, event: AppealEvent) -> Result<AppealStatus, WorkflowError> {
    use AppealStatus as P;
    match (from, event) {
        (P::Open, AppealEvent::Accept) => Ok(P::Accepted),
        (P::Open, AppealEvent::Reject) => Ok(P::Rejected),
        (P::Accepted | P::Rejected, _) => Err(refused(
            "appeal_decided",
            text!(
                "the appeal was already answered",
                "kiến nghị đã được trả lời"
            ),
        )),
    }
}

/// What happens to a webhook delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryEvent {
    /// A receiver answered 2xx.
    Succeed,
    /// An attempt failed; `last` when no attempt is left.
    Fail { last: bool },
    /// Someone asks for it to be sent again.
    Redeliver,
}

impl DeliveryEvent {
    pub const ALL: [DeliveryEvent; 4] = [
        DeliveryEvent::Succeed,
        DeliveryEvent::Fail { last: false },
        DeliveryEvent::Fail { last: true },
        DeliveryEvent::Redeliver,
    ];
}

/// The status a delivery in `from` takes on `event`: only a pending delivery is attempted.
pub fn delivery(
    from: DeliveryStatus,
    event: DeliveryEvent,
) -> Result<DeliveryStatus, WorkflowError> {
    use DeliveryStatus as D;
    match (from, event) {
        (D::Pending, DeliveryEvent::Succeed) => Ok(D::Delivered),
        (D::Pending, DeliveryEvent::Fail { last: false }) => Ok(D::Pending),
        (D::Pending, DeliveryEvent::Fail { last: true }) => Ok(D::Failed),
        (_, DeliveryEvent::Redeliver) => Ok(D::Pending),
        (from, _) => {
            let (from, vi) = (from.as_str(), from.words_vi());
            Err(refused(
                "not_pending",
                text!(
                    "the delivery is {from}: only a pending delivery is attempted",
                    "lượt gửi đang ở trạng thái {vi}: chỉ lượt gửi đang chờ mới được gửi"
                ),
            ))
        }
    }
}

/// The status a remediation item in `from` takes when a progress report says `to`. A
/// report that restates the current status changes nothing.
pub fn remediation_item(
    from: RemediationItemStatus,
    to: RemediationItemStatus,
) -> Result<RemediationItemStatus, WorkflowError> {
    use RemediationItemStatus as R;
    match (from, to) {
        (from, to) if from == to => Ok(to),
        (R::NotStarted, R::InProgress | R::Done | R::Cancelled)
        | (R::InProgress, R::Done | R::Cancelled)
        | (R::Done, R::InProgress)
        | (R::Cancelled, R::NotStarted | R::InProgress) => Ok(to),
        (from, to) => {
            let (from_vi, to_vi) = (from.words_vi(), to.words_vi());
            let (from, to) = (from.as_str(), to.as_str());
            Err(refused(
                "invalid_transition",
                text!(
                    "an item that is {from} cannot become {to} (done items are reopened as \
                     in_progress, cancelled ones reinstated as not_started or in_progress)",
                    "nhiệm vụ {from_vi} không thể chuyển sang {to_vi} (nhiệm vụ đã hoàn thành \
                     mở lại thành đang thực hiện; nhiệm vụ đã hủy khôi phục thành chưa thực hiện \
                     hoặc đang thực hiện)"
                ),
            ))
        }
    }
}

/// The status a milestone in `from` takes when marked `to` (restating it changes only
/// its note and evidence).
pub fn milestone(
    from: MilestoneStatus,
    to: MilestoneStatus,
) -> Result<MilestoneStatus, WorkflowError> {
    use MilestoneStatus as M;
    match (from, to) {
        (from, to) if from == to => Ok(to),
        (M::Pending, M::Met | M::Missed)
        | (M::Missed, M::Met | M::Pending)
        | (M::Met, M::Pending) => Ok(to),
        (from, to) => {
            let (from_vi, to_vi) = (from.words_vi(), to.words_vi());
            let (from, to) = (from.as_str(), to.as_str());
            Err(refused(
                "invalid_transition",
                text!(
                    "a milestone that is {from} cannot become {to} (mark it pending first)",
                    "mốc {from_vi} không thể chuyển sang {to_vi} (đặt lại về chờ trước)"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppraisalStatus as A;
    use RemediationItemStatus as R;
    use SelfAssessmentStatus as S;

    /// Every (status, event) pair: the allowed ones with what follows, all others refused.
    #[test]
    fn self_assessment_transitions_table() {
        use FileEvent as E;
        let allowed = [
            (S::Draft, E::Edit, S::Draft),
            (S::Returned, E::Edit, S::Returned),
            (S::Draft, E::Approve, S::Draft),
            (S::Returned, E::Approve, S::Returned),
            (S::Draft, E::Submit, S::Submitted),
            (S::Returned, E::Submit, S::Submitted),
            (S::Submitted, E::Withdraw, S::Draft),
            (S::Submitted, E::Return, S::Returned),
            (S::Submitted, E::Appraise, S::Appraised),
            (S::Appraised, E::Reopen, S::Submitted),
        ];
        for &from in S::ALL {
            for event in E::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                match (self_assessment(from, event), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {event:?}"),
                    (Err(e), None) => assert!(e.code.starts_with("not_"), "{from:?} {event:?}"),
                    (got, want) => panic!("{from:?} {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn appraisal_transitions_table() {
        use AppraisalEvent as E;
        let allowed = [
            (A::Pending, E::Work, A::InProgress),
            (A::InProgress, E::Work, A::InProgress),
            (A::Pending, E::Finalize, A::Finalized),
            (A::InProgress, E::Finalize, A::Finalized),
            (A::Finalized, E::Reopen, A::InProgress),
            (A::Pending, E::Withdraw, A::Pending),
        ];
        for &from in A::ALL {
            for event in E::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                match (appraisal(from, event), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {event:?}"),
                    (Err(_), None) => {}
                    (got, want) => panic!("{from:?} {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(
            appraisal(A::Finalized, E::Work).unwrap_err().code,
            "finalized"
        );
    }

    #[test]
    fn appeal_transitions_table() {
        use AppealStatus as P;
        for &from in P::ALL {
            for event in AppealEvent::ALL {
                let got = appeal(from, event);
                match (from, event) {
                    (P::Open, AppealEvent::Accept) => assert_eq!(got, Ok(P::Accepted)),
                    (P::Open, AppealEvent::Reject) => assert_eq!(got, Ok(P::Rejected)),
                    _ => assert_eq!(got.unwrap_err().code, "appeal_decided", "{from:?}"),
                }
            }
        }
    }

    #[test]
    fn delivery_transitions_table() {
        use DeliveryStatus as D;
        let allowed = [
            (D::Pending, DeliveryEvent::Succeed, D::Delivered),
            (D::Pending, DeliveryEvent::Fail { last: false }, D::Pending),
            (D::Pending, DeliveryEvent::Fail { last: true }, D::Failed),
            (D::Pending, DeliveryEvent::Redeliver, D::Pending),
            (D::Delivered, DeliveryEvent::Redeliver, D::Pending),
            (D::Failed, DeliveryEvent::Redeliver, D::Pending),
        ];
        for &from in D::ALL {
            for event in DeliveryEvent::ALL {
                let want = allowed
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                match (delivery(from, event), want) {
                    (Ok(to), Some(want)) => assert_eq!(to, want),
                    (Err(e), None) => assert_eq!(e.code, "not_pending"),
                    (got, want) => panic!("{from:?} {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn milestone_transitions_table() {
        use MilestoneStatus as M;
        let allowed = [
            (M::Pending, M::Met),
            (M::Pending, M::Missed),
            (M::Missed, M::Met),
            (M::Missed, M::Pending),
            (M::Met, M::Pending),
        ];
        for &from in M::ALL {
            for &to in M::ALL {
                let ok = from == to || allowed.contains(&(from, to));
                assert_eq!(milestone(from, to).is_ok(), ok, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn remediation_item_transitions_table() {
        let allowed = [
            (R::NotStarted, R::InProgress),
            (R::NotStarted, R::Done),
            (R::NotStarted, R::Cancelled),
            (R::InProgress, R::Done),
            (R::InProgress, R::Cancelled),
            (R::Done, R::InProgress),
            (R::Cancelled, R::NotStarted),
            (R::Cancelled, R::InProgress),
        ];
        for &from in R::ALL {
            for &to in R::ALL {
                let ok = from == to || allowed.contains(&(from, to));
                match remediation_item(from, to) {
                    Ok(got) => assert!(ok && got == to, "{from:?} → {to:?}"),
                    Err(e) => assert!(!ok && e.code == "invalid_transition", "{from:?} → {to:?}"),
                }
            }
        }
    }
}
