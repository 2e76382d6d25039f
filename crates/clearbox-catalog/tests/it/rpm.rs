//! The rpm cataloger on go-rpmdb's, syft's and osv-scalibr's rpm databases, checked against
//! the expectations those projects' tests hold (transcribed into the corpus), and on damaged
//! copies of the same databases.

use std::path::Path;

use clearbox_catalog::{Catalog, Package, PackageKind};

use crate::support::{catalog_dir, corpus, place, write};

fn rpm<'a>(catalog: &'a Catalog, name: &str) -> &'a Package {
    catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Rpm && p.name == name)
        .unwrap_or_else(|| panic!("no rpm package `{name}`"))
}

fn rpm_count(catalog: &Catalog) -> usize {
    catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Rpm)
        .count()
}

fn property<'a>(package: &'a Package, key: &str) -> Option<&'a str> {
    package.properties.get(key).map(String::as_str)
}

/// `pkgdb/go-rpmdb/expected/sle15-bci.Packages.db.tsv` lists every package of SUSE's BCI
/// base image with every field go-rpmdb's `TestPackageList` checks.
#[test]
fn sle15_ndb_every_package_and_field() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "usr/lib/sysimage/rpm/Packages.db",
        &corpus.join("pkgdb/go-rpmdb/testdata/sle15-bci/Packages.db"),
    );
    write(
        root.path(),
        "etc/os-release",
        "NAME=\"SLES\"\nVERSION_ID=\"15.3\"\nID=\"sles\"\n",
    );
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);

    let expected =
        std::fs::read_to_string(corpus.join("pkgdb/go-rpmdb/expected/sle15-bci.Packages.db.tsv"))
            .unwrap();
    let rows: Vec<Vec<&str>> = expected
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 35);
    assert_eq!(rpm_count(&catalog), 35);
    for row in rows {
        let [
            epoch,
            name,
            version,
            release,
            arch,
            srpm,
            size,
            license,
            vendor,
            label,
            summary,
            sigmd5,
        ] = row[..]
        else {
            panic!("bad expectation row {row:?}");
        };
        let p = rpm(&catalog, name);
        let evr = if epoch.is_empty() {
            format!("{version}-{release}")
        } else {
            format!("{epoch}:{version}-{release}")
        };
        assert_eq!(p.version, evr, "{name}");
        assert_eq!(
            p.purl.version.as_deref(),
            Some(&*format!("{version}-{release}")),
            "{name}"
        );
        assert_eq!(
            p.purl.qualifiers.get("epoch").map(String::as_str),
            Some(epoch).filter(|e| !e.is_empty()),
            "{name}"
        );
        assert_eq!(p.arch.as_deref(), Some(arch), "{name}");
        assert_eq!(property(p, "rpm:source-rpm"), Some(srpm), "{name}");
        assert_eq!(p.purl.qualifiers["upstream"], srpm, "{name}");
        assert_eq!(property(p, "rpm:size"), Some(size), "{name}");
        assert_eq!(p.licenses, [license], "{name}");
        assert_eq!(p.supplier.as_deref(), Some(vendor), "{name}");
        assert_eq!(
            property(p, "rpm:modularity-label"),
            Some(label).filter(|l| !l.is_empty()),
            "{name}"
        );
        assert_eq!(p.description.as_deref(), Some(summary), "{name}");
        assert_eq!(property(p, "rpm:sigmd5"), Some(sigmd5), "{name}");
        assert_eq!(p.purl.namespace.as_deref(), Some("suse"), "{name}");
        assert_eq!(p.purl.qualifiers["distro"], "sles-15.3", "{name}");
        assert_eq!(p.found_by, "rpm-db-cataloger");
        assert_eq!(p.locations[0].path, "/usr/lib/sysimage/rpm/Packages.db");
    }
    let glibc = rpm(&catalog, "glibc");
    assert_eq!(
        glibc.purl.to_string(),
        "pkg:rpm/suse/glibc@2.31-9.3.2?arch=x86_64&distro=sles-15.3&upstream=glibc-2.31-9.3.2.src.rpm"
    );
    let source = glibc.source.as_ref().unwrap();
    assert_eq!(
        (source.name.as_str(), source.version.as_str()),
        ("glibc", "2.31-9.3.2")
    );
    let pcre = rpm(&catalog, "libpcre1").source.as_ref().unwrap();
    assert_eq!(pcre.name, "pcre");
}

