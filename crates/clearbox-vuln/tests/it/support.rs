//! Shared test helpers: where the corpus and the validator venv are, a database with the whole
//! PyPA and Go databases imported once, and package builders.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clearbox_catalog::{Catalog, Distro, Location, Package, PackageKind, Purl, SourcePackage};
use clearbox_vuln::{Database, Finding, ImportReport, match_catalog_with_notes};

/// Returns from the test when a prerequisite is missing (after the notice `skip` printed).
macro_rules! require {
    ($option:expr) => {
        match $option {
            Some(value) => value,
            None => return,
        }
    };
}
pub(crate) use require;

pub(crate) use clearbox_testdata::{corpus, venv};

/// Returns a path inside the corpus's `osv/` folder.
pub(crate) fn osv(corpus: &Path, relative: &str) -> PathBuf {
    corpus.join("osv").join(relative)
}

pub(crate) const PYPA: &str = "pypa-advisory-database/vulns";
pub(crate) const GO_VULNDB: &str = "go-vulndb/data/osv";

/// A database file with the whole PyPA and Go databases imported, built once per test run,
/// with the two import reports.
pub(crate) struct CorpusDb {
    _dir: tempfile::TempDir,
    pub(crate) path: PathBuf,
    pub(crate) pypa: ImportReport,
    pub(crate) go: ImportReport,
}

pub(crate) fn corpus_db() -> Option<&'static CorpusDb> {
    static DB: OnceLock<Option<CorpusDb>> = OnceLock::new();
    DB.get_or_init(|| {
        let corpus = corpus()?;
        // nextest runs each test in its own process and a `static` is never dropped, so the
        // directory goes under target/test-tmp, which scripts/test.sh empties before each run.
        let parent = clearbox_testdata::workspace_root().join("target/test-tmp");
        std::fs::create_dir_all(&parent).expect("create target/test-tmp");
        let dir = tempfile::tempdir_in(parent).expect("temporary directory");
        let path = dir.path().join("advisories.db");
        let mut db = Database::open(&path).expect("open database");
        let pypa = db
            .import(&osv(&corpus, PYPA))
            .expect("import PyPA database");
        let go = db
            .import(&osv(&corpus, GO_VULNDB))
            .expect("import Go database");
        Some(CorpusDb {
            _dir: dir,
            path,
            pypa,
            go,
        })
    })
    .as_ref()
}

impl CorpusDb {
    pub(crate) fn open(&self) -> Database {
        Database::open(&self.path).expect("open database")
    }
}

/// Creates a database in a temporary directory and imports the given corpus sources.
pub(crate) fn db_with(corpus: &Path, sources: &[&str]) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut db = Database::open(&dir.path().join("advisories.db")).expect("open database");
    for source in sources {
        let report = db.import(&osv(corpus, source)).expect("import");
        assert!(
            report.rejected.is_empty(),
            "{source}: {:?}",
            report.rejected
        );
    }
    (dir, db)
}

fn package(name: &str, version: &str, kind: PackageKind, purl: Purl, path: &str) -> Package {
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
        found_by: "test",
        locations: vec![Location {
            path: path.to_owned(),
            layer: Some(
                "sha256:0000000000000000000000000000000000000000000000000000000000000000"
                    .to_owned(),
            ),
        }],
        hashes: Vec::new(),
        model: None,
        properties: BTreeMap::new(),
    }
}

/// Builds a Python distribution with a `*.dist-info/METADATA` location under `/app/site-packages`.
pub(crate) fn python(name: &str, version: &str) -> Package {
    let path = format!(
        "/app/site-packages/{}-{version}.dist-info/METADATA",
        name.replace('-', "_")
    );
    package(
        name,
        version,
        PackageKind::Python,
        Purl::new("pypi", None, name, Some(version)),
        &path,
    )
}

/// Builds a Go module compiled into `binary`.
pub(crate) fn go_module(path: &str, version: &str, binary: &str) -> Package {
    let (namespace, name) = path
        .rsplit_once('/')
        .map_or((None, path), |(ns, n)| (Some(ns), n));
    package(
        path,
        version,
        PackageKind::GoModule,
        Purl::new("golang", namespace, name, Some(version)),
        binary,
    )
}

/// Builds the Go standard library of `binary`.
pub(crate) fn go_stdlib(version: &str, binary: &str) -> Package {
    package(
        "stdlib",
        version,
        PackageKind::GoStdlib,
        Purl::new("golang", None, "stdlib", Some(version)),
        binary,
    )
}

/// Builds a Debian binary package, optionally built from a differently named source package.
pub(crate) fn deb(name: &str, version: &str, source: Option<(&str, &str)>) -> Package {
    let mut package = package(
        name,
        version,
        PackageKind::Deb,
        Purl::new("deb", Some("debian"), name, Some(version)),
        &format!("/var/lib/dpkg/status.d/{name}"),
    );
    package.source = source.map(|(name, version)| SourcePackage {
        name: name.to_owned(),
        version: version.to_owned(),
    });
    package
}

/// Builds an OS package of `kind` (`deb`, `apk` or `rpm` purl type) with a source package.
pub(crate) fn os_package(
    kind: PackageKind,
    name: &str,
    version: &str,
    source: Option<&str>,
) -> Package {
    let ty = kind.name();
    let mut package = package(
        name,
        version,
        kind,
        Purl::new(ty, Some("test"), name, Some(version)),
        "/var/lib/test/db",
    );
    package.source = source.map(|source| SourcePackage {
        name: source.to_owned(),
        version: version.to_owned(),
    });
    package
}

/// Builds a language package known only by its purl, as an SBOM lists it.
pub(crate) fn library(purl: &str) -> Package {
    let purl: Purl = purl.parse().expect("test purl parses");
    let version = purl.version.clone().unwrap_or_default();
    let name = purl.name.clone();
    package(
        &name,
        &version,
        PackageKind::Library,
        purl,
        "/app/sbom.json",
    )
}

/// A catalog of one distribution release.
pub(crate) fn distro_catalog(id: &str, version_id: &str, packages: Vec<Package>) -> Catalog {
    Catalog {
        distro: Some(Distro {
            id: id.to_owned(),
            version_id: Some(version_id.to_owned()),
            codename: None,
            pretty_name: None,
        }),
        packages,
        unknowns: Vec::new(),
    }
}

pub(crate) fn catalog(packages: Vec<Package>) -> Catalog {
    Catalog {
        distro: None,
        packages,
        unknowns: Vec::new(),
    }
}

pub(crate) fn debian_catalog(version_id: &str, packages: Vec<Package>) -> Catalog {
    Catalog {
        distro: Some(Distro {
            id: "debian".to_owned(),
            version_id: Some(version_id.to_owned()),
            codename: None,
            pretty_name: None,
        }),
        packages,
        unknowns: Vec::new(),
    }
}

/// Lists every advisory id of a finding: its own and those merged into it.
pub(crate) fn ids_of(finding: &Finding) -> impl Iterator<Item = String> + '_ {
    std::iter::once(finding.advisory.id.clone()).chain(finding.advisory.merged_ids.iter().cloned())
}

/// Matches one package and returns the advisory ids that affect it, merged ids included.
pub(crate) fn affected_ids(db: &Database, package: Package) -> BTreeSet<String> {
    let outcome = match_catalog_with_notes(db, &catalog(vec![package])).expect("match");
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    outcome.findings.iter().flat_map(ids_of).collect()
}
