//! Reading an unpacked root filesystem (`dir:ROOTFS`) into the same view as an image.
//!
//! Symlinks are recorded, never followed, so a link such as `etc/os-release ->
//! /etc/os-release` describes the root filesystem's own file and cannot reach the host's.
//! Files are opened only after `symlink_metadata` showed a regular file.
//!
//! A path that cannot be read (permissions, a name too long, a mount point of another
//! filesystem such as `/proc` under `dir:/`) is recorded in [`Scan::unreadable`] and skipped;
//! the rest of the tree is still read.
//!
//! NOTE: a file swapped for a symlink between that check and the open would be followed.
//! Point `dir:` only at trees that nothing else modifies while they are read.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::error::{LayerProblem, OciError};
use crate::fs::{ContentId, FileTree, Node};
use crate::layer::{ContentInspector, EntryInfo};
use crate::options::{Progress, ReadOptions};
use crate::scan::{Merge, Scan, Unreadable};
use crate::tar::EntryKind;

pub(crate) fn scan_rootfs<I: ContentInspector>(
    root: &Path,
    inspector: &I,
    options: &ReadOptions,
    progress: &dyn Progress,
) -> Result<Scan<I::Fact>, OciError> {
    progress.started(0, 1, None);
    let device = fs::metadata(root).map_err(|e| OciError::io(root, e))?.dev();
    let mut walk = Walk {
        inspector,
        options,
        progress,
        device,
        tree: FileTree::default(),
        facts: HashMap::new(),
        unreadable: Vec::new(),
        entries: 0,
    };
    walk.dir(root, "")?;
    progress.finished(0);
    Ok(Merge::from_tree(walk.tree, walk.facts, walk.unreadable))
}

struct Walk<'a, I: ContentInspector> {
    inspector: &'a I,
    options: &'a ReadOptions,
    progress: &'a dyn Progress,
    /// Device of the root; directories on other devices are mount points and not entered.
    device: u64,
    tree: FileTree,
    facts: HashMap<ContentId, I::Fact>,
    unreadable: Vec<Unreadable>,
    entries: usize,
}

impl<I: ContentInspector> Walk<'_, I> {
    fn skip(&mut self, path: &str, reason: impl std::fmt::Display) {
        self.unreadable.push(Unreadable {
            path: path.to_owned(),
            reason: reason.to_string(),
        });
    }

    fn dir(&mut self, dir: &Path, relative: &str) -> Result<(), OciError> {
        let listing = fs::read_dir(dir).and_then(Iterator::collect::<Result<Vec<_>, _>>);
        let mut children = match listing {
            Ok(children) => children,
            Err(e) => {
                self.skip(relative, format!("directory not read: {e}"));
                return Ok(());
            }
        };
        children.sort_by_key(fs::DirEntry::file_name);
        for child in children {
            let name = child.file_name();
            let name = name.to_string_lossy();
            let path = if relative.is_empty() {
                name.into_owned()
            } else {
                format!("{relative}/{name}")
            };
            let full = child.path();
            self.entries += 1;
            if self.entries > self.options.max_entries {
                return Err(OciError::Layer {
                    layer: "rootfs".into(),
                    reason: LayerProblem::TooManyEntries {
                        limit: self.options.max_entries,
                    },
                });
            }
            let meta = match fs::symlink_metadata(&full) {
                Ok(meta) => meta,
                Err(e) => {
                    self.skip(&path, format!("not read: {e}"));
                    continue;
                }
            };
            self.entry(&full, &path, &meta);
            if meta.is_dir() {
                if meta.dev() == self.device {
                    self.dir(&full, &path)?;
                } else {
                    self.skip(&path, "mount point of another filesystem; not entered");
                }
            }
        }
        Ok(())
    }

    fn entry(&mut self, full: &Path, path: &str, meta: &fs::Metadata) {
        let file_type = meta.file_type();
        let kind = if file_type.is_dir() {
            EntryKind::Directory
        } else if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            use std::os::unix::fs::FileTypeExt;
            if file_type.is_char_device() {
                EntryKind::CharDevice
            } else if file_type.is_block_device() {
                EntryKind::BlockDevice
            } else {
                EntryKind::Fifo
            }
        };
        let mode = meta.permissions().mode() & 0o7777;
        let content = (kind == EntryKind::File).then_some(ContentId {
            layer: 0,
            entry: self.entries,
        });
        let link_target = if kind == EntryKind::Symlink {
            match fs::read_link(full) {
                Ok(target) => Some(target.to_string_lossy().into_owned()),
                Err(e) => {
                    self.skip(path, format!("symlink not read: {e}"));
                    return;
                }
            }
        } else {
            None
        };
        let node = Node {
            kind,
            mode,
            uid: u64::from(meta.uid()),
            gid: u64::from(meta.gid()),
            size: if kind == EntryKind::File {
                meta.len()
            } else {
                0
            },
            mtime: meta.mtime(),
            layer: 0,
            content,
            link_target,
            sparse: false,
        };

        if let Some(id) = content {
            let info = EntryInfo {
                path,
                kind,
                mode,
                size: meta.len(),
                layer: 0,
            };
            if self.inspector.wants(&info) {
                let outcome = File::open(full).and_then(|file| {
                    let mut reader = ProgressReader {
                        inner: file,
                        progress: self.progress,
                    };
                    self.inspector.inspect(&info, &mut reader)
                });
                match outcome {
                    Ok(Some(fact)) => {
                        self.facts.insert(id, fact);
                    }
                    Ok(None) => {}
                    Err(e) => self.skip(path, format!("file not read: {e}")),
                }
            }
        }
        // Paths come from directory listings under the root, so they need no normalising and
        // cannot contain `..`. Hard links on disk are separate regular files here, and only
        // hard links can fail to apply.
        let _ = self.tree.apply(path, node, None);
    }
}

struct ProgressReader<'a> {
    inner: File,
    progress: &'a dyn Progress,
}

impl Read for ProgressReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advanced(0, n as u64);
        Ok(n)
    }
}
