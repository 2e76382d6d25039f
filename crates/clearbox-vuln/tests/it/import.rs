//! Importing the whole PyPA and Go databases, and the replace, withdraw and rollback rules.

use std::fmt::Write as _;
use std::fs;
use std::io::Write;

use clearbox_vuln::{Database, SourceKind, VulnError};

use crate::support::{GO_VULNDB, PYPA, corpus, corpus_db, osv, require};

/// The expected counts were taken from the corpus files with Python. The PyPA snapshot has
/// 2,661 YAML records, 10 of them withdrawn. The Go snapshot has 4,291 JSON records, 17 of them
/// withdrawn.
#[test]
fn whole_pypa_database() {
    let db = require!(corpus_db());
    let report = &db.pypa;
    assert_eq!(report.kind, SourceKind::Directory);
    assert_eq!(report.records, 2661);
    assert_eq!(report.withdrawn, 10);
    assert_eq!(report.inserted, 2651);
    assert_eq!(report.replaced + report.unchanged + report.older, 0);
    assert!(report.rejected.is_empty(), "{:#?}", report.rejected);

    // Three real records repeat a version inside one range, and two have a fixed version that
    // is not PEP 440 (binderhub `0.2.0-n653`, steam `2019-09-12`); all are kept with a
    // warning, and matching reports the unparsable ranges as skipped.
    let warned: Vec<&str> = report
        .warnings
        .iter()
        .filter_map(|w| w.id.as_deref())
        .collect();
    assert_eq!(
        warned,
        [
            "PYSEC-2022-42972",
            "PYSEC-2021-371",
            "PYSEC-2022-236",
            "PYSEC-2023-72",
            "PYSEC-2019-125"
        ]
    );
    println!(
        "PyPA: {} records, {} stored, {} withdrawn, {} rejected, {} warnings",
        report.records,
        report.inserted,
        report.withdrawn,
        report.rejected.len(),
        report.warnings.len()
    );
}

#[test]
fn whole_go_database() {
    let db = require!(corpus_db());
    let report = &db.go;
    assert_eq!(report.records, 4291);
    assert_eq!(report.withdrawn, 17);
    assert_eq!(report.inserted, 4274);
    assert!(report.rejected.is_empty(), "{:#?}", report.rejected);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    println!(
        "Go: {} records, {} stored, {} withdrawn, {} rejected",
        report.records,
        report.inserted,
        report.withdrawn,
        report.rejected.len()
    );
}

#[test]
fn status_counts_per_ecosystem() {
    let corpus_db = require!(corpus_db());
    let status = corpus_db.open().status().unwrap();
    assert_eq!(status.advisories, 2651 + 4274);
    let family = |name: &str| {
        status
            .ecosystem_families
            .iter()
            .find(|c| c.ecosystem == name)
            .map(|c| c.advisories)
    };
    assert_eq!(family("PyPI"), Some(2651));
    assert_eq!(family("Go"), Some(4274));
    assert_eq!(status.ecosystems.len(), 2, "{:?}", status.ecosystems);
    assert_eq!(status.feeds.len(), 2);
    assert!(
        status
            .feeds
            .iter()
            .all(|f| f.kind == "directory" && f.rejected == 0)
    );
    assert!(status.newest_modified.is_some());
    assert_eq!(
        status.last_import.as_deref(),
        Some(corpus_db.go.imported_at.as_str())
    );
}

#[test]
fn reimport_is_unchanged() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("a.db")).unwrap();
    let source = osv(&corpus, "pypa-advisory-database/vulns/requests");
    let first = db.import(&source).unwrap();
    let second = db.import(&source).unwrap();
    assert_eq!(first.inserted, 5);
    assert_eq!(second.inserted, 0);
    assert_eq!(second.unchanged, 5);
    assert_eq!(db.status().unwrap().feeds.len(), 1);
}

/// Writes PYSEC-2023-74 (a real record) with its `modified` time replaced.
fn requests_record(corpus: &std::path::Path, modified: &str, withdrawn: bool) -> String {
    let path = osv(corpus, &format!("{PYPA}/requests/PYSEC-2023-74.yaml"));
    let mut text = fs::read_to_string(path).unwrap();
    text = text.replace(
        "modified: \"2023-06-05T01:13:00.534973Z\"",
        &format!("modified: \"{modified}\""),
    );
    if withdrawn {
        writeln!(text, "withdrawn: \"{modified}\"").unwrap();
    }
    text
}

#[test]
fn newer_replaces_and_older_is_kept() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("a.db")).unwrap();
    let file = dir.path().join("PYSEC-2023-74.yaml");
    let import = |db: &mut Database, modified: &str| {
        fs::write(&file, requests_record(&corpus, modified, false)).unwrap();
        db.import(&file).unwrap()
    };

    assert_eq!(import(&mut db, "2023-06-05T01:13:00Z").inserted, 1);
    assert_eq!(import(&mut db, "2024-01-01T00:00:00Z").replaced, 1);
    assert_eq!(import(&mut db, "2023-06-05T01:13:00Z").older, 1);
    let stored = db.advisory("PYSEC-2023-74").unwrap().unwrap();
    assert_eq!(stored.modified, "2024-01-01T00:00:00Z");
}

