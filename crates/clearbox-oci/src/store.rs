//! Where an image's blobs live: a directory, entries of a tar archive read in place, or a
//! registry repository.
//!
//! Archive entries are located once by walking the tar headers and then read by offset, so an
//! archive of any size is never copied, except that a gzip- or zstd-compressed archive is first
//! decompressed into a temporary file the tool owns. Registry blobs stream over HTTP.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::digest::Digest;
use crate::error::{LayerProblem, OciError};
use crate::file::open_regular_file;
use crate::fs::normalize_entry_name;
use crate::layer::{Compression, GuardedReader};
use crate::options::ReadOptions;
use crate::reference::RegistryReference;
use crate::registry::RegistryClient;
use crate::spec::{Descriptor, is_index_media_type, is_manifest_media_type};
use crate::tar::{EntryKind, TarLimits, TarReader, map_read_error};

/// A source of blobs addressed by their path inside a layout or archive.
#[derive(Debug, Clone)]
pub(crate) enum BlobStore {
    /// An OCI layout directory on disk.
    Dir(PathBuf),
    /// Entries of an uncompressed tar file.
    Archive(Arc<ArchiveIndex>),
    /// A repository in a registry; blobs are located by digest, not by path.
    Registry(Arc<RegistryBlobs>),
}

/// The repository of a registry image and the client that reads it.
#[derive(Debug)]
pub(crate) struct RegistryBlobs {
    pub(crate) client: Arc<RegistryClient>,
    /// The repository; tag and digest are those the image was opened by.
    pub(crate) repository: RegistryReference,
}

/// The regular files of a tar archive with their data offsets.
#[derive(Debug)]
pub(crate) struct ArchiveIndex {
    /// The archive as given, for messages.
    display: PathBuf,
    /// The uncompressed tar to read from (the archive itself or a temporary copy).
    file: PathBuf,
    /// Keeps a decompressed temporary copy alive as long as the index.
    _temp: Option<tempfile::TempPath>,
    entries: HashMap<String, (u64, u64)>,
}

