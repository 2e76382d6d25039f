//! Readers on documents shaped like syft, trivy and cdxgen output, and on malformed input.

use std::error::Error as _;

use clearbox_catalog::{Catalog, Package, PackageKind, SourcePackage, Unknown};
use clearbox_sbom::{SbomError, SbomFormat, read_sbom};

fn read_fixture(name: &str) -> (SbomFormat, Catalog) {
    let path = format!("{}/tests/fixtures/sbom/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    read_sbom(&bytes).unwrap_or_else(|e| panic!("read_sbom {name}: {e}"))
}

/// Lists one line per package: kind, name, version and purl.
fn summary(catalog: &Catalog) -> Vec<String> {
    catalog
        .packages
        .iter()
        .map(|p| format!("{} {} {} {}", p.kind.name(), p.name, p.version, p.purl))
        .collect()
}

fn package<'a>(catalog: &'a Catalog, name: &str) -> &'a Package {
    catalog
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package `{name}`"))
}

fn source(name: &str, version: &str) -> SourcePackage {
    SourcePackage {
        name: name.to_owned(),
        version: version.to_owned(),
    }
}

fn read_err(text: &str) -> SbomError {
    read_sbom(text.as_bytes()).expect_err("document is rejected")
}

#[test]
fn syft_spdx() {
    let (format, catalog) = read_fixture("syft-debian.spdx.json");
    assert_eq!(format, SbomFormat::SpdxJson);
    assert_eq!(
        summary(&catalog),
        [
            "deb libc6 2.36-9+deb12u7 pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc",
            "deb libgcc-s1 12.2.0-14 pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12",
            "deb zlib1g 1:1.2.13.dfsg-1 pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib%401:1.2.13.dfsg-1",
            "python Jinja2 3.1.2 pkg:pypi/jinja2@3.1.2",
            "go-module golang.org/x/net v0.22.0 pkg:golang/golang.org/x/net@v0.22.0",
            "go-stdlib stdlib go1.22.1 pkg:golang/stdlib@1.22.1",
            "npm lodash 4.17.21 pkg:npm/lodash@4.17.21",
        ]
    );
    let distro = catalog.distro.as_ref().unwrap();
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.version_id.as_deref(), Some("12"));

    let libc = package(&catalog, "libc6");
    assert_eq!(
        libc.source.as_ref(),
        Some(&source("glibc", "2.36-9+deb12u7"))
    );
    assert_eq!(libc.arch.as_deref(), Some("amd64"));
    assert_eq!(
        libc.licenses,
        ["GPL-2.0-only", "LGPL-2.1-only", "public-domain"]
    );
    assert_eq!(
        libc.supplier.as_deref(),
        Some("GNU Libc Maintainers <debian-glibc@lists.debian.org>")
    );
    assert_eq!(libc.found_by, "spdx-json-reader");
    assert!(libc.model.is_none());
    assert_eq!(
        package(&catalog, "libgcc-s1").source.as_ref(),
        Some(&source("gcc-12", "12.2.0-14"))
    );
    assert_eq!(
        package(&catalog, "zlib1g").source.as_ref(),
        Some(&source("zlib", "1:1.2.13.dfsg-1"))
    );
    assert!(package(&catalog, "Jinja2").source.is_none());
    assert_eq!(package(&catalog, "lodash").kind, PackageKind::Npm);
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

