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

/// Adds every entry of a tar stream to `tree` and returns how many entries other than the root
/// directory it had. The stream is already decompressed.
pub(crate) fn add_tar_stream(
    tree: &mut LayerTree,
    stream: impl Read,
    source: &Path,
) -> Result<usize, BuildError> {
    let invalid = |problem| BuildError::InvalidTar {
        path: source.to_owned(),
        source: problem,
    };
    let mut reader = TarReader::new(stream, TAR_LIMITS);
    let mut count = 0;
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
        if !path.is_empty() {
            count += 1;
        }
        tree.insert(&path, entry, source)?;
    }
    Ok(count)
}

fn id(value: u64, source: &Path) -> Result<u32, BuildError> {
    u32::try_from(value).map_err(|_| BuildError::Unsupported {
        path: source.to_owned(),
        reason: format!("the owner id {value} does not fit in 32 bits"),
    })
}

/// Adds a tar file, plain, gzip or zstd. A file with no entries is an error: it would add
/// nothing, which is more likely a wrong or truncated file than a layer meant to be empty.
pub(crate) fn add_tarball(tree: &mut LayerTree, path: &Path) -> Result<(), BuildError> {
    let (file, _) = crate::file::open_regular_file(path).map_err(|e| BuildError::read(path, e))?;
    let mut buffered = std::io::BufReader::new(file);
    let head = std::io::BufRead::fill_buf(&mut buffered).map_err(|e| BuildError::read(path, e))?;
    let compression = Compression::sniff(head);
    let decoder = compression
        .decoder(buffered)
        .map_err(|e| BuildError::read(path, e))?;
    if add_tar_stream(tree, decoder, path)? == 0 {
        return Err(BuildError::Unsupported {
            path: path.to_owned(),
            reason: format!(
                "the tar archive{} has no entries; check that it is the intended file, or \
                 remove the `tarball` source",
                match compression {
                    Compression::None => String::new(),
                    other => format!(" (decompressed with {})", other.name()),
                }
            ),
        });
    }
    Ok(())
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
            let mut bytes = Vec::new();
            let meta = read_source(path, &mut bytes)?;
            let mtime = u64::try_from(meta.mtime()).unwrap_or(0);
            (
                EntryData::File(Content::Memory(bytes)),
                meta.mode() & 0o7777,
                mtime,
            )
        }
        // The concatenation is made by the build, so, like `content`, it has no time of its own
        // and its sources' modes and mtimes do not reach the image.
        FileKind::Sources(paths) => {
            let mut bytes = Vec::new();
            for path in paths {
                read_source(path, &mut bytes)?;
            }
            (EntryData::File(Content::Memory(bytes)), 0o644, NO_TIME)
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

/// Appends the bytes of the regular file at `path` to `bytes` and returns its metadata.
fn read_source(path: &Path, bytes: &mut Vec<u8>) -> Result<std::fs::Metadata, BuildError> {
    let (mut file, _) =
        crate::file::open_regular_file(path).map_err(|e| BuildError::read(path, e))?;
    let meta = file.metadata().map_err(|e| BuildError::read(path, e))?;
    file.read_to_end(bytes)
        .map_err(|e| BuildError::read(path, e))?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_bytes(tree: &LayerTree, path: &str) -> (Vec<u8>, u32, u64) {
        let (_, entry) = tree
            .iter()
            .find(|(p, _)| *p == path)
            .unwrap_or_else(|| panic!("`{path}` is not in the layer"));
        let EntryData::File(Content::Memory(bytes)) = &entry.data else {
            panic!("`{path}` is not a regular file in memory");
        };
        (bytes.clone(), entry.mode, entry.mtime)
    }

    #[test]
    fn sources_concatenated_in_order() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("b.crt");
        let second = dir.path().join("a.crt");
        std::fs::write(&first, "first\n").unwrap();
        std::fs::write(&second, "second").unwrap();
        std::fs::set_permissions(&first, std::fs::Permissions::from_mode(0o600)).unwrap();
        let spec = FileSpec {
            path: "etc/ssl/certs/bundle.crt".into(),
            kind: FileKind::Sources(vec![first, second]),
            mode: None,
            owner: Owner::default(),
        };
        let mut tree = LayerTree::default();
        add_file(&mut tree, &spec).unwrap();
        let (bytes, mode, mtime) = file_bytes(&tree, "etc/ssl/certs/bundle.crt");
        assert_eq!(
            bytes, b"first\nsecond",
            "byte for byte, in the order listed"
        );
        assert_eq!(mode, 0o644, "the sources' modes do not carry over");
        assert_eq!(mtime, NO_TIME, "the concatenation gets the source date");
    }

    #[test]
    fn sources_missing_file_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let present = dir.path().join("a.crt");
        std::fs::write(&present, "a\n").unwrap();
        let missing = dir.path().join("missing.crt");
        let spec = FileSpec {
            path: "bundle".into(),
            kind: FileKind::Sources(vec![present, missing.clone()]),
            mode: None,
            owner: Owner::default(),
        };
        let error = add_file(&mut LayerTree::default(), &spec).unwrap_err();
        assert!(
            matches!(&error, BuildError::Read { path, .. } if *path == missing),
            "{error:?}"
        );
    }

    #[test]
    fn empty_tarballs_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let empty_gzip = dir.path().join("empty.tar.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, &[0u8; 1024]).unwrap();
        std::fs::write(&empty_gzip, encoder.finish().unwrap()).unwrap();
        let zero_bytes = dir.path().join("zero.tar");
        std::fs::write(&zero_bytes, b"").unwrap();

        for (path, expected) in [
            (&empty_gzip, "decompressed with gzip"),
            (&zero_bytes, "tar archive has no entries"),
        ] {
            let error = add_tarball(&mut LayerTree::default(), path).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("has no entries"), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn tarball_with_root_only_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        builder
            .append_data(&mut header, "./", std::io::empty())
            .unwrap();
        let path = dir.path().join("root-only.tar");
        std::fs::write(&path, builder.into_inner().unwrap()).unwrap();
        let error = add_tarball(&mut LayerTree::default(), &path).unwrap_err();
        assert!(error.to_string().contains("has no entries"), "{error}");
    }
}
