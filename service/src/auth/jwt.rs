//! HS256 access tokens. The algorithm is pinned on validation (no `alg: none`, no
//! RS256/HS256 confusion); `exp`, `nbf`, `iat`, `sub` and `iss` are required.

use crate::error::{ApiError, text};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const ISSUER: &str = "parindex";
/// Clock skew tolerated between replicas, in seconds.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id, as a string (RFC 7519).
    pub sub: String,
    pub role: String,
    pub unit_id: Option<i64>,
    /// The user's token version when issued: a password change or deactivation bumps it.
    pub ver: i32,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        user_id: i64,
        role: &str,
        unit_id: Option<i64>,
        token_version: i32,
    ) -> Result<String, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.to_string(),
            unit_id,
            ver: token_version,
            iss: ISSUER.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// Checks signature, algorithm and time claims; any failure is the same 401.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                tracing::debug!(error = %e, "rejected token");
                ApiError::unauthorized(text!(
                    "the bearer token is invalid or expired",
                    "mã xác thực (bearer token) không hợp lệ hoặc đã hết hạn"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60))
    }

    #[test]
    fn issued_tokens_verify() {
        let k = keys();
        let token = k.issue(7, "unit_officer", Some(3), 2).expect("issue");
        let claims = k.verify(&token).expect("verify");
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.unit_id, Some(3));
        assert_eq!(claims.ver, 2);
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn other_secrets_and_algorithms_are_refused() {
        let token = keys().issue(7, "admin", None, 0).expect("issue");
        let other = JwtKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(other.verify(&token).is_err());

        // Same claims and secret, but HS512: the algorithm is pinned.
        let claims = keys().verify(&token).expect("verify");
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("encode");
        assert!(keys().verify(&hs512).is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let k = keys();
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: "1".into(),
            role: "admin".into(),
            unit_id: None,
            ver: 0,
            iss: ISSUER.into(),
            iat: now - 600,
            nbf: now - 600,
            exp: now - 300,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding)
            .expect("encode");
        assert!(k.verify(&token).is_err());
    }
}
