//! Examples of the request bodies and main responses for the OpenAPI document: what a front-end developer
//! sees in Swagger UI and generated clients show. Each parses as the type it illustrates
//! (tested below), so none drifts from what the server accepts.

use serde_json::{Value, json};

pub fn appraisal_entries_request() -> Value {
    json!({
        "entries": [
            {
                "criterion_code": "3.12.2",
                "numerator": 112,
                "denominator": 118,
                "comment": "Hội đồng xác định lại số hồ sơ đúng hạn theo Hệ thống thông tin giải quyết TTHC"
            },
            {
                "criterion_code": "1.5.3",
                "score": "0",
                "comment": "Không có tài liệu kiểm chứng"
            },
            {
                "criterion_code": "2.1",
                "reset": true
            },
            {
                "criterion_code": "7.2.1",
                "score": "3",
                "override_reason": "Số liệu trích từ hệ thống QLVB tỉnh quý IV"
            },
            {
                "criterion_code": "1.4.1",
                "confirm": true
            }
        ]
    })
}

pub fn bonus_request() -> Value {
    json!({
        "points": "1.00",
        "reason": "Mô hình \"Một cửa thân thiện\" được UBND huyện khen thưởng"
    })
}

pub fn change_password_request() -> Value {
    json!({
        "current_password": "demo-password-2023",
        "new_password": "a-longer-passphrase-2024"
    })
}

pub fn comment_request() -> Value {
    json!({
        "note": "Phòng Nội vụ huyện đề nghị báo cáo kết quả trước ngày 15/6"
    })
}

pub fn copy_framework_request() -> Value {
    json!({
        "year": 2024,
        "name": "Bộ chỉ số CCHC cấp xã năm 2024"
    })
}

pub fn create_plan_request() -> Value {
    json!({
        "appraisal_id": 7,
        "milestones": [
            {
                "label": "đợt 1",
                "due_on": "2024-10-31"
            },
            {
                "label": "đợt 2",
                "due_on": "2024-12-15"
            }
        ]
    })
}

pub fn create_staff_request() -> Value {
    json!({
        "full_name": "Nguyễn Thị Liên",
        "title": "Công chức Văn phòng - Thống kê"
    })
}

pub fn create_unit_request() -> Value {
    json!({
        "code": "19744",
        "name": "Xã Vĩnh Long",
        "kind": "commune",
        "parent_id": 2
    })
}

pub fn create_user_request() -> Value {
    json!({
        "username": "vinhlong.vp",
        "password": "a-long-initial-password",
        "full_name": "Nguyễn Thị Liên",
        "role": "unit_officer",
        "unit_id": 5
    })
}

pub fn criteria_body() -> Value {
    json!({
        "criteria": [
            {
                "code": "1",
                "title": "Công tác chỉ đạo, điều hành CCHC",
                "max_score": "100.00",
                "appraised_by_unit_id": 7
            },
            {
                "code": "1.1",
                "title": "Kế hoạch CCHC năm",
                "max_score": "60.00",
                "method": {
                    "type": "manual"
                },
                "scorer": "self"
            },
            {
                "code": "1.2",
                "title": "Tỷ lệ hồ sơ giải quyết đúng hạn",
                "max_score": "40.00",
                "method": {
                    "type": "ratio"
                },
                "scorer": "self"
            }
        ]
    })
}

pub fn deadline_extension_request() -> Value {
    json!({
        "until": "2023-12-08",
        "reason": "Xã bị ảnh hưởng bởi mưa lũ, đề nghị gia hạn 1 tuần"
    })
}

pub fn framework_body() -> Value {
    json!({
        "year": 2023,
        "name": "Bộ chỉ số CCHC cấp xã năm 2023",
        "owner_unit_id": 2,
        "unit_kinds": [
            "commune",
            "town"
        ],
        "na_policy": "full_score",
        "bonus_max": "5.00",
        "submission_deadline": "2023-11-30",
        "rating_bands": [
            {
                "label": "Tốt",
                "min_index": "90.00"
            },
            {
                "label": "Khá",
                "min_index": "80.00"
            },
            {
                "label": "Trung bình",
                "min_index": "65.00"
            }
        ],
        "criteria": [
            {
                "code": "1",
                "title": "Công tác chỉ đạo, điều hành CCHC",
                "max_score": "100.00"
            },
            {
                "code": "1.1",
                "title": "Kế hoạch CCHC năm",
                "max_score": "60.00",
                "method": {
                    "type": "manual"
                },
                "scorer": "self"
            },
            {
                "code": "1.2",
                "title": "Tỷ lệ hồ sơ giải quyết đúng hạn",
                "max_score": "40.00",
                "method": {
                    "type": "ratio"
                },
                "scorer": "self"
            }
        ]
    })
}

