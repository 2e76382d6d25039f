//! `clearbox sign-manifest` and `verify-manifest`: signatures on Kubernetes objects, stored in
//! each object's annotations (`docs/signed-manifests.md`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use clearbox_catalog::escape_unprintable;
use clearbox_policy::k8s::ResourceRef;
use clearbox_policy::k8s::signature::{
    self, ObjectVerdict, VerifyOutcome, sign_manifest, verify_manifest,
};

use crate::Outcome;
use crate::cli::{SignManifestArgs, VerifyManifestArgs};
use crate::commands::sign::{public_key, signing_key};
use crate::output::{status, write_output};

/// Maximum size of a manifest file: 16 MiB. Kubernetes stores each object in etcd, whose default
/// request limit is 1.5 MiB, so a larger file contains many objects or is not a manifest.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

fn read_manifest(path: &Path) -> anyhow::Result<String> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_MANIFEST_BYTES)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display()))
}

/// Collects the --claim pairs; a key given twice is an error, because only one value can be
/// signed.
fn claims(pairs: &[(String, String)]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for (key, value) in pairs {
        if value.trim().is_empty() {
            anyhow::bail!(
                "claim `{key}` has an empty value; give the value to sign, such as \
                 `--claim {key}=alice`"
            );
        }
        if let Some(first) = map.insert(key.clone(), value.clone()) {
            anyhow::bail!(
                "claim `{key}` is given twice (`{key}={first}` and `{key}={value}`); give each \
                 claim once"
            );
        }
    }
    Ok(map)
}

pub(crate) fn sign(args: &SignManifestArgs) -> anyhow::Result<Outcome> {
    // Arguments and the file first, so that a mistake fails before a password prompt.
    let claims = claims(&args.claims)?;
    let text = read_manifest(&args.file)?;
    let key = signing_key(&args.key)?;

    let signed = sign_manifest(&args.file, &text, &key, &claims)
        .with_context(|| format!("failed to sign `{}`", args.file.display()))?;

    match &args.output {
        Some(output) => write_output(Some(output), signed.text.as_bytes())?,
        None => replace_file(&args.file, signed.text.as_bytes())?,
    }
    let destination = args.output.as_deref().unwrap_or(&args.file);
    status(&format!(
        "signed {} object(s) in `{}` with key {}",
        signed.objects.len(),
        destination.display(),
        key.public_key().fingerprint()
    ));
    for resource in &signed.objects {
        status(&format!("  {}", describe(resource)));
    }
    Ok(Outcome::Success)
}

/// Replaces `path` atomically with `bytes`, keeping the file's permissions.
fn replace_file(given: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    // Through a symbolic link, the target is signed and the link stays.
    let path = &std::fs::canonicalize(given)
        .with_context(|| format!("failed to resolve `{}`", given.display()))?;
    let metadata =
        std::fs::metadata(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    // A rename over a device or FIFO would replace the special file itself.
    anyhow::ensure!(
        metadata.is_file(),
        "`{}` is not a regular file; sign a copy of the manifest in a file",
        path.display()
    );
    let permissions = metadata.permissions();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().set_permissions(permissions))
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("failed to replace `{}`", path.display()))?;
    Ok(())
}

pub(crate) fn verify(args: &VerifyManifestArgs) -> anyhow::Result<Outcome> {
    let key = public_key(&args.key)?;
    let text = read_manifest(&args.file)?;
    let verdicts = verify_manifest(&args.file, &text, &key)
        .with_context(|| format!("failed to verify `{}`", args.file.display()))?;

    // One line per object on stdout, the summary on stderr.
    let mut lines = String::new();
    for verdict in &verdicts {
        let _ = writeln!(lines, "{}", escape_unprintable(&verdict_line(verdict)));
    }
    write_output(None, lines.as_bytes())?;
    let verified = verdicts.iter().filter(|v| v.outcome.is_verified()).count();
    status(&format!(
        "{verified} of {} object(s) in `{}` verified with key {}",
        verdicts.len(),
        args.file.display(),
        key.fingerprint()
    ));
    if verified == verdicts.len() {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::GateFailed)
    }
}

/// `Kind/namespace/name (file:line)`.
fn describe(resource: &ResourceRef) -> String {
    format!(
        "{} ({}:{})",
        resource.display_name(),
        resource.file.display(),
        resource.line
    )
}

fn verdict_line(verdict: &ObjectVerdict) -> String {
    let object = describe(&verdict.resource);
    match &verdict.outcome {
        VerifyOutcome::Verified { claims, digest } => {
            let claims = if claims.is_empty() {
                "no claims".to_owned()
            } else {
                claims
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("OK      {object}: {digest}; {claims}")
        }
        VerifyOutcome::Unsigned => format!(
            "FAILED  {object}: unsigned (no `{}` annotation); sign it with sign-manifest",
            signature::ANNOTATION
        ),
        VerifyOutcome::NotAnObject => {
            format!("FAILED  {object}: not a Kubernetes object (no `kind`)")
        }
        VerifyOutcome::Invalid { reason } => format!("FAILED  {object}: {reason}"),
        VerifyOutcome::Changed { changes } => {
            let first = &changes[0];
            let field = if first.path.is_empty() {
                "the object".to_owned()
            } else {
                format!("`{}`", first.path)
            };
            let what = first.kind.name();
            let more = match changes.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more field(s))"),
            };
            format!("FAILED  {object}: {field} {what} since signing{more}")
        }
        _ => format!("FAILED  {object}: not verified"),
    }
}
