//! The dpkg cataloger on distroless `status.d` files and on trivy's dpkg analyzer fixtures
//! from the corpus.

use std::path::Path;

use clearbox_catalog::{Catalog, Package, PackageKind};

use crate::support::{catalog_dir, corpus, unpack_txtar, write};

#[test]
fn distroless_status_d_with_copyright() {
    let Some(corpus) = corpus() else { return };
    let root = corpus.join("pkgdb/syft/debian/image-distroless-deb");
    let catalog = catalog_dir(&root);
    let debs: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Deb)
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let sqlite = debs[0];
    assert_eq!(sqlite.name, "libsqlite3-0");
    assert_eq!(sqlite.version, "3.34.1-3");
    assert_eq!(sqlite.arch.as_deref(), Some("arm64"));
    let source = sqlite.source.as_ref().unwrap();
    assert_eq!(
        (source.name.as_str(), source.version.as_str()),
        ("sqlite3", "3.34.1-3")
    );
    assert_eq!(
        sqlite.purl.to_string(),
        "pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64&upstream=sqlite3"
    );
    assert_eq!(
        sqlite.locations[0].path,
        "/var/lib/dpkg/status.d/libsqlite3-0"
    );
    assert_eq!(sqlite.locations[0].layer, None);
    assert!(
        !sqlite.licenses.is_empty(),
        "the copyright file declares licences"
    );
}

#[test]
fn os_release_symlink_to_host_path_reads_the_rootfs_copy() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "usr/lib/os-release",
        "ID=debian\nVERSION_ID=\"12\"\n",
    );
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    // An absolute link: followed naively it would read the machine's own /etc/os-release.
    std::os::unix::fs::symlink("/usr/lib/os-release", root.path().join("etc/os-release")).unwrap();
    write(
        root.path(),
        "var/lib/dpkg/status",
        "Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n",
    );
    let catalog = catalog_dir(root.path());
    let distro = catalog.distro.unwrap();
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.version_id.as_deref(), Some("12"));
    assert_eq!(
        catalog.packages[0].purl.to_string(),
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
    );
}

#[test]
fn os_release_link_out_of_rootfs_finds_nothing() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc/debian_version", root.path().join("etc/os-release")).unwrap();
    let catalog = catalog_dir(root.path());
    assert_eq!(catalog.distro, None);
}

const TRIVY_DPKG: &str = "pkgdb/trivy/pkg/fanal/analyzer/pkg/dpkg";

/// The columns of trivy's expected-package tables: `ID`, `Name`, `Version`, `Epoch`,
/// `Release`, `SrcName`, `SrcVersion`, `SrcEpoch`, `SrcRelease`, `Arch`.
type TrivyRow = [String; 10];

/// Splits a dpkg version into trivy's epoch, upstream version and revision: the epoch ends at
/// the first colon and the revision starts after the last hyphen.
fn split_version(version: &str) -> (String, String, String) {
    let (epoch, rest) = version.split_once(':').unwrap_or(("", version));
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
    (epoch.to_owned(), upstream.to_owned(), revision.to_owned())
}

/// Returns a clearbox package as a row of trivy's columns.
fn trivy_row(package: &Package) -> TrivyRow {
    let source = package.source.as_ref().expect("every deb has a source");
    let (epoch, version, release) = split_version(&package.version);
    let (source_epoch, source_version, source_release) = split_version(&source.version);
    [
        format!("{}@{}", package.name, package.version),
        package.name.clone(),
        version,
        epoch,
        release,
        source.name.clone(),
        source_version,
        source_epoch,
        source_release,
        package.arch.clone().unwrap_or_default(),
    ]
}

fn read_expected(table: &Path) -> Vec<TrivyRow> {
    let text = std::fs::read_to_string(table).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("ID\tName\tVersion\tEpoch\tRelease\tSrcName\tSrcVersion\tSrcEpoch\tSrcRelease\tArch")
    );
    lines
        .map(|line| {
            let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
            fields
                .try_into()
                .unwrap_or_else(|f: Vec<String>| panic!("row of {} fields: {f:?}", f.len()))
        })
        .collect()
}

/// Unpacks `testdata/NAME.txtar` into a root filesystem and catalogs it.
fn catalog_trivy_fixture(corpus: &Path, name: &str) -> Catalog {
    let archive = corpus.join(format!("{TRIVY_DPKG}/testdata/{name}.txtar"));
    let root = tempfile::tempdir().unwrap();
    let files = unpack_txtar(&std::fs::read_to_string(archive).unwrap(), root.path());
    assert!(
        files.contains(&"var/lib/dpkg/status".to_owned()),
        "{files:?}"
    );
    catalog_dir(root.path())
}

/// Compares every deb package of `catalog` with `expected`, package by package and column by
/// column, and checks that each came from the status file with its `Maintainer` as supplier.
fn assert_trivy_rows(catalog: &Catalog, name: &str, expected: &[TrivyRow]) {
    let debs: Vec<&Package> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Deb)
        .collect();
    let mut found: Vec<TrivyRow> = debs.iter().map(|p| trivy_row(p)).collect();
    found.sort();
    let mut expected = expected.to_vec();
    expected.sort();
    let ids = |rows: &[TrivyRow]| rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&found), ids(&expected), "{name}: package ids");
    for (got, want) in found.iter().zip(&expected) {
        assert_eq!(got, want, "{name}: {}", want[0]);
    }
    for package in debs {
        assert_eq!(package.found_by, "dpkg-db-cataloger", "{name}");
        assert_eq!(package.locations[0].path, "/var/lib/dpkg/status", "{name}");
        assert!(
            package.supplier.is_some(),
            "{name}: {} has a Maintainer",
            package.name
        );
    }
}

