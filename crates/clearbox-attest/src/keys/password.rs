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

/// A key password and where it came from. `Debug` never prints the password.
#[derive(Clone)]
pub struct Password {
    bytes: Zeroizing<Vec<u8>>,
    source: PasswordSource,
}

/// The origin of a password, named in errors so that a wrong one can be found and fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordSource {
    /// An environment variable: [`PASSWORD_ENV`] or [`COSIGN_PASSWORD_ENV`].
    Environment(&'static str),
    /// The terminal prompt.
    Prompt,
    /// The program that called [`Password::new`].
    Caller,
}

impl std::fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::Environment(PASSWORD_ENV) => f.write_str(
                "the password from CLEARBOX_PASSWORD (read before COSIGN_PASSWORD) is wrong",
            ),
            PasswordSource::Environment(name) => {
                write!(f, "the password from {name} is wrong")
            }
            PasswordSource::Prompt => f.write_str("the password typed at the prompt is wrong"),
            PasswordSource::Caller => f.write_str("the password is wrong"),
        }
    }
}

/// The purpose of a password, which decides whether the terminal prompt requests it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPurpose {
    /// Decrypting an existing key: asked once.
    Decrypt,
    /// Encrypting a new key: asked twice, and both entries must match.
    Encrypt,
}

impl Password {
    /// Wraps password bytes given by the caller ([`PasswordSource::Caller`]).
    #[must_use]
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Password::with_source(bytes, PasswordSource::Caller)
    }

    fn with_source(bytes: impl Into<Vec<u8>>, source: PasswordSource) -> Self {
        Password {
            bytes: Zeroizing::new(bytes.into()),
            source,
        }
    }

    /// The password bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Returns the origin of the password.
    #[must_use]
    pub fn source(&self) -> PasswordSource {
        self.source
    }

    /// The password from `CLEARBOX_PASSWORD` or, when that is unset, `COSIGN_PASSWORD`; `None`
    /// when neither is set.
    #[must_use]
    pub fn from_environment() -> Option<Password> {
        [PASSWORD_ENV, COSIGN_PASSWORD_ENV]
            .into_iter()
            .find_map(|name| std::env::var_os(name).map(|value| (name, value)))
            .map(|(name, value): (&'static str, OsString)| {
                Password::with_source(value.into_vec(), PasswordSource::Environment(name))
            })
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
        Ok(Password::with_source(
            first.as_bytes(),
            PasswordSource::Prompt,
        ))
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
    fn source_named_in_words() {
        let cases = [
            (
                PasswordSource::Environment(PASSWORD_ENV),
                "the password from CLEARBOX_PASSWORD (read before COSIGN_PASSWORD) is wrong",
            ),
            (
                PasswordSource::Environment(COSIGN_PASSWORD_ENV),
                "the password from COSIGN_PASSWORD is wrong",
            ),
            (
                PasswordSource::Prompt,
                "the password typed at the prompt is wrong",
            ),
            (PasswordSource::Caller, "the password is wrong"),
        ];
        for (source, text) in cases {
            assert_eq!(source.to_string(), text);
        }
    }

    #[test]
    fn bytes_kept_exactly() {
        assert_eq!(Password::new(vec![0xff, 0]).as_bytes(), [0xff, 0]);
    }
}