/// go-rpmdb's `TestRpmDB_Package` fields for `curl` in CBL-Mariner 2.0's SQLite database.
#[test]
fn mariner_sqlite_curl() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "var/lib/rpm/rpmdb.sqlite",
        &corpus.join("pkgdb/go-rpmdb/testdata/cbl-mariner-2.0/rpmdb.sqlite"),
    );
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    let expected = expectations(&corpus, "testdata/cbl-mariner-2.0/rpmdb.sqlite");
    check_expected(rpm(&catalog, "curl"), &expected);
    // The database contains 129 packages (the corpus index counts them).
    assert_eq!(rpm_count(&catalog), 129);
}

/// go-rpmdb's `TestRpmDB_Package` fields for `libuuid` in a RHEL 8 Berkeley DB database.
#[test]
fn rhel8_berkeley_db_libuuid() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "var/lib/rpm/Packages",
        &corpus.join("pkgdb/go-rpmdb/testdata/libuuid/Packages"),
    );
    write(
        root.path(),
        "etc/os-release",
        "ID=\"rhel\"\nVERSION_ID=\"8.8\"\n",
    );
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    let expected = expectations(&corpus, "testdata/libuuid/Packages");
    let libuuid = rpm(&catalog, "libuuid");
    check_expected(libuuid, &expected);
    assert_eq!(
        libuuid.purl.to_string(),
        "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8&upstream=util-linux-2.32.1-42.el8_8.src.rpm"
    );
    assert_eq!(libuuid.source.as_ref().unwrap().name, "util-linux");
}

fn expectations(corpus: &Path, key: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(
        corpus.join("pkgdb/go-rpmdb/expected/single-package-expectations.json"),
    )
    .unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all[key].clone()
}

/// Checks every field of go-rpmdb's expectation except `Provides` and `Requires`: clearbox
/// does not read dependencies, so it has nothing to compare them with.
fn check_expected(p: &Package, expected: &serde_json::Value) {
    let field = |key: &str| expected[key].as_str().unwrap().to_owned();
    let keys: Vec<&str> = expected
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "pkgName",
            "file",
            "Name",
            "Version",
            "Release",
            "Arch",
            "Size",
            "SourceRpm",
            "License",
            "Vendor",
            "Summary",
            "SigMD5",
            "DigestAlgorithm",
            "PGP",
            "RSAHeader",
            "InstallTime",
            "Provides",
            "Requires",
        ],
        "the fields this test compares"
    );
    assert_eq!(p.name, field("Name"));
    assert_eq!(
        p.version,
        format!("{}-{}", field("Version"), field("Release"))
    );
    assert_eq!(p.arch.as_deref(), Some(&*field("Arch")));
    assert_eq!(property(p, "rpm:size"), Some(&*field("Size")));
    assert_eq!(property(p, "rpm:source-rpm"), Some(&*field("SourceRpm")));
    assert_eq!(p.licenses, [field("License")]);
    assert_eq!(p.supplier.as_deref(), Some(&*field("Vendor")));
    assert_eq!(p.description.as_deref(), Some(&*field("Summary")));
    assert_eq!(property(p, "rpm:sigmd5"), Some(&*field("SigMD5")));
    // go-rpmdb names the algorithm with rpm's enum constant, `PGPHASHALGO_SHA256`.
    assert_eq!(
        property(p, "rpm:file-digest-algorithm").map(|a| format!("PGPHASHALGO_{a}")),
        Some(field("DigestAlgorithm"))
    );
    // `PGP` is the header-and-payload signature, `RSAHeader` the header-only one; `rpm -qi`
    // shows the header-only one first, and in these packages both describe the same key.
    assert_eq!(property(p, "rpm:signature"), Some(&*field("RSAHeader")));
    assert_eq!(property(p, "rpm:signature"), Some(&*field("PGP")));
    assert_eq!(
        property(p, "rpm:install-time"),
        Some(&*field("InstallTime"))
    );
}

