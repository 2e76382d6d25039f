//! Writing a [`LayerTree`] as a gzip-compressed tar blob whose bytes depend only on the tree and
//! the source date.
//!
//! - Entries in byte order of their path, parents first.
//! - GNU tar headers (long names as `././@LongLink` entries), with numeric owners only: user and
//!   group names, device numbers, atime, ctime and extended attributes are never written.
//! - Every mtime clamped to the source date. Entries with no time of their own get the source
//!   date.
//! - gzip from flate2's zlib-rs backend at level 6, with no file name and mtime 0 in the gzip
//!   header. The same tree gives the same blob as long as that backend compresses the same way.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::Digest;
use crate::build::error::BuildError;
use crate::build::tree::{Content, EntryData, LayerTree};

/// The fixed gzip level of built layers.
pub(crate) const GZIP_LEVEL: u32 = 6;

/// Media type of the layers written here.
pub(crate) const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A written layer blob.
#[derive(Debug, Clone)]
pub(crate) struct WrittenLayer {
    /// Digest of the compressed blob.
    pub(crate) digest: Digest,
    /// Size of the compressed blob.
    pub(crate) size: u64,
    /// Digest of the uncompressed tar.
    pub(crate) diff_id: Digest,
}

/// A writer that hashes and counts what passes through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub(crate) fn finish(self) -> (Digest, u64, W) {
        (
            Digest::from_sha256(self.hasher.finalize().as_slice()),
            self.count,
            self.inner,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `tree` as a layer blob into `blobs` (the `blobs/sha256` directory of a layout).
pub(crate) fn write_layer(
    tree: &LayerTree,
    source_date: u64,
    blobs: &Path,
) -> Result<WrittenLayer, BuildError> {
    let write_error = |e| BuildError::write(blobs, e);
    let temp = tempfile::NamedTempFile::new_in(blobs).map_err(write_error)?;
    let file = temp.reopen().map_err(write_error)?;

    // tar → diff_id hash → gzip → blob hash → file.
    let blob = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(blob, flate2::Compression::new(GZIP_LEVEL));
    let mut builder = tar::Builder::new(HashingWriter::new(gzip));
    for (path, entry) in tree.iter() {
        append_entry(&mut builder, path, entry, source_date)?;
    }
    let (diff_id, _, gzip) = builder.into_inner().map_err(write_error)?.finish();
    let blob = gzip.finish().map_err(write_error)?;
    let (digest, size, mut writer) = blob.finish();
    writer.flush().map_err(write_error)?;
    drop(writer);

    let target = blobs.join(digest.hex());
    temp.persist(&target)
        .map_err(|e| BuildError::write(&target, e.error))?;
    Ok(WrittenLayer {
        digest,
        size,
        diff_id,
    })
}

fn append_entry<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    entry: &crate::build::tree::Entry,
    source_date: u64,
) -> Result<(), BuildError> {
    let error = |e| BuildError::write(format!("layer entry /{path}"), e);
    let mut header = tar::Header::new_gnu();
    header.set_mode(entry.mode);
    header.set_uid(u64::from(entry.uid));
    header.set_gid(u64::from(entry.gid));
    header.set_mtime(entry.mtime.min(source_date));
    header.set_size(0);
    match &entry.data {
        EntryData::Directory => {
            header.set_entry_type(tar::EntryType::Directory);
            builder
                .append_data(&mut header, format!("{path}/"), io::empty())
                .map_err(error)
        }
        EntryData::Symlink(target) => {
            header.set_entry_type(tar::EntryType::Symlink);
            builder
                .append_link(&mut header, path, target)
                .map_err(error)
        }
        EntryData::HardLink(target) => {
            header.set_entry_type(tar::EntryType::Link);
            builder
                .append_link(&mut header, path, target)
                .map_err(error)
        }
        EntryData::File(content) => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(content.len());
            match content {
                Content::Memory(bytes) => builder
                    .append_data(&mut header, path, bytes.as_slice())
                    .map_err(error),
                Content::Disk { path: source, size } => {
                    let file = File::open(source).map_err(|e| BuildError::read(source, e))?;
                    let reader = ExactReader {
                        inner: file.take(*size),
                        remaining: *size,
                    };
                    builder
                        .append_data(&mut header, path, reader)
                        .map_err(|e| BuildError::read(source, e))
                }
            }
        }
    }
}

/// Reads exactly `remaining` bytes, failing when the file got shorter since it was listed, so
/// that a file changing during the build cannot produce a malformed tar.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file got shorter while the layer was written",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}
