//! VEX statements applied to real findings: OpenVEX and CycloneDX documents suppress a finding
//! by its id or by an alias, for the matching purl only.

use clearbox_catalog::PackageKind;
use clearbox_vuln::match_catalog_with_notes;
use clearbox_vuln::vex::{VexSet, VexStatus};

use crate::support::{corpus, db_with, distro_catalog, os_package, require};

fn outcome(db: &clearbox_vuln::Database) -> clearbox_vuln::MatchOutcome {
    let catalog = distro_catalog(
        "alpine",
        "3.12.0",
        vec![
            os_package(PackageKind::Apk, "mariadb", "10.4.24-r0", Some("mariadb")),
            os_package(PackageKind::Apk, "libexif", "0.6.20-r0", Some("libexif")),
        ],
    );
    match_catalog_with_notes(db, &catalog).unwrap()
}

#[test]
fn openvex_suppresses_by_id_and_purl() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let mut outcome = outcome(&db);
    assert_eq!(outcome.findings.len(), 2, "{:?}", outcome.notes);
    let document =
        br#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/1",
      "author": "test", "timestamp": "2024-05-01T00:00:00Z", "version": 1,
      "statements": [
        {"vulnerability": {"name": "CVE-2022-27449"}, "products": [{"@id": "pkg:apk/test/mariadb"}],
         "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
        {"vulnerability": {"name": "CVE-2012-2812"}, "products": [{"@id": "pkg:apk/test/busybox"}],
         "status": "not_affected", "justification": "component_not_present"}]}"#;
    let mut vex = VexSet::new();
    vex.add_document("vex.json", document).unwrap();
    vex.apply(&mut outcome, None);
    assert_eq!(outcome.suppressed.len(), 1);
    let suppressed = &outcome.suppressed[0];
    assert_eq!(suppressed.finding.advisory.id, "CVE-2022-27449");
    assert_eq!(suppressed.statement.document, "vex.json");
    assert_eq!(suppressed.statement.index, 0);
    assert_eq!(suppressed.statement.status, VexStatus::NotAffected);
    assert_eq!(
        outcome.findings.len(),
        1,
        "the statement for another purl does not apply"
    );
    assert_eq!(outcome.findings[0].advisory.id, "CVE-2012-2812");
}

#[test]
fn later_statement_wins() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let mut outcome = outcome(&db);
    let document = br#"{"statements": [
        {"vulnerability": "CVE-2012-2812", "products": ["pkg:apk/test/libexif"], "status": "not_affected",
         "timestamp": "2024-01-01T00:00:00Z"},
        {"vulnerability": "CVE-2012-2812", "products": ["pkg:apk/test/libexif"], "status": "affected",
         "timestamp": "2024-06-01T00:00:00Z"}]}"#;
    let mut vex = VexSet::new();
    vex.add_document("a.json", document).unwrap();
    vex.apply(&mut outcome, None);
    assert!(outcome.suppressed.is_empty());
    assert_eq!(outcome.findings.len(), 2);
}

#[test]
fn cyclonedx_resolved_suppresses() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let mut outcome = outcome(&db);
    let document = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
      "components": [{"bom-ref": "exif", "type": "library", "name": "libexif", "purl": "pkg:apk/test/libexif@0.6.20-r0"}],
      "vulnerabilities": [{"id": "CVE-2012-2812", "analysis": {"state": "resolved", "detail": "patched"},
                           "affects": [{"ref": "exif"}]}]}"#;
    let mut vex = VexSet::new();
    vex.add_document("cdx.json", document).unwrap();
    vex.apply(&mut outcome, None);
    assert_eq!(outcome.suppressed.len(), 1);
    assert_eq!(outcome.suppressed[0].statement.status, VexStatus::Fixed);
    assert_eq!(
        outcome.suppressed[0].statement.impact.as_deref(),
        Some("patched")
    );
}