pub fn login_request() -> Value {
    json!({
        "username": "vinhlong.vanphong",
        "password": "demo-password-2023"
    })
}

pub fn milestone_request() -> Value {
    json!({
        "status": "met",
        "met_on": "2024-01-29",
        "note": "Đã ban hành Kế hoạch số 12/KH-UBND",
        "evidence": [
            {
                "title": "Kế hoạch kiểm tra CCHC năm 2024",
                "number": "12/KH-UBND",
                "issued_on": "2024-01-29"
            }
        ]
    })
}

pub fn new_item_request() -> Value {
    json!({
        "title": "Tỷ lệ hồ sơ TTHC tiếp nhận trực tuyến đạt từ 50% trở lên",
        "action": "Hướng dẫn người dân nộp hồ sơ trực tuyến tại bộ phận một cửa",
        "officers": [
            {
                "staff_id": 12,
                "role": "lead"
            }
        ],
        "bodies": [
            "Đoàn Thanh niên xã"
        ],
        "milestones": [
            {
                "label": "hạn",
                "due_on": "2024-12-31"
            }
        ],
        "target": {
            "value": "50",
            "unit": "%",
            "direction": "at_least"
        }
    })
}

pub fn open_self_assessment_request() -> Value {
    json!({
        "unit_id": 5,
        "framework_id": 1
    })
}

pub fn progress_request() -> Value {
    json!({
        "note": "Tháng 3 đạt 52% hồ sơ trực tuyến",
        "status": "in_progress",
        "measured": "52",
        "measured_on": "2024-03-31",
        "evidence": [
            {
                "title": "Báo cáo tình hình giải quyết TTHC quý I",
                "number": "35/BC-UBND",
                "issued_on": "2024-04-02"
            }
        ]
    })
}

pub fn publication_request() -> Value {
    json!({
        "parent_unit_id": 2,
        "year": 2023,
        "decision_number": "4006/TB-HĐTĐ",
        "decided_on": "2023-12-29"
    })
}

pub fn webhook_request() -> Value {
    json!({
        "url": "https://hcc.quangtri.gov.vn/parindex-hook",
        "events": ["self_assessment.returned", "results.published", "remediation.milestone_overdue"],
        "unit_id": 13,
        "description": "Hệ thống một cửa của UBND xã Vĩnh Long"
    })
}

pub fn unit_merge_request() -> Value {
    json!({
        "from_unit_ids": [21, 22, 23],
        "into_unit_id": 40,
        "effective_on": "2025-07-01",
        "decision": "1687/NQ-UBTVQH15",
        "reassign_officers": true
    })
}

pub fn reopen_request() -> Value {
    json!({
        "reason": "Kiến nghị của UBND xã được Hội đồng chấp nhận tại cuộc họp ngày 05/01/2024"
    })
}

pub fn return_request() -> Value {
    json!({
        "note": "Đề nghị bổ sung tài liệu kiểm chứng cho các tiêu chí 1.5.3 và 2.4.2",
        "criteria": [
            "1.5.3",
            "2.4.2"
        ]
    })
}

pub fn self_entries_request() -> Value {
    json!({
        "entries": [
            {
                "criterion_code": "3.12.2",
                "numerator": 118,
                "denominator": 118,
                "explanation": "118/118 hồ sơ giải quyết đúng hạn",
                "evidence": [
                    {
                        "title": "Báo cáo kết quả giải quyết TTHC năm 2023",
                        "number": "19/BC-UBND",
                        "issued_on": "2023-11-20",
                        "url": "https://vinhlong.example.gov.vn/bc-19.pdf"
                    }
                ]
            },
            {
                "criterion_code": "1.1",
                "done": true
            },
            {
                "criterion_code": "2.3",
                "not_applicable": true,
                "explanation": "Không phát sinh trong năm"
            }
        ]
    })
}

pub fn update_item_request() -> Value {
    json!({
        "action": "Ban hành kế hoạch kiểm tra CCHC năm 2024",
        "officers": [
            {
                "staff_id": 12,
                "role": "lead"
            },
            {
                "staff_id": 15,
                "role": "support"
            }
        ],
        "bodies": [
            "UBMT xã"
        ],
        "milestones": [
            {
                "label": "hạn",
                "due_on": "2024-01-31"
            }
        ]
    })
}

pub fn update_staff_request() -> Value {
    json!({
        "title": "Phó Chủ tịch UBND xã",
        "user_id": null
    })
}

