//! Reading a layer's sources into a [`LayerTree`]: tar files, directories and single files.
//! Debian packages are in [`deb`](super::deb).
//!
//! Owners: a directory or `files` source gives every entry the spec's numeric owner, because the
//! build machine's owners mean nothing in the image. Tar sources keep the numeric ids of their
//! headers and drop user and group names. Modes: see [`ModePolicy`]. Hard links inside a
//! directory source are copied as separate files.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::build::error::BuildError;
use crate::build::spec::{DirectorySpec, FileKind, FileSpec, ModePolicy, Owner};
use crate::build::tree::{Content, Entry, EntryData, LayerTree, NO_TIME};
use crate::fs::normalize_entry_name;
use crate::layer::Compression;
use crate::tar::{EntryKind, TarLimits, TarReader};

/// Limits for tar inputs: names up to 64 KiB, extension headers up to 1 MiB.
const TAR_LIMITS: TarLimits = TarLimits {
    max_name_len: 64 << 10,
    max_extension_len: 1 << 20,
};

/// Adds every entry of a tar stream to `tree`, under `prefix` (empty for the root). The stream
/// is already decompressed.
pub(crate) fn add_tar_stream(
    tree: &mut LayerTree,
    stream: impl Read,
    source: &Path,
) -> Result<(), BuildError> {
    let invalid = |problem| BuildError::InvalidTar {
        path: source.to_owned(),
        source: problem,
    };
    let mut reader = TarReader::new(stream, TAR_LIMITS);
    while let Some(header) = reader.next_entry().map_err(invalid)? {
        let unsupported = |reason: String| BuildError::Unsupported {
            path: source.to_owned(),
            reason,
        };
        let Some(path) = normalize_entry_name(&header.name) else {
            return Err(unsupported(format!(
                "the entry `{}` leaves the root",
                header.name
            )));
        };
        if header.sparse {
            return Err(unsupported(format!("`{}` is a sparse file", header.name)));
        }
        let data = match header.kind {
            EntryKind::Directory => EntryData::Directory,
            EntryKind::File => {
                let mut bytes = Vec::with_capacity(header.size.min(64 << 20) as usize);
                reader
                    .content()
                    .read_to_end(&mut bytes)
                    .map_err(|e| BuildError::read(source, e))?;
                EntryData::File(Content::Memory(bytes))
            }
            EntryKind::Symlink => EntryData::Symlink(header.link_name.clone().unwrap_or_default()),
            EntryKind::HardLink => {
                let target = header.link_name.as_deref().and_then(normalize_entry_name);
                match target {
                    Some(target) if tree.contains(&target) => EntryData::HardLink(target),
                    _ => {
                        return Err(unsupported(format!(
                            "`{}` is a hard link to `{}`, which is not an earlier entry",
                            header.name,
                            header.link_name.as_deref().unwrap_or_default()
                        )));
                    }
                }
            }
            other => {
                return Err(unsupported(format!(
                    "`{}` is a {}; layers built here carry only files, directories and links",
                    header.name,
                    other.describe()
                )));
            }
        };
        let entry = Entry {
            data,
            mode: header.mode,
            uid: id(header.uid, source)?,
            gid: id(header.gid, source)?,
            mtime: u64::try_from(header.mtime).unwrap_or(0),
        };
        tree.insert(&path, entry, source)?;
    }
    Ok(())
}

fn id(value: u64, source: &Path) -> Result<u32, BuildError> {
    u32::try_from(value).map_err(|_| BuildError::Unsupported {
        path: source.to_owned(),
        reason: format!("the owner id {value} does not fit in 32 bits"),
    })
}

/// Adds a tar file, plain, gzip or zstd.
pub(crate) fn add_tarball(tree: &mut LayerTree, path: &Path) -> Result<(), BuildError> {
    let (file, _) = crate::file::open_regular_file(path).map_err(|e| BuildError::read(path, e))?;
    let mut buffered = std::io::BufReader::new(file);
    let head = std::io::BufRead::fill_buf(&mut buffered).map_err(|e| BuildError::read(path, e))?;
    let compression = Compression::sniff(head);
    let decoder = compression
        .decoder(buffered)
        .map_err(|e| BuildError::read(path, e))?;
    add_tar_stream(tree, decoder, path)
}

