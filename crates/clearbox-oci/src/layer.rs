//! Reading one layer: decompress, enforce limits, list entries, hand selected file contents to
//! an inspector, and check both digests (stored blob and uncompressed `diff_id`).
//!
//! The stream is pulled once, front to back, through this stack:
//!
//! ```text
//! blob file → HashingReader (blob digest) → CountingReader (progress, ratio)
//!   → decoder (none, gzip, zstd) → GuardedReader (limits) → HashingReader (diff_id) → TarReader
//! ```
//!
//! Memory use does not depend on layer size: only headers, entry metadata and whatever the
//! inspector chooses to keep are held.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::digest::{Digest, HashingReader};
use crate::error::{LayerProblem, OciError};
use crate::fs::{ContentId, Node, normalize_entry_name};
use crate::options::{Progress, ReadOptions};
use crate::tar::{EntryKind, TarLimits, TarReader, map_read_error};

/// Compression of a layer or archive, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar stream.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
}

impl Compression {
    /// Detects the compression from the stream's first bytes.
    #[must_use]
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The name used in messages and media types.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    pub(crate) fn decoder<R: Read>(self, inner: R) -> io::Result<Decoder<R>> {
        let buffered = BufReader::with_capacity(256 << 10, inner);
        Ok(match self {
            Compression::None => Decoder::Plain(buffered),
            Compression::Gzip => {
                Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
            }
            Compression::Zstd => Decoder::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(
                buffered,
            )?)),
        })
    }
}

/// A decompressing reader that can hand back its input.
pub(crate) enum Decoder<R: Read> {
    Plain(BufReader<R>),
    // The decoders are boxed: their state is several hundred bytes.
    Gzip(Box<flate2::bufread::MultiGzDecoder<BufReader<R>>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<R>>>),
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

impl<R: Read> Decoder<R> {
    fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r.into_inner(),
            Decoder::Gzip(r) => r.into_inner().into_inner(),
            Decoder::Zstd(r) => (*r).finish().into_inner(),
        }
    }
}

/// Counts stored bytes for the expansion-ratio check and reports progress.
pub(crate) struct CountingReader<'p, R> {
    inner: R,
    count: Arc<AtomicU64>,
    progress: Option<(&'p dyn Progress, usize)>,
}

impl<'p, R: Read> CountingReader<'p, R> {
    pub(crate) fn new(inner: R, progress: Option<(&'p dyn Progress, usize)>) -> Self {
        CountingReader {
            inner,
            count: Arc::new(AtomicU64::new(0)),
            progress,
        }
    }

    pub(crate) fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.count)
    }

    fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        if let Some((progress, layer)) = self.progress {
            progress.advanced(layer, n as u64);
        }
        Ok(n)
    }
}

/// Enforces the size and expansion-ratio limits on decompressed output, and labels decoder
/// errors as corrupt-stream problems.
pub(crate) struct GuardedReader<R: Read> {
    inner: Decoder<R>,
    compression: Compression,
    compressed: Arc<AtomicU64>,
    produced: u64,
    ratio: u64,
    grace: u64,
    max: u64,
}

impl<R: Read> GuardedReader<R> {
    pub(crate) fn new(
        inner: Decoder<R>,
        compression: Compression,
        compressed: Arc<AtomicU64>,
        options: &ReadOptions,
    ) -> Self {
        GuardedReader {
            inner,
            compression,
            compressed,
            produced: 0,
            ratio: options.max_expansion_ratio,
            grace: options.ratio_grace_bytes,
            max: options.max_layer_bytes,
        }
    }

    fn into_inner(self) -> R {
        self.inner.into_inner()
    }
}

fn problem(p: LayerProblem) -> io::Error {
    io::Error::other(p)
}

impl<R: Read> Read for GuardedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if self.compression == Compression::None => return Err(e),
            Err(e)
                if e.get_ref()
                    .is_some_and(<dyn std::error::Error + Send + Sync>::is::<LayerProblem>) =>
            {
                return Err(e);
            }
            Err(e) => {
                return Err(problem(LayerProblem::Decompress {
                    compression: self.compression.name(),
                    source: e,
                }));
            }
        };
        self.produced += n as u64;
        if self.produced > self.max {
            return Err(problem(LayerProblem::SizeLimitExceeded { limit: self.max }));
        }
        if self.compression != Compression::None && self.produced > self.grace {
            let compressed = self.compressed.load(Ordering::Relaxed).max(1);
            if self.produced / compressed > self.ratio {
                return Err(problem(LayerProblem::ExpansionRatioExceeded {
                    ratio: self.ratio,
                    compressed,
                }));
            }
        }
        Ok(n)
    }
}