#[test]
fn syft_cyclonedx() {
    let (format, catalog) = read_fixture("syft-debian.cdx.json");
    assert_eq!(format, SbomFormat::CycloneDxJson);
    assert_eq!(
        summary(&catalog),
        [
            "deb libc6 2.36-9+deb12u7 pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc",
            "python certifi 2024.2.2 pkg:pypi/certifi@2024.2.2",
            "go-module github.com/prometheus/client_golang v1.19.0 pkg:golang/github.com/prometheus/client_golang@v1.19.0",
        ]
    );
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);

    let distro = catalog.distro.as_ref().unwrap();
    assert_eq!(distro.id, "debian");
    assert_eq!(
        distro.pretty_name.as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)")
    );

    let libc = package(&catalog, "libc6");
    assert_eq!(
        libc.licenses,
        ["GPL-2.0-only", "LGPL-2.1-only", "public-domain"]
    );
    assert_eq!(
        libc.supplier.as_deref(),
        Some("GNU Libc Maintainers <debian-glibc@lists.debian.org>")
    );
    let paths: Vec<(&str, Option<&str>)> = libc
        .locations
        .iter()
        .map(|l| (l.path.as_str(), l.layer.as_deref()))
        .collect();
    let layer = "sha256:1a5d7b7e0f9c4b3e8d2a6f1c0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";
    assert_eq!(
        paths,
        [
            ("/var/lib/dpkg/status", Some(layer)),
            ("/usr/share/doc/libc6/copyright", Some(layer)),
        ]
    );
    assert_eq!(
        package(&catalog, "certifi").supplier.as_deref(),
        Some("Kenneth Reitz <me@kennethreitz.com>")
    );
    assert!(libc.properties.is_empty(), "syft properties are not copied");
}

#[test]
fn trivy_cyclonedx() {
    let (_, catalog) = read_fixture("trivy-debian.cdx.json");
    assert_eq!(
        summary(&catalog),
        [
            "deb libc6 2.36-9+deb12u4 pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5",
            "deb zlib1g 1:1.2.13.dfsg-1 pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1",
            "python certifi 2024.2.2 pkg:pypi/certifi@2024.2.2",
        ]
    );
    let distro = catalog.distro.as_ref().unwrap();
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.version_id.as_deref(), Some("12"));

    let libc = package(&catalog, "libc6");
    assert_eq!(
        libc.source.as_ref(),
        Some(&source("glibc", "2.36-9+deb12u4"))
    );
    assert_eq!(libc.licenses, ["LGPL-2.1", "GPL-2.0"]);
    assert_eq!(libc.locations.len(), 0);
    assert_eq!(
        package(&catalog, "zlib1g").source.as_ref(),
        Some(&source("zlib", "1:1.2.13.dfsg-1"))
    );

    let certifi = package(&catalog, "certifi");
    assert_eq!(
        certifi.locations[0].path,
        "/usr/lib/python3/dist-packages/certifi-2024.2.2.dist-info/METADATA"
    );
    assert_eq!(
        certifi.locations[0].layer.as_deref(),
        Some("sha256:2b6e8c8f1a0d5c4f9e3b7a2d1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f")
    );

    assert_eq!(
        catalog.unknowns,
        [Unknown {
            path: "components[3]".to_owned(),
            layer: None,
            cataloger: "cyclonedx-json-reader",
            reason: "`Python` has no package URL".to_owned(),
        }]
    );
}

#[test]
fn trivy_spdx() {
    let (_, catalog) = read_fixture("trivy-debian.spdx.json");
    assert_eq!(
        summary(&catalog),
        [
            "deb libc6 2.36-9+deb12u4 pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5",
            "python certifi 2024.2.2 pkg:pypi/certifi@2024.2.2",
        ]
    );
    let libc = package(&catalog, "libc6");
    assert_eq!(
        libc.source.as_ref(),
        Some(&source("glibc", "2.36-9+deb12u4"))
    );
    assert_eq!(libc.licenses, ["LGPL-2.1-only", "GPL-2.0-only"]);
    assert!(libc.supplier.is_none());
    assert!(
        libc.properties.is_empty(),
        "trivy annotations are not copied"
    );
    assert_eq!(
        catalog.distro.as_ref().unwrap().version_id.as_deref(),
        Some("12")
    );
    assert_eq!(catalog.unknowns.len(), 1);
    assert_eq!(catalog.unknowns[0].path, "packages[3]");
    assert_eq!(catalog.unknowns[0].reason, "`Python` has no package URL");
}

