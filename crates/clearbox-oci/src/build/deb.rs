//! Unpacking Debian binary packages into a layer as `dpkg-deb --extract` does, plus the dpkg
//! status files a distroless image carries instead of `/var/lib/dpkg/status`:
//!
//! - `var/lib/dpkg/status.d/<package>`: the control file with `Status: install ok installed`
//!   after its `Package:` line, which the dpkg cataloger reads as an installed package.
//! - `var/lib/dpkg/status.d/<package>.md5sums`: the package's `md5sums`, when it has one.
//!
//! Both are `0644`, owned by `0:0`, with the source date as mtime. Maintainer scripts do not
//! run, as with `dpkg-deb --extract`. A control file with more than one paragraph is rejected.
//!
//! NOTE: compared with `dpkg-deb --extract` of the example image's 39 packages in the same
//! order, every entry matched but the mtime of `lib/x86_64-linux-gnu`, which GNU tar 1.34 left
//! at the extraction time and this code at the last package's directory entry. The cause in
//! GNU tar was not traced.
//!
//! A `.deb` is an `ar` archive (`deb(5)`): `debian-binary` (`2.0`), then `control.tar` and
//! `data.tar`, each plain or with the suffix `.gz`, `.xz` or `.zst`. The `ar` format is the
//! common one of `ar(5)`: an 8-byte magic, then per member a 60-byte header (name, mtime, ids,
//! mode, decimal size, and the two end bytes) and the data padded to an even length.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::build::error::BuildError;
use crate::build::sources::add_tar_stream;
use crate::build::tree::{Content, Entry, EntryData, LayerTree, NO_TIME};
use crate::tar::{EntryKind, TarLimits, TarReader};

const AR_MAGIC: &[u8] = b"!<arch>\n";
const AR_HEADER_LEN: usize = 60;
/// The largest package read: 2 GiB, above any package in Debian's archive.
const MAX_DEB_BYTES: u64 = 2 << 30;
/// The largest control file or md5sums read: 16 MiB.
const MAX_CONTROL_MEMBER: u64 = 16 << 20;
const STATUS_DIR: &str = "var/lib/dpkg/status.d";

/// What a package added, for the build record and provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebPackage {
    /// `Package:`.
    pub name: String,
    /// `Version:`.
    pub version: String,
    /// `Architecture:`.
    pub architecture: String,
    /// The package file.
    pub file: PathBuf,
    /// SHA-256 of the package file.
    pub sha256: String,
}

/// Unpacks the package at `path` into `tree` and adds its status files.
pub(crate) fn add_deb(tree: &mut LayerTree, path: &Path) -> Result<DebPackage, BuildError> {
    let invalid = |reason: String| BuildError::InvalidDeb {
        path: path.to_owned(),
        reason,
    };
    let bytes = crate::file::read_regular_file(path, MAX_DEB_BYTES)
        .map_err(|e| BuildError::read(path, e))?;
    let members = ar_members(&bytes).map_err(invalid)?;

    // 1. The format version, then the control and data members.
    match members.first() {
        Some(("debian-binary", data)) if data.starts_with(b"2.") => {}
        _ => {
            return Err(invalid(
                "the first member is not `debian-binary` 2.x".into(),
            ));
        }
    }
    let find = |prefix: &str| {
        members
            .iter()
            .find(|(name, _)| name.starts_with(prefix))
            .copied()
            .ok_or_else(|| invalid(format!("it has no `{prefix}*` member")))
    };
    let (control_name, control_data) = find("control.tar")?;
    let (data_name, data_data) = find("data.tar")?;

    // 2. The control file and md5sums.
    let control_files = read_control(control_name, control_data, path)?;
    let control = control_files
        .control
        .ok_or_else(|| invalid("its control archive has no `control` file".into()))?;
    let control =
        String::from_utf8(control).map_err(|_| invalid("its control file is not UTF-8".into()))?;
    let control = single_paragraph(&control).map_err(invalid)?;
    let field = |name: &str| control_field(control, name);
    let Some(name) = field("Package") else {
        return Err(invalid("its control file has no `Package` field".into()));
    };
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(invalid(format!("the package name `{name}` is invalid")));
    }

    // 3. The files, then the status files over them.
    let stream = decompress(data_name, data_data, path)?;
    add_tar_stream(tree, stream, path)?;
    let status = status_paragraph(control);
    tree.insert(
        &format!("{STATUS_DIR}/{name}"),
        status_entry(status.into_bytes()),
        path,
    )?;
    if let Some(md5sums) = control_files.md5sums {
        tree.insert(
            &format!("{STATUS_DIR}/{name}.md5sums"),
            status_entry(md5sums),
            path,
        )?;
    }
    Ok(DebPackage {
        version: field("Version").unwrap_or_default(),
        architecture: field("Architecture").unwrap_or_default(),
        name,
        file: path.to_owned(),
        sha256: crate::Digest::of(&bytes).hex().to_owned(),
    })
}

