//! The statuses of the records that follow a workflow, as types: stored as the same
//! snake_case strings as always, serialised the same way in the API, and described once in
//! the OpenAPI document. Which status may follow which is `parindex_api::workflow`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A status as stored (snake_case text), sent (the same names) and described once in
/// the OpenAPI document: every status enum has the same derives, kept here.
macro_rules! stored_status {
    ($(#[$meta:meta])* pub enum $name:ident { $($body:tt)* }) => {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            EnumIter,
            DeriveActiveEnum,
            Serialize,
            Deserialize,
            ToSchema,
        )]
        #[sea_orm(
            rs_type = "String",
            db_type = "String(StringLen::None)",
            rename_all = "snake_case"
        )]
        #[serde(rename_all = "snake_case")]
        $(#[$meta])*
        pub enum $name { $($body)* }
    };
}

stored_status! {
    /// Where a unit's self-assessment stands.
    pub enum SelfAssessmentStatus {
        /// Being filled by the unit.
        Draft,
        /// With the council; read-only to the unit.
        Submitted,
        /// Sent back for supplementation of some criteria.
        Returned,
        /// The council's appraisal is finalized.
        Appraised,
    }
}

stored_status! {
    /// Where the council's review of one leaf of a file stands.
    pub enum ReviewState {
        /// Nobody of the council has decided on it yet.
        Pending,
        /// Its agency's appraisers entered their figures (or agreed with the unit's).
        Scored,
        /// The consolidating appraisers decided on it (confirmed, overrode or entered it).
        Confirmed,
    }
}

stored_status! {
    /// Where the council's appraisal of a file stands.
    pub enum AppraisalStatus {
        /// Submitted; the council has not started (the unit may still withdraw).
        Pending,
        InProgress,
        Finalized,
    }
}

stored_status! {
    /// Where one item of a remediation plan stands.
    #[schema(as = ItemStatus)]
    pub enum RemediationItemStatus {
        NotStarted,
        InProgress,
        Done,
        /// Given up, with a reason.
        Cancelled,
    }
}

stored_status! {
    /// Where one milestone of a remediation item stands.
    pub enum MilestoneStatus {
        Pending,
        Met,
        /// Its date passed without it being met, and someone said so.
        Missed,
    }
}

stored_status! {
    /// Whether a framework can be assessed against yet.
    pub enum FrameworkStatus {
        Draft,
        Published,
    }
}

stored_status! {
    /// Where a unit's appeal (kiến nghị) stands.
    pub enum AppealStatus {
        /// Waiting for the council's answer (at most one per criterion of an appraisal).
        Open,
        /// The council agreed and changed its entry.
        Accepted,
        /// The council kept its score.
        Rejected,
    }
}

stored_status! {
    /// Where one delivery of a webhook event to one subscription stands.
    pub enum DeliveryStatus {
        /// Waiting for its next attempt (or being attempted by a dispatcher's lease).
        Pending,
        /// A receiver answered 2xx.
        Delivered,
        /// Every attempt failed; a redelivery makes it pending again.
        Failed,
    }
}

/// The name stored and sent on the wire (`in_progress`), as a `&'static str`, and the
/// words a Vietnamese message uses for it ("đang thực hiện").
macro_rules! wire_names {
    ($ty:ident { $($variant:ident => $name:literal / $vi:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }

            pub fn words_vi(self) -> &'static str {
                match self {
                    $($ty::$variant => $vi),*
                }
            }
        }
    };
}
wire_names!(SelfAssessmentStatus {
    Draft => "draft" / "bản nháp",
    Submitted => "submitted" / "đã nộp",
    Returned => "returned" / "bị trả lại để bổ sung",
    Appraised => "appraised" / "đã thẩm định",
});
wire_names!(AppraisalStatus {
    Pending => "pending" / "chờ thẩm định",
    InProgress => "in_progress" / "đang thẩm định",
    Finalized => "finalized" / "đã chốt kết quả",
});
wire_names!(RemediationItemStatus {
    NotStarted => "not_started" / "chưa thực hiện",
    InProgress => "in_progress" / "đang thực hiện",
    Done => "done" / "đã hoàn thành",
    Cancelled => "cancelled" / "đã hủy",
});
wire_names!(MilestoneStatus {
    Pending => "pending" / "đang chờ",
    Met => "met" / "đã đạt",
    Missed => "missed" / "không đạt",
});
wire_names!(AppealStatus {
    Open => "open" / "đang chờ trả lời",
    Accepted => "accepted" / "được chấp nhận",
    Rejected => "rejected" / "không được chấp nhận",
});
wire_names!(DeliveryStatus {
    Pending => "pending" / "đang chờ gửi",
    Delivered => "delivered" / "đã gửi",
    Failed => "failed" / "gửi không thành công",
});
wire_names!(FrameworkStatus {
    Draft => "draft" / "bản nháp",
    Published => "published" / "đã ban hành",
});

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ActiveEnum;

    /// The stored value, the JSON value and `as_str` are one name.
    fn agree<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: ActiveEnum<Value = String> + Serialize + Copy + std::fmt::Debug,
    {
        for v in all {
            assert_eq!(v.to_value(), as_str(*v), "{v:?}");
            assert_eq!(serde_json::to_value(v).unwrap(), as_str(*v), "{v:?}");
        }
    }

    #[test]
    fn stored_wire_and_str_names_agree() {
        agree(SelfAssessmentStatus::ALL, SelfAssessmentStatus::as_str);
        agree(AppraisalStatus::ALL, AppraisalStatus::as_str);
        agree(RemediationItemStatus::ALL, RemediationItemStatus::as_str);
        agree(FrameworkStatus::ALL, FrameworkStatus::as_str);
        agree(MilestoneStatus::ALL, MilestoneStatus::as_str);
        agree(AppealStatus::ALL, AppealStatus::as_str);
        agree(DeliveryStatus::ALL, DeliveryStatus::as_str);
    }
}
