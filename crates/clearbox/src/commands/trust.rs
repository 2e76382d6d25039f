//! `clearbox trust import`: installs a Sigstore trusted root as the default for --trusted-root,
//! and the lookup of that default and of the certificate identity for keyless verification.
//!
//! The default lives at `$XDG_CONFIG_HOME/clearbox/trusted_root.json`, or
//! `~/.config/clearbox/trusted_root.json` when `XDG_CONFIG_HOME` is unset or relative, because
//! the XDG Base Directory specification requires a relative value to be ignored. Nothing is
//! downloaded: the file is whatever the user imported.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clearbox_attest::bundle::{CertificateIdentity, Timestamp, TrustedRoot, ValueMatcher};

use crate::Outcome;
use crate::cli::{KeylessArgs, TrustCommand};
use crate::output::status;

/// The largest trusted root read; real ones are tens of kilobytes.
const MAX_TRUSTED_ROOT_BYTES: u64 = 16 << 20;

/// The file name of the installed trusted root, under the configuration directory.
const TRUSTED_ROOT_FILE: &str = "trusted_root.json";

pub(crate) fn run(command: &TrustCommand) -> anyhow::Result<Outcome> {
    match command {
        TrustCommand::Import { file } => import(file),
    }
}

/// Validates `file` as a trusted root that keyless verification can use, and installs it
/// atomically.
fn import(file: &Path) -> anyhow::Result<Outcome> {
    // 1. Read and validate, so that a bad file never replaces a good one.
    let bytes = clearbox_oci::read_regular_file(file, MAX_TRUSTED_ROOT_BYTES)
        .with_context(|| format!("failed to read `{}`", file.display()))?;
    let root = TrustedRoot::from_json(&bytes)
        .with_context(|| format!("`{}` is not a valid trusted root", file.display()))?;

    // 2. Reject a root that can verify no keyless signature made now, because installing it
    // would only turn every later verification into a failure.
    let gaps = root.keyless_gaps(Timestamp::now());
    if !gaps.is_empty() {
        anyhow::bail!(
            "`{}` cannot verify keyless signatures: {}; import a complete, current trusted root \
             (for the Sigstore public-good instance, trusted_root.json from the Sigstore TUF \
             repository)",
            file.display(),
            gaps.join("; ")
        );
    }

    // 3. Write beside the destination, then rename over it.
    let destination = default_trusted_root_path()?;
    let dir = destination
        .parent()
        .context("the trusted root path has no parent directory")?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))?;
    temp.write_all(&bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", destination.display()))?;
    temp.persist(&destination)
        .with_context(|| format!("failed to write `{}`", destination.display()))?;
    status(&format!(
        "installed `{}` as the default trusted root: `{}`",
        file.display(),
        destination.display()
    ));
    Ok(Outcome::Success)
}

/// Returns the path where `trust import` installs the trusted root.
pub(crate) fn default_trusted_root_path() -> anyhow::Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|home| home.is_absolute())
                .context(
                    "neither XDG_CONFIG_HOME nor HOME is an absolute path, so there is no place \
                     for the default trusted root; pass --trusted-root FILE",
                )?;
            home.join(".config")
        }
    };
    Ok(config.join("clearbox").join(TRUSTED_ROOT_FILE))
}

/// Returns the trusted root file to use: `explicit`, else the installed default. Without
/// either, the error names the options.
pub(crate) fn trusted_root_path(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    let default = default_trusted_root_path()?;
    if !default.exists() {
        anyhow::bail!(
            "no trusted root: pass --trusted-root FILE, or install a default with `clearbox \
             trust import FILE` (it would be stored at `{}`); for the Sigstore public-good \
             instance, trusted_root.json is a target of the Sigstore TUF repository",
            default.display()
        );
    }
    Ok(default)
}

/// Loads the trusted root keyless verification uses; see [`trusted_root_path`].
pub(crate) fn load_trusted_root(explicit: Option<&Path>) -> anyhow::Result<TrustedRoot> {
    let path = trusted_root_path(explicit)?;
    TrustedRoot::from_file(&path)
        .with_context(|| format!("failed to load the trusted root `{}`", path.display()))
}

/// Builds the certificate identity the keyless options require, or `None` when none is given.
pub(crate) fn certificate_identity(
    args: &KeylessArgs,
) -> anyhow::Result<Option<CertificateIdentity>> {
    let identity = matcher(
        args.certificate_identity.as_deref(),
        args.certificate_identity_regexp.as_deref(),
        "--certificate-identity-regexp",
    )?;
    let issuer = matcher(
        args.certificate_oidc_issuer.as_deref(),
        args.certificate_oidc_issuer_regexp.as_deref(),
        "--certificate-oidc-issuer-regexp",
    )?;
    match (identity, issuer) {
        (Some(identity), Some(issuer)) => Ok(Some(CertificateIdentity { identity, issuer })),
        (None, None) => Ok(None),
        // clap requires both; this keeps a caller that skipped clap from verifying half.
        _ => anyhow::bail!(
            "keyless verification needs a certificate identity (--certificate-identity or \
             --certificate-identity-regexp) and an OIDC issuer (--certificate-oidc-issuer or \
             --certificate-oidc-issuer-regexp)"
        ),
    }
}

fn matcher(
    exact: Option<&str>,
    pattern: Option<&str>,
    option: &str,
) -> anyhow::Result<Option<ValueMatcher>> {
    match (exact, pattern) {
        (Some(exact), _) => Ok(Some(ValueMatcher::Exact(exact.to_owned()))),
        (None, Some(pattern)) => ValueMatcher::pattern(pattern).map(Some).map_err(|e| {
            anyhow::anyhow!(
                "invalid {option} `{pattern}`: {}; fix the regular expression",
                clearbox_attest::bundle::regex_problem(&e)
            )
        }),
        (None, None) => Ok(None),
    }
}