/// syft's `TestParseRpmDB`: `dive` 0.9.2-1 whose file list names `/usr/local/bin/dive`, so an
/// executable there is owned and not listed as unowned.
#[test]
fn syft_berkeley_db_dive_owns_its_files() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "var/lib/rpm/Packages",
        &corpus.join("pkgdb/syft/redhat/Packages"),
    );
    place(root.path(), "usr/local/bin/dive", Path::new("/bin/true"));
    place(root.path(), "usr/local/bin/other", Path::new("/bin/true"));
    let catalog = catalog_dir(root.path());
    let dive = rpm(&catalog, "dive");
    assert_eq!(dive.version, "0.9.2-1");
    assert_eq!(
        dive.purl.to_string(),
        "pkg:rpm/dive@0.9.2-1?arch=x86_64&upstream=dive-0.9.2-1.src.rpm"
    );
    assert_eq!(dive.licenses, ["MIT"]);
    assert_eq!(property(dive, "rpm:size"), Some("12406784"));
    // syft expects an empty vendor; the header has none.
    assert_eq!(dive.supplier, None);
    let unowned: Vec<&str> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::File)
        .map(|p| p.locations[0].path.as_str())
        .collect();
    assert_eq!(unowned, ["/usr/local/bin/other"]);
}

/// osv-scalibr's "custom rpm" case: `hello` with epoch 1 in a Berkeley DB database.
#[test]
fn scalibr_berkeley_db_epoch() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "var/lib/rpm/Packages",
        &corpus.join("pkgdb/osv-scalibr/os/rpm/Packages_epoch"),
    );
    write(root.path(), "etc/os-release", "ID=fedora\nVERSION_ID=32\n");
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    assert_eq!(rpm_count(&catalog), 1);
    let hello = rpm(&catalog, "hello");
    assert_eq!(hello.version, "1:0.0.1-rls");
    assert_eq!(hello.arch.as_deref(), Some("x86_64"));
    assert_eq!(hello.licenses, ["GPL"]);
    assert_eq!(
        hello.purl.to_string(),
        "pkg:rpm/fedora/hello@0.0.1-rls?arch=x86_64&distro=fedora-32&epoch=1&upstream=hello-0.0.1-rls.src.rpm"
    );
    let source = hello.source.as_ref().unwrap();
    assert_eq!(
        (source.name.as_str(), source.version.as_str()),
        ("hello", "1:0.0.1-rls")
    );
}

