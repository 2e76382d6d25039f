//! `clearbox-known-binaries`: every executable ELF file in the image is accounted for by a
//! package database, a language package's file list or the build information in the binary.
//!
//! The catalog decides ownership: its `elf-unowned-file-cataloger` lists the executables nothing
//! claims as packages of kind [`PackageKind::File`]. This check turns that list into a result
//! with the path, layer and SHA-256 of each file. Go binaries with build information and
//! Rust binaries built with `cargo auditable` count as accounted for.
//!
//! NOTE: SLSA provenance attached to the image is not consulted, so a binary that only the
//! build's provenance names is reported.

use clearbox_catalog::{Package, PackageKind};

use super::{CheckOutcome, CheckResult, Evidence, code};

/// Options of the image checks that do not run by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageCheckOptions {
    /// Run `clearbox-known-binaries`, which fails for every executable ELF file that no
    /// package database, language manifest or build information accounts for. Default: false.
    /// It catalogs the image, which reads every layer a second time.
    pub require_known_binaries: bool,
}

/// The check's id.
pub const KNOWN_BINARIES_ID: &str = "clearbox-known-binaries";

const TITLE: &str = "Every executable ELF file is accounted for by a package, manifest or build \
                     information";
const REMEDIATION: &str = "Install the binary from a package, or build it with embedded build \
                           information (Go modules, `cargo auditable`); otherwise remove it, or \
                           review it and record where it comes from";

/// Builds the result from the packages a catalog found: one violation per unowned executable.
#[must_use]
pub fn known_binaries(packages: &[Package]) -> CheckResult {
    let unowned: Vec<&Package> = packages
        .iter()
        .filter(|package| package.kind == PackageKind::File)
        .collect();
    let mut evidence: Vec<Evidence> = unowned
        .iter()
        .map(|package| unowned_file(package))
        .collect();
    evidence.sort_by(|a, b| a.path.cmp(&b.path));
    let outcome = if unowned.is_empty() {
        evidence.push(Evidence::note(
            "every executable ELF file belongs to a package or carries build information",
        ));
        CheckOutcome::Pass
    } else {
        CheckOutcome::Fail
    };
    CheckResult {
        id: KNOWN_BINARIES_ID,
        cis: None,
        title: TITLE,
        outcome,
        evidence,
        remediation: REMEDIATION,
    }
}

fn unowned_file(package: &Package) -> Evidence {
    let location = package.locations.first();
    let path = location.map_or_else(|| package.name.clone(), |l| l.path.clone());
    let layer = location.and_then(|l| l.layer.clone());
    let digest = package
        .hashes
        .iter()
        .find(|hash| hash.algorithm == "SHA256")
        .map_or_else(
            || "no digest".to_owned(),
            |hash| format!("sha256:{}", hash.value),
        );
    let from = layer
        .as_deref()
        .map_or_else(|| "root filesystem".to_owned(), |l| format!("layer {l}"));
    Evidence {
        text: format!(
            "{} ({digest}) from {from}: no package, manifest or build information claims it",
            code(&path)
        ),
        violation: true,
        path: Some(path),
        line: None,
        layer,
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use clearbox_catalog::{FileHash, Location, Purl};

    use super::*;

    fn package(kind: PackageKind, path: &str) -> Package {
        Package {
            name: "tool".to_owned(),
            version: String::new(),
            kind,
            purl: Purl::new("generic", None, "tool", None),
            licenses: Vec::new(),
            supplier: None,
            description: None,
            homepage: None,
            source: None,
            arch: None,
            found_by: "test",
            locations: vec![Location {
                path: path.to_owned(),
                layer: Some("sha256:aa".to_owned()),
            }],
            hashes: vec![FileHash {
                algorithm: "SHA256",
                value: "ff".to_owned(),
            }],
            model: None,
            properties: std::collections::BTreeMap::new(),
        }
    }

    #[test]
    fn unowned_files_fail_sorted() {
        let packages = [
            package(PackageKind::File, "/usr/local/bin/z"),
            package(PackageKind::Deb, "/usr/bin/ls"),
            package(PackageKind::File, "/opt/a"),
        ];
        let result = known_binaries(&packages);
        assert_eq!(result.outcome, CheckOutcome::Fail);
        let paths: Vec<_> = result.evidence.iter().map(|e| e.path.as_deref()).collect();
        assert_eq!(paths, [Some("/opt/a"), Some("/usr/local/bin/z")]);
        assert_eq!(result.evidence[0].layer.as_deref(), Some("sha256:aa"));
        assert!(
            result.evidence[0]
                .text
                .contains("(sha256:ff) from layer sha256:aa")
        );
        assert!(result.evidence.iter().all(|e| e.violation));
    }

    #[test]
    fn owned_files_pass() {
        let result = known_binaries(&[package(PackageKind::Deb, "/usr/bin/ls")]);
        assert_eq!(result.outcome, CheckOutcome::Pass);
        assert!(!result.evidence[0].violation);
    }
}
