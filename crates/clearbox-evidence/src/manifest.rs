//! `manifest.json`: the SHA-256 and size of every other file in the package, and the check
//! that nothing changed since.
//!
//! The manifest's `format` names a version of the package format, and each version fixes the
//! files every package of it contains ([`FORMAT_VERSIONS`]). A package is checked against the
//! version it declares, so a package written by an older clearbox still verifies: its listed
//! files must match, the files its version requires must be there, and nothing unlisted may be.
//! A file that clearbox starts to write in every package needs a new version here.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::EvidenceError;
use crate::signature::{SIGNATURE_FILE, SignatureCheck, check_signature};

/// Name of the manifest inside the package.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Format identifier written into every new manifest: the last of [`FORMAT_VERSIONS`].
pub const MANIFEST_FORMAT: &str = "clearbox-evidence/v2";

/// One file of the package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    /// SHA-256 of the file, lowercase hexadecimal.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The package manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceManifest {
    /// One of [`FORMAT_VERSIONS`]; [`MANIFEST_FORMAT`] in packages written by this version.
    pub format: String,
    /// Tool and version that wrote the package.
    pub generator: String,
    /// When the package was written (RFC 3339, UTC).
    pub generated_at: String,
    /// The image reference as given.
    pub image: String,
    /// The image manifest digest, when the source has one.
    pub manifest_digest: Option<String>,
    /// Every other file by name.
    pub files: BTreeMap<String, ManifestEntry>,
}

pub(crate) fn entry_for(bytes: &[u8]) -> ManifestEntry {
    ManifestEntry {
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
    }
}

/// Every file a package of the current format contains besides the manifest and its optional
/// signature. `evidence verify` requires all of them in a `clearbox-evidence/v2` package, so
/// removing a file together with its manifest entry is still detected.
pub const REQUIRED_FILES: [&str; 16] = [
    "README.md",
    "attestations.json",
    "cis-compliance.md",
    "compliance-matrix.json",
    "compliance-matrix.md",
    "critical-vulnerabilities.json",
    "image-metadata.json",
    "model-attestation.json",
    "policy-evaluation.json",
    "report.html",
    "sbom.cdx.json",
    "sbom.spdx.json",
    "signature-verification.txt",
    "slsa-provenance.json",
    "vulnerabilities.json",
    "vulnerability-scan.sarif",
];

/// The files every `clearbox-evidence/v1` package contains: those of the first packages clearbox
/// wrote. Later v1 packages may contain and list more (`attestations.json`, the compliance matrix,
/// `model-attestation.json`, `report.html`), which are then checked as listed.
const V1_REQUIRED_FILES: [&str; 10] = [
    "README.md",
    "cis-compliance.md",
    "critical-vulnerabilities.json",
    "image-metadata.json",
    "sbom.cdx.json",
    "sbom.spdx.json",
    "signature-verification.txt",
    "slsa-provenance.json",
    "vulnerabilities.json",
    "vulnerability-scan.sarif",
];

/// A version of the package format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatVersion {
    /// The value of the manifest's `format` field.
    pub id: &'static str,
    /// The files every package of this version contains besides the manifest.
    pub required_files: &'static [&'static str],
}

/// Every format version `evidence verify` reads, oldest first. Version 2 requires the 16 files
/// of [`REQUIRED_FILES`], and version 1 only the 10 its first packages contained.
pub const FORMAT_VERSIONS: [FormatVersion; 2] = [
    FormatVersion {
        id: "clearbox-evidence/v1",
        required_files: &V1_REQUIRED_FILES,
    },
    FormatVersion {
        id: MANIFEST_FORMAT,
        required_files: &REQUIRED_FILES,
    },
];

/// Returns the format version a manifest's `format` field names, if this clearbox reads it.
#[must_use]
pub fn format_version(id: &str) -> Option<&'static FormatVersion> {
    FORMAT_VERSIONS.iter().find(|version| version.id == id)
}

/// Describes the versions this clearbox reads, for messages.
pub(crate) fn known_formats() -> String {
    let ids: Vec<String> = FORMAT_VERSIONS
        .iter()
        .map(|version| format!("`{}`", version.id))
        .collect();
    ids.join(", ")
}

/// The largest manifest read; a real one is a few kilobytes.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// What checking a package found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct VerifyReport {
    /// SHA-256 of `manifest.json` itself. The manifest proves nothing against someone who can
    /// rewrite it, so an auditor compares this with a value recorded elsewhere.
    pub manifest_sha256: String,
    /// Files whose digest and size match.
    pub intact: Vec<String>,
    /// Files listed in the manifest, or required by its format version, but absent.
    pub missing: Vec<String>,
    /// Files whose content changed, with what was found instead.
    pub modified: Vec<(String, String)>,
    /// Files present but not listed.
    pub unlisted: Vec<String>,
    /// Disagreements between files, such as a different image digest in image-metadata.json.
    pub inconsistent: Vec<String>,
    /// The outcome of checking `manifest.json.sig`.
    pub signature: SignatureCheck,
}

impl VerifyReport {
    /// True when every required and listed file is present and unchanged, nothing was added,
    /// the files agree with each other, and the signature, when a key was given, verifies.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.missing.is_empty()
            && self.modified.is_empty()
            && self.unlisted.is_empty()
            && self.inconsistent.is_empty()
            && !self.signature.is_failure()
    }
}

