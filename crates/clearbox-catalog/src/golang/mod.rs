//! Go modules compiled into ELF binaries, from the build information the Go linker embeds
//! (Go 1.13 and later; the inline format of Go 1.18 and later, the pointer format before).
//!
//! | file | what it gives |
//! |---|---|
//! | any executable ELF file | toolchain version (the `stdlib` package), main module, dependencies with versions and checksums, build settings |
//!
//! The build information sits in the `.go.buildinfo` section, or, when a tool renamed or
//! dropped section headers, at a 16-byte-aligned magic in the `.data` sections. Binaries are
//! copied to an unnamed temporary file for parsing, so memory stays bounded by the parser's
//! cache, not by the binary's size.

mod parse_buildinfo;

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, Write};

use clearbox_oci::EntryInfo;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::capture::{Capture, Fact};
use crate::catalog::{Context, Output};
use crate::package::{FileHash, Package, PackageKind};
use crate::purl::Purl;

pub(crate) use parse_buildinfo::parse_buildinfo;
pub use parse_buildinfo::{BuildInfo, Module};

pub(crate) const CATALOGER: &str = "go-module-binary-cataloger";

/// Binaries larger than this are hashed but not parsed. Go binaries seldom pass 300 MB.
const MAX_PARSED_BINARY: u64 = 1 << 30;

/// What was learnt from one ELF file.
#[derive(Debug, Clone, Serialize)]
pub struct ElfFacts {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lowercase hexadecimal.
    pub sha256: String,
    /// Go build information, when the file is a Go binary.
    pub go: Option<BuildInfo>,
    /// Why the build information could not be read, when the file looked like Go but failed.
    pub problem: Option<String>,
    /// The crates a `cargo auditable` build recorded in the `.dep-v0` section.
    pub rust: Option<crate::rust::AuditData>,
    /// Why the `.dep-v0` section could not be read.
    pub rust_problem: Option<String>,
}

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    // Go binaries are executables; shared objects built with `-buildmode=c-shared` are rare
    // and not looked at.
    (entry.mode & 0o111 != 0 && entry.size >= 64).then_some(Capture::Elf)
}

/// Reads an executable; returns `None` when it is not ELF.
pub(crate) fn inspect_elf(
    entry: &EntryInfo<'_>,
    content: &mut dyn Read,
) -> io::Result<Option<ElfFacts>> {
    // Check the magic before copying anything.
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        let n = content.read(&mut magic[filled..])?;
        if n == 0 {
            return Ok(None);
        }
        filled += n;
    }
    if &magic != b"\x7fELF" {
        return Ok(None);
    }

    // Spool to an unnamed temporary file while hashing.
    let mut hasher = Sha256::new();
    hasher.update(magic);
    let parse = entry.size <= MAX_PARSED_BINARY;
    let mut spool = if parse {
        Some(tempfile::tempfile()?)
    } else {
        None
    };
    if let Some(file) = spool.as_mut() {
        file.write_all(&magic)?;
    }
    let mut buf = vec![0u8; 256 << 10];
    let mut size = 4u64;
    loop {
        let n = content.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        if let Some(file) = spool.as_mut() {
            file.write_all(&buf[..n])?;
        }
    }
    let sha256 = hex::encode(hasher.finalize());

    let (go, problem, rust, rust_problem) = match spool {
        None => (
            None,
            Some(format!("not parsed: larger than {MAX_PARSED_BINARY} bytes")),
            None,
            None,
        ),
        Some(mut file) => {
            file.rewind()?;
            let second = file.try_clone()?;
            let (go, problem) = match parse_buildinfo(file) {
                Ok(go) => (go, None),
                Err(reason) => (None, Some(reason)),
            };
            // An ELF file the Go parser rejected is reported once, by the Go cataloger.
            let (rust, rust_problem) = match crate::rust::parse_audit_data(second) {
                Ok(rust) => (rust, None),
                Err(_) if problem.is_some() => (None, None),
                Err(reason) => (None, Some(reason)),
            };
            (go, problem, rust, rust_problem)
        }
    };
    Ok(Some(ElfFacts {
        size,
        sha256,
        go,
        problem,
        rust,
        rust_problem,
    }))
}

pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        let Fact::Elf(elf) = fact else { continue };
        if let Some(problem) = &elf.problem {
            out.unknowns.push(ctx.unknown(
                path,
                node,
                CATALOGER,
                format!("Go build information: {problem}"),
            ));
        }
        let Some(info) = &elf.go else { continue };
        for problem in &info.problems {
            out.unknowns.push(ctx.unknown(
                path,
                node,
                CATALOGER,
                format!("Go build information: {problem}"),
            ));
        }
        let location = ctx.location(path, node);
        let toolchain = info.go_version.clone();
        let mut push = |name: &str,
                        version: &str,
                        kind: PackageKind,
                        extra: BTreeMap<String, String>,
                        hash: bool| {
            let purl = module_purl(name, version);
            let mut properties = extra;
            properties.insert("go:toolchain".to_owned(), toolchain.clone());
            out.packages.push(Package {
                name: name.to_owned(),
                version: version.to_owned(),
                kind,
                purl,
                licenses: Vec::new(),
                supplier: None,
                description: None,
                homepage: None,
                source: None,
                arch: None,
                found_by: CATALOGER,
                locations: vec![location.clone()],
                hashes: if hash {
                    vec![FileHash {
                        algorithm: "SHA256",
                        value: elf.sha256.clone(),
                    }]
                } else {
                    Vec::new()
                },
                model: None,
                properties,
            });
        };

        // Debian builds Go programs outside module mode: such binaries name only their main
        // package, and the standard library is all that can be versioned.
        let mut stdlib_extra = BTreeMap::new();
        if let Some(main_package) = &info.path {
            stdlib_extra.insert("go:main-package".to_owned(), main_package.clone());
        }
        push(
            "stdlib",
            &stdlib_version(&info.go_version),
            PackageKind::GoStdlib,
            stdlib_extra,
            false,
        );
        if let Some(main) = &info.main {
            let mut extra = BTreeMap::new();
            extra.insert("go:main-module".to_owned(), "true".to_owned());
            for (key, value) in &info.settings {
                if key.starts_with("vcs")
                    || matches!(
                        key.as_str(),
                        "GOOS" | "GOARCH" | "CGO_ENABLED" | "-buildmode"
                    )
                {
                    extra.insert(format!("go:build:{key}"), value.clone());
                }
            }
            push(
                &main.path,
                &main.version,
                PackageKind::GoModule,
                extra,
                true,
            );
        }
        for dep in &info.deps {
            let (name, version, extra) = dependency(dep);
            push(&name, &version, PackageKind::GoModule, extra, false);
        }
    }
}

/// The package a dependency line stands for: the replacement module when a `replace`
/// directive names one, else the module itself. A replacement by a local directory keeps the
/// original path with the version `(devel)`, since the directory's code has no version.
fn dependency(dep: &Module) -> (String, String, BTreeMap<String, String>) {
    let mut extra = BTreeMap::new();
    let Some(replacement) = dep.replace.as_deref() else {
        if let Some(sum) = &dep.sum {
            extra.insert("go:h1-digest".to_owned(), sum.clone());
        }
        return (dep.path.clone(), dep.version.clone(), extra);
    };
    let local = replacement.path.starts_with('.') || replacement.path.starts_with('/');
    if local {
        extra.insert(
            "go:replaced-by-directory".to_owned(),
            replacement.path.clone(),
        );
        return (dep.path.clone(), "(devel)".to_owned(), extra);
    }
    extra.insert(
        "go:replaces".to_owned(),
        format!("{}@{}", dep.path, dep.version),
    );
    if let Some(sum) = &replacement.sum {
        extra.insert("go:h1-digest".to_owned(), sum.clone());
    }
    (replacement.path.clone(), replacement.version.clone(), extra)
}

/// `go1.19.8` → `1.19.8`; `go1.22.0 X:boringcrypto` → `1.22.0`; `devel go1.23-abc` → as given.
pub(crate) fn stdlib_version(go_version: &str) -> String {
    let first = go_version.split_whitespace().next().unwrap_or(go_version);
    first.strip_prefix("go").unwrap_or(first).to_owned()
}

fn module_purl(path: &str, version: &str) -> Purl {
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, path),
    };
    Purl::new("golang", namespace, name, Some(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_versions() {
        assert_eq!(stdlib_version("go1.19.8"), "1.19.8");
        assert_eq!(stdlib_version("go1.22.0 X:boringcrypto"), "1.22.0");
        assert_eq!(stdlib_version("go1.21rc2"), "1.21rc2");
    }

    #[test]
    fn local_replacement_keeps_original_path_without_version() {
        let dep = Module {
            path: "golang.org/x/crypto".into(),
            version: "v0.1.0".into(),
            sum: None,
            replace: Some(Box::new(Module {
                path: "./third_party/crypto".into(),
                version: String::new(),
                sum: None,
                replace: None,
            })),
        };
        let (name, version, extra) = dependency(&dep);
        assert_eq!(
            (name.as_str(), version.as_str()),
            ("golang.org/x/crypto", "(devel)")
        );
        assert_eq!(extra["go:replaced-by-directory"], "./third_party/crypto");
    }

    #[test]
    fn module_purls() {
        assert_eq!(
            module_purl("golang.org/x/crypto", "v0.3.0").to_string(),
            "pkg:golang/golang.org/x/crypto@v0.3.0"
        );
        assert_eq!(
            module_purl("stdlib", "1.19.8").to_string(),
            "pkg:golang/stdlib@1.19.8"
        );
    }
}
