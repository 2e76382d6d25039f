//! The contents of one layer before it is written: entries keyed by their path inside the image,
//! so that iteration is in byte order of the path whatever order the sources were read in.
//! Parents sort before their children in that order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::build::error::BuildError;
use crate::build::spec::Hardening;

/// Mode of directories the tree adds for parents that no source lists.
const IMPLICIT_DIR_MODE: u32 = 0o755;

/// Shells the built layers may not hold unless the spec allows them.
const SHELLS: [&str; 10] = [
    "bin/sh",
    "bin/bash",
    "bin/dash",
    "bin/ash",
    "bin/busybox",
    "usr/bin/sh",
    "usr/bin/bash",
    "usr/bin/dash",
    "usr/bin/ash",
    "usr/bin/busybox",
];

/// The mtime of entries with no time of their own (implicit parents, text and directories
/// from the spec): clamping turns it into the source date.
pub(crate) const NO_TIME: u64 = u64::MAX;

/// The name prefix by which a layer entry deletes the same path of lower layers (OCI image
/// layer specification, "Whiteouts"). A build writes no whiteouts.
const WHITEOUT_PREFIX: &str = ".wh.";

/// One entry of a layer.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) data: EntryData,
    /// Permission bits, including setuid, setgid and sticky.
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// Seconds since the Unix epoch, before clamping.
    pub(crate) mtime: u64,
}

/// What an entry is.
#[derive(Debug, Clone)]
pub(crate) enum EntryData {
    Directory,
    File(Content),
    Symlink(String),
    /// A hard link to another path of the same layer.
    HardLink(String),
}

/// Where a regular file's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    Memory(Vec<u8>),
    /// A file on the build machine, read when the layer is written and checked to still have
    /// the size it had when the source was walked.
    Disk {
        path: PathBuf,
        size: u64,
    },
}

impl Content {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Content::Memory(bytes) => bytes.len() as u64,
            Content::Disk { size, .. } => *size,
        }
    }
}

/// What the hardening pass changed or let through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HardeningReport {
    /// Paths whose setuid or setgid bit was cleared.
    pub setuid_cleared: Vec<String>,
    /// Paths that keep a setuid or setgid bit because the spec sets `keep_setuid`.
    pub setuid_kept: Vec<String>,
    /// Paths whose world-write bit was cleared.
    pub world_writable_cleared: Vec<String>,
    /// World-writable paths that the spec's `writable` list keeps.
    pub world_writable_kept: Vec<String>,
    /// Shells in the built layers that the spec's `allow_shell` keeps.
    pub shells_kept: Vec<String>,
}

impl HardeningReport {
    /// Adds another layer's report to this one.
    pub(crate) fn absorb(&mut self, other: HardeningReport) {
        self.setuid_cleared.extend(other.setuid_cleared);
        self.setuid_kept.extend(other.setuid_kept);
        self.world_writable_cleared
            .extend(other.world_writable_cleared);
        self.world_writable_kept.extend(other.world_writable_kept);
        self.shells_kept.extend(other.shells_kept);
    }
}

/// The entries of one layer.
#[derive(Debug, Default)]
pub(crate) struct LayerTree {
    entries: BTreeMap<String, Entry>,
    /// Directories the current source lists itself, as [`LayerTree::begin_source`] describes.
    listed: std::collections::HashSet<String>,
}