/// Checks every file of the package in `dir` against its manifest, and with `key` the
/// manifest's signature in `manifest.json.sig` (see [`crate::SignatureCheck`]).
///
/// Only regular files are read, never through symlinks, and never more bytes than the manifest
/// lists for them, so a package someone else prepared cannot make the check hang or exhaust
/// memory.
///
/// NOTE: a file swapped for a FIFO between the type check and the read would block the read;
/// run the check on a copy of a package that others can still write to.
pub fn verify_package(
    dir: &Path,
    key: Option<&clearbox_attest::PublicKey>,
) -> Result<(EvidenceManifest, VerifyReport), EvidenceError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let invalid = |reason: String| EvidenceError::InvalidManifest {
        path: manifest_path.clone(),
        reason,
    };
    let bytes = match read_regular(&manifest_path, MAX_MANIFEST_BYTES)? {
        Ok(bytes) => bytes,
        Err(problem) => return Err(invalid(problem)),
    };
    let manifest: EvidenceManifest =
        serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    let Some(version) = format_version(&manifest.format) else {
        return Err(invalid(format!(
            "format `{}` is not one this clearbox reads ({}); verify it with the clearbox \
             version that wrote it, or a newer one",
            manifest.format.escape_debug(),
            known_formats()
        )));
    };
    let mut report = VerifyReport {
        manifest_sha256: entry_for(&bytes).sha256,
        signature: check_signature(dir, &bytes, key)?,
        ..VerifyReport::default()
    };

    // Each listed file. Names come from the manifest, which may have been tampered with: only
    // plain file names inside the package are accepted.
    for (name, expected) in &manifest.files {
        if name.contains('/') || name == ".." || name == "." || name.is_empty() {
            return Err(invalid(format!(
                "file name `{name}` is not a plain file name"
            )));
        }
        let path = dir.join(name);
        if fs::symlink_metadata(&path).is_err() {
            report.missing.push(name.clone());
            continue;
        }
        match read_regular(&path, expected.size)? {
            Err(problem) => report.modified.push((name.clone(), problem)),
            Ok(data) => {
                let actual = entry_for(&data);
                if actual == *expected {
                    report.intact.push(name.clone());
                } else {
                    report
                        .modified
                        .push((name.clone(), format!("now sha256:{}", actual.sha256)));
                }
            }
        }
    }

    // Files the format version requires, whether or not the manifest lists them.
    for &name in version.required_files {
        if !manifest.files.contains_key(name) && !report.missing.iter().any(|m| m == name) {
            report
                .missing
                .push(format!("{name} (required, not listed in the manifest)"));
        }
    }

    // Files nobody listed.
    let listed: std::collections::BTreeSet<&str> =
        manifest.files.keys().map(String::as_str).collect();
    let mut present: Vec<String> = fs::read_dir(dir)
        .map_err(|e| EvidenceError::io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != MANIFEST_FILE && n != SIGNATURE_FILE && !listed.contains(n.as_str()))
        .collect();
    present.sort();
    report.unlisted = present;

    check_consistency(dir, &manifest, &mut report)?;
    Ok((manifest, report))
}

/// The image named in image-metadata.json must be the one the manifest names.
fn check_consistency(
    dir: &Path,
    manifest: &EvidenceManifest,
    report: &mut VerifyReport,
) -> Result<(), EvidenceError> {
    if !report.intact.iter().any(|n| n == "image-metadata.json") {
        return Ok(());
    }
    let path = dir.join("image-metadata.json");
    let Ok(bytes) = read_regular(&path, MAX_MANIFEST_BYTES)? else {
        return Ok(());
    };
    let Ok(metadata) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        report
            .inconsistent
            .push("image-metadata.json is not valid JSON".into());
        return Ok(());
    };
    let digest = metadata["manifest_digest"].as_str();
    if digest != manifest.manifest_digest.as_deref() {
        report.inconsistent.push(format!(
            "image-metadata.json names manifest digest {}, manifest.json names {}",
            digest.unwrap_or("none"),
            manifest.manifest_digest.as_deref().unwrap_or("none")
        ));
    }
    if metadata["reference"].as_str() != Some(manifest.image.as_str()) {
        report.inconsistent.push(format!(
            "image-metadata.json names image `{}`, manifest.json names `{}`",
            metadata["reference"].as_str().unwrap_or(""),
            manifest.image
        ));
    }
    Ok(())
}

/// Reads a regular file of at most `max` bytes. `Ok(Err(problem))` describes a file that is
/// not a regular file or is larger than `max`; `Err` is a failure to read a regular file.
pub(crate) fn read_regular(
    path: &Path,
    max: u64,
) -> Result<Result<Vec<u8>, String>, EvidenceError> {
    let meta = fs::symlink_metadata(path).map_err(|e| EvidenceError::io(path, e))?;
    if !meta.file_type().is_file() {
        return Ok(Err("not a regular file".to_owned()));
    }
    if meta.len() > max {
        return Ok(Err(format!("{} bytes, expected {max}", meta.len())));
    }
    let file = fs::File::open(path).map_err(|e| EvidenceError::io(path, e))?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| EvidenceError::io(path, e))?;
    if data.len() as u64 > max {
        return Ok(Err(format!("more than {max} bytes")));
    }
    Ok(Ok(data))
}