/// Adds a directory tree under its destination.
pub(crate) fn add_directory(tree: &mut LayerTree, spec: &DirectorySpec) -> Result<(), BuildError> {
    let meta = std::fs::metadata(&spec.path).map_err(|e| BuildError::read(&spec.path, e))?;
    if !meta.is_dir() {
        return Err(BuildError::Unsupported {
            path: spec.path.clone(),
            reason: "it is not a directory".into(),
        });
    }
    if !spec.destination.is_empty() {
        let entry = entry_from_metadata(&meta, EntryData::Directory, spec.owner, spec.modes);
        tree.insert(&spec.destination, entry, &spec.path)?;
    }
    walk(tree, &spec.path, &spec.destination, spec)
}

fn walk(
    tree: &mut LayerTree,
    dir: &Path,
    prefix: &str,
    spec: &DirectorySpec,
) -> Result<(), BuildError> {
    let mut names = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| BuildError::read(dir, e))? {
        let item = item.map_err(|e| BuildError::read(dir, e))?;
        names.push(item.file_name());
    }
    // Sorted, so that the first error reported does not depend on the directory's order.
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let Some(name) = name.to_str() else {
            return Err(BuildError::Unsupported {
                path,
                reason: "its name is not UTF-8".into(),
            });
        };
        let image_path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let meta = std::fs::symlink_metadata(&path).map_err(|e| BuildError::read(&path, e))?;
        let file_type = meta.file_type();
        let data = if file_type.is_dir() {
            EntryData::Directory
        } else if file_type.is_file() {
            EntryData::File(Content::Disk {
                path: path.clone(),
                size: meta.len(),
            })
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| BuildError::read(&path, e))?;
            let Some(target) = target.to_str() else {
                return Err(BuildError::Unsupported {
                    path,
                    reason: "its link target is not UTF-8".into(),
                });
            };
            EntryData::Symlink(target.to_owned())
        } else {
            return Err(BuildError::Unsupported {
                path,
                reason: "it is not a file, a directory or a symlink".into(),
            });
        };
        let is_dir = matches!(data, EntryData::Directory);
        let entry = entry_from_metadata(&meta, data, spec.owner, spec.modes);
        tree.insert(&image_path, entry, &path)?;
        if is_dir {
            walk(tree, &path, &image_path, spec)?;
        }
    }
    Ok(())
}

fn entry_from_metadata(
    meta: &std::fs::Metadata,
    data: EntryData,
    owner: Owner,
    policy: ModePolicy,
) -> Entry {
    use std::os::unix::fs::MetadataExt as _;
    let bits = meta.mode() & 0o7777;
    let mode = match (&data, policy) {
        (EntryData::Symlink(_), _) => 0o777,
        (_, ModePolicy::Keep) => bits,
        (EntryData::Directory, ModePolicy::Normalize) => 0o755,
        (_, ModePolicy::Normalize) if bits & 0o111 != 0 => 0o755,
        (_, ModePolicy::Normalize) => 0o644,
    };
    Entry {
        data,
        mode,
        uid: owner.uid,
        gid: owner.gid,
        mtime: u64::try_from(meta.mtime()).unwrap_or(0),
    }
}

/// Adds one `files` entry.
pub(crate) fn add_file(tree: &mut LayerTree, spec: &FileSpec) -> Result<(), BuildError> {
    let origin = PathBuf::from(format!("files: /{}", spec.path));
    let (data, default_mode, mtime) = match &spec.kind {
        FileKind::Source(path) => {
            use std::os::unix::fs::MetadataExt as _;
            let (mut file, _) =
                crate::file::open_regular_file(path).map_err(|e| BuildError::read(path, e))?;
            let meta = file.metadata().map_err(|e| BuildError::read(path, e))?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|e| BuildError::read(path, e))?;
            let mtime = u64::try_from(meta.mtime()).unwrap_or(0);
            (
                EntryData::File(Content::Memory(bytes)),
                meta.mode() & 0o7777,
                mtime,
            )
        }
        FileKind::Content(text) => (
            EntryData::File(Content::Memory(text.clone().into_bytes())),
            0o644,
            NO_TIME,
        ),
        FileKind::Directory => (EntryData::Directory, 0o755, NO_TIME),
        FileKind::Symlink(target) => (EntryData::Symlink(target.clone()), 0o777, NO_TIME),
    };
    let mode = if matches!(data, EntryData::Symlink(_)) {
        0o777
    } else {
        spec.mode.unwrap_or(default_mode)
    };
    let entry = Entry {
        data,
        mode,
        uid: spec.owner.uid,
        gid: spec.owner.gid,
        mtime,
    };
    tree.insert(&spec.path, entry, &origin)
}