pub fn update_unit_request() -> Value {
    json!({
        "name": "Xã Vĩnh Long",
        "active": true
    })
}

pub fn update_user_request() -> Value {
    json!({
        "role": "viewer",
        "active": true
    })
}

// Responses: the demo district's figures (`parindex demo-data`), trimmed.

pub fn token_response() -> Value {
    json!({
        "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIiwicm9sZSI6ImRpc3RyaWN0X2FwcHJhaXNlciJ9.oDHcsdqYviuVr29RsXtrvDZCohETYRYnbvkGBb1-n9Y",
        "token_type": "Bearer",
        "expires_in": 3600
    })
}

pub fn unit_response() -> Value {
    json!({
        "id": 13,
        "code": "19744",
        "name": "Xã Vĩnh Long",
        "kind": "commune",
        "parent_id": 2,
        "depth": 2,
        "active": true,
        "created_at": "2023-01-05T02:00:00Z",
        "updated_at": "2023-01-05T02:00:00Z"
    })
}

pub fn unit_index_response() -> Value {
    json!({
        "unit_id": 13,
        "unit_name": "Xã Vĩnh Long",
        "year": 2023,
        "appraisal_id": 22,
        "self_total": "90.88",
        "appraised_total": "87.25",
        "bonus": "1.00",
        "penalty_total": "0.00",
        "components": [],
        "index": "88.25",
        "rating_band": "Khá",
        "deduction_total": "12.75",
        "rank": 11,
        "ranked_units": 18,
        "previous": {
            "year": 2022,
            "index": "86.39",
            "rank": 8
        },
        "index_change": "1.86",
        "rank_change": -3,
        "fields": [
            {
                "code": "1",
                "title": "Công tác chỉ đạo, điều hành cải cách hành chính",
                "max_score": "15.00",
                "self_score": "13.43",
                "appraised_score": "11.33"
            },
            {
                "code": "2",
                "title": "Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật",
                "max_score": "8.00",
                "self_score": "6.50",
                "appraised_score": "6.50"
            }
        ],
        "deductions": [
            {
                "criterion_code": "1.4.1",
                "title": "Mức độ thực hiện kế hoạch tuyên truyền CCHC đã ban hành",
                "max_score": "1.00",
                "self_score": "1.00",
                "appraised_score": "0.80",
                "deduction": "0.20",
                "repeat_loss": false,
                "comment": "Kế hoạch tuyên truyền CCHC chưa được xây dựng cụ thể, chưa xác định rõ kết quả/sản phẩm đầu ra, rõ trách nhiệm triển khai, chi tiết mốc thời gian hoàn thành trong năm. Do đó, đơn vị chưa thống kê được tất cả bao nhiêu nhiệm vụ phải thực hiện trong năm để thống kê được cụ thể đã hoàn thành bao nhiêu nhiệm vụ, còn chung chung."
            },
            {
                "criterion_code": "1.4.2",
                "title": "Mức độ đa dạng trong tuyên truyền CCHC",
                "max_score": "2.00",
                "self_score": "1.00",
                "appraised_score": "1.50",
                "deduction": "0.50",
                "repeat_loss": false,
                "comment": "Đơn vị có tuyên truyền lồng ghép Tọa đàm công tác CCHC trong HN đối thoại tuy nhiên chưa bổ sung thể hiện kết quả tuyên truyền của cuộc tọa đàm (đã yêu cầu bổ sung lần 1 trong năm 2023)"
            }
        ],
        "predecessors": []
    })
}