impl LayerTree {
    /// Adds or replaces the entry at `path` (normalised, relative to `/`). Missing parents are
    /// added as `0755` directories owned by `0:0`. A directory replaced by anything else loses
    /// its contents, as unpacking a file over a directory would.
    pub(crate) fn insert(
        &mut self,
        path: &str,
        entry: Entry,
        source: &Path,
    ) -> Result<(), BuildError> {
        if path.is_empty() {
            // The root directory itself: layers do not carry it.
            return Ok(());
        }
        if path
            .split('/')
            .any(|name| name.starts_with(WHITEOUT_PREFIX))
        {
            return Err(BuildError::Unsupported {
                path: source.to_owned(),
                reason: format!(
                    "`/{path}` has a name starting with `{WHITEOUT_PREFIX}`, which an image reads \
                     as a whiteout that deletes files of lower layers; rename the entry"
                ),
            });
        }
        self.add_parents(path, source)?;
        let replaces_directory = self
            .entries
            .get(path)
            .is_some_and(|old| matches!(old.data, EntryData::Directory));
        if replaces_directory && !matches!(entry.data, EntryData::Directory) {
            let prefix = format!("{path}/");
            self.entries.retain(|key, _| !key.starts_with(&prefix));
        }
        if matches!(entry.data, EntryData::Directory) {
            self.listed.insert(path.to_owned());
        }
        self.entries.insert(path.to_owned(), entry);

        // Creating an entry changes its directory's mtime, unless the source lists that
        // directory itself: tar sets a listed directory's mtime after extracting its contents.
        if let Some((parent, _)) = path.rsplit_once('/')
            && !self.listed.contains(parent)
            && let Some(directory) = self.entries.get_mut(parent)
        {
            directory.mtime = NO_TIME;
        }
        Ok(())
    }

    /// Starts the next source (one package, tarball, directory or `files` list). Unpacking
    /// into a directory that an earlier source created sets its mtime to the time of unpacking,
    /// as `dpkg-deb --extract` of several packages into one directory does. That time is later
    /// than the source date, so the layer gets the source date.
    pub(crate) fn begin_source(&mut self) {
        self.listed.clear();
    }

    fn add_parents(&mut self, path: &str, source: &Path) -> Result<(), BuildError> {
        let mut end = 0;
        while let Some(offset) = path[end..].find('/') {
            let parent = &path[..end + offset];
            match self.entries.get(parent) {
                Some(Entry {
                    data: EntryData::Directory,
                    ..
                }) => {}
                Some(_) => {
                    return Err(BuildError::Unsupported {
                        path: source.to_owned(),
                        reason: format!(
                            "`/{path}` is below `/{parent}`, which this layer has as a \
                             non-directory (a symlink is not followed)"
                        ),
                    });
                }
                None => {
                    self.entries.insert(
                        parent.to_owned(),
                        Entry {
                            data: EntryData::Directory,
                            mode: IMPLICIT_DIR_MODE,
                            uid: 0,
                            gid: 0,
                            mtime: NO_TIME,
                        },
                    );
                }
            }
            end += offset + 1;
        }
        Ok(())
    }

