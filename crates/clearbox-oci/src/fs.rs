//! The merged filesystem of an image: every layer applied in order, with whiteouts.
//!
//! Paths are stored relative to the root, without a leading `/` and without `.` or `..`
//! components. Layers are applied as an overlay filesystem would (OCI image spec,
//! "Applying Changesets"):
//!
//! - `DIR/.wh.NAME` removes `DIR/NAME` and everything below it from lower layers;
//! - `DIR/.wh..wh..opq` removes everything below `DIR` from lower layers;
//! - a non-directory written over a directory hides the directory's lower contents;
//! - an entry whose parent path runs through a symlink lands where the symlink points,
//!   resolved inside the root as a container runtime would, never outside it.
//!
//! Symlinks are never followed out of the root: `..` at the root stays at the root, and an
//! absolute target is taken relative to the image root.

use std::collections::BTreeMap;

use crate::tar::EntryKind;

/// Identifies the entry whose bytes a node holds: the layer and the entry's position in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentId {
    /// Zero-based layer index.
    pub layer: usize,
    /// Zero-based position of the entry within its layer.
    pub entry: usize,
}

/// One file, directory or link in the merged filesystem.
#[derive(Debug, Clone)]
pub struct Node {
    /// What kind of object this is. Hard links appear as [`EntryKind::File`] with the
    /// content of their target.
    pub kind: EntryKind,
    /// Permission bits, including setuid (`0o4000`), setgid (`0o2000`) and sticky (`0o1000`).
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Size of a regular file in bytes; 0 for everything else.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Zero-based index of the layer that last wrote this path.
    pub layer: usize,
    /// For regular files and hard links, where the bytes came from.
    pub content: Option<ContentId>,
    /// For symlinks, the target as stored.
    pub link_target: Option<String>,
    /// True for sparse entries, whose content is not inspected.
    pub sparse: bool,
}

impl Node {
    /// Returns true for regular files (including hard links to them).
    #[must_use]
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// Returns true for directories.
    #[must_use]
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Directory
    }

    /// Returns true when any execute bit is set.
    #[must_use]
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// The merged filesystem view, path → node.
#[derive(Debug, Default, Clone)]
pub struct FileTree {
    nodes: BTreeMap<String, Node>,
}

/// Maximum symlinks followed while resolving one path, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINK_HOPS: usize = 40;

/// Why an entry could not be applied to the tree.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ApplyProblem {
    HardLinkTargetMissing,
    HardLinkTargetNotFile,
}

impl FileTree {
    /// The node at `path` itself, without following a final symlink.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Number of paths in the tree.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Returns true when the tree has no paths.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// All paths and nodes in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Direct children of the directory `dir` (`""` for the root), in path order.
    pub fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let len = prefix.len();
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| !k[len..].contains('/'))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Follows symlinks in every component of `path`, inside the root, and returns the path
    /// it ends at with its node. `None` when it leads nowhere or loops.
    #[must_use]
    pub fn resolve(&self, path: &str) -> Option<(String, &Node)> {
        let resolved = self.resolve_path(path, true)?;
        let node = self.nodes.get(&resolved)?;
        Some((resolved, node))
    }

    /// Resolves symlinks in `path`; the last component is followed only if `follow_last`.
    /// Returns the resolved path even when nothing exists there.
    fn resolve_path(&self, path: &str, follow_last: bool) -> Option<String> {
        let mut pending: Vec<String> = split_reversed(path);
        let mut current: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "" | "." => continue,
                ".." => {
                    current.pop();
                    continue;
                }
                _ => {}
            }
            current.push(component);
            let is_last = pending.is_empty();
            if is_last && !follow_last {
                break;
            }
            let joined = current.join("/");
            let Some(node) = self.nodes.get(&joined) else {
                continue;
            };
            if node.kind != EntryKind::Symlink {
                continue;
            }
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return None;
            }
            let target = node.link_target.as_deref().unwrap_or("");
            current.pop();
            if target.starts_with('/') {
                current.clear();
            }
            pending.extend(split_reversed(target));
        }
        Some(current.join("/"))
    }

    /// Applies one entry of `layer` to the tree. `path` is already normalised.
    pub(crate) fn apply(
        &mut self,
        path: &str,
        mut node: Node,
        hard_link_target: Option<&str>,
    ) -> Result<(), ApplyProblem> {
        let Some(path) = self.place(path) else {
            return Ok(());
        };
        let layer = node.layer;

        if let Some(target) = hard_link_target {
            let target = self.resolve_path(target, false).unwrap_or_default();
            let Some(existing) = self.nodes.get(&target) else {
                return Err(ApplyProblem::HardLinkTargetMissing);
            };
            if existing.kind != EntryKind::File {
                return Err(ApplyProblem::HardLinkTargetNotFile);
            }
            node.kind = EntryKind::File;
            node.size = existing.size;
            node.content = existing.content;
            node.sparse = existing.sparse;
        }

        if node.kind != EntryKind::Directory {
            self.remove_below(&path, layer);
        }
        self.nodes.insert(path, node);
        Ok(())
    }

    /// Applies a `.wh.NAME` whiteout found at `dir/.wh.name` in `layer`.
    pub(crate) fn whiteout(&mut self, dir: &str, name: &str, layer: usize) {
        let joined = if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        };
        let Some(path) = self.place(&joined) else {
            return;
        };
        if self.nodes.get(&path).is_some_and(|n| n.layer < layer) {
            self.nodes.remove(&path);
        }
        self.remove_below(&path, layer);
    }

    /// Applies an opaque whiteout for `dir` in `layer`.
    pub(crate) fn opaque(&mut self, dir: &str, layer: usize) {
        let resolved = if dir.is_empty() {
            Some(String::new())
        } else {
            self.resolve_path(dir, true)
        };
        if let Some(dir) = resolved {
            self.remove_below(&dir, layer);
        }
    }

    /// Where an entry named `path` lands: its parent resolved through symlinks, its last
    /// component kept. `None` for the root itself.
    fn place(&self, path: &str) -> Option<String> {
        let resolved = self.resolve_path(path, false)?;
        (!resolved.is_empty()).then_some(resolved)
    }

    /// Removes everything strictly below `dir` that came from a layer lower than `layer`.
    fn remove_below(&mut self, dir: &str, layer: usize) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, n)| n.layer < layer)
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            self.nodes.remove(&key);
        }
    }
}

