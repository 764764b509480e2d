//! Authentication (passwords, JWTs) and authorization (the access policy).

pub mod password;

use rand::RngCore;

/// `bytes` random bytes from the OS-seeded CSPRNG, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
