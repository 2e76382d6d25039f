//! `manifest.json`: the SHA-256 and size of every other file in the package, and the check
//! that nothing changed since.

use std::collections::BTreeMap;
use std::fs;
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

/// What checking a package found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct VerifyReport {
    /// Files whose digest and size match.
    pub intact: Vec<String>,
    /// Files listed in the manifest but absent.
    pub missing: Vec<String>,
    /// Files whose content changed, with the digest found.
    pub modified: Vec<(String, String)>,
    /// Files present but not listed.
    pub unlisted: Vec<String>,
}

impl VerifyReport {
    /// True when every listed file is present and unchanged and nothing was added.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.missing.is_empty() && self.modified.is_empty() && self.unlisted.is_empty()
    }
}

/// Checks every file of the package in `dir` against its manifest.
pub fn verify_package(dir: &Path) -> Result<(EvidenceManifest, VerifyReport), EvidenceError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let bytes = fs::read(&manifest_path).map_err(|e| EvidenceError::io(&manifest_path, e))?;
    let manifest: EvidenceManifest =
        serde_json::from_slice(&bytes).map_err(|e| EvidenceError::InvalidManifest {
            path: manifest_path.clone(),
            reason: e.to_string(),
        })?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(EvidenceError::InvalidManifest {
            path: manifest_path,
            reason: format!(
                "format is `{}`, expected `{MANIFEST_FORMAT}`",
                manifest.format
            ),
        });
    }
    let mut report = VerifyReport::default();
    for (name, expected) in &manifest.files {
        // Names come from the manifest, which may have been tampered with: only plain file
        // names inside the package are accepted.
        if name.contains('/') || name == ".." || name == "." || name.is_empty() {
            return Err(EvidenceError::InvalidManifest {
                path: manifest_path,
                reason: format!("file name `{name}` is not a plain file name"),
            });
        }
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(data) => {
                let actual = entry_for(&data);
                if actual == *expected {
                    report.intact.push(name.clone());
                } else {
                    report.modified.push((name.clone(), actual.sha256));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.missing.push(name.clone()),
            Err(e) => return Err(EvidenceError::io(&path, e)),
        }
    }
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
    Ok((manifest, report))
}
