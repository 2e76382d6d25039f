//! Round trips: what the encoders write, the readers read back.

use clearbox_catalog::Catalog;
use clearbox_sbom::{SbomFormat, read_sbom, to_cyclonedx_json, to_spdx_json};

use crate::fixtures;

/// Returns the licence as the encoders canonicalise it: fixture licences that name an SPDX
/// identifier come back as that identifier, the rest unchanged.
fn canonical(license: &str) -> &str {
    match license {
        "GPL-3+" => "GPL-3.0-or-later",
        "GFDL-1.2+" => "GFDL-1.2-or-later",
        "GPL-2+" => "GPL-2.0-or-later",
        "LGPL-2.1+" => "LGPL-2.1-or-later",
        "Expat" => "MIT",
        "apache-2.0" => "Apache-2.0",
        other => other,
    }
}

/// Checks that `read` contains the same packages as `original`, field by field.
fn assert_same_packages(original: &Catalog, read: &Catalog, reader: &str) {
    assert_eq!(read.packages.len(), original.packages.len());
    for (want, got) in original.packages.iter().zip(&read.packages) {
        let name = &want.name;
        assert_eq!(got.name, want.name);
        assert_eq!(got.version, want.version, "{name}");
        assert_eq!(got.purl, want.purl, "{name}");
        assert_eq!(got.kind, want.kind, "{name}");
        assert_eq!(got.source, want.source, "{name}");
        assert_eq!(got.arch, want.arch, "{name}");
        assert_eq!(got.supplier, want.supplier, "{name}");
        assert_eq!(got.description, want.description, "{name}");
        assert_eq!(got.homepage, want.homepage, "{name}");
        assert_eq!(got.locations, want.locations, "{name}");
        assert_eq!(got.hashes, want.hashes, "{name}");
        assert_eq!(got.properties, want.properties, "{name}");
        assert_eq!(got.found_by, reader, "{name}");
        let licenses: Vec<&str> = want.licenses.iter().map(|l| canonical(l)).collect();
        assert_eq!(got.licenses, licenses, "{name}");
    }
}

/// Lists the sorted `name version purl` lines of a catalog.
fn identities(catalog: &Catalog) -> Vec<String> {
    let mut lines: Vec<String> = catalog
        .packages
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.version, p.purl))
        .collect();
    lines.sort();
    lines
}

#[test]
fn spdx_round_trip() {
    let original = fixtures::catalog();
    let bytes = to_spdx_json(&fixtures::subject(), &original);
    let (format, read) = read_sbom(&bytes).unwrap();
    assert_eq!(format, SbomFormat::SpdxJson);
    assert_eq!(identities(&read), identities(&original));
    assert_same_packages(&original, &read, "spdx-json-reader");
    assert_eq!(read.distro, original.distro);
    assert!(read.unknowns.is_empty(), "{:?}", read.unknowns);
}

#[test]
fn cyclonedx_round_trip() {
    let original = fixtures::catalog();
    let bytes = to_cyclonedx_json(&fixtures::subject(), &original);
    let (format, read) = read_sbom(&bytes).unwrap();
    assert_eq!(format, SbomFormat::CycloneDxJson);
    assert_eq!(identities(&read), identities(&original));
    assert_same_packages(&original, &read, "cyclonedx-json-reader");
    assert_eq!(read.distro, original.distro);
    assert!(read.unknowns.is_empty(), "{:?}", read.unknowns);
}

#[test]
fn round_trip_of_empty_catalog() {
    let subject = fixtures::subject();
    for bytes in [
        to_spdx_json(&subject, &Catalog::default()),
        to_cyclonedx_json(&subject, &Catalog::default()),
    ] {
        let (_, read) = read_sbom(&bytes).unwrap();
        assert!(read.packages.is_empty());
        assert!(read.unknowns.is_empty());
        assert!(read.distro.is_none());
    }
}

#[test]
fn reencoding_read_catalog_is_stable() {
    // A catalog read back and encoded again gives the same document, so encoding is a fixed
    // point after one round, although read packages carry no model facts.
    let subject = fixtures::subject();
    for encode in [to_spdx_json, to_cyclonedx_json] {
        let (_, once) = read_sbom(&encode(&subject, &fixtures::catalog())).unwrap();
        let first = encode(&subject, &once);
        let (_, twice) = read_sbom(&first).unwrap();
        assert_eq!(first, encode(&subject, &twice));
        let kinds = |c: &Catalog| c.packages.iter().map(|p| p.kind).collect::<Vec<_>>();
        assert_eq!(kinds(&twice), kinds(&fixtures::catalog()));
    }
}

#[test]
fn read_fixtures_reencoded_pass_validators() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };

    // Every package the readers take from the other tools' documents, in one catalog.
    let mut merged = Catalog::default();
    let dir = format!("{}/tests/fixtures/sbom", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| {
            std::path::Path::new(name)
                .extension()
                .is_some_and(|ext| ext == "json")
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 6);
    for name in names {
        let (_, catalog) = read_sbom(&std::fs::read(format!("{dir}/{name}")).unwrap()).unwrap();
        merged.distro = merged.distro.or(catalog.distro);
        merged.packages.extend(catalog.packages);
    }

    let subject = fixtures::subject();
    clearbox_testdata::validate_spdx(&venv, &to_spdx_json(&subject, &merged)).unwrap();
    clearbox_testdata::validate_cyclonedx(&venv, &to_cyclonedx_json(&subject, &merged)).unwrap();
}