/// syft's `TestParseRpmManifest` for the first four lines; the corpus copy has a fifth line,
/// `vim` with epoch 2.
#[test]
fn mariner_container_manifest() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "var/lib/rpmmanifest/container-manifest-2",
        &corpus.join("pkgdb/syft/redhat/container-manifest-2"),
    );
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    // (name, version, purl, size, arch, source name and version, install time), from the
    // manifest's columns.
    let expected = [
        (
            "mariner-release",
            "2.0-12.cm2",
            "pkg:rpm/mariner-release@2.0-12.cm2?arch=noarch&upstream=mariner-release-2.0-12.cm2.src.rpm",
            "580",
            "noarch",
            ("mariner-release", "2.0-12.cm2"),
            "1653816591",
        ),
        (
            "filesystem",
            "1.1-9.cm2",
            "pkg:rpm/filesystem@1.1-9.cm2?arch=x86_64&upstream=filesystem-1.1-9.cm2.src.rpm",
            "7596",
            "x86_64",
            ("filesystem", "1.1-9.cm2"),
            "1653816591",
        ),
        (
            "glibc",
            "2.35-2.cm2",
            "pkg:rpm/glibc@2.35-2.cm2?arch=x86_64&upstream=glibc-2.35-2.cm2.src.rpm",
            "10855265",
            "x86_64",
            ("glibc", "2.35-2.cm2"),
            "1653816591",
        ),
        (
            "openssl-libs",
            "1.1.1k-15.cm2",
            "pkg:rpm/openssl-libs@1.1.1k-15.cm2?arch=x86_64&upstream=openssl-1.1.1k-15.cm2.src.rpm",
            "4365048",
            "x86_64",
            ("openssl", "1.1.1k-15.cm2"),
            "1653816591",
        ),
        (
            "vim",
            "2:9.0-1.cm2",
            "pkg:rpm/vim@9.0-1.cm2?arch=x86_64&epoch=2&upstream=vim-9.0-1.cm2.src.rpm",
            "45000",
            "x86_64",
            ("vim", "2:9.0-1.cm2"),
            "1653816591",
        ),
    ];
    assert_eq!(rpm_count(&catalog), expected.len());
    for (name, version, purl, size, arch, (source, source_version), installed) in expected {
        let p = rpm(&catalog, name);
        assert_eq!(p.version, version, "{name}");
        assert_eq!(p.purl.to_string(), purl, "{name}");
        assert_eq!(property(p, "rpm:size"), Some(size), "{name}");
        assert_eq!(p.arch.as_deref(), Some(arch), "{name}");
        let s = p.source.as_ref().unwrap();
        assert_eq!(
            (s.name.as_str(), s.version.as_str()),
            (source, source_version)
        );
        assert_eq!(property(p, "rpm:install-time"), Some(installed), "{name}");
        assert_eq!(
            p.supplier.as_deref(),
            Some("Microsoft Corporation"),
            "{name}"
        );
        assert_eq!(p.found_by, "rpm-manifest-cataloger");
        assert_eq!(
            p.locations[0].path,
            "/var/lib/rpmmanifest/container-manifest-2"
        );
    }
}

/// syft's `TestCataloger_Globs` tree: every database path rpm uses, each holding `bogus` or
/// nothing. Each is requested and each gives one clear error; none gives a package.
#[test]
fn requested_paths_with_bogus_content() {
    let Some(corpus) = corpus() else { return };
    let catalog = catalog_dir(&corpus.join("pkgdb/syft/redhat/glob-paths"));
    assert_eq!(rpm_count(&catalog), 0);
    let mut paths: Vec<(&str, &str)> = catalog
        .unknowns
        .iter()
        .map(|u| (u.path.as_str(), u.reason.as_str()))
        .collect();
    paths.sort_unstable();
    let expected = [
        (
            "/usr/lib/sysimage/rpm/Packages",
            "not a Berkeley DB database: shorter than its 512-byte metadata page",
        ),
        (
            "/usr/lib/sysimage/rpm/Packages.db",
            "not an ndb database: 0 bytes, shorter than its header",
        ),
        // An empty file is a valid, empty SQLite database.
        (
            "/usr/lib/sysimage/rpm/rpmdb.sqlite",
            "no readable `Packages` table",
        ),
        ("/usr/share/rpm/Packages", "not a Berkeley DB database"),
        ("/usr/share/rpm/Packages.db", "not an ndb database"),
        (
            "/usr/share/rpm/rpmdb.sqlite",
            "not a readable SQLite database",
        ),
        ("/var/lib/rpm/Packages", "not a Berkeley DB database"),
        ("/var/lib/rpm/Packages.db", "not an ndb database"),
        (
            "/var/lib/rpm/rpmdb.sqlite",
            "not a readable SQLite database",
        ),
        (
            "/var/lib/rpmmanifest/container-manifest-2",
            "line 1: 1 tab-separated fields, expected 10",
        ),
    ];
    assert_eq!(paths.len(), expected.len(), "{paths:#?}");
    for ((path, reason), (want_path, want_reason)) in paths.iter().zip(expected) {
        assert_eq!(*path, want_path);
        assert!(reason.contains(want_reason), "{path}: {reason}");
    }
}