#[test]
fn cdxgen_nested_components() {
    let (_, catalog) = read_fixture("cdxgen-nested.cdx.json");
    assert_eq!(
        summary(&catalog),
        [
            "python requests 2.31.0 pkg:pypi/requests@2.31.0",
            "python urllib3 2.2.1 pkg:pypi/urllib3@2.2.1",
            "model all-MiniLM-L6-v2 8b3219a92973c328a8e22fadcfa821b5dc75636a pkg:huggingface/sentence-transformers/all-MiniLM-L6-v2@8b3219a92973c328a8e22fadcfa821b5dc75636a",
            "npm left-pad 1.3.0 pkg:npm/left-pad@1.3.0",
        ]
    );
    assert!(catalog.distro.is_none());

    let requests = package(&catalog, "requests");
    assert_eq!(requests.licenses, ["Apache-2.0"]);
    assert_eq!(
        requests.supplier.as_deref(),
        Some("The Requests authors <me@kennethreitz.org>")
    );
    assert_eq!(
        requests.description.as_deref(),
        Some("Python HTTP for Humans.")
    );
    assert_eq!(
        requests.homepage.as_deref(),
        Some("https://requests.readthedocs.io")
    );
    assert_eq!(requests.hashes[0].algorithm, "SHA256");
    assert_eq!(
        requests.hashes[0].value,
        "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"
    );
    assert_eq!(requests.locations[0].path, "/app/requirements.txt");
    assert_eq!(package(&catalog, "urllib3").licenses, ["MIT"]);
    assert_eq!(
        package(&catalog, "all-MiniLM-L6-v2").licenses,
        ["apache-2.0"]
    );

    // The deepest component, `left-pad`, is read as an npm package.
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    assert_eq!(package(&catalog, "left-pad").kind, PackageKind::Npm);
}

#[test]
fn spdx_2_2_describes() {
    let (_, catalog) = read_fixture("spdx-2.2-describes.spdx.json");
    assert_eq!(
        summary(&catalog),
        ["python cryptography 42.0.5 pkg:pypi/cryptography@42.0.5"]
    );
    let cryptography = package(&catalog, "cryptography");
    assert_eq!(
        cryptography.licenses,
        [
            "Apache-2.0 OR BSD-3-Clause",
            "Python Software Foundation License"
        ]
    );
    assert_eq!(
        cryptography.description.as_deref(),
        Some("cryptography is a package which provides cryptographic recipes and primitives")
    );
    assert_eq!(
        cryptography.homepage.as_deref(),
        Some("https://github.com/pyca/cryptography")
    );
    assert_eq!(cryptography.hashes.len(), 1, "BLAKE3 is skipped");
    assert_eq!(catalog.unknowns.len(), 1);
    assert_eq!(catalog.unknowns[0].reason, "`bare` has no package URL");
}

#[test]
fn byte_order_mark_accepted() {
    let (format, catalog) =
        read_sbom(b"\xef\xbb\xbf{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\"}").unwrap();
    assert_eq!(format, SbomFormat::CycloneDxJson);
    assert!(catalog.packages.is_empty());
}

#[test]
fn reject_not_json() {
    let err = read_err("SPDXVersion: SPDX-2.3\n");
    assert!(matches!(err, SbomError::InvalidJson(_)));
    assert_eq!(err.to_string(), "SBOM is not valid JSON");
    assert_eq!(
        err.source().unwrap().to_string(),
        "expected value at line 1 column 1"
    );
}

#[test]
fn reject_not_an_object() {
    assert_eq!(
        read_err("[1, 2]").to_string(),
        "SBOM is not a JSON object but an array"
    );
}

