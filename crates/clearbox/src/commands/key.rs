//! `clearbox key generate`: a cosign-compatible key pair.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clearbox_attest::keys::{Password, PasswordPurpose, generate_key_pair};

use crate::Outcome;
use crate::cli::KeyCommand;
use crate::output::status;

pub(crate) fn run(command: &KeyCommand) -> anyhow::Result<Outcome> {
    let KeyCommand::Generate { output_prefix } = command;
    check_writable(output_prefix)?;
    let password = Password::from_environment_or_terminal(PasswordPurpose::Encrypt)
        .context("failed to get a password for the new private key")?;
    let pair = generate_key_pair(output_prefix, password.as_bytes()).with_context(|| {
        format!(
            "failed to write a key pair at `{}`",
            output_prefix.display()
        )
    })?;
    status(&format!(
        "private key written to {}",
        pair.private_key_path.display()
    ));
    status(&format!(
        "public key written to {}",
        pair.public_key_path.display()
    ));
    Ok(Outcome::Success)
}

/// Checks that `PREFIX.key` and `PREFIX.pub` can be created, so that the user is not prompted
/// for a password for files that cannot be written. `generate_key_pair` checks again when it
/// creates them.
fn check_writable(prefix: &Path) -> anyhow::Result<()> {
    for suffix in [".key", ".pub"] {
        let mut name = OsString::from(prefix.as_os_str());
        name.push(suffix);
        let path = PathBuf::from(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            anyhow::bail!(
                "`{}` already exists; remove it or choose another --output-prefix",
                path.display()
            );
        }
    }
    let dir = match prefix.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => anyhow::bail!(
            "`{}` is not a directory; choose another --output-prefix",
            dir.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "the directory `{}` for the key pair cannot be used; create it or choose \
                     another --output-prefix",
                    dir.display()
                )
            });
        }
    }
    // A file created and removed at once shows that the directory is writable for this user.
    tempfile::tempfile_in(dir).with_context(|| {
        format!(
            "cannot create files in `{}`; choose another --output-prefix",
            dir.display()
        )
    })?;
    Ok(())
}
