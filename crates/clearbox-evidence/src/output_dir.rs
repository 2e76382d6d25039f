//! Writing a directory atomically: everything goes to a temporary directory beside the target,
//! which is renamed into place only when complete. A failed run leaves the target as it was.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::EvidenceError;

/// A directory being filled, not yet visible at its final path.
pub(crate) struct StagedDir {
    staging: tempfile::TempDir,
    target: PathBuf,
}

impl StagedDir {
    /// Checks that `target` may be written and creates the staging directory beside it.
    /// Refuses a non-empty existing target unless `force` is set, before any work is done.
    pub(crate) fn new(target: &Path, force: bool) -> Result<StagedDir, EvidenceError> {
        if target.exists() {
            if !target.is_dir() {
                return Err(EvidenceError::OutputNotDirectory(target.to_owned()));
            }
            let non_empty = fs::read_dir(target)
                .map_err(|e| EvidenceError::io(target, e))?
                .next()
                .is_some();
            if non_empty && !force {
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
            .map_err(|e| EvidenceError::io(&parent, e))?;
        Ok(StagedDir {
            staging,
            target: target.to_owned(),
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

    /// Moves the finished directory to the target path, replacing an existing one when allowed.
    pub(crate) fn commit(self) -> Result<PathBuf, EvidenceError> {
        let staging = self.staging.keep();
        let fail = |e| EvidenceError::io(&self.target, e);
        if self.target.exists() {
            // An empty directory is replaced silently; a non-empty one only with `force`,
            // moved aside first so that a failed rename can be undone.
            let aside = staging.with_extension("previous");
            fs::rename(&self.target, &aside).map_err(fail)?;
            if let Err(e) = fs::rename(&staging, &self.target) {
                let _ = fs::rename(&aside, &self.target);
                let _ = fs::remove_dir_all(&staging);
                return Err(fail(e));
            }
            fs::remove_dir_all(&aside).map_err(|e| EvidenceError::io(&aside, e))?;
        } else if let Err(e) = fs::rename(&staging, &self.target) {
            let _ = fs::remove_dir_all(&staging);
            return Err(fail(e));
        }
        Ok(self.target)
    }
}
