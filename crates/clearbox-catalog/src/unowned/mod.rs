//! Executables that nothing accounts for: ELF files with an execute bit that no package
//! database, language manifest or build information claims, listed as packages of kind
//! [`PackageKind::File`] with path, layer and SHA-256, so that an auditor can review every
//! binary of unknown origin.
//!
//! | evidence of ownership | source |
//! |---|---|
//! | `var/lib/dpkg/info/*.list`, `var/lib/dpkg/info/*.md5sums`, `var/lib/dpkg/status.d/*.md5sums` | read here |
//! | rpm header file lists (`BASENAMES`, `DIRNAMES`, `DIRINDEXES`) | the rpm cataloger |
//! | `*.dist-info/RECORD`, `conda-meta/*.json` `files` | the Python cataloger |
//! | an installed npm package's directory under `node_modules` | the npm cataloger |
//! | Go build information, `cargo auditable` data in the file itself | the file's own capture |
//!
//! Owned paths are compared after following symlinks inside the image, so a dpkg list naming
//! `/bin/ls` owns `/usr/bin/ls` on a merged-`/usr` system. Only executable files of at least
//! 64 bytes are captured as ELF (see the Go cataloger), so shared libraries without an execute
//! bit are not listed.
//!
//! NOTE: apk's installed database also lists files (`R:` lines); until the apk cataloger adds
//! them to [`Ownership`], executables installed by apk are listed here.

mod parse_dpkg_files;

use std::collections::HashSet;
use std::path::Path;

use clearbox_oci::{EntryInfo, normalize_entry_name};

use crate::capture::{Capture, Fact, file_name, parent};
use crate::catalog::{Context, Output};
use crate::package::{FileHash, Package, PackageKind};
use crate::purl::Purl;

use parse_dpkg_files::parse_dpkg_files;

pub(crate) const CATALOGER: &str = "elf-unowned-file-cataloger";
const DPKG_LIST_CATALOGER: &str = "dpkg-file-list-reader";

/// A full system's largest `.list` files are a few MiB.
const MAX_FILE_LIST: u64 = 64 << 20;

/// Paths (relative to the root) that a package installed, and directories whose whole
/// content a package owns.
#[derive(Debug, Default)]
pub(crate) struct Ownership {
    files: HashSet<String>,
    dirs: HashSet<String>,
}

impl Ownership {
    /// Marks a file as installed by a package; the path may be absolute or relative to the
    /// root.
    pub(crate) fn add_file(&mut self, path: &str) {
        if let Some(path) = normalize_entry_name(path).filter(|p| !p.is_empty()) {
            self.files.insert(path);
        }
    }

    /// Marks everything under a directory as installed by a package.
    pub(crate) fn add_dir(&mut self, path: &str) {
        if let Some(path) = normalize_entry_name(path).filter(|p| !p.is_empty()) {
            self.dirs.insert(path);
        }
    }

    /// Returns the same ownership with every path also in its symlink-resolved form.
    fn resolved(&self, ctx: &Context<'_>) -> Ownership {
        let resolve = |paths: &HashSet<String>| -> HashSet<String> {
            let mut out = paths.clone();
            out.extend(paths.iter().filter_map(|p| ctx.resolve(p)));
            out
        };
        Ownership {
            files: resolve(&self.files),
            dirs: resolve(&self.dirs),
        }
    }

    fn owns(&self, path: &str) -> bool {
        if self.files.contains(path) {
            return true;
        }
        let mut dir = parent(path);
        while !dir.is_empty() {
            if self.dirs.contains(dir) {
                return true;
            }
            dir = parent(dir);
        }
        false
    }
}

/// Returns whether `path` is a dpkg file list: `info/PACKAGE.list`, `info/PACKAGE.md5sums`, or the
/// `status.d/PACKAGE.md5sums` that distroless images write.
fn is_dpkg_file_list(path: &str) -> bool {
    match parent(path) {
        "var/lib/dpkg/info" => has_extension(path, "list") || has_extension(path, "md5sums"),
        "var/lib/dpkg/status.d" => has_extension(path, "md5sums"),
        _ => false,
    }
}

/// dpkg writes these names in lowercase only, so the comparison is exact.
fn has_extension(path: &str, extension: &str) -> bool {
    Path::new(path).extension().is_some_and(|e| e == extension)
}

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    is_dpkg_file_list(entry.path).then_some(Capture::Text { max: MAX_FILE_LIST })
}

pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) {
    // 1. dpkg's file lists, which no other cataloger reads.
    for (path, node, fact) in ctx.facts() {
        if !is_dpkg_file_list(path) {
            continue;
        }
        match fact {
            Fact::Text(text) => {
                for file in parse_dpkg_files(&String::from_utf8_lossy(text)) {
                    out.owned.add_file(&file);
                }
            }
            _ => out.not_text(ctx, path, node, DPKG_LIST_CATALOGER, fact),
        }
    }

    // 2. Every executable ELF file that nothing owns.
    let owned = out.owned.resolved(ctx);
    for (path, node, fact) in ctx.facts() {
        let Fact::Elf(elf) = fact else { continue };
        if elf.go.is_some() || elf.rust.is_some() || owned.owns(path) {
            continue;
        }
        let name = file_name(path);
        let purl = Purl::new("generic", None, name, None)
            .with_qualifier("checksum", &format!("sha256:{}", elf.sha256));
        let mut package = Package::new(
            name,
            "",
            PackageKind::File,
            purl,
            CATALOGER,
            ctx.location(path, node),
        );
        package.hashes.push(FileHash {
            algorithm: "SHA256",
            value: elf.sha256.clone(),
        });
        package
            .properties
            .insert("file:size".to_owned(), elf.size.to_string());
        package
            .properties
            .insert("file:mode".to_owned(), format!("{:o}", node.mode & 0o7777));
        out.packages.push(package);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_by_file_and_directory() {
        let mut owned = Ownership::default();
        owned.add_file("/usr/bin/ls");
        owned.add_dir("app/node_modules/esbuild");
        assert!(owned.owns("usr/bin/ls"));
        assert!(owned.owns("app/node_modules/esbuild/bin/esbuild"));
        assert!(!owned.owns("usr/bin/cat"));
        assert!(!owned.owns("app/node_modules/esbuild"));
    }

    #[test]
    fn dpkg_file_list_paths() {
        assert!(is_dpkg_file_list("var/lib/dpkg/info/libc6:amd64.list"));
        assert!(is_dpkg_file_list("var/lib/dpkg/info/libc6:amd64.md5sums"));
        assert!(is_dpkg_file_list("var/lib/dpkg/status.d/libc6.md5sums"));
        assert!(!is_dpkg_file_list("var/lib/dpkg/status.d/libc6"));
        assert!(!is_dpkg_file_list("var/lib/dpkg/info/libc6.conffiles"));
    }
}