fn status_entry(bytes: Vec<u8>) -> Entry {
    Entry {
        data: EntryData::File(Content::Memory(bytes)),
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: NO_TIME,
    }
}

/// Splits an `ar` archive into its members' names and data.
fn ar_members(bytes: &[u8]) -> Result<Vec<(&str, &[u8])>, String> {
    let Some(mut rest) = bytes.strip_prefix(AR_MAGIC) else {
        return Err("it does not start with the `ar` magic `!<arch>`".into());
    };
    let mut members = Vec::new();
    while !rest.is_empty() {
        if rest.len() < AR_HEADER_LEN {
            return Err("it ends inside an `ar` member header".into());
        }
        let (header, after) = rest.split_at(AR_HEADER_LEN);
        if &header[58..60] != b"`\n" {
            return Err("an `ar` member header has no end marker".into());
        }
        let name = std::str::from_utf8(&header[..16])
            .map_err(|_| "an `ar` member name is not UTF-8".to_owned())?
            .trim_end()
            .trim_end_matches('/');
        let size: usize = std::str::from_utf8(&header[48..58])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("the `ar` member `{name}` has an invalid size"))?;
        if size > after.len() {
            return Err(format!("the `ar` member `{name}` is truncated"));
        }
        members.push((name, &after[..size]));
        let padded = (size + size % 2).min(after.len());
        rest = &after[padded..];
    }
    Ok(members)
}

/// Returns a reader that decompresses a `control.tar*` or `data.tar*` member by its suffix.
fn decompress<'a>(
    name: &str,
    data: &'a [u8],
    path: &Path,
) -> Result<Box<dyn Read + 'a>, BuildError> {
    Ok(
        match name
            .strip_prefix("data.tar")
            .or(name.strip_prefix("control.tar"))
        {
            Some("") => Box::new(data),
            Some(".gz") => Box::new(flate2::read::MultiGzDecoder::new(data)),
            Some(".xz") => Box::new(lzma_rust2::XzReader::new(data, true)),
            Some(".zst") => Box::new(
                zstd::stream::read::Decoder::new(data).map_err(|e| BuildError::read(path, e))?,
            ),
            _ => {
                return Err(BuildError::InvalidDeb {
                    path: path.to_owned(),
                    reason: format!("the member `{name}` has a compression dpkg does not write"),
                });
            }
        },
    )
}

#[derive(Default)]
struct ControlFiles {
    control: Option<Vec<u8>>,
    md5sums: Option<Vec<u8>>,
}

fn read_control(name: &str, data: &[u8], path: &Path) -> Result<ControlFiles, BuildError> {
    let stream = decompress(name, data, path)?;
    let mut reader = TarReader::new(
        stream,
        TarLimits {
            max_name_len: 4096,
            max_extension_len: 1 << 20,
        },
    );
    let mut files = ControlFiles::default();
    let invalid = |problem| BuildError::InvalidTar {
        path: path.to_owned(),
        source: problem,
    };
    while let Some(header) = reader.next_entry().map_err(invalid)? {
        if header.kind != EntryKind::File || header.size > MAX_CONTROL_MEMBER {
            continue;
        }
        let slot = match header.name.trim_start_matches("./") {
            "control" => &mut files.control,
            "md5sums" => &mut files.md5sums,
            _ => continue,
        };
        let mut bytes = Vec::new();
        reader
            .content()
            .read_to_end(&mut bytes)
            .map_err(|e| BuildError::read(path, e))?;
        *slot = Some(bytes);
    }
    Ok(files)
}

/// Returns the control file without the blank lines around it, or an error when it has more than
/// one paragraph. dpkg rejects such a package ("several package info entries found, only one
/// allowed"), and the extra paragraphs would be read from the status file as more packages.
fn single_paragraph(control: &str) -> Result<&str, String> {
    let is_blank = |line: &str| line.trim().is_empty();
    let leading: usize = control
        .split_inclusive('\n')
        .take_while(|line| is_blank(line))
        .map(str::len)
        .sum();
    let text = control[leading..].trim_end();
    if text.is_empty() {
        return Err("its control file is empty".into());
    }
    let mut lines = text.lines().skip_while(|line| !is_blank(line));
    if let Some(second) = lines.find(|line| !is_blank(line)) {
        return Err(format!(
            "its control file has more than one paragraph (the second starts with `{second}`), \
             but dpkg accepts exactly one per package"
        ));
    }
    Ok(text)
}

