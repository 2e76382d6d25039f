//! Writing a directory atomically: everything goes to a temporary directory beside the target,
//! which is renamed into place only when complete. A failed run leaves the target as it was.
//!
//! NOTE: a run killed by a signal leaves its hidden `.clearbox-evidence-*` staging directory
//! beside the target; nothing else changes, and the staging directory can be deleted.

use std::fs;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

use crate::EvidenceError;
use crate::manifest::{
    EvidenceManifest, MANIFEST_FILE, REQUIRED_FILES, entry_for, format_version, known_formats,
};
use crate::signature::SIGNATURE_FILE;

/// A directory being filled, not yet visible at its final path.
pub(crate) struct StagedDir {
    staging: tempfile::TempDir,
    target: PathBuf,
    force: bool,
}

impl StagedDir {
    /// Checks that `target` may be written and creates the staging directory beside it.
    /// Rejects a non-empty existing target unless `force` is set, before any work is done.
    pub(crate) fn new(target: &Path, force: bool) -> Result<StagedDir, EvidenceError> {
        // The target is renamed into place, which the working directory and its ancestors
        // cannot be.
        if let (Ok(target_abs), Ok(cwd)) = (fs::canonicalize(target), std::env::current_dir())
            && cwd.starts_with(&target_abs)
        {
            return Err(EvidenceError::OutputIsWorkingDirectory(target.to_owned()));
        }
        if fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(EvidenceError::OutputIsSymlink(target.to_owned()));
        }
        if target.exists() {
            if !target.is_dir() {
                return Err(EvidenceError::OutputNotDirectory(target.to_owned()));
            }
            if !is_empty_dir(target)? {
                if !force {
                    return Err(EvidenceError::OutputNotEmpty(target.to_owned()));
                }
                check_replaceable(target)?;
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| EvidenceError::io(&parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".clearbox-evidence-")
            .tempdir_in(&parent)
            .map_err(|e| EvidenceError::Staging {
                dir: parent.clone(),
                source: e,
            })?;
        Ok(StagedDir {
            staging,
            target: target.to_owned(),
            force,
        })
    }

    /// Writes one file into the staging directory and syncs it. `name` is one of the package's
    /// files ([`is_package_file`]), the list `--force` trusts when it replaces a package.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<(), EvidenceError> {
        assert!(
            is_package_file(name),
            "`{name}` is not in REQUIRED_FILES; add it there before writing it"
        );
        let path = self.staging.path().join(name);
        let mut file = fs::File::create(&path).map_err(|e| EvidenceError::io(&path, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| EvidenceError::io(&path, e))
    }

    /// Moves the finished directory to the target path.
    ///
    /// Without `force` this is one `rename(2)`, which replaces only a missing or empty target
    /// and fails on a non-empty one, so files that appeared in the target during the run are
    /// never touched. With `force` the old target is moved aside, checked again to be an
    /// earlier package and nothing else, the new one moved in, and the old one deleted; a
    /// failed check or move puts the old target back.
    pub(crate) fn commit(self) -> Result<PathBuf, EvidenceError> {
        let staging = self.staging.keep();
        let result = if self.force && self.target.exists() {
            replace(&staging, &self.target)
        } else {
            fs::rename(&staging, &self.target).map_err(|e| {
                if self.target.is_dir() {
                    EvidenceError::OutputNotEmpty(self.target.clone())
                } else {
                    EvidenceError::io(&self.target, e)
                }
            })
        };
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result.map(|()| self.target)
    }
}

fn is_empty_dir(dir: &Path) -> Result<bool, EvidenceError> {
    Ok(fs::read_dir(dir)
        .map_err(|e| EvidenceError::io(dir, e))?
        .next()
        .is_none())
}

/// Returns whether `name` is a file that clearbox writes into a package: the manifest, its
/// signature or one of [`REQUIRED_FILES`]. [`StagedDir::write`] writes no other name.
pub(crate) fn is_package_file(name: &str) -> bool {
    name == MANIFEST_FILE || name == SIGNATURE_FILE || REQUIRED_FILES.contains(&name)
}

/// Accepts an existing output directory for `--force` only when it is an earlier evidence
/// package: a `manifest.json` of a format version clearbox reads, every name it lists being a
/// file clearbox writes into a package, every such file present matching its SHA-256, and no
/// entry that the manifest does not list besides the manifest's signature. So `--force` never
/// deletes the image, key, database or other file a user keeps in the same folder, even when
/// someone listed it in the manifest.
fn check_replaceable(dir: &Path) -> Result<(), EvidenceError> {
    let not_package = |reason: String| EvidenceError::OutputNotPackage {
        dir: dir.to_owned(),
        reason,
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest = match read_small_file(&manifest_path) {
        Ok(bytes) => bytes,
        Err(reason) => return Err(not_package(reason)),
    };
    let manifest: EvidenceManifest = match serde_json::from_slice(&manifest) {
        Ok(m) => m,
        Err(e) => return Err(not_package(format!("`{MANIFEST_FILE}` is not valid: {e}"))),
    };
    if format_version(&manifest.format).is_none() {
        return Err(not_package(format!(
            "`{MANIFEST_FILE}` has format `{}`, not one of {}",
            manifest.format.escape_debug(),
            known_formats()
        )));
    }
    check_listed_files(dir, &manifest).map_err(not_package)?;
    let mut unlisted = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| EvidenceError::io(dir, e))? {
        let entry = entry.map_err(|e| EvidenceError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        let unlisted_name =
            name != MANIFEST_FILE && name != SIGNATURE_FILE && !manifest.files.contains_key(&name);
        if !regular || unlisted_name {
            unlisted.push(name.escape_debug().to_string());
        }
    }
    if unlisted.is_empty() {
        Ok(())
    } else {
        unlisted.sort();
        Err(not_package(format!(
            "it holds entries the package does not list: {}",
            unlisted.join(", ")
        )))
    }
}

/// Checks each name the manifest lists: a package file name, and, when present, a regular file
/// whose SHA-256 and size are the manifest's. Returns why the directory is not a package.
fn check_listed_files(dir: &Path, manifest: &EvidenceManifest) -> Result<(), String> {
    let foreign: Vec<String> = manifest
        .files
        .keys()
        .filter(|name| !is_package_file(name))
        .map(|name| name.escape_debug().to_string())
        .collect();
    if !foreign.is_empty() {
        return Err(format!(
            "`{MANIFEST_FILE}` lists files clearbox does not write into a package: {}",
            foreign.join(", ")
        ));
    }
    let mut changed = Vec::new();
    for (name, expected) in &manifest.files {
        let path = dir.join(name);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let matches = meta.is_file()
            && meta.len() == expected.size
            && fs::read(&path).is_ok_and(|bytes| entry_for(&bytes) == *expected);
        if !matches {
            changed.push(name.clone());
        }
    }
    if changed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "these files differ from the SHA-256 `{MANIFEST_FILE}` lists for them: {}",
            changed.join(", ")
        ))
    }
}