/// Truncated and damaged copies of the real databases give partial results and unknowns,
/// never a panic.
#[test]
fn damaged_databases_give_partial_results() {
    let Some(corpus) = corpus() else { return };
    let ndb = std::fs::read(corpus.join("pkgdb/go-rpmdb/testdata/sle15-bci/Packages.db")).unwrap();
    let bdb = std::fs::read(corpus.join("pkgdb/go-rpmdb/testdata/libuuid/Packages")).unwrap();
    let sqlite =
        std::fs::read(corpus.join("pkgdb/go-rpmdb/testdata/cbl-mariner-2.0/rpmdb.sqlite")).unwrap();
    for (path, bytes) in [
        ("var/lib/rpm/Packages.db", &ndb),
        ("var/lib/rpm/Packages", &bdb),
        ("var/lib/rpm/rpmdb.sqlite", &sqlite),
    ] {
        // Cut at several points, and overwrite a stretch in the middle with noise.
        let mut variants: Vec<Vec<u8>> = [7, 3, 2]
            .iter()
            .map(|d| bytes[..bytes.len() * (d - 1) / d].to_vec())
            .collect();
        let mut noisy = bytes.clone();
        let mid = noisy.len() / 2;
        for (i, b) in noisy[mid..mid + 4096].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        variants.push(noisy);
        for variant in variants {
            let root = tempfile::tempdir().unwrap();
            write_bytes(root.path(), path, &variant);
            let catalog = catalog_dir(root.path());
            assert!(
                !catalog.unknowns.is_empty() || rpm_count(&catalog) > 0,
                "{path}: neither packages nor an error"
            );
            for unknown in &catalog.unknowns {
                assert_eq!(unknown.cataloger, "rpm-db-cataloger");
                assert!(!unknown.reason.is_empty());
            }
        }
    }
}

/// A Berkeley DB database whose overflow chain loops: an error for that package, the other
/// pages still read.
#[test]
fn berkeley_db_overflow_loop_is_an_error() {
    let Some(corpus) = corpus() else { return };
    let mut bytes = std::fs::read(corpus.join("pkgdb/osv-scalibr/os/rpm/Packages_epoch")).unwrap();
    let page_size = u32::from_le_bytes(bytes[20..24].try_into().unwrap()) as usize;
    // Make every overflow page hold one byte and link back to itself, so that each chain
    // must continue and loops at once.
    let mut patched = 0;
    for page in 1..bytes.len() / page_size {
        let at = page * page_size;
        if bytes[at + 25] == 7 {
            bytes[at + 16..at + 20].copy_from_slice(&(page as u32).to_le_bytes());
            bytes[at + 22..at + 24].copy_from_slice(&1u16.to_le_bytes());
            patched += 1;
        }
    }
    assert!(patched > 0);
    let root = tempfile::tempdir().unwrap();
    write_bytes(root.path(), "var/lib/rpm/Packages", &bytes);
    let catalog = catalog_dir(root.path());
    assert_eq!(rpm_count(&catalog), 0);
    assert!(
        catalog
            .unknowns
            .iter()
            .any(|u| u.reason.contains("loops back")),
        "{:?}",
        catalog.unknowns
    );
}

/// osv-scalibr's `invalid` fixture (`asdf`) in every database slot.
#[test]
fn scalibr_invalid_database() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    let invalid = corpus.join("pkgdb/osv-scalibr/os/rpm/invalid");
    for name in ["Packages", "Packages.db", "rpmdb.sqlite"] {
        place(root.path(), &format!("var/lib/rpm/{name}"), &invalid);
    }
    let catalog = catalog_dir(root.path());
    assert_eq!(rpm_count(&catalog), 0);
    assert_eq!(catalog.unknowns.len(), 3, "{:?}", catalog.unknowns);
}

fn write_bytes(root: &Path, relative: &str, bytes: &[u8]) {
    let to = root.join(relative);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, bytes).unwrap();
}