#[test]
fn reject_unknown_format() {
    let expected = "unrecognised SBOM format: expected SPDX JSON with `spdxVersion` or CycloneDX JSON with `bomFormat` set to `CycloneDX`";
    assert_eq!(read_err(r#"{"name": "x"}"#).to_string(), expected);
    assert_eq!(read_err(r#"{"bomFormat": "SWID"}"#).to_string(), expected);
}

#[test]
fn reject_unsupported_versions() {
    assert_eq!(
        read_err(r#"{"spdxVersion": "SPDX-2.1"}"#).to_string(),
        "unsupported SPDX version `SPDX-2.1`: supported versions are SPDX-2.2 and SPDX-2.3"
    );
    assert_eq!(
        read_err(r#"{"bomFormat": "CycloneDX", "specVersion": "1.3"}"#).to_string(),
        "unsupported CycloneDX version `1.3`: supported versions are 1.4, 1.5 and 1.6"
    );
    assert_eq!(
        read_err(r#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#)
            .to_string(),
        "unsupported SPDX version `3 (JSON-LD)`: supported versions are SPDX-2.2 and SPDX-2.3"
    );
}

#[test]
fn reject_malformed_fields() {
    let cases = [
        (
            r#"{"bomFormat": "CycloneDX"}"#,
            "invalid SBOM field `specVersion`: required field is missing",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": 1.6}"#,
            "invalid SBOM field `specVersion`: expected a string, found a number",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}"#,
            "invalid SBOM field `components`: expected an array, found an object",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library"}]}"#,
            "invalid SBOM field `components[0].name`: required field is missing",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "a", "components": [{"type": "library", "name": "b", "purl": 7}]}]}"#,
            "invalid SBOM field `components[0].components[0].purl`: expected a string, found a number",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "a", "properties": [{"value": "x"}]}]}"#,
            "invalid SBOM field `components[0].properties[0].name`: required field is missing",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"}]}"#,
            "invalid SBOM field `packages[0].SPDXID`: required field is missing",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": ["a"]}"#,
            "invalid SBOM field `packages[0]`: expected an object, found a string",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a", "externalRefs": [{"referenceType": "purl", "referenceLocator": ["pkg:pypi/a"]}]}]}"#,
            "invalid SBOM field `packages[0].externalRefs[0].referenceLocator`: expected a string, found an array",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": true}]}"#,
            "invalid SBOM field `packages[0].versionInfo`: expected a string, found a boolean",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES"}]}"#,
            "invalid SBOM field `relationships[0].relatedSpdxElement`: required field is missing",
        ),
    ];
    for (document, expected) in cases {
        assert_eq!(read_err(document).to_string(), expected, "{document}");
    }
}

#[test]
fn invalid_purl_leaves_out_one_component() {
    let bom = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "library", "name": "a", "bom-ref": "a-1", "purl": "deb/debian/a@1"},
        {"type": "library", "name": "b", "purl": "pkg:"},
        {"type": "library", "name": "urllib3", "purl": "pkg:pypi/urllib3@1.26.4"}]}"#;
    let (_, catalog) = read_sbom(bom).unwrap();
    let names: Vec<&str> = catalog.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["urllib3"]);
    let reasons: Vec<(&str, &str)> = catalog
        .unknowns
        .iter()
        .map(|u| (u.path.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "components[0]",
                "component `a` (bom-ref `a-1`): invalid package URL `deb/debian/a@1`: it does \
                 not start with `pkg:`"
            ),
            (
                "components[1]",
                "component `b` (no bom-ref): invalid package URL `pkg:`: it has no name after the type"
            ),
        ]
    );
}

#[test]
fn reject_deep_nesting() {
    let mut component = r#"{"type": "library", "name": "leaf"}"#.to_owned();
    for _ in 0..70 {
        component = format!(r#"{{"type": "library", "name": "x", "components": [{component}]}}"#);
    }
    let document = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{component}]}}"#
    );
    let err = read_err(&document);
    assert!(matches!(err, SbomError::InvalidJson(_)));
    assert_eq!(
        err.source().unwrap().to_string(),
        "recursion limit exceeded at line 1 column 3088"
    );
}

#[test]
fn purl_decides_name_and_version_when_they_disagree() {
    let bom = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
        {"type":"library","name":"foo","version":"9.9.9","purl":"pkg:pypi/urllib3@1.26.4"},
        {"type":"library","name":"Jinja2","version":"3.1.2","purl":"pkg:pypi/jinja2@3.1.2"}]}"#;
    let (_, catalog) = clearbox_sbom::read_sbom(bom).unwrap();
    let urllib3 = &catalog
        .packages
        .iter()
        .find(|p| p.purl.name == "urllib3")
        .unwrap();
    assert_eq!(urllib3.name, "urllib3");
    assert_eq!(urllib3.version, "1.26.4");
    assert_eq!(urllib3.properties["sbom:declared-name"], "foo");
    assert_eq!(urllib3.properties["sbom:declared-version"], "9.9.9");
    let jinja = &catalog
        .packages
        .iter()
        .find(|p| p.purl.name == "jinja2")
        .unwrap();
    assert_eq!(jinja.name, "Jinja2");
    assert!(jinja.properties.is_empty());
}
