//! Where the key password comes from. Each test body runs in a child process with its own
//! environment (and, for the terminal case, no controlling terminal), because tests cannot change
//! their own process's environment without `unsafe`.

use clearbox_attest::SigningKey;
use clearbox_attest::keys::{
    COSIGN_PASSWORD_ENV, KeyError, PASSWORD_ENV, Password, PasswordPurpose, generate_key_pair,
};

use crate::{is_child, rerun_in_child};

#[test]
fn clearbox_password_preferred() {
    if !is_child() {
        rerun_in_child("password::clearbox_password_preferred", false, |command| {
            command
                .env(PASSWORD_ENV, "from-clearbox")
                .env(COSIGN_PASSWORD_ENV, "from-cosign");
        });
        return;
    }
    let password = Password::from_environment().unwrap();
    assert_eq!(password.as_bytes(), b"from-clearbox");
}

#[test]
fn cosign_password_fallback() {
    if !is_child() {
        rerun_in_child("password::cosign_password_fallback", false, |command| {
            command
                .env_remove(PASSWORD_ENV)
                .env(COSIGN_PASSWORD_ENV, "from-cosign");
        });
        return;
    }
    let password = Password::from_environment_or_terminal(PasswordPurpose::Decrypt).unwrap();
    assert_eq!(password.as_bytes(), b"from-cosign");
}

#[test]
fn empty_variable_is_empty_password() {
    if !is_child() {
        rerun_in_child(
            "password::empty_variable_is_empty_password",
            false,
            |command| {
                command
                    .env(PASSWORD_ENV, "")
                    .env_remove(COSIGN_PASSWORD_ENV);
            },
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("k"), b"").unwrap();
    let key = SigningKey::from_file(&pair.private_key_path, || {
        Password::from_environment_or_terminal(PasswordPurpose::Decrypt)
    })
    .unwrap();
    assert_eq!(key.public_key(), pair.public_key);
}

#[test]
fn no_terminal_no_password() {
    if !is_child() {
        rerun_in_child("password::no_terminal_no_password", true, |command| {
            command
                .env_remove(PASSWORD_ENV)
                .env_remove(COSIGN_PASSWORD_ENV);
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("k"), b"pw").unwrap();
    let error = SigningKey::from_file(&pair.private_key_path, || {
        Password::from_environment_or_terminal(PasswordPurpose::Decrypt)
    })
    .unwrap_err();
    assert!(matches!(error, KeyError::NoPassword { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("no password for the encrypted key: no terminal to ask for it"),
        "{message}"
    );
    assert!(
        message.ends_with("; set CLEARBOX_PASSWORD or COSIGN_PASSWORD"),
        "{message}"
    );

    // Asking twice for a new key fails the same way.
    let error = Password::from_terminal(PasswordPurpose::Encrypt).unwrap_err();
    assert!(matches!(error, KeyError::NoPassword { .. }), "{error:?}");
}