/// One layer entry as the inspector sees it.
#[derive(Debug, Clone, Copy)]
pub struct EntryInfo<'a> {
    /// Normalised path, relative to the root.
    pub path: &'a str,
    /// Entry kind; inspectors are only offered regular files.
    pub kind: EntryKind,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes.
    pub size: u64,
    /// Zero-based layer index.
    pub layer: usize,
}

/// Chooses file contents to read while layers stream past, and turns them into facts.
///
/// Facts are kept per entry; after all layers are applied only the facts of entries still
/// visible in the merged filesystem are reported, so an inspector never needs to know about
/// whiteouts or overwrites.
pub trait ContentInspector: Sync {
    /// What the inspector keeps about one file.
    type Fact: Send;

    /// Decides from the header alone whether to read a regular file's content.
    fn wants(&self, entry: &EntryInfo<'_>) -> bool;

    /// Reads a selected file. Errors from `content` must be returned, since they mean the
    /// layer itself is unreadable; problems with the file's format belong in the fact.
    fn inspect(
        &self,
        entry: &EntryInfo<'_>,
        content: &mut dyn Read,
    ) -> io::Result<Option<Self::Fact>>;
}

/// One change a layer makes to the filesystem.
#[derive(Debug)]
pub(crate) enum Change {
    Put {
        path: String,
        node: Node,
        hard_link: Option<String>,
    },
    Whiteout {
        dir: String,
        name: String,
    },
    Opaque {
        dir: String,
    },
}

/// Everything read from one layer.
#[derive(Debug)]
pub(crate) struct LayerScan<F> {
    pub(crate) changes: Vec<Change>,
    /// Facts by position of their entry in `changes`.
    pub(crate) facts: Vec<(usize, F)>,
    pub(crate) blob_digest: Digest,
    pub(crate) stored_size: u64,
    pub(crate) diff_id: Digest,
    pub(crate) uncompressed_size: u64,
    pub(crate) compression: Compression,
}

/// What is known about a layer before reading it.
pub(crate) struct LayerInput<'a> {
    pub(crate) index: usize,
    pub(crate) count: usize,
    pub(crate) label: String,
    pub(crate) reader: Box<dyn Read + Send>,
    pub(crate) stored_size: u64,
    pub(crate) expected_digest: Option<&'a Digest>,
    pub(crate) expected_diff_id: Option<&'a Digest>,
}

/// Reads one layer completely.
pub(crate) fn scan_layer<I: ContentInspector>(
    input: LayerInput<'_>,
    inspector: &I,
    options: &ReadOptions,
    progress: &dyn Progress,
) -> Result<LayerScan<I::Fact>, OciError> {
    let fail = |reason| OciError::Layer {
        layer: input.label.clone(),
        reason,
    };
    progress.started(input.index, input.count, Some(input.stored_size));

    // Build the reader stack, sniffing the compression from the first bytes.
    let blob = HashingReader::new(input.reader);
    let counting = CountingReader::new(blob, Some((progress, input.index)));
    let counter = counting.counter();
    let mut sniffer = BufReader::with_capacity(8, counting);
    let head = sniffer.fill_buf().map_err(|e| fail(LayerProblem::Io(e)))?;
    let compression = Compression::sniff(head);
    let decoder = compression
        .decoder(sniffer)
        .map_err(|e| fail(LayerProblem::Io(e)))?;
    let guarded = GuardedReader::new(decoder, compression, counter, options);
    let diff = HashingReader::new(guarded);
    let limits = TarLimits {
        max_name_len: options.max_name_len,
        max_extension_len: options.max_extension_len,
    };
    let mut tar = TarReader::new(diff, limits);

    // Walk the entries.
    let (changes, facts) =
        walk_entries(&mut tar, input.index, inspector, options).map_err(&fail)?;

    // Drain both streams to their ends so that both digests cover every byte.
    let diff = tar.into_inner();
    let (diff_id, uncompressed_size, guarded) =
        diff.finish().map_err(|e| fail(map_read_error(e)))?;
    let sniffer = guarded.into_inner();
    let blob = sniffer.into_inner().into_inner();
    let (blob_digest, stored_size, _) = blob.finish().map_err(|e| fail(LayerProblem::Io(e)))?;
    progress.finished(input.index);

    // Check the digests.
    if let Some(expected) = input.expected_digest
        && *expected != blob_digest
    {
        return Err(OciError::DigestMismatch {
            blob: format!("layer {} (stored blob)", input.index),
            expected: expected.clone(),
            actual: blob_digest,
        });
    }
    if stored_size != input.stored_size {
        return Err(OciError::SizeMismatch {
            blob: format!("layer {} ({})", input.index, input.label),
            expected: input.stored_size,
            actual: stored_size,
        });
    }
    if let Some(expected) = input.expected_diff_id
        && *expected != diff_id
    {
        return Err(OciError::DigestMismatch {
            blob: format!(
                "layer {} (uncompressed content, config diff_id)",
                input.index
            ),
            expected: expected.clone(),
            actual: diff_id,
        });
    }
    Ok(LayerScan {
        changes,
        facts,
        blob_digest,
        stored_size,
        diff_id,
        uncompressed_size,
        compression,
    })
}

