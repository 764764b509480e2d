//! Argon2id hashing (the password rules are `parindex_domain::password`).
//!
//! Hashing is deliberately slow (OWASP: 19 MiB, 2 passes ≈ 45 ms here), so it never runs on
//! the async workers: a small pool of dedicated threads (`PARINDEX_ARGON2_MAX_CONCURRENT`,
//! one per CPU by default) does it, requests queue for them. Each thread allocates its
//! Argon2 memory once and reuses it for every hash: allocating 19 MiB per hash let the
//! system allocator keep far more than it used (measured under a burst of logins: ~1 GB
//! RSS on the shared blocking pool, ~290 MB on this pool with per-hash allocation, below
//! 100 MB with reuse; see BENCHMARKS.md).
//! Unknown usernames are verified against a dummy hash so that "no such user" and "wrong
//! password" take the same time.

use crate::config::PasswordHashing;
use crate::error::ApiError;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::sync::Arc;

pub use parindex_domain::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_policy};

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
        let matches = self.run(move || verify_with(&password, &hash)).await?;
        Ok(known && matches)
    }
}

thread_local! {
    /// This thread's Argon2 memory, reused by every hash it computes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt` into `out`, in this thread's reusable memory (Argon2
/// writes every block before reading it, so what a previous hash left there is irrelevant).
fn compute(
    argon2: &Argon2,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// A new Argon2id hash of `password` in the PHC string format (`$argon2id$v=19$m=…`).
fn hash_with(params: &Params, password: &str) -> Result<String, anyhow::Error> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("password hashing failed: {e}");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = argon2::password_hash::generate_salt();
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    compute(&argon2, params, password.as_bytes(), &salt, &mut out).map_err(|e| fail(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash`, computed with the hash's own algorithm
/// and parameters (old hashes keep verifying after a parameter change); malformed: no.
fn verify_with(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm.as_str()),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    if compute(&argon2, &params, password.as_bytes(), salt, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| &computed == expected)
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

    #[tokio::test]
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
    fn hashes_verify_with_the_reference_implementation_and_back() {
        // The hand-assembled PHC string is what the argon2 crate's own API reads, and a hash
        // made by that API (e.g. by an earlier release of this service) still verifies.
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(64, 1, 1, None).expect("params");
        let ours = hash_with(&params, "correct horse battery").expect("hash");
        let reference = Argon2::default();
        assert!(
            reference
                .verify_password(b"correct horse battery", ours.as_str())
                .is_ok()
        );
        assert!(reference.verify_password(b"wrong", ours.as_str()).is_err());
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse battery")
            .expect("hash")
            .to_string();
        assert!(verify_with("correct horse battery", &theirs));
        assert!(!verify_with("correct horse batterx", &theirs));
        // Different parameters per hash, one thread: the reused memory grows as needed.
        let bigger = Params::new(256, 2, 1, None).expect("params");
        let big = hash_with(&bigger, "correct horse battery").expect("hash");
        assert!(big.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{big}");
        assert!(verify_with("correct horse battery", &big));
        assert!(verify_with("correct horse battery", &ours));
        assert!(!verify_with(
            "correct horse battery",
            "$argon2id$v=19$m=64,t=1,p=1$bad"
        ));
        assert!(!verify_with("correct horse battery", "not a hash"));
    }

    #[test]
    fn default_parameters_are_accepted() {
        PasswordHasher::new(PasswordHashing::default()).expect("OWASP parameters are valid");
    }
}