fn split_reversed(path: &str) -> Vec<String> {
    path.split('/').rev().map(str::to_owned).collect()
}

/// Normalises an entry name: strips `./` and leading `/`, drops `.` components and resolves
/// `..` lexically. Returns `None` when `..` would leave the root.
#[must_use]
pub fn normalize_entry_name(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: EntryKind, layer: usize) -> Node {
        Node {
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1,
            mtime: 0,
            layer,
            content: Some(ContentId { layer, entry: 0 }),
            link_target: None,
            sparse: false,
        }
    }

    fn symlink(target: &str, layer: usize) -> Node {
        Node {
            link_target: Some(target.to_owned()),
            content: None,
            ..node(EntryKind::Symlink, layer)
        }
    }

    fn paths(tree: &FileTree) -> Vec<&str> {
        tree.iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn normalize_strips_dots_and_rejects_escape() {
        assert_eq!(normalize_entry_name("./usr/bin/").unwrap(), "usr/bin");
        assert_eq!(normalize_entry_name("/a/./b/../c").unwrap(), "a/c");
        assert_eq!(normalize_entry_name("./").unwrap(), "");
        assert_eq!(normalize_entry_name("../etc/passwd"), None);
        assert_eq!(normalize_entry_name("a/../../x"), None);
    }

    #[test]
    fn whiteout_removes_lower_subtree_only() {
        let mut t = FileTree::default();
        t.apply("a", node(EntryKind::Directory, 0), None).unwrap();
        t.apply("a/f", node(EntryKind::File, 0), None).unwrap();
        t.apply("a/g", node(EntryKind::File, 1), None).unwrap();
        t.whiteout("", "a", 1);
        assert_eq!(paths(&t), ["a/g"]);
    }

    #[test]
    fn opaque_keeps_same_layer_entries() {
        let mut t = FileTree::default();
        t.apply("d", node(EntryKind::Directory, 0), None).unwrap();
        t.apply("d/old", node(EntryKind::File, 0), None).unwrap();
        t.apply("d/new", node(EntryKind::File, 1), None).unwrap();
        t.opaque("d", 1);
        assert_eq!(paths(&t), ["d", "d/new"]);
    }

    #[test]
    fn file_over_directory_hides_lower_children() {
        let mut t = FileTree::default();
        t.apply("x/y", node(EntryKind::File, 0), None).unwrap();
        t.apply("x", node(EntryKind::File, 1), None).unwrap();
        assert_eq!(paths(&t), ["x"]);
    }

    #[test]
    fn entry_below_symlink_lands_at_its_target_inside_root() {
        let mut t = FileTree::default();
        t.apply("etc", node(EntryKind::Directory, 0), None).unwrap();
        t.apply("link", symlink("/../../etc", 0), None).unwrap();
        t.apply("link/passwd", node(EntryKind::File, 0), None)
            .unwrap();
        assert!(t.get("etc/passwd").is_some());
        assert!(t.get("link/passwd").is_none());
    }

    #[test]
    fn resolve_clamps_at_root_and_detects_loops() {
        let mut t = FileTree::default();
        t.apply("etc/os-release", node(EntryKind::File, 0), None)
            .unwrap();
        t.apply(
            "usr/lib/os-release",
            symlink("../../../../../etc/os-release", 0),
            None,
        )
        .unwrap();
        let (p, _) = t.resolve("usr/lib/os-release").unwrap();
        assert_eq!(p, "etc/os-release");
        t.apply("loop", symlink("loop", 0), None).unwrap();
        assert!(t.resolve("loop").is_none());
    }

    #[test]
    fn hard_link_copies_target_content() {
        let mut t = FileTree::default();
        t.apply("bin/a", node(EntryKind::File, 0), None).unwrap();
        t.apply("bin/b", node(EntryKind::HardLink, 1), Some("bin/a"))
            .unwrap();
        let b = t.get("bin/b").unwrap();
        assert!(b.is_file());
        assert_eq!(b.content, Some(ContentId { layer: 0, entry: 0 }));
        let missing = t.apply("c", node(EntryKind::HardLink, 1), Some("nope"));
        assert_eq!(missing, Err(ApplyProblem::HardLinkTargetMissing));
    }

    #[test]
    fn children_lists_direct_entries() {
        let mut t = FileTree::default();
        for p in ["d/a", "d/b/c", "d/b", "e"] {
            t.apply(p, node(EntryKind::File, 0), None).unwrap();
        }
        let c: Vec<&str> = t.children("d").map(|(p, _)| p).collect();
        assert_eq!(c, ["d/a", "d/b"]);
    }
}
