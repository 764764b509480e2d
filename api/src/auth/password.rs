//! Password policy and Argon2id hashing.
//!
//! Hashing is deliberately slow (OWASP: 19 MiB, 2 passes ≈ 45 ms here), so it never runs on
//! the async workers: a small pool of dedicated threads (`PARINDEX_ARGON2_MAX_CONCURRENT`,
//! one per CPU by default) does it, requests queue for them. A fixed set of threads also
//! bounds memory: each thread's allocator keeps its 19 MiB block for the next hash instead
//! of every short-lived blocking thread keeping one of its own (seen: ~1 GB RSS under a
//! burst of logins on the shared blocking pool, ~100 MB with this pool).
//! Unknown usernames are verified against a dummy hash so that "no such user" and "wrong
//! password" take the same time.

use crate::config::PasswordHashing;
use crate::error::ApiError;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use std::sync::Arc;

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

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    jobs: std::sync::mpsc::Sender<Job>,
    dummy_hash: Arc<String>,
}

/// Starts `threads` hashing threads that take jobs from one queue; they end when every
/// `PasswordHasher` (every sender) is dropped.
fn start_pool(threads: usize) -> std::sync::mpsc::Sender<Job> {
    let (sender, receiver) = std::sync::mpsc::channel::<Job>();
    let receiver = Arc::new(std::sync::Mutex::new(receiver));
    for i in 0..threads.max(1) {
        let receiver = Arc::clone(&receiver);
        let _ = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
    }
    sender
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
            jobs: start_pool(config.max_concurrent),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Runs `work` on a hashing thread and waits for it without blocking the caller's.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the hashing threads are gone")))?;
        result
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a hashing thread failed")))
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, &password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Verifies `password` against `hash`, or against a dummy hash when the user does not
    /// exist (`None`), which always fails but costs the same.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matches = self
            .run(move || {
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
