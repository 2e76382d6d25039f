//! The password of an encrypted key file: from `CLEARBOX_PASSWORD`, else `COSIGN_PASSWORD`, else
//! a prompt on the terminal without echo.
//!
//! An empty password is allowed, as cosign allows it: an environment variable that is set but
//! empty means the empty password. The password is never logged and is zeroized when dropped.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;

use zeroize::Zeroizing;

use super::KeyError;

/// Environment variable read first for the password.
pub const PASSWORD_ENV: &str = "CLEARBOX_PASSWORD";
/// Environment variable read when [`PASSWORD_ENV`] is unset, as cosign reads it.
pub const COSIGN_PASSWORD_ENV: &str = "COSIGN_PASSWORD";

/// A key password. `Debug` never prints it.
#[derive(Clone)]
pub struct Password(Zeroizing<Vec<u8>>);

/// The purpose of a password, which decides whether the terminal prompt requests it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPurpose {
    /// Decrypting an existing key: asked once.
    Decrypt,
    /// Encrypting a new key: asked twice, and both entries must match.
    Encrypt,
}

impl Password {
    /// Wraps password bytes.
    #[must_use]
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Password(Zeroizing::new(bytes.into()))
    }

    /// The password bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The password from `CLEARBOX_PASSWORD` or, when that is unset, `COSIGN_PASSWORD`; `None`
    /// when neither is set.
    #[must_use]
    pub fn from_environment() -> Option<Password> {
        [PASSWORD_ENV, COSIGN_PASSWORD_ENV]
            .into_iter()
            .find_map(std::env::var_os)
            .map(|value: OsString| Password::new(value.into_vec()))
    }

    /// Reads the password from the terminal (`/dev/tty`) without echo, asking twice when
    /// `purpose` is [`PasswordPurpose::Encrypt`].
    pub fn from_terminal(purpose: PasswordPurpose) -> Result<Password, KeyError> {
        let no_terminal = |error: std::io::Error| KeyError::NoPassword {
            reason: format!("no terminal to ask for it ({error})"),
        };
        let first = Zeroizing::new(
            rpassword::prompt_password("Enter password for private key: ").map_err(no_terminal)?,
        );
        if purpose == PasswordPurpose::Encrypt {
            let again = Zeroizing::new(
                rpassword::prompt_password("Enter password for private key again: ")
                    .map_err(no_terminal)?,
            );
            if *first != *again {
                return Err(KeyError::PasswordMismatch);
            }
        }
        Ok(Password::new(first.as_bytes()))
    }

    /// The password from the environment, else from the terminal.
    pub fn from_environment_or_terminal(purpose: PasswordPurpose) -> Result<Password, KeyError> {
        match Password::from_environment() {
            Some(password) => Ok(password),
            None => Password::from_terminal(purpose),
        }
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        assert_eq!(
            format!("{:?}", Password::new("hunter2")),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn bytes_kept_exactly() {
        assert_eq!(Password::new(vec![0xff, 0]).as_bytes(), [0xff, 0]);
    }
}
