//! Sign-in through the province's OpenID Connect provider (`PARINDEX_OIDC_ISSUER`,
//! `PARINDEX_OIDC_AUDIENCE`): a bearer token the provider issued is verified here (the
//! provider's discovery document names its keys; the key set is cached and fetched again
//! for an unknown key id at most once a minute (`PARINDEX_OIDC_REFETCH_SECONDS`); RS256, ES256, EdDSA and kin, never HMAC;
//! `iss`, `aud`, `exp`, `nbf` checked with a minute of clock skew) and names an account by
//! one claim (`PARINDEX_OIDC_USERNAME_CLAIM`, `preferred_username`). The account's role,
//! unit and active flag stay the service's: nothing a provider says widens access.

use crate::config::OidcSettings;
use crate::error::{Text, text};
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The most a discovery document or a key set may weigh: a provider (or whatever answers
/// at its address) cannot make the service read more.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Clock skew tolerated against the provider, in seconds.
const LEEWAY_SECS: u64 = 60;
/// The algorithms a provider may sign with: public-key ones only (an HMAC token would be
/// checked with a public key as its secret).
const ALLOWED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Why a token was not accepted.
#[derive(Debug)]
pub enum Refusal {
    /// The token's fault: 401 with this reason.
    Invalid(Text),
    /// The provider could not be reached to learn its keys: 503.
    Unavailable(Text),
}

#[derive(Default)]
struct Keys {
    jwks_uri: Option<String>,
    set: Option<JwkSet>,
    fetched: Option<Instant>,
}

pub struct Oidc {
    settings: OidcSettings,
    client: reqwest::Client,
    keys: RwLock<Keys>,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Oidc, anyhow::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("parindex-oidc/1")
            .build()?;
        Ok(Oidc {
            settings,
            client,
            keys: RwLock::default(),
        })
    }

    /// Whether `token` says it comes from this provider (its unverified `iss`): only such
    /// tokens are checked here; the verification below trusts nothing of it.
    pub fn claims_to_be_ours(&self, token: &str) -> bool {
        let Some(payload) = token.split('.').nth(1) else {
            return false;
        };
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
            return false;
        };
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("iss").and_then(|i| i.as_str()).map(String::from))
            .is_some_and(|iss| iss == self.settings.issuer)
    }

    /// The username the token names, once its signature and claims check out.
    pub async fn verify(&self, token: &str) -> Result<String, Refusal> {
        let invalid = |t: Text| Refusal::Invalid(t);
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            invalid(text!(
                "the identity provider's token is malformed",
                "mã của hệ thống xác thực không đúng định dạng"
            ))
        })?;
        if !ALLOWED.contains(&header.alg) {
            return Err(invalid(text!(
                "the identity provider's token is signed with an algorithm not accepted ({:?})",
                "mã của hệ thống xác thực được ký bằng thuật toán không được chấp nhận ({:?})",
                header.alg
            )));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let key = self.key(&kid).await?.ok_or_else(|| {
            invalid(text!(
                "the token is signed with a key the identity provider does not publish ({kid})",
                "mã được ký bằng khóa mà hệ thống xác thực không công bố ({kid})"
            ))
        })?;
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[self.settings.issuer.as_str()]);
        validation.set_audience(&[self.settings.audience.as_str()]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| invalid(describe(&e)))?;
        let claim = &self.settings.username_claim;
        data.claims
            .get(claim)
            .and_then(|v| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_lowercase())
            .ok_or_else(|| {
                invalid(text!(
                    "the token has no {claim} claim to name an account",
                    "mã không có trường {claim} để xác định tài khoản"
                ))
            })
    }

    /// The provider's key `kid`: from the cached set, else from a new fetch (at most once
    /// a minute).
    async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, Refusal> {
        {
            let keys = self.keys.read().await;
            if let Some(found) = find(keys.set.as_ref(), kid) {
                return Ok(Some(found));
            }
            if keys
                .fetched
                .is_some_and(|t| t.elapsed() < self.settings.refetch)
            {
                return Ok(None);
            }
        }
        let mut keys = self.keys.write().await;
        // Another request may have fetched meanwhile.
        if let Some(found) = find(keys.set.as_ref(), kid) {
            return Ok(Some(found));
        }
        if keys
            .fetched
            .is_some_and(|t| t.elapsed() < self.settings.refetch)
        {
            return Ok(None);
        }
        keys.fetched = Some(Instant::now());
        let unavailable = |e: String| {
            tracing::warn!(error = %e, "cannot read the identity provider's keys");
            Refusal::Unavailable(text!(
                "the identity provider's keys could not be read; retry in a minute",
                "chưa đọc được khóa của hệ thống xác thực; hãy thử lại sau một phút"
            ))
        };
        let jwks_uri = match &keys.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim_end_matches('/')
                );
                let doc: serde_json::Value = self.fetch(&url).await.map_err(unavailable)?;
                let uri = doc
                    .get("jwks_uri")
                    .and_then(|u| u.as_str())
                    .ok_or_else(|| unavailable("no jwks_uri in the discovery document".into()))?
                    .to_string();
                keys.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let set: JwkSet = self.fetch(&jwks_uri).await.map_err(unavailable)?;
        keys.set = Some(set);
        Ok(find(keys.set.as_ref(), kid))
    }
}

impl Oidc {
    /// A JSON document of the provider, at most `MAX_DOCUMENT_BYTES`.
    async fn fetch<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let mut response = self
            .client
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{url} is larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
    }
}

fn find(set: Option<&JwkSet>, kid: &str) -> Option<DecodingKey> {
    let jwk = set?.find(kid)?;
    DecodingKey::from_jwk(jwk).ok()
}

fn describe(e: &jsonwebtoken::errors::Error) -> Text {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => text!(
            "the identity provider's token has expired",
            "mã của hệ thống xác thực đã hết hạn"
        ),
        ErrorKind::ImmatureSignature => text!(
            "the identity provider's token is not valid yet",
            "mã của hệ thống xác thực chưa đến thời điểm có hiệu lực"
        ),
        ErrorKind::InvalidAudience => text!(
            "the identity provider's token is for another audience",
            "mã của hệ thống xác thực được cấp cho ứng dụng khác"
        ),
        ErrorKind::InvalidIssuer => text!(
            "the token comes from another identity provider",
            "mã đến từ một hệ thống xác thực khác"
        ),
        ErrorKind::InvalidSignature => text!(
            "the identity provider's token has an invalid signature",
            "chữ ký của mã không hợp lệ"
        ),
        _ => text!(
            "the identity provider's token is invalid",
            "mã của hệ thống xác thực không hợp lệ"
        ),
    }
}