/// Reads a manifest of at most 16 MiB from a regular file, or says why it cannot.
fn read_small_file(path: &Path) -> Result<Vec<u8>, String> {
    const LIMIT: u64 = 16 << 20;
    let name = MANIFEST_FILE;
    let meta = fs::symlink_metadata(path).map_err(|_| format!("it has no `{name}`"))?;
    if !meta.is_file() {
        return Err(format!("`{name}` is not a regular file"));
    }
    let file = fs::File::open(path).map_err(|e| format!("`{name}` cannot be read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("`{name}` cannot be read: {e}"))?;
    if bytes.len() as u64 > LIMIT {
        return Err(format!("`{name}` is larger than {LIMIT} bytes"));
    }
    Ok(bytes)
}

fn replace(staging: &Path, target: &Path) -> Result<(), EvidenceError> {
    let aside = staging.with_extension("previous");
    fs::rename(target, &aside).map_err(|e| EvidenceError::io(target, e))?;
    // Files may have appeared in the target since the first check.
    if let Err(e) = check_replaceable(&aside) {
        let _ = fs::rename(&aside, target);
        return Err(match e {
            EvidenceError::OutputNotPackage { reason, .. } => EvidenceError::OutputNotPackage {
                dir: target.to_owned(),
                reason,
            },
            other => other,
        });
    }
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&aside, target);
        return Err(EvidenceError::io(target, e));
    }
    fs::remove_dir_all(&aside).map_err(|e| EvidenceError::io(&aside, e))
}