fn check_trivy_fixture(name: &str) -> Option<Catalog> {
    let corpus = corpus()?;
    let catalog = catalog_trivy_fixture(&corpus, name);
    let table = corpus.join(format!("{TRIVY_DPKG}/expected/{name}.txtar.expected.tsv"));
    assert_trivy_rows(&catalog, name, &read_expected(&table));
    Some(catalog)
}

/// An Ubuntu 18.04 status file: 90 installed packages and one removed (`deinstall ok
/// config-files`), with epochs, `+b` rebuilds and `Source: NAME (VERSION)` fields.
#[test]
fn trivy_valid_status() {
    let Some(catalog) = check_trivy_fixture("valid") else {
        return;
    };
    let debs = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Deb)
        .count();
    assert_eq!(debs, 90);
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    // A binary rebuilt without source changes keeps the source version in the purl.
    let ustr = catalog
        .packages
        .iter()
        .find(|p| p.name == "libustr-1.0-1")
        .unwrap();
    assert_eq!(
        ustr.purl.to_string(),
        "pkg:deb/debian/libustr-1.0-1@1.0.4-3%2Bb2?arch=amd64&upstream=ustr%401.0.4-3"
    );
}

/// Two paragraphs no dpkg wrote: one without `Version`, and `invalidpkg`, whose version
/// `1:5.#` has a character dpkg rejects. trivy drops both silently; clearbox drops them too and
/// lists each as an unknown.
#[test]
fn trivy_corrupted_status() {
    let Some(catalog) = check_trivy_fixture("corrupsed") else {
        return;
    };
    let reasons: Vec<&str> = catalog.unknowns.iter().map(|u| u.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "package `invalidpkg`: invalid deb version `1:5.#`: invalid character `#` in version number",
            "paragraph 4 has no Version field",
        ]
    );
    for unknown in &catalog.unknowns {
        assert_eq!(unknown.path, "/var/lib/dpkg/status");
        assert_eq!(unknown.cataloger, "dpkg-db-cataloger");
    }
}

/// trivy also takes each package's `.deb` SHA-256 from `var/lib/dpkg/available` (for `tar`
/// here, not for `sed`, whose entry there has another version). clearbox does not read that
/// file: apt does not update it, so its entries can describe other versions than the ones
/// installed. The table has no digest column, and every other column matches.
#[test]
fn trivy_status_with_available() {
    let Some(catalog) = check_trivy_fixture("digest") else {
        return;
    };
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    for package in &catalog.packages {
        assert!(package.hashes.is_empty(), "{}", package.name);
    }
}

/// `info/tar.md5sums` beside the status file lists the package's files; it names no package
/// of its own.
#[test]
fn trivy_status_with_md5sums() {
    let Some(catalog) = check_trivy_fixture("md5sums") else {
        return;
    };
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

/// A third-party package (`docker-ce`, epoch 5, `~` in the version) beside Ubuntu's `apt`.
#[test]
fn trivy_third_party_status() {
    let Some(catalog) = check_trivy_fixture("third-party") else {
        return;
    };
    let docker = catalog
        .packages
        .iter()
        .find(|p| p.name == "docker-ce")
        .unwrap();
    assert_eq!(
        docker.supplier.as_deref(),
        Some("Docker <support@docker.com>")
    );
    assert_eq!(docker.homepage.as_deref(), Some("https://www.docker.com"));
}

/// The single `apt` paragraph. The table's row for it has only the ID and the source name, and
/// its other columns are empty. The test therefore states the row in full, from the paragraph.
#[test]
fn trivy_only_apt_status() {
    let Some(corpus) = corpus() else { return };
    let table = corpus.join(format!("{TRIVY_DPKG}/expected/only-apt.txtar.expected.tsv"));
    let rows = read_expected(&table);
    let [row] = &rows[..] else {
        panic!("one row expected, found {rows:?}")
    };
    assert_eq!(row[0], "apt@1.6.3ubuntu0.1");
    assert_eq!(row[5], "apt");
    let full: TrivyRow = [
        "apt@1.6.3ubuntu0.1",
        "apt",
        "1.6.3ubuntu0.1",
        "",
        "",
        "apt",
        "1.6.3ubuntu0.1",
        "",
        "",
        "amd64",
    ]
    .map(str::to_owned);
    let catalog = catalog_trivy_fixture(&corpus, "only-apt");
    assert_trivy_rows(&catalog, "only-apt", &[full]);
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

#[test]
fn txtar_fixtures_all_checked() {
    let Some(corpus) = corpus() else { return };
    let mut names: Vec<String> = std::fs::read_dir(corpus.join(TRIVY_DPKG).join("testdata"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".txtar").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "corrupsed",
            "digest",
            "md5sums",
            "only-apt",
            "third-party",
            "valid"
        ]
    );
}
