//! `manifest.json`: the SHA-256 and size of every other file in the package, and the check
//! that nothing changed since.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::EvidenceError;

/// Name of the manifest inside the package.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Format identifier written into every manifest.
pub const MANIFEST_FORMAT: &str = "clearbox-evidence/v1";

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
    /// Always [`MANIFEST_FORMAT`].
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

/// Every file a package of this format holds besides the manifest. `evidence verify` requires
/// all of them, so removing a file together with its manifest entry is still detected.
pub const REQUIRED_FILES: [&str; 15] = [
    "README.md",
    "attestations.json",
    "cis-compliance.md",
    "compliance-matrix.json",
    "compliance-matrix.md",
    "critical-vulnerabilities.json",
    "image-metadata.json",
    "model-attestation.json",
    "report.html",
    "sbom.cdx.json",
    "sbom.spdx.json",
    "signature-verification.txt",
    "slsa-provenance.json",
    "vulnerabilities.json",
    "vulnerability-scan.sarif",
];

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
    /// Files listed in the manifest, or required by the format, but absent.
    pub missing: Vec<String>,
    /// Files whose content changed, with what was found instead.
    pub modified: Vec<(String, String)>,
    /// Files present but not listed.
    pub unlisted: Vec<String>,
    /// Disagreements between files, such as a different image digest in image-metadata.json.
    pub inconsistent: Vec<String>,
}

impl VerifyReport {
    /// True when every required and listed file is present and unchanged, nothing was added,
    /// and the files agree with each other.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.missing.is_empty()
            && self.modified.is_empty()
            && self.unlisted.is_empty()
            && self.inconsistent.is_empty()
    }
}

/// Checks every file of the package in `dir` against its manifest.
///
/// Only regular files are read, never through symlinks, and never more bytes than the manifest
/// lists for them, so a package someone else prepared cannot make the check hang or exhaust
/// memory.
///
/// NOTE: a file swapped for a FIFO between the type check and the read would block the read;
/// run the check on a copy of a package that others can still write to.
pub fn verify_package(dir: &Path) -> Result<(EvidenceManifest, VerifyReport), EvidenceError> {
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
    if manifest.format != MANIFEST_FORMAT {
        return Err(invalid(format!(
            "format is `{}`, expected `{MANIFEST_FORMAT}`",
            manifest.format
        )));
    }
    let mut report = VerifyReport {
        manifest_sha256: entry_for(&bytes).sha256,
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

    // Files the format requires, whether or not the manifest lists them.
    for name in REQUIRED_FILES {
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
        .filter(|n| n != MANIFEST_FILE && !listed.contains(n.as_str()))
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
fn read_regular(path: &Path, max: u64) -> Result<Result<Vec<u8>, String>, EvidenceError> {
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