#[test]
fn withdrawn_record_removes_stored_one() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("a.db")).unwrap();
    let file = dir.path().join("PYSEC-2023-74.yaml");
    fs::write(
        &file,
        requests_record(&corpus, "2023-06-05T01:13:00Z", false),
    )
    .unwrap();
    db.import(&file).unwrap();
    fs::write(
        &file,
        requests_record(&corpus, "2024-01-01T00:00:00Z", true),
    )
    .unwrap();
    let report = db.import(&file).unwrap();
    assert_eq!(report.withdrawn, 1);
    assert!(db.advisory("PYSEC-2023-74").unwrap().is_none());
    assert_eq!(db.status().unwrap().advisories, 0);
}

/// A zip whose second member fails its CRC check makes the import fail after the first member
/// was stored. The transaction must leave the database as it was.
#[test]
fn failed_import_leaves_database_unchanged() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    let first = fs::read(osv(&corpus, &format!("{GO_VULNDB}/GO-2020-0012.json"))).unwrap();
    let second = fs::read(osv(&corpus, &format!("{GO_VULNDB}/GO-2020-0013.json"))).unwrap();
    let mut writer = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("GO-2020-0012.json", stored).unwrap();
    writer.write_all(&first).unwrap();
    writer.start_file("GO-2020-0013.json", stored).unwrap();
    writer.write_all(&second).unwrap();
    writer.finish().unwrap();

    // Flip one byte of the second member's stored data; its CRC no longer matches.
    let mut bytes = fs::read(&zip_path).unwrap();
    let start = bytes
        .windows(second.len())
        .position(|w| w == second.as_slice())
        .unwrap();
    bytes[start + 10] ^= 0x20;
    fs::write(&zip_path, bytes).unwrap();

    let mut db = Database::open(&dir.path().join("a.db")).unwrap();
    let err = db.import(&zip_path).unwrap_err();
    assert!(
        matches!(err, VulnError::Io { .. } | VulnError::Zip { .. }),
        "{err}"
    );
    let status = db.status().unwrap();
    assert_eq!(status.advisories, 0);
    assert!(status.feeds.is_empty());
}

#[test]
fn unsupported_source_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("advisories.csv");
    fs::write(&file, "id\n").unwrap();
    let mut db = Database::open_in_memory().unwrap();
    let err = db.import(&file).unwrap_err();
    assert!(matches!(err, VulnError::UnsupportedSource { .. }), "{err}");
    let missing = db.import(&dir.path().join("missing")).unwrap_err();
    assert!(matches!(missing, VulnError::Io { .. }), "{missing}");
}

/// A record dated far ahead is rejected, so that the correction published later with the real
/// date still replaces what is stored.
#[test]
fn record_dated_ahead_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();
    let record = |modified: &str, summary: &str| {
        format!(
            r#"{{"id": "TEST-2024-1", "modified": "{modified}", "summary": "{summary}",
                "affected": [{{"package": {{"ecosystem": "PyPI", "name": "x"}}}}]}}"#
        )
    };
    let ahead = dir.path().join("ahead.json");
    fs::write(&ahead, record("9999-12-31T00:00:00Z", "typo")).unwrap();
    let report = db.import(&ahead).unwrap();
    assert_eq!(report.inserted, 0);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].field, "modified");
    assert!(
        report.rejected[0]
            .message
            .starts_with("`9999-12-31T00:00:00Z` is after the import time "),
        "{}",
        report.rejected[0].message
    );

    // An hour ahead is clock skew, not an error.
    let soon = (chrono::Utc::now() + chrono::TimeDelta::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let skewed = dir.path().join("skewed.json");
    fs::write(&skewed, record(&soon, "first")).unwrap();
    assert_eq!(db.import(&skewed).unwrap().inserted, 1);
}

/// Two records with one id and one `modified` but different content: the later import wins,
/// and the import warns about it.
#[test]
fn same_time_replacement_warns() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();
    let write = |name: &str, summary: &str| {
        let path = dir.path().join(name);
        fs::write(
            &path,
            format!(
                r#"{{"id": "TEST-2024-2", "modified": "2024-05-01T00:00:00Z", "summary": "{summary}",
                    "affected": [{{"package": {{"ecosystem": "PyPI", "name": "x"}}}}]}}"#
            ),
        )
        .unwrap();
        path
    };
    let first = write("a.json", "first");
    let second = write("b.json", "second");
    assert!(db.import(&first).unwrap().warnings.is_empty());
    let report = db.import(&second).unwrap();
    assert_eq!(report.replaced, 1);
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert!(
        report.warnings[0]
            .message
            .starts_with("replaced a stored record with the same id and `modified`"),
        "{}",
        report.warnings[0].message
    );
    // Importing the same content again is no replacement and no warning.
    let again = db.import(&second).unwrap();
    assert_eq!((again.unchanged, again.warnings.len()), (1, 0));
}
