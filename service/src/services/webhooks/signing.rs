//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the secret is
//! `whsec_` + base64 of random bytes; a delivery carries `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`: `v1,` + base64 of
//! HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the secret's decoded bytes, one
//! such signature per valid secret, separated by spaces.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new secret: 24 random bytes (the specification asks for 24 to 64).
pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The `v1,` signature of one message with one secret; `None` for a malformed secret.
pub fn sign(secret: &str, webhook_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret still valid.
pub fn signature_header(secrets: &[&str], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's own test vector.
    #[test]
    fn matches_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_new_secret_signs_and_a_bad_one_does_not() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert!(sign(&s, "msg_1", 1, b"{}").is_some());
        assert!(sign("whsec_???", "msg_1", 1, b"{}").is_none());
        assert!(sign("nope", "msg_1", 1, b"{}").is_none());
        let two = signature_header(&[&s, &new_secret()], "msg_1", 1, b"{}");
        assert_eq!(two.split(' ').count(), 2);
    }
}
