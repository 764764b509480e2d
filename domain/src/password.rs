//! The password rules: what an account's password must be, in one place for the API, the
//! command line and the configuration of the first admin.

use crate::{Text, text};

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that hashing it is not a DoS vector.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The password rules, as one readable reason when broken.
pub fn check_policy(password: &str) -> Result<(), Text> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(text!(
            "must be at least {MIN_PASSWORD_CHARS} characters long (got {chars})",
            "phải có ít nhất {MIN_PASSWORD_CHARS} ký tự (nhận được {chars})"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(text!(
            "must be at most {MAX_PASSWORD_CHARS} characters long",
            "tối đa {MAX_PASSWORD_CHARS} ký tự"
        ));
    }
    if password.trim().is_empty() {
        return Err(text!("must not be blank", "không được để trống"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_requires_length() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&" ".repeat(20)).is_err());
        assert!(check_policy(&"x".repeat(300)).is_err());
        assert!(check_policy("correct horse battery").is_ok());
        // Characters, not bytes: a Vietnamese passphrase counts its letters.
        assert!(check_policy("mậtkhẩuđủdài").is_ok());
    }
}