pub fn ranking_response() -> Value {
    json!({
        "parent_unit_id": 2,
        "year": 2023,
        "depth": "children",
        "kind_group": "local",
        "published": true,
        "ranked_units": 18,
        "items": [
            {
                "unit_id": 3,
                "unit_name": "Thị trấn Hồ Xá",
                "unit_code": "19700",
                "rank": 1,
                "index": "95.10",
                "self_total": "100.00",
                "appraised_total": "95.10",
                "bonus": "0.00",
                "penalty_total": "0.00",
                "components": [],
                "rating_band": "Tốt",
                "previous_rank": 1,
                "previous_index": "93.50",
                "rank_change": 0,
                "index_change": "1.60"
            },
            {
                "unit_id": 13,
                "unit_name": "Xã Vĩnh Long",
                "unit_code": "19744",
                "rank": 11,
                "index": "88.25",
                "self_total": "90.88",
                "appraised_total": "87.25",
                "bonus": "1.00",
                "penalty_total": "0.00",
                "components": [],
                "rating_band": "Khá",
                "previous_rank": 8,
                "previous_index": "86.39",
                "rank_change": -3,
                "index_change": "1.86"
            }
        ],
        "unranked": [
            {
                "unit_id": 21,
                "unit_name": "Xã Vĩnh Thái",
                "unit_code": "19759",
                "status": "returned"
            }
        ],
        "summary": {
            "count": 18,
            "mean": "88.73",
            "median": "89.10",
            "min": "81.05",
            "max": "95.10",
            "bands": [
                {
                    "label": "Tốt",
                    "count": 7
                },
                {
                    "label": "Khá",
                    "count": 11
                }
            ]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses<T: serde::de::DeserializeOwned>(name: &str, example: Value) {
        if let Err(e) = serde_json::from_value::<T>(example) {
            panic!("the example of {name} does not parse: {e}");
        }
    }

    #[test]
    fn every_example_parses_as_its_type() {
        parses::<crate::routes::appraisals::AppraisalEntriesRequest>(
            "AppraisalEntriesRequest",
            appraisal_entries_request(),
        );
        parses::<crate::routes::appraisals::BonusRequest>("BonusRequest", bonus_request());
        parses::<crate::routes::auth::ChangePasswordRequest>(
            "ChangePasswordRequest",
            change_password_request(),
        );
        parses::<crate::routes::remediation::CommentRequest>("CommentRequest", comment_request());
        parses::<crate::routes::frameworks::CopyFrameworkRequest>(
            "CopyFrameworkRequest",
            copy_framework_request(),
        );
        parses::<crate::routes::remediation::CreatePlanRequest>(
            "CreatePlanRequest",
            create_plan_request(),
        );
        parses::<crate::routes::units::CreateStaffRequest>(
            "CreateStaffRequest",
            create_staff_request(),
        );
        parses::<crate::routes::units::CreateUnitRequest>(
            "CreateUnitRequest",
            create_unit_request(),
        );
        parses::<crate::routes::users::CreateUserRequest>(
            "CreateUserRequest",
            create_user_request(),
        );
        parses::<crate::routes::frameworks::CriteriaBody>("CriteriaBody", criteria_body());
        parses::<crate::routes::self_assessments::DeadlineExtensionRequest>(
            "DeadlineExtensionRequest",
            deadline_extension_request(),
        );
        parses::<crate::routes::frameworks::FrameworkBody>("FrameworkBody", framework_body());
        parses::<crate::routes::auth::LoginRequest>("LoginRequest", login_request());
        parses::<crate::routes::remediation::MilestoneRequest>(
            "MilestoneRequest",
            milestone_request(),
        );
        parses::<crate::routes::remediation::NewItemRequest>("NewItemRequest", new_item_request());
        parses::<crate::routes::self_assessments::OpenSelfAssessmentRequest>(
            "OpenSelfAssessmentRequest",
            open_self_assessment_request(),
        );
        parses::<crate::routes::remediation::ProgressRequest>(
            "ProgressRequest",
            progress_request(),
        );
        parses::<crate::routes::publications::PublicationRequest>(
            "PublicationRequest",
            publication_request(),
        );
        parses::<crate::routes::webhooks::WebhookRequest>("WebhookRequest", webhook_request());
        parses::<crate::routes::unit_merges::UnitMergeRequest>(
            "UnitMergeRequest",
            unit_merge_request(),
        );
        parses::<crate::routes::appraisals::ReopenRequest>("ReopenRequest", reopen_request());
        parses::<crate::routes::appraisals::ReturnRequest>("ReturnRequest", return_request());
        parses::<crate::routes::self_assessments::SelfEntriesRequest>(
            "SelfEntriesRequest",
            self_entries_request(),
        );
        parses::<crate::routes::remediation::UpdateItemRequest>(
            "UpdateItemRequest",
            update_item_request(),
        );
        parses::<crate::routes::units::UpdateStaffRequest>(
            "UpdateStaffRequest",
            update_staff_request(),
        );
        parses::<crate::routes::units::UpdateUnitRequest>(
            "UpdateUnitRequest",
            update_unit_request(),
        );
        parses::<crate::routes::users::UpdateUserRequest>(
            "UpdateUserRequest",
            update_user_request(),
        );
        parses::<crate::routes::auth::TokenResponse>("TokenResponse", token_response());
        parses::<crate::routes::units::UnitResponse>("UnitResponse", unit_response());
        parses::<crate::routes::results::UnitIndexResponse>(
            "UnitIndexResponse",
            unit_index_response(),
        );
        parses::<crate::routes::results::RankingResponse>("RankingResponse", ranking_response());
    }
}
