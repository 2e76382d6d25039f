//! Packages of the rpm, npm, Java, Rust, conda and unowned-file catalogers: both encoders
//! write documents the validators accept, and the readers give the same packages back.

use std::collections::BTreeMap;

use clearbox_catalog::{Catalog, FileHash, Location, Package, PackageKind, Purl, SourcePackage};
use clearbox_sbom::{read_sbom, to_cyclonedx_json, to_spdx_json};

use crate::fixtures;

fn package(
    name: &str,
    version: &str,
    kind: PackageKind,
    purl: Purl,
    found_by: &'static str,
) -> Package {
    Package {
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
        found_by,
        locations: vec![Location {
            path: "/app/evidence".to_owned(),
            layer: Some(fixtures::APP_LAYER.to_owned()),
        }],
        hashes: Vec::new(),
        model: None,
        properties: BTreeMap::new(),
    }
}

/// Builds one package as each new cataloger writes it.
fn catalog() -> Catalog {
    let vim_purl = Purl::new("rpm", Some("mariner"), "vim", Some("9.0-1.cm2"))
        .with_qualifier("arch", "x86_64")
        .with_qualifier("epoch", "2")
        .with_qualifier("upstream", "vim-9.0-1.cm2.src.rpm");
    let vim = Package {
        licenses: vec!["Vim".to_owned()],
        supplier: Some("Microsoft Corporation".to_owned()),
        source: Some(SourcePackage {
            name: "vim".to_owned(),
            version: "2:9.0-1.cm2".to_owned(),
        }),
        arch: Some("x86_64".to_owned()),
        properties: BTreeMap::from([("rpm:size".to_owned(), "45000".to_owned())]),
        ..package(
            "vim",
            "2:9.0-1.cm2",
            PackageKind::Rpm,
            vim_purl,
            "rpm-db-cataloger",
        )
    };
    let core = Package {
        licenses: vec!["MIT".to_owned()],
        ..package(
            "@actions/core",
            "1.6.0",
            PackageKind::Npm,
            Purl::new("npm", Some("@actions"), "core", Some("1.6.0")),
            "npm-installed-package-cataloger",
        )
    };
    let databind = package(
        "com.fasterxml.jackson.core:jackson-databind",
        "2.9.10.6",
        PackageKind::Java,
        Purl::new(
            "maven",
            Some("com.fasterxml.jackson.core"),
            "jackson-databind",
            Some("2.9.10.6"),
        ),
        "java-archive-cataloger",
    );
    let serde = package(
        "serde",
        "1.0.210",
        PackageKind::RustCrate,
        Purl::new("cargo", None, "serde", Some("1.0.210")),
        "rust-cargo-auditable-binary-cataloger",
    );
    let zlib = Package {
        licenses: vec!["Zlib".to_owned()],
        ..package(
            "zlib",
            "1.2.13",
            PackageKind::Conda,
            Purl::new("conda", None, "zlib", Some("1.2.13"))
                .with_qualifier("build", "hd590300_5")
                .with_qualifier("channel", "conda-forge")
                .with_qualifier("subdir", "linux-64"),
            "conda-meta-package-cataloger",
        )
    };
    let digest = "b1ea5f4b1a1f4d3e6c8e2f5a9d7c3b0e4f6a8c2d1e3f5a7b9c0d2e4f6a8b0c1d";
    let server = Package {
        hashes: vec![FileHash {
            algorithm: "SHA256",
            value: digest.to_owned(),
        }],
        properties: BTreeMap::from([("file:size".to_owned(), "1024".to_owned())]),
        ..package(
            "server",
            "",
            PackageKind::File,
            Purl::new("generic", None, "server", None)
                .with_qualifier("checksum", &format!("sha256:{digest}")),
            "elf-unowned-file-cataloger",
        )
    };
    Catalog {
        distro: None,
        packages: vec![vim, core, databind, serde, zlib, server],
        unknowns: Vec::new(),
    }
}

#[test]
fn new_kinds_round_trip() {
    let original = catalog();
    let subject = fixtures::subject();
    for (bytes, reader) in [
        (to_spdx_json(&subject, &original), "spdx-json-reader"),
        (
            to_cyclonedx_json(&subject, &original),
            "cyclonedx-json-reader",
        ),
    ] {
        let (_, read) = read_sbom(&bytes).unwrap();
        assert!(read.unknowns.is_empty(), "{reader}: {:?}", read.unknowns);
        assert_eq!(read.packages.len(), original.packages.len(), "{reader}");
        for want in &original.packages {
            let got = read
                .packages
                .iter()
                .find(|p| p.purl == want.purl)
                .unwrap_or_else(|| panic!("{reader}: no {}", want.purl));
            let name = &want.name;
            assert_eq!(got.kind, want.kind, "{reader} {name}");
            assert_eq!(got.name, want.name, "{reader} {name}");
            assert_eq!(got.version, want.version, "{reader} {name}");
            assert_eq!(got.source, want.source, "{reader} {name}");
            assert_eq!(got.arch, want.arch, "{reader} {name}");
            assert_eq!(got.hashes, want.hashes, "{reader} {name}");
            assert_eq!(got.properties, want.properties, "{reader} {name}");
            assert_eq!(got.locations, want.locations, "{reader} {name}");
        }
    }
}

/// A trivy-style rpm entry: the epoch only as a purl qualifier, the source only as the purl's
/// `upstream` source RPM file name.
#[test]
fn rpm_from_purl_only() {
    let document = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "vim", "version": "9.0-1.cm2",
         "purl": "pkg:rpm/mariner/vim@9.0-1.cm2?arch=x86_64&epoch=2&upstream=vim-9.0-1.cm2.src.rpm"}]}"#;
    let (_, read) = read_sbom(document.as_bytes()).unwrap();
    let vim = &read.packages[0];
    assert_eq!(vim.kind, PackageKind::Rpm);
    assert_eq!(vim.version, "2:9.0-1.cm2");
    assert_eq!(
        vim.source,
        Some(SourcePackage {
            name: "vim".to_owned(),
            version: "2:9.0-1.cm2".to_owned(),
        })
    );
}

#[test]
fn new_kinds_pass_validators() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };
    let subject = fixtures::subject();
    clearbox_testdata::validate_spdx(&venv, &to_spdx_json(&subject, &catalog())).unwrap();
    clearbox_testdata::validate_cyclonedx(&venv, &to_cyclonedx_json(&subject, &catalog())).unwrap();
}

#[test]
fn unowned_file_is_a_file_component() {
    let bytes = to_cyclonedx_json(&fixtures::subject(), &catalog());
    let bom: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let server = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "server")
        .unwrap();
    assert_eq!(server["type"], "file");
    let bytes = to_spdx_json(&fixtures::subject(), &catalog());
    let document: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let purposes: BTreeMap<&str, &str> = document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["name"].as_str()?, p["primaryPackagePurpose"].as_str()?)))
        .collect();
    assert_eq!(purposes["server"], "FILE");
    assert_eq!(purposes["serde"], "LIBRARY");
}