type Walked<F> = (Vec<Change>, Vec<(usize, F)>);

fn walk_entries<R: Read, I: ContentInspector>(
    tar: &mut TarReader<R>,
    layer: usize,
    inspector: &I,
    options: &ReadOptions,
) -> Result<Walked<I::Fact>, LayerProblem> {
    let mut changes = Vec::new();
    let mut facts = Vec::new();
    while let Some(header) = tar.next_entry()? {
        if changes.len() >= options.max_entries {
            return Err(LayerProblem::TooManyEntries {
                limit: options.max_entries,
            });
        }
        let Some(path) = normalize_entry_name(&header.name) else {
            return Err(LayerProblem::PathEscapesRoot { path: header.name });
        };
        if path.is_empty() {
            continue;
        }

        // Whiteouts change the tree but are not files.
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if base == ".wh..wh..opq" {
            changes.push(Change::Opaque {
                dir: dir.to_owned(),
            });
            continue;
        }
        if let Some(name) = base.strip_prefix(".wh.") {
            // `.wh..wh.*` names other than the opaque marker are AUFS bookkeeping.
            if !name.starts_with(".wh.") && !name.is_empty() {
                changes.push(Change::Whiteout {
                    dir: dir.to_owned(),
                    name: name.to_owned(),
                });
            }
            continue;
        }

        let hard_link = if header.kind == EntryKind::HardLink {
            let target = header.link_name.clone().unwrap_or_default();
            let Some(target) = normalize_entry_name(&target) else {
                return Err(LayerProblem::HardLinkEscapesRoot { path, target });
            };
            Some(target)
        } else {
            None
        };
        let index = changes.len();
        let is_file = header.kind == EntryKind::File;
        let node = Node {
            kind: header.kind,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            size: header.size,
            mtime: header.mtime,
            layer,
            content: is_file.then_some(ContentId {
                layer,
                entry: index,
            }),
            link_target: (header.kind == EntryKind::Symlink)
                .then(|| header.link_name.clone().unwrap_or_default()),
            sparse: header.sparse,
        };

        // Offer regular files to the inspector.
        if is_file && !header.sparse {
            let info = EntryInfo {
                path: &path,
                kind: header.kind,
                mode: header.mode,
                size: header.size,
                layer,
            };
            if inspector.wants(&info) {
                let mut content = TrackedReader {
                    inner: tar.content(),
                    error: None,
                };
                let outcome = inspector.inspect(&info, &mut content);
                if let Some(e) = content.error {
                    return Err(map_read_error(e));
                }
                if let Some(fact) = outcome.map_err(map_read_error)? {
                    facts.push((index, fact));
                }
            }
        }
        changes.push(Change::Put {
            path,
            node,
            hard_link,
        });
    }
    Ok((changes, facts))
}

/// Remembers a read error even if the inspector swallows it.
struct TrackedReader<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Read for TrackedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.error = Some(e);
                Err(copy)
            }
        }
    }
}
