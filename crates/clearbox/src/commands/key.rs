//! `clearbox key generate`: a cosign-compatible key pair.

use std::io::Write as _;

use anyhow::Context;
use clearbox_attest::keys::{Password, PasswordPurpose, generate_key_pair};

use crate::Outcome;
use crate::cli::KeyCommand;

pub(crate) fn run(command: &KeyCommand) -> anyhow::Result<Outcome> {
    let KeyCommand::Generate { output_prefix } = command;
    let password = Password::from_environment_or_terminal(PasswordPurpose::Encrypt)
        .context("failed to get a password for the new private key")?;
    let pair = generate_key_pair(output_prefix, password.as_bytes()).with_context(|| {
        format!(
            "failed to write a key pair at `{}`",
            output_prefix.display()
        )
    })?;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "private key written to {}",
        pair.private_key_path.display()
    );
    let _ = writeln!(
        err,
        "public key written to {}",
        pair.public_key_path.display()
    );
    Ok(Outcome::Success)
}
