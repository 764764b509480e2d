//! Authentication (passwords, JWTs, the `Principal` extractor) and authorization (the
//! access policy every handler calls).

pub mod jwt;
pub mod oidc;
pub mod password;
pub mod policy;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an account may do; see `policy` for the exact rules. `district_appraiser`, the
/// name of `appraiser` before 2025, is still accepted on input and means `appraiser`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// Appraises the units of its unit's subtree (a district's, or since 2025 a
    /// province's): frameworks, appraisals, rankings, publication. Named
    /// `district_appraiser` until 2025; that name is still accepted on input (requests,
    /// query filters) and means the same role.
    #[serde(alias = "district_appraiser")]
    Appraiser,
    /// Its own unit: self-assessments, evidence, remediation; reads its published results.
    UnitOfficer,
    /// Read-only over its unit's subtree.
    Viewer,
    /// A leader of its unit (chủ tịch, phó chủ tịch): reads what the unit's officers read
    /// and signs off its self-assessment.
    UnitLeader,
}

/// The appraiser role's name before 2025, accepted wherever a role is read.
pub const LEGACY_APPRAISER: &str = "district_appraiser";

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Appraiser,
        Role::UnitOfficer,
        Role::Viewer,
        Role::UnitLeader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Appraiser => "appraiser",
            Role::UnitOfficer => "unit_officer",
            Role::Viewer => "viewer",
            Role::UnitLeader => "unit_leader",
        }
    }

    /// A role by its name, or by the former name of the appraiser role.
    pub fn parse(s: &str) -> Option<Role> {
        if s == LEGACY_APPRAISER {
            return Some(Role::Appraiser);
        }
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role in a Vietnamese sentence.
    pub fn words_vi(self) -> &'static str {
        match self {
            Role::Admin => "quản trị viên",
            Role::Appraiser => "cán bộ thẩm định",
            Role::UnitOfficer => "cán bộ đơn vị",
            Role::Viewer => "người xem",
            Role::UnitLeader => "lãnh đạo đơn vị",
        }
    }
}

pub use parindex_domain::unit_ref::{UnitRef, lineage};

/// A stored unit as the policy sees it.
pub fn unit_ref(u: &entity::unit::Model) -> UnitRef {
    UnitRef {
        id: u.id,
        path: u.path.clone(),
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The unit the account belongs to; `None` only for admins without a unit.
    pub unit: Option<UnitRef>,
    /// The account's unit is a provincial agency (sở, ban, ngành): its appraisers are
    /// field appraisers of the province (`policy`).
    pub agency: bool,
    /// The id of the request being served, recorded in audit events.
    pub request_id: Option<String>,
    /// The API key the request came with, if it did not come with a sign-in token.
    pub key: Option<KeyRef>,
}

/// The API key a request is made with: it acts as its account, never more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub id: i64,
    /// Its first characters (`pik_1a2b3c4d`).
    pub prefix: String,
    /// A `write` key; a `read` key may only read (GET and HEAD).
    pub write: bool,
}

impl Principal {
    /// The actor of changes made outside HTTP (CLI commands), as recorded in the audit trail.
    pub fn system(name: &str) -> Principal {
        Principal {
            user_id: 0,
            username: name.to_string(),
            role: Role::Admin,
            unit: None,
            agency: false,
            request_id: None,
            key: None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Who the audit trail names: the account, and the key when one was used
    /// (`vinhlong.vanphong via key pik_1a2b3c4d`).
    pub fn audit_name(&self) -> String {
        match &self.key {
            Some(k) => format!("{} via key {}", self.username, k.prefix),
            None => self.username.clone(),
        }
    }
}

/// `bytes` random bytes from the OS-seeded CSPRNG, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a secret token, hex: what is stored of feed URLs and API keys, never the
/// token itself.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_value(role).ok(),
                Some(serde_json::Value::String(role.as_str().to_string()))
            );
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn subtrees_are_path_prefixes() {
        let district = UnitRef {
            id: 5,
            path: "/1/5/".into(),
        };
        let commune = UnitRef {
            id: 23,
            path: "/1/5/23/".into(),
        };
        let other = UnitRef {
            id: 51,
            path: "/1/51/".into(),
        };
        assert!(commune.is_within(&district));
        assert!(district.is_within(&district));
        assert!(!district.is_within(&commune));
        // "/1/51/" starts with "/1/5" but not with "/1/5/": paths end with a slash.
        assert!(!other.is_within(&district));
    }

    #[test]
    fn random_tokens_are_hex_and_distinct() {
        let a = random_token(16);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_token(16));
    }
}
