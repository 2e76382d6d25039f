//! The Alpine secdb as a feed: import of the real v3.11 files, and a scan of the real Alpine
//! 3.11 image from the corpus checked against an independent Python oracle
//! (`tests/oracle/alpine_secdb.py`: `PyYAML` and its own apk version ordering).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use clearbox_catalog::{PackageKind, catalog_image};
use clearbox_oci::{Image, NoProgress, ReadOptions};
use clearbox_vuln::{Database, FindingStatus, MatchNote, match_catalog_with_notes};

use crate::support::{corpus, distro_catalog, os_package, osv, require, venv};

const IMAGE: &str = "images/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz";

fn secdb_v311(corpus: &std::path::Path) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();
    let report = db.import(&osv(corpus, "alpine-secdb/v3.11")).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    (dir, db)
}

#[test]
fn secdb_import_counts() {
    let corpus = require!(corpus());
    let (_dir, db) = secdb_v311(&corpus);
    let status = db.status().unwrap();
    assert_eq!(status.ecosystems.len(), 1);
    assert_eq!(status.ecosystems[0].ecosystem, "Alpine:v3.11");
    let record = db
        .advisory("ALPINE:v3.11:musl:CVE-2019-14697")
        .unwrap()
        .expect("stored");
    assert_eq!(record.aliases, ["CVE-2019-14697"]);
    assert_eq!(
        record.affected[0].ranges[0].events[1].version(),
        "1.1.23-r2"
    );
    // The secdb has no dates: its records carry the file's copy time, which must not make
    // the database look fresh, so the age is unknown.
    assert_eq!(status.newest_modified, None);
    assert_eq!(status.feeds.len(), 1);
    assert_eq!(status.feeds[0].newest_modified, None);
}

#[test]
fn secdb_version_zero_is_not_affected() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();
    let report = db
        .import(&osv(&corpus, "alpine-secdb/v3.8/main.yaml"))
        .unwrap();
    assert!(report.rejected.is_empty());
    // v3.8 lists a vulnerability under the version "0".
    let zero = std::fs::read_to_string(osv(&corpus, "alpine-secdb/v3.8/main.yaml")).unwrap();
    let (origin, vulnerability) = version_zero_entry(&zero);
    let catalog = distro_catalog(
        "alpine",
        "3.8.5",
        vec![os_package(
            PackageKind::Apk,
            &origin,
            "1.0-r0",
            Some(&origin),
        )],
    );
    let outcome = match_catalog_with_notes(&db, &catalog).unwrap();
    let finding = outcome
        .findings
        .iter()
        .find(|f| f.advisory.aliases.contains(&vulnerability))
        .expect("a finding for the version-0 entry");
    assert_eq!(finding.status, FindingStatus::NotAffected);
    assert_eq!(finding.matched.range, "every version");
}

/// Finds the package and first vulnerability listed under `"0":` in a secdb file.
fn version_zero_entry(text: &str) -> (String, String) {
    let mut name = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(n) = line.trim().strip_prefix("name: ") {
            n.clone_into(&mut name);
        }
        if line.trim() == "\"0\":" {
            let item = lines
                .next()
                .unwrap()
                .trim()
                .trim_start_matches("- ")
                .to_owned();
            return (name, item);
        }
    }
    panic!("no version-0 entry");
}

#[test]
fn alpine_311_image_matches_oracle() {
    let corpus = require!(corpus());
    let venv = require!(venv());
    let (_dir, db) = secdb_v311(&corpus);

    // Catalog the real image.
    let reference = format!("docker-archive:{}", corpus.join(IMAGE).display())
        .parse()
        .unwrap();
    let image = Image::open(&reference, &ReadOptions::default()).unwrap();
    let catalog = catalog_image(&image, &ReadOptions::default(), &NoProgress)
        .unwrap()
        .catalog;
    let apks: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Apk)
        .collect();
    assert!(apks.len() > 10, "{} apk packages", apks.len());
    assert_eq!(catalog.distro.as_ref().unwrap().id, "alpine");

    // As installed, then with every version lowered below every fix.
    let checked = compare_with_oracle(&db, &catalog, &corpus, &venv);
    assert!(
        checked > 0,
        "the oracle checked pairs of the image's origins"
    );
    let mut lowered = catalog.clone();
    for package in &mut lowered.packages {
        package.version = "0.1-r0".to_owned();
        if let Some(source) = &mut package.source {
            source.version = "0.1-r0".to_owned();
        }
    }
    compare_with_oracle(&db, &lowered, &corpus, &venv);
}

/// Compares clearbox's affected findings with the oracle's for the catalog's apk packages and
/// returns how many pairs the oracle checked and found fixed.
fn compare_with_oracle(
    db: &Database,
    catalog: &clearbox_catalog::Catalog,
    corpus: &std::path::Path,
    venv: &std::path::Path,
) -> usize {
    let apks: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Apk)
        .collect();

    // clearbox's findings.
    let outcome = match_catalog_with_notes(db, catalog).unwrap();
    let skipped: Vec<_> = outcome
        .notes
        .iter()
        .filter(|n| matches!(n, MatchNote::RangeSkipped { .. }))
        .collect();
    assert!(skipped.is_empty(), "{skipped:?}");
    let found: BTreeSet<String> = outcome
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Affected)
        .map(|f| {
            let source = f.matched.name.clone();
            format!(
                "{source}\t{}\t{}\t{}",
                f.package.name,
                f.advisory.aliases[0],
                f.advisory.fixed_versions.join(",")
            )
        })
        .collect();

    // The oracle's set.
    let mut input = String::new();
    for p in &apks {
        let origin = &p.source.as_ref().unwrap().name;
        let _ = writeln!(input, "{}\t{}\t{origin}", p.name, p.version);
    }
    let secdb = osv(corpus, "alpine-secdb/v3.11");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/oracle/alpine_secdb.py"
        ))
        .arg(secdb.join("main.yaml"))
        .arg(secdb.join("community.yaml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!lines.iter().any(|l| l.starts_with("skipped")), "{lines:?}");
    let clear = lines.iter().filter(|l| l.starts_with("clear\t")).count();
    let expected: BTreeSet<String> = lines
        .into_iter()
        .filter(|l| !l.starts_with("clear\t"))
        .collect();

    println!(
        "{} apk packages: {} affected pairs, {clear} fixed pairs",
        apks.len(),
        expected.len()
    );
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    clear
}
