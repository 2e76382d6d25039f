//! The apk cataloger on real installed databases from the corpus: trivy's apk analyzer fixture
//! (with trivy's expected packages) and apk-tools' Alpine 3.21 `query-installed.data`.

use clearbox_catalog::{Package, PackageKind};

use crate::support::{catalog_dir, corpus, place, write};

const ALPINE_OS_RELEASE: &str = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.11.5\n\
                                 PRETTY_NAME=\"Alpine Linux v3.11\"\n";

fn apk_packages(catalog: &clearbox_catalog::Catalog) -> Vec<&Package> {
    catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Apk)
        .collect()
}

/// trivy lists 15 packages for a database with 16 `P:` records: the record
/// `invalidPackageWithoutAVersion` has no `V:` line, so it is no installable package. clearbox
/// leaves it out too and lists it as an unknown.
#[test]
fn trivy_fixture_matches_expected() {
    let Some(corpus) = corpus() else { return };
    let fixture = corpus.join("pkgdb/trivy/pkg/fanal/analyzer/pkg/apk");
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "lib/apk/db/installed",
        &fixture.join("testdata/apk"),
    );
    write(root.path(), "etc/os-release", ALPINE_OS_RELEASE);
    let catalog = catalog_dir(root.path());

    let expected = std::fs::read_to_string(fixture.join("expected/apk.expected.tsv")).unwrap();
    let mut expected: Vec<Vec<String>> = expected
        .lines()
        .skip(1)
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect();
    expected.sort();
    let mut found: Vec<Vec<String>> = apk_packages(&catalog)
        .iter()
        .map(|p| {
            let source = p.source.as_ref().unwrap();
            vec![
                format!("{}@{}", p.name, p.version),
                p.name.clone(),
                p.version.clone(),
                source.name.clone(),
                source.version.clone(),
                p.arch.clone().unwrap_or_default(),
            ]
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);

    let unknowns: Vec<_> = catalog
        .unknowns
        .iter()
        .filter(|u| u.cataloger == "apk-db-cataloger")
        .collect();
    assert_eq!(unknowns.len(), 1, "{unknowns:?}");
    assert!(unknowns[0].reason.contains("invalidPackageWithoutAVersion"));
    assert_eq!(unknowns[0].path, "/lib/apk/db/installed");
}

#[test]
fn trivy_fixture_purls() {
    let Some(corpus) = corpus() else { return };
    let fixture = corpus.join("pkgdb/trivy/pkg/fanal/analyzer/pkg/apk/testdata/apk");
    let root = tempfile::tempdir().unwrap();
    place(root.path(), "lib/apk/db/installed", &fixture);
    write(root.path(), "etc/os-release", ALPINE_OS_RELEASE);
    let catalog = catalog_dir(root.path());
    let purl = |name: &str| {
        apk_packages(&catalog)
            .into_iter()
            .find(|p| p.name == name)
            .unwrap()
            .purl
            .to_string()
    };
    assert_eq!(
        purl("libssl1.0"),
        "pkg:apk/alpine/libssl1.0@1.0.2h-r1?arch=x86_64&distro=alpine-3.11.5&upstream=openssl"
    );
    assert_eq!(
        purl("musl"),
        "pkg:apk/alpine/musl@1.1.14-r10?arch=x86_64&distro=alpine-3.11.5"
    );
}

#[test]
fn alpine_321_query_installed() {
    let Some(corpus) = corpus() else { return };
    let data = corpus.join("pkgdb/apk-tools/query-installed.data");
    let root = tempfile::tempdir().unwrap();
    place(root.path(), "lib/apk/db/installed", &data);
    let catalog = catalog_dir(root.path());
    let packages = apk_packages(&catalog);

    // Ground truth: the `P:` lines of the file, each with a `V:`.
    let text = std::fs::read_to_string(&data).unwrap();
    let names = text.lines().filter(|l| l.starts_with("P:")).count();
    assert_eq!(names, 39);
    assert_eq!(packages.len(), 39);
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);

    let base = packages
        .iter()
        .find(|p| p.name == "alpine-baselayout")
        .unwrap();
    assert_eq!(base.version, "3.6.8-r1");
    assert_eq!(base.licenses, ["GPL-2.0-only"]);
    assert_eq!(base.arch.as_deref(), Some("x86_64"));
    assert_eq!(
        base.supplier.as_deref(),
        Some("Natanael Copa <ncopa@alpinelinux.org>")
    );
    assert_eq!(
        base.description.as_deref(),
        Some("Alpine base dir structure and init scripts")
    );
    assert_eq!(
        base.properties.get("apk:checksum").map(String::as_str),
        Some("Q17OteNVXn9/iSXcJI1Vf8x0TVc9Y=")
    );
    assert_eq!(
        base.properties.get("apk:commit").map(String::as_str),
        Some("5f0cd7890349e7fe11128478ac506c709805224d")
    );
    // Without an os-release the purl has no distro qualifier.
    assert_eq!(
        base.purl.to_string(),
        "pkg:apk/alpine/alpine-baselayout@3.6.8-r1?arch=x86_64"
    );
}

#[test]
fn corrupt_installed_is_unknown() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "lib/apk/db/installed",
        "this is not\nan apk database\n",
    );
    let catalog = catalog_dir(root.path());
    assert!(apk_packages(&catalog).is_empty());
    assert_eq!(catalog.unknowns.len(), 2, "{:?}", catalog.unknowns);
}
