//! Writing a directory atomically: everything goes to a temporary directory beside the target,
//! which is renamed into place only when complete. A failed run leaves the target as it was.
//!
//! NOTE: a run killed by a signal leaves its hidden `.clearbox-evidence-*` staging directory
//! beside the target; nothing else changes, and the staging directory can be deleted.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::EvidenceError;

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
        if target.exists() {
            if !target.is_dir() {
                return Err(EvidenceError::OutputNotDirectory(target.to_owned()));
            }
            if !force && !is_empty_dir(target)? {
                return Err(EvidenceError::OutputNotEmpty(target.to_owned()));
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

    /// Writes one file into the staging directory and syncs it.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<(), EvidenceError> {
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
    /// never touched. With `force` the old target is moved aside, the new one moved in, and
    /// the old one deleted; a failed move puts the old target back.
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

fn replace(staging: &Path, target: &Path) -> Result<(), EvidenceError> {
    let aside = staging.with_extension("previous");
    fs::rename(target, &aside).map_err(|e| EvidenceError::io(target, e))?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&aside, target);
        return Err(EvidenceError::io(target, e));
    }
    fs::remove_dir_all(&aside).map_err(|e| EvidenceError::io(&aside, e))
}