impl BlobStore {
    /// Opens the blob at `path`, returning its reader and size.
    pub(crate) fn open(&self, path: &str) -> Result<(Box<dyn Read + Send>, u64), OciError> {
        match self {
            BlobStore::Dir(root) => {
                let full = root.join(path);
                let (file, size) = open_regular_file(&full).map_err(|e| OciError::io(&full, e))?;
                Ok((Box::new(file), size))
            }
            BlobStore::Archive(index) => {
                let &(offset, size) = index.entries.get(path).ok_or_else(|| {
                    OciError::InvalidImage(format!(
                        "`{path}` is missing from archive `{}`",
                        index.display.display()
                    ))
                })?;
                let (mut file, _) =
                    open_regular_file(&index.file).map_err(|e| OciError::io(&index.display, e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| OciError::io(&index.display, e))?;
                Ok((Box::new(file.take(size)), size))
            }
            BlobStore::Registry(remote) => {
                let digest = digest_of_location(path)?;
                let (reader, size) = remote.client.get_blob_sized(&remote.repository, &digest)?;
                Ok((Box::new(reader), size))
            }
        }
    }

    /// Reads a whole JSON document named by a descriptor (index, manifest, config) of at most
    /// `max` bytes. The caller checks its digest and size.
    pub(crate) fn read_document(
        &self,
        descriptor: &Descriptor,
        what: &str,
        max: u64,
    ) -> Result<Vec<u8>, OciError> {
        let BlobStore::Registry(remote) = self else {
            let path = self.location_of(&descriptor.digest);
            if !self.contains(&path) {
                return Err(OciError::InvalidImage(format!(
                    "{what} blob {} is missing (expected at `{}`)",
                    descriptor.digest,
                    self.describe(&path).display()
                )));
            }
            return self.read_small(&path, max);
        };

        // Registries serve manifests and indexes from another endpoint than blobs.
        if is_manifest_media_type(&descriptor.media_type)
            || is_index_media_type(&descriptor.media_type)
        {
            let reference = RegistryReference {
                digest: Some(descriptor.digest.clone()),
                tag: None,
                ..remote.repository.clone()
            };
            return Ok(remote.client.get_manifest(&reference)?.bytes);
        }
        remote
            .client
            .read_blob(&remote.repository, &descriptor.digest, max)
    }

    /// Returns the location of the blob with `digest`: a path in a layout, the digest itself
    /// in a registry.
    pub(crate) fn location_of(&self, digest: &Digest) -> String {
        match self {
            BlobStore::Registry(_) => digest.to_string(),
            BlobStore::Dir(_) | BlobStore::Archive(_) => crate::image::blob_path(digest),
        }
    }

    /// Returns true when `path` exists but is not a regular file, such as a directory.
    pub(crate) fn is_not_file(&self, path: &str) -> bool {
        match self {
            BlobStore::Dir(root) => root.join(path).exists() && !root.join(path).is_file(),
            BlobStore::Archive(_) | BlobStore::Registry(_) => false,
        }
    }

    /// Returns true when the blob exists.
    pub(crate) fn contains(&self, path: &str) -> bool {
        match self {
            BlobStore::Dir(root) => root.join(path).is_file(),
            BlobStore::Archive(index) => index.entries.contains_key(path),
            // Registry blobs are read through `read_document` and `open`, which report a
            // missing blob as a 404 naming the repository.
            BlobStore::Registry(_) => true,
        }
    }

    /// Reads a whole small blob, refusing one larger than `max` bytes.
    pub(crate) fn read_small(&self, path: &str, max: u64) -> Result<Vec<u8>, OciError> {
        let (mut reader, size) = self.open(path)?;
        if size > max {
            return Err(OciError::InvalidImage(format!(
                "`{path}` is {size} bytes, more than the {max}-byte limit for a JSON document"
            )));
        }
        let mut data = Vec::with_capacity(size as usize);
        reader
            .read_to_end(&mut data)
            .map_err(|e| OciError::io(self.describe(path), e))?;
        Ok(data)
    }

    /// A path for messages.
    pub(crate) fn describe(&self, path: &str) -> PathBuf {
        match self {
            BlobStore::Dir(root) if path.is_empty() => root.clone(),
            BlobStore::Dir(root) => root.join(path),
            BlobStore::Archive(index) if path.is_empty() => index.display.clone(),
            BlobStore::Archive(index) => index.display.join(path),
            BlobStore::Registry(remote) => PathBuf::from(format!(
                "{}/{}@{path}",
                remote.repository.registry, remote.repository.repository
            )),
        }
    }
}

/// Parses the digest that a registry blob location names.
fn digest_of_location(location: &str) -> Result<Digest, OciError> {
    location.parse()
}

impl ArchiveIndex {
    /// Indexes the archive at `path`, decompressing it to a temporary file first if needed.
    pub(crate) fn open(path: &Path, options: &ReadOptions) -> Result<ArchiveIndex, OciError> {
        let (file, _) = open_regular_file(path).map_err(|e| OciError::io(path, e))?;
        let mut reader = BufReader::new(file);
        let head = reader.fill_buf().map_err(|e| OciError::io(path, e))?;
        let compression = Compression::sniff(head);
        let (tar_path, temp) = if compression == Compression::None {
            (path.to_owned(), None)
        } else {
            let temp = decompress_to_temp(path, reader, compression, options)?;
            (temp.to_path_buf(), Some(temp))
        };
        let entries = index_entries(path, &tar_path, options)?;
        Ok(ArchiveIndex {
            display: path.to_owned(),
            file: tar_path,
            _temp: temp,
            entries,
        })
    }
}

fn decompress_to_temp(
    path: &Path,
    reader: BufReader<File>,
    compression: Compression,
    options: &ReadOptions,
) -> Result<tempfile::TempPath, OciError> {
    let mut temp = tempfile::Builder::new()
        .prefix("clearbox-archive-")
        .tempfile()
        .map_err(|e| OciError::io(std::env::temp_dir(), e))?;
    let counting = crate::layer::CountingReader::new(reader, None);
    let counter = counting.counter();
    let decoder = compression
        .decoder(counting)
        .map_err(|e| archive_error(path, LayerProblem::Io(e)))?;
    let mut guarded = GuardedReader::new(decoder, compression, counter, options);
    io::copy(&mut guarded, temp.as_file_mut())
        .map_err(|e| archive_error(path, map_read_error(e)))?;
    Ok(temp.into_temp_path())
}

fn archive_error(path: &Path, reason: LayerProblem) -> OciError {
    OciError::Archive {
        path: path.to_owned(),
        reason,
    }
}

fn index_entries(
    display: &Path,
    tar_path: &Path,
    options: &ReadOptions,
) -> Result<HashMap<String, (u64, u64)>, OciError> {
    let (file, _) = open_regular_file(tar_path).map_err(|e| OciError::io(display, e))?;
    let limits = TarLimits {
        max_name_len: options.max_name_len,
        max_extension_len: options.max_extension_len,
    };
    let mut tar = TarReader::new(BufReader::new(file), limits);
    let mut entries = HashMap::new();
    let mut links = Vec::new();
    while let Some(header) = tar.next_entry().map_err(|e| archive_error(display, e))? {
        let Some(name) = normalize_entry_name(&header.name) else {
            return Err(archive_error(
                display,
                LayerProblem::PathEscapesRoot { path: header.name },
            ));
        };
        if entries.len() >= options.max_entries {
            return Err(archive_error(
                display,
                LayerProblem::TooManyEntries {
                    limit: options.max_entries,
                },
            ));
        }
        match header.kind {
            EntryKind::File => {
                entries.insert(name, (header.data_offset, header.data_len));
            }
            // `docker save` links duplicate layers to one copy; follow one level.
            EntryKind::Symlink | EntryKind::HardLink => {
                if let Some(target) = header.link_name {
                    links.push((name, header.kind, target));
                }
            }
            _ => {}
        }
    }
    for (name, kind, target) in links {
        let base = if kind == EntryKind::Symlink {
            name.rsplit_once('/').map_or("", |(dir, _)| dir)
        } else {
            ""
        };
        let joined = if base.is_empty() {
            target
        } else {
            format!("{base}/{target}")
        };
        if let Some(resolved) = normalize_entry_name(&joined)
            && let Some(&location) = entries.get(&resolved)
        {
            entries.insert(name, location);
        }
    }
    Ok(entries)
}