/// Returns the value of a single-line control field.
fn control_field(control: &str, name: &str) -> Option<String> {
    control.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_owned())
    })
}

/// The control file with `Status: install ok installed` after `Package:`, as dpkg records an
/// installed package, ending in one newline.
fn status_paragraph(control: &str) -> String {
    let mut out = String::with_capacity(control.len() + 32);
    let mut added = false;
    for line in control.trim_end_matches('\n').lines() {
        if line.starts_with("Status:") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if !added && line.starts_with("Package:") {
            out.push_str("Status: install ok installed\n");
            added = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = AR_MAGIC.to_vec();
        for (name, data) in members {
            out.extend(
                format!(
                    "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    0,
                    0,
                    0,
                    100_644,
                    data.len()
                )
                .bytes(),
            );
            out.extend(*data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    #[test]
    fn ar_members_split() {
        let bytes = ar(&[("debian-binary", b"2.0\n"), ("data.tar/", b"abc")]);
        let members = ar_members(&bytes).unwrap();
        assert_eq!(
            members,
            [("debian-binary", &b"2.0\n"[..]), ("data.tar", &b"abc"[..])]
        );
    }

    #[test]
    fn ar_truncated_rejected() {
        let mut bytes = ar(&[("debian-binary", b"2.0\n")]);
        bytes.truncate(bytes.len() - 2);
        assert!(ar_members(&bytes).unwrap_err().contains("truncated"));
    }

    /// A plain tar with one regular file per `(name, bytes)`.
    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, bytes) in files {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_size(bytes.len() as u64);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, *bytes).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// Writes a `.deb` with the given control file and one data file, and unpacks it.
    fn unpack(control: &str) -> (LayerTree, Result<DebPackage, BuildError>) {
        let control_tar = tar_of(&[("./control", control.as_bytes())]);
        let data_tar = tar_of(&[("./usr/share/doc/demo/README", b"demo\n")]);
        let deb = ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar", &control_tar),
            ("data.tar", &data_tar),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo_1.0_amd64.deb");
        std::fs::write(&path, deb).unwrap();
        let mut tree = LayerTree::default();
        let result = add_deb(&mut tree, &path);
        (tree, result)
    }

    fn status_file(tree: &LayerTree) -> String {
        let (_, entry) = tree
            .iter()
            .find(|(path, _)| *path == "var/lib/dpkg/status.d/demo")
            .expect("the status file is in the layer");
        let EntryData::File(Content::Memory(bytes)) = &entry.data else {
            panic!("the status file is not a regular file in memory");
        };
        String::from_utf8(bytes.clone()).unwrap()
    }

    #[test]
    fn deb_single_paragraph_unpacked() {
        let (tree, result) = unpack("\nPackage: demo\nVersion: 1.0\nArchitecture: amd64\n\n\n");
        let package = result.unwrap();
        assert_eq!(package.name, "demo");
        assert_eq!(package.version, "1.0");
        assert_eq!(
            status_file(&tree),
            "Package: demo\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n"
        );
    }

    #[test]
    fn deb_second_paragraph_rejected() {
        let control = "Package: demo\nVersion: 1.0\nArchitecture: amd64\n\n\
                       Package: phantom\nVersion: 9.9\nArchitecture: amd64\n";
        let (tree, result) = unpack(control);
        let error = result.unwrap_err().to_string();
        assert!(error.contains("more than one paragraph"), "{error}");
        assert!(error.contains("`Package: phantom`"), "{error}");
        assert!(
            !tree.contains("var/lib/dpkg/status.d/demo"),
            "no status file is written for a rejected package"
        );
    }

    #[test]
    fn deb_whitespace_line_separates_paragraphs() {
        let control = "Package: demo\nVersion: 1.0\n \t\nPackage: phantom\n";
        assert!(single_paragraph(control).is_err());
        assert!(single_paragraph("\n\n").unwrap_err().contains("empty"));
        let description = "Package: demo\nDescription: x\n more\n .\n end\n";
        assert_eq!(
            single_paragraph(description).unwrap(),
            description.trim_end()
        );
    }

    #[test]
    fn status_after_package() {
        let control = "Package: age\nVersion: 1.1.1-1+b3\nDescription: x\n more\n";
        assert_eq!(
            status_paragraph(control),
            "Package: age\nStatus: install ok installed\nVersion: 1.1.1-1+b3\nDescription: x\n more\n"
        );
        assert_eq!(control_field(control, "Version").unwrap(), "1.1.1-1+b3");
    }
}