    /// Returns true when the tree has an entry at `path`.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// The entries in path order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Applies the hardened defaults the spec does not relax: clears setuid and setgid bits
    /// and world-write bits outside `/tmp`, and fails on a shell.
    pub(crate) fn harden(&mut self, hardening: &Hardening) -> Result<HardeningReport, BuildError> {
        let mut report = HardeningReport::default();

        // Shells.
        let shells: Vec<String> = SHELLS
            .iter()
            .filter(|shell| self.entries.contains_key(**shell))
            .map(|shell| format!("/{shell}"))
            .collect();
        if !shells.is_empty() && !hardening.allow_shell {
            return Err(BuildError::Hardening(format!(
                "the image would have a shell ({}); remove the package or file that adds it, or \
                 set `hardening.allow_shell: true` in the spec",
                shells.join(", ")
            )));
        }
        report.shells_kept = shells;

        // Setuid and setgid bits, and world-writable paths.
        let writable: Vec<&str> = hardening
            .writable
            .iter()
            .map(|p| p.trim_matches('/'))
            .collect();
        for (path, entry) in &mut self.entries {
            if matches!(entry.data, EntryData::Symlink(_)) {
                continue;
            }
            if entry.mode & 0o6000 != 0 {
                if hardening.keep_setuid {
                    report.setuid_kept.push(format!("/{path}"));
                } else {
                    entry.mode &= !0o6000;
                    report.setuid_cleared.push(format!("/{path}"));
                }
            }
            if entry.mode & 0o002 != 0 && path != "tmp" {
                if writable.contains(&path.as_str()) {
                    report.world_writable_kept.push(format!("/{path}"));
                } else {
                    entry.mode &= !0o002;
                    report.world_writable_cleared.push(format!("/{path}"));
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(mode: u32) -> Entry {
        Entry {
            data: EntryData::File(Content::Memory(b"x".to_vec())),
            mode,
            uid: 0,
            gid: 0,
            mtime: 0,
        }
    }

    fn source() -> PathBuf {
        PathBuf::from("src")
    }

    #[test]
    fn parents_are_added_and_sorted_first() {
        let mut tree = LayerTree::default();
        tree.insert("usr/bin/x", file(0o755), &source()).unwrap();
        tree.insert("etc/a", file(0o644), &source()).unwrap();
        let paths: Vec<&str> = tree.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["etc", "etc/a", "usr", "usr/bin", "usr/bin/x"]);
    }

    #[test]
    fn later_source_resets_directory_mtime() {
        let mut tree = LayerTree::default();
        let dir = |mtime| Entry {
            data: EntryData::Directory,
            mtime,
            ..file(0o755)
        };
        tree.begin_source();
        tree.insert("lib", dir(100), &source()).unwrap();
        tree.insert("lib/a", file(0o644), &source()).unwrap();
        let mtime = |tree: &LayerTree| tree.iter().next().unwrap().1.mtime;
        assert_eq!(
            mtime(&tree),
            100,
            "a source listing the directory keeps its time"
        );

        tree.begin_source();
        tree.insert("lib/b", file(0o644), &source()).unwrap();
        assert_eq!(
            mtime(&tree),
            NO_TIME,
            "a later source adding to it sets the time"
        );

        tree.begin_source();
        tree.insert("lib", dir(200), &source()).unwrap();
        tree.insert("lib/c", file(0o644), &source()).unwrap();
        assert_eq!(mtime(&tree), 200);
    }

    #[test]
    fn file_over_directory_drops_contents() {
        let mut tree = LayerTree::default();
        tree.insert("a/b", file(0o644), &source()).unwrap();
        tree.insert("a", file(0o644), &source()).unwrap();
        assert_eq!(tree.len(), 1);
    }

    #[test]
    fn whiteout_names_rejected() {
        for path in ["etc/.wh.passwd", ".wh..wh..opq", ".wh.x/y"] {
            let mut tree = LayerTree::default();
            let error = tree.insert(path, file(0o644), &source()).unwrap_err();
            assert!(error.to_string().contains("whiteout"), "{path}: {error}");
            assert_eq!(tree.len(), 0, "{path}");
        }
        let mut tree = LayerTree::default();
        tree.insert("etc/x.wh.y", file(0o644), &source()).unwrap();
    }

    #[test]
    fn below_symlink_rejected() {
        let mut tree = LayerTree::default();
        let link = Entry {
            data: EntryData::Symlink("usr/bin".into()),
            ..file(0o777)
        };
        tree.insert("bin", link, &source()).unwrap();
        assert!(tree.insert("bin/x", file(0o755), &source()).is_err());
    }

    #[test]
    fn harden_clears_bits() {
        let mut tree = LayerTree::default();
        tree.insert("usr/bin/su", file(0o4755), &source()).unwrap();
        tree.insert("var/drop", file(0o666), &source()).unwrap();
        let report = tree.harden(&Hardening::default()).unwrap();
        assert_eq!(report.setuid_cleared, ["/usr/bin/su"]);
        assert_eq!(report.world_writable_cleared, ["/var/drop"]);
        let modes: Vec<u32> = tree.iter().map(|(_, e)| e.mode).collect();
        assert_eq!(modes, [0o755, 0o755, 0o755, 0o755, 0o664]);
    }

    #[test]
    fn harden_rejects_shell_unless_allowed() {
        let mut tree = LayerTree::default();
        tree.insert("bin/sh", file(0o755), &source()).unwrap();
        assert!(tree.harden(&Hardening::default()).is_err());
        let allowed = Hardening {
            allow_shell: true,
            ..Hardening::default()
        };
        assert_eq!(tree.harden(&allowed).unwrap().shells_kept, ["/bin/sh"]);
    }
}
