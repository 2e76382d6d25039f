//! Malformed records are reported with their file and field, and the import goes on.

use std::fs;
use std::path::Path;

use clearbox_vuln::Database;

use crate::support::{GO_VULNDB, corpus, osv, require};

fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

/// The OSV linter's test data: nine valid records and three variants of them that the linter
/// flags, with the same ids.
/// - `nointroduced-CVE-2023-41045.json`: a range without an `introduced` event, which the
///   schema forbids: rejected, naming the field.
/// - `nondistinct-CVE-2018-5407.json`: a `GIT` range whose `introduced` and `fixed` name one
///   commit: stored with a warning naming the field.
/// - `nopackage-GHSA-9v2f-6vcg-3hgv.json`: names a PyPI package (`Gradi0`) that does not exist;
///   only a registry lookup shows that, so it is stored.
#[test]
fn osv_linter_testdata() {
    let corpus = require!(corpus());
    let mut db = Database::open_in_memory().unwrap();
    let report = db
        .import(&osv(&corpus, "osv-schema/osv-linter-testdata"))
        .unwrap();
    for problem in report.rejected.iter().chain(&report.warnings) {
        println!("{problem}");
    }
    assert_eq!(report.records, 12);
    assert_eq!(report.inserted, 9);
    assert_eq!(report.replaced + report.unchanged + report.older, 2);

    assert_eq!(report.rejected.len(), 1, "{:#?}", report.rejected);
    let rejected = &report.rejected[0];
    assert_eq!(
        file_name(&rejected.file),
        "nointroduced-CVE-2023-41045.json"
    );
    assert_eq!(rejected.id.as_deref(), Some("CVE-2023-41045"));
    assert_eq!(rejected.field, "affected[0].ranges[0].events");
    assert!(rejected.message.contains("introduced"), "{rejected}");

    // One record repeats a version; the variants of valid records that replaced them at the
    // same `modified` time are warned about too.
    let (replacements, others): (Vec<_>, Vec<_>) = report.warnings.iter().partition(|w| {
        w.message
            .starts_with("replaced a stored record with the same id")
    });
    assert_eq!(others.len(), 1, "{:#?}", report.warnings);
    let warning = others[0];
    assert_eq!(file_name(&warning.file), "nondistinct-CVE-2018-5407.json");
    assert_eq!(warning.field, "affected[6].ranges[1].events");
    assert_eq!(replacements.len(), report.replaced as usize);

    // The variant without `introduced` did not replace the valid CVE-2023-41045.
    let stored = db.advisory("CVE-2023-41045").unwrap().unwrap();
    let events = &stored.affected[0].ranges[0].events;
    assert!(events.iter().any(|e| e.key() == "introduced"), "{events:?}");
    assert!(db.advisory("GHSA-9v2f-6vcg-3hgv").unwrap().is_some());
}

/// The GHSA converter's test data pairs GitHub's own advisory format with the OSV records made
/// from it. The 11 GitHub documents are rejected at their first schema violation: a reference
/// without `type`, because GitHub writes only `url`. The 11 OSV records are stored, one of them
/// withdrawn.
#[test]
fn ghsa_inputs_are_not_osv() {
    let corpus = require!(corpus());
    let mut db = Database::open_in_memory().unwrap();
    let report = db
        .import(&osv(&corpus, "osv-schema/ghsa-convert-testdata"))
        .unwrap();
    assert_eq!(report.records, 22);
    assert_eq!(report.rejected.len(), 11, "{:#?}", report.rejected);
    for rejected in &report.rejected {
        assert!(
            !file_name(&rejected.file).ends_with(".osv.json"),
            "{rejected}"
        );
        assert_eq!(rejected.field, "references[0].type", "{rejected}");
        assert!(
            rejected.message.contains("missing field `type`"),
            "{rejected}"
        );
    }
    assert_eq!(report.withdrawn, 1);
    assert_eq!(report.inserted, 10);
}

/// A truncated JSON file is rejected with the parser's position; the records around it import.
#[test]
fn truncated_json_is_rejected() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    for id in ["GO-2020-0012", "GO-2020-0013", "GO-2020-0014"] {
        let text = fs::read(osv(&corpus, &format!("{GO_VULNDB}/{id}.json"))).unwrap();
        let text = if id == "GO-2020-0013" {
            &text[..text.len() / 2]
        } else {
            &text[..]
        };
        fs::write(dir.path().join(format!("{id}.json")), text).unwrap();
    }
    let mut db = Database::open_in_memory().unwrap();
    let report = db.import(dir.path()).unwrap();
    assert_eq!(report.inserted, 2);
    assert_eq!(report.rejected.len(), 1);
    let rejected = &report.rejected[0];
    assert_eq!(file_name(&rejected.file), "GO-2020-0013.json");
    assert!(rejected.message.contains("EOF while parsing"), "{rejected}");
    assert!(rejected.message.contains("line"), "{rejected}");
}

/// A hand-broken copy of PYSEC-2023-74 (requests): its fixed version is not PEP 440 and its
/// CVSS vector is incomplete. The record is stored with a warning for each field, and a scan
/// of an affected version says the range was skipped instead of passing silently.
#[test]
fn unparsable_range_and_vector_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let record = serde_json::json!({
        "schema_version": "1.6.0", "id": "PYSEC-2023-74", "modified": "2023-06-05T19:15:00Z",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "!!!"}]}]}]
    });
    let file = dir.path().join("record.json");
    fs::write(&file, serde_json::to_vec(&record).unwrap()).unwrap();
    let mut db = Database::open_in_memory().unwrap();
    let report = db.import(&file).unwrap();
    let warnings: Vec<(String, String)> = report
        .warnings
        .iter()
        .map(|w| (w.field.clone(), w.message.clone()))
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0].0, "severity[0].score");
    assert!(
        warnings[0].1.contains("is not a complete CVSS vector"),
        "{}",
        warnings[0].1
    );
    assert_eq!(warnings[1].0, "affected[0].ranges[0].events[1].fixed");
    assert!(
        warnings[1].1.contains("matching skips this range"),
        "{}",
        warnings[1].1
    );

    let outcome = clearbox_vuln::match_catalog_with_notes(
        &db,
        &crate::support::catalog(vec![crate::support::python("requests", "2.25.0")]),
    )
    .unwrap();
    assert!(outcome.findings.is_empty());
    let note = outcome
        .notes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        note.contains(
            "advisory `PYSEC-2023-74` names `requests` but a range of it could not be checked"
        ),
        "{note}"
    );
}
