//! Reading every layer of an image into one filesystem view plus the inspector's facts.
//!
//! Layers are independent until they are merged, so they are decompressed and walked on
//! several threads; the merge then applies their changes in layer order on one thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::digest::Digest;
use crate::error::{LayerProblem, OciError};
use crate::fs::{ApplyProblem, ContentId, FileTree, Node};
use crate::image::{Image, Source};
use crate::layer::{Change, Compression, ContentInspector, LayerInput, LayerScan, scan_layer};
use crate::options::{Progress, ReadOptions};

/// Where a worker leaves one layer's result; empty until a worker reads the layer.
type LayerSlot<F> = Mutex<Option<Result<LayerScan<F>, OciError>>>;

/// What reading a layer established about it.
#[derive(Debug, Clone)]
pub struct LayerSummary {
    /// Zero-based position, base first.
    pub index: usize,
    /// Digest of the stored blob, as computed while reading.
    pub digest: Digest,
    /// Stored size in bytes.
    pub size: u64,
    /// Digest of the uncompressed tar, as computed while reading.
    pub diff_id: Digest,
    /// Uncompressed size in bytes.
    pub uncompressed_size: u64,
    /// Compression found in the blob.
    pub compression: Compression,
    /// Filesystem entries in the layer, whiteouts included.
    pub entries: usize,
}

/// The merged filesystem of an image and the facts of the files still visible in it.
#[derive(Debug)]
pub struct Scan<F> {
    /// The merged filesystem.
    pub tree: FileTree,
    /// One summary per layer, base first. A root filesystem read from `dir:` has none.
    pub layers: Vec<LayerSummary>,
    /// Paths of a root filesystem that could not be read (permissions, other filesystems),
    /// with the reason. Always empty for images, whose layers are read whole or not at all.
    pub unreadable: Vec<Unreadable>,
    facts: HashMap<ContentId, F>,
}

/// A path of a root filesystem that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Path relative to the root.
    pub path: String,
    /// Why it was not read.
    pub reason: String,
}

impl<F> Scan<F> {
    /// Visible files that have a fact, with their path and node, in path order. A fact shared
    /// by hard links appears once per path.
    pub fn facts(&self) -> impl Iterator<Item = (&str, &Node, &F)> {
        self.tree.iter().filter_map(|(path, node)| {
            let fact = self.facts.get(&node.content?)?;
            Some((path, node, fact))
        })
    }

    /// The `diff_id` of a layer, for locating evidence. `None` for a root filesystem.
    #[must_use]
    pub fn layer_digest(&self, layer: usize) -> Option<&Digest> {
        self.layers.get(layer).map(|l| &l.diff_id)
    }
}

impl Image {
    /// Reads every layer, verifying blob digests and `diff_id`s, and merges them.
    pub fn scan<I: ContentInspector>(
        &self,
        inspector: &I,
        options: &ReadOptions,
        progress: &dyn Progress,
    ) -> Result<Scan<I::Fact>, OciError> {
        let store = match &self.source {
            Source::RootFs(path) => {
                return crate::rootfs::scan_rootfs(path, inspector, options, progress);
            }
            Source::Blobs(store) => store,
        };

        // Read the layers on worker threads.
        let count = self.layers.len();
        let results: Vec<LayerSlot<I::Fact>> = (0..count).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = options.threads.clamp(1, count.max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(layer) = self.layers.get(index) else {
                            break;
                        };
                        let outcome = store.open(&layer.location).and_then(|(reader, size)| {
                            let input = LayerInput {
                                index,
                                count,
                                label: layer.label(),
                                reader,
                                stored_size: size,
                                expected_digest: layer.digest.as_ref(),
                                expected_diff_id: layer.diff_id.as_ref(),
                            };
                            if size != layer.size {
                                return Err(OciError::SizeMismatch {
                                    blob: format!("layer {index} ({})", layer.label()),
                                    expected: layer.size,
                                    actual: size,
                                });
                            }
                            scan_layer(input, inspector, options, progress)
                        });
                        let failed = outcome.is_err();
                        *results[index]
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = Some(outcome);
                        if failed {
                            // Stop handing out layers; the first error is reported.
                            next.store(count, Ordering::Relaxed);
                        }
                    }
                });
            }
        });

        // Merge in layer order.
        let mut merged = Merge::new(options.max_entries);
        for (index, slot) in results.into_iter().enumerate() {
            let Some(outcome) = slot.into_inner().unwrap_or_else(PoisonError::into_inner) else {
                // A worker stopped early because a lower-numbered layer failed later; that
                // error is reported by a slot after this one.
                continue;
            };
            let scan = outcome?;
            merged.apply_layer(index, &self.layers[index].label(), scan)?;
        }
        Ok(merged.finish())
    }
}

/// Applies layer scans to the tree in order.
pub(crate) struct Merge<F> {
    tree: FileTree,
    layers: Vec<LayerSummary>,
    facts: HashMap<ContentId, F>,
    max_entries: usize,
}

impl<F> Merge<F> {
    pub(crate) fn new(max_entries: usize) -> Self {
        Merge {
            tree: FileTree::default(),
            layers: Vec::new(),
            facts: HashMap::new(),
            max_entries,
        }
    }

    pub(crate) fn apply_layer(
        &mut self,
        index: usize,
        label: &str,
        scan: LayerScan<F>,
    ) -> Result<(), OciError> {
        let fail = |reason| OciError::Layer {
            layer: label.to_owned(),
            reason,
        };
        let entries = scan.changes.len();
        for (position, fact) in scan.facts {
            self.facts.insert(
                ContentId {
                    layer: index,
                    entry: position,
                },
                fact,
            );
        }
        for change in scan.changes {
            match change {
                Change::Put {
                    path,
                    node,
                    hard_link,
                } => {
                    self.tree
                        .apply(&path, node, hard_link.as_deref())
                        .map_err(|problem| {
                            let target = hard_link.clone().unwrap_or_default();
                            fail(match problem {
                                ApplyProblem::HardLinkTargetMissing => {
                                    LayerProblem::HardLinkTargetMissing { path, target }
                                }
                                ApplyProblem::HardLinkTargetNotFile => {
                                    LayerProblem::HardLinkTargetNotFile { path, target }
                                }
                            })
                        })?;
                }
                Change::Whiteout { dir, name } => self.tree.whiteout(&dir, &name, index),
                Change::Opaque { dir } => self.tree.opaque(&dir, index),
            }
            if self.tree.len() > self.max_entries {
                return Err(fail(LayerProblem::TooManyEntries {
                    limit: self.max_entries,
                }));
            }
        }
        self.layers.push(LayerSummary {
            index,
            digest: scan.blob_digest,
            size: scan.stored_size,
            diff_id: scan.diff_id,
            uncompressed_size: scan.uncompressed_size,
            compression: scan.compression,
            entries,
        });
        Ok(())
    }

    pub(crate) fn finish(self) -> Scan<F> {
        Scan {
            tree: self.tree,
            layers: self.layers,
            unreadable: Vec::new(),
            facts: self.facts,
        }
    }

    /// Builds a scan from a tree made without layers (a root filesystem).
    pub(crate) fn from_tree(
        tree: FileTree,
        facts: HashMap<ContentId, F>,
        unreadable: Vec<Unreadable>,
    ) -> Scan<F> {
        Scan {
            tree,
            layers: Vec::new(),
            unreadable,
            facts,
        }
    }
}
