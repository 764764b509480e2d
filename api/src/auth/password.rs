//! Password policy and Argon2id hashing.
//!
//! Hashing is deliberately slow (OWASP: 19 MiB, 2 passes ≈ 45 ms here), so it runs on the
//! blocking thread pool, never on the async workers, and a semaphore bounds how many run
//! at once (each holds its memory). Unknown usernames are verified against a dummy hash so
//! that "no such user" and "wrong password" take the same time.

use crate::config::PasswordHashing;
use crate::error::ApiError;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing it is not a DoS vector.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The password rules, as one readable reason when broken.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "must be at least {MIN_PASSWORD_CHARS} characters long (got {chars})"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "must be at most {MAX_PASSWORD_CHARS} characters long"
        ));
    }
    if password.trim().is_empty() {
        return Err("must not be blank".to_string());
    }
    Ok(())
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new(config: PasswordHashing) -> Result<Self, anyhow::Error> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, &crate::auth::random_token(24))?;
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(config.max_concurrent)),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let params = self.params.clone();
        actix_web::web::block(move || hash_with(&params, &password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Verifies `password` against `hash`, or against a dummy hash when the user does not
    /// exist (`None`), which always fails but costs the same.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matches = actix_web::web::block(move || {
            // The hash carries its own parameters: old hashes keep verifying after a change.
            Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await?;
        Ok(known && matches)
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, anyhow::Error> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashing {
        PasswordHashing {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
        }
    }

    #[test]
    fn policy_requires_length() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&" ".repeat(20)).is_err());
        assert!(check_policy(&"x".repeat(300)).is_err());
        assert!(check_policy("correct horse battery").is_ok());
        // Characters, not bytes: a Vietnamese passphrase counts its letters.
        assert!(check_policy("mậtkhẩuđủdài").is_ok());
    }

    #[actix_web::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = PasswordHasher::new(cheap()).expect("params");
        let hash = hasher
            .hash("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("wrong horse battery".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("correct horse battery".into(), None)
                .await
                .expect("verify")
        );
    }

    #[test]
    fn default_parameters_are_accepted() {
        PasswordHasher::new(PasswordHashing::default()).expect("OWASP parameters are valid");
    }
}
