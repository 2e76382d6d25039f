//! VEX statements applied to real findings: OpenVEX and CycloneDX documents suppress a finding
//! by its id or by an alias, for the matching purl only, and every report keeps the suppressed
//! findings with their statements.

use clearbox_catalog::PackageKind;
use clearbox_vuln::report::vex::{VexDocument, write_cyclonedx_vex, write_openvex};
use clearbox_vuln::report::{ReportFormat, ScanReport, ScanSource, ScanSourceKind};
use clearbox_vuln::vex::{VexSet, VexStatus};
use clearbox_vuln::{MatchOutcome, match_catalog_with_notes};

use crate::support::{corpus, db_with, distro_catalog, os_package, require, venv};

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
    let document = br#"{"@context": "https://openvex.dev/ns", "statements": [
        {"vulnerability": "CVE-2012-2812", "products": ["pkg:apk/test/libexif"], "status": "not_affected",
         "justification": "component_not_present", "timestamp": "2024-01-01T00:00:00Z"},
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

/// Reports of `outcome` in every format, as JSON values: clearbox JSON, SARIF, OpenVEX and
/// CycloneDX VEX. SARIF and CycloneDX are validated against their schemas when the venv is
/// there.
fn reports(db: &clearbox_vuln::Database, outcome: &MatchOutcome) -> [serde_json::Value; 4] {
    let status = db.status().unwrap();
    let source = ScanSource {
        kind: ScanSourceKind::Image,
        name: "oci:example:latest".to_owned(),
        digest: Some(format!("sha256:{}", "ab".repeat(32))),
    };
    let report = ScanReport {
        source: &source,
        database: &status,
        outcome,
    };

    let document = VexDocument {
        timestamp: "2025-01-01T00:00:00Z",
        product: None,
    };

    let mut json = Vec::new();
    ReportFormat::Json.write(&report, &mut json).unwrap();
    let mut sarif = Vec::new();
    ReportFormat::Sarif.write(&report, &mut sarif).unwrap();
    let mut openvex = Vec::new();
    write_openvex(&report, &document, &mut openvex).unwrap();
    let mut cyclonedx = Vec::new();
    write_cyclonedx_vex(&report, &document, &mut cyclonedx).unwrap();

    if let Some(venv) = venv() {
        if let Err(problem) = clearbox_testdata::validate_sarif(&venv, &sarif) {
            panic!("SARIF does not validate: {problem}");
        }
        if let Err(problem) = clearbox_testdata::validate_cyclonedx(&venv, &cyclonedx) {
            panic!("CycloneDX VEX does not validate: {problem}");
        }
    }
    [json, sarif, openvex, cyclonedx].map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

/// Returns the entry of `list` whose field at the JSON pointer `pointer` is `id`.
fn entry<'a>(list: &'a serde_json::Value, pointer: &str, id: &str) -> &'a serde_json::Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e.pointer(pointer).and_then(|v| v.as_str()) == Some(id))
        .unwrap_or_else(|| panic!("no entry with {pointer} = {id} in {list:#}"))
}

const IMAGE_PRODUCT: &str =
    "pkg:oci/example@sha256%3Aabababababababababababababababababababababababababababababababab";

#[test]
fn suppressed_findings_stay_in_every_report() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let mut outcome = outcome(&db);
    let openvex =
        br#"{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2024-05-01T00:00:00Z",
      "statements": [{"vulnerability": {"name": "CVE-2022-27449"},
        "products": [{"@id": "pkg:apk/test/mariadb"}], "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path"}]}"#;
    let cyclonedx = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
      "vulnerabilities": [{"id": "CVE-2012-2812", "analysis": {"state": "resolved", "detail": "patched"},
                           "affects": [{"ref": "pkg:apk/test/libexif"}]}]}"#;
    let mut vex = VexSet::new();
    vex.add_document("vex.json", openvex).unwrap();
    vex.add_document("cdx.json", cyclonedx).unwrap();
    vex.apply(&mut outcome, None);
    assert_eq!(outcome.findings.len(), 0);
    assert_eq!(outcome.suppressed.len(), 2);
    let [json, sarif, openvex, cyclonedx] = reports(&db, &outcome);

    // JSON: a `suppressed` list with the statement of each, and nothing counted.
    assert_eq!(json["matches"], serde_json::json!([]));
    let mariadb = entry(
        &json["suppressed"],
        "/finding/advisory/id",
        "CVE-2022-27449",
    );
    assert_eq!(mariadb["finding"]["package"]["name"], "mariadb");
    assert_eq!(mariadb["statement"]["status"], "not_affected");
    assert_eq!(
        mariadb["statement"]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(mariadb["statement"]["document"], "vex.json");
    assert_eq!(mariadb["statement"]["index"], 0);
    let libexif = entry(&json["suppressed"], "/finding/advisory/id", "CVE-2012-2812");
    assert_eq!(libexif["statement"]["status"], "fixed");
    assert_eq!(libexif["statement"]["format"], "cyclonedx");
    assert_eq!(libexif["statement"]["impact"], "patched");
    assert_eq!(json["counts"]["high"], 0);
    assert_eq!(json["counts"]["unknown"], 0);

    // SARIF: results with an external, accepted suppression.
    let results = &sarif["runs"][0]["results"];
    assert_eq!(results.as_array().unwrap().len(), 2);
    let result = entry(results, "/ruleId", "CVE-2022-27449");
    assert_eq!(
        result["suppressions"],
        serde_json::json!([{"kind": "external", "status": "accepted",
            "justification": "not affected: vulnerable code not in execute path (VEX statement \
                              `statements[0]` in `vex.json`)"}])
    );
    assert_eq!(result["properties"]["vexStatus"], "not_affected");
    let result = entry(results, "/ruleId", "CVE-2012-2812");
    assert_eq!(
        result["suppressions"][0]["justification"],
        "fixed: patched (VEX statement `vulnerabilities[0]` in `cdx.json`)"
    );

    // OpenVEX: the input statements, with their own times.
    let statements = &openvex["statements"];
    let statement = entry(statements, "/vulnerability/name", "CVE-2022-27449");
    assert_eq!(statement["status"], "not_affected");
    assert_eq!(
        statement["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert!(statement.get("impact_statement").is_none(), "{statement:#}");
    assert_eq!(statement["timestamp"], "2024-05-01T00:00:00Z");
    assert_eq!(
        statement["status_notes"],
        "stated in `vex.json` statements[0]"
    );
    assert_eq!(statement["products"][0]["@id"], IMAGE_PRODUCT);
    assert_eq!(
        statement["products"][0]["subcomponents"][0]["@id"],
        "pkg:apk/test/mariadb@10.4.24-r0"
    );
    let statement = entry(statements, "/vulnerability/name", "CVE-2012-2812");
    assert_eq!(statement["status"], "fixed");
    assert_eq!(statement["timestamp"], "2025-01-01T00:00:00Z");
    assert_eq!(
        statement["status_notes"],
        "stated in `cdx.json` vulnerabilities[0]: patched"
    );

    // CycloneDX VEX: the same, in CycloneDX's terms.
    let vulnerabilities = &cyclonedx["vulnerabilities"];
    let analysis = &entry(vulnerabilities, "/id", "CVE-2022-27449")["analysis"];
    assert_eq!(analysis["state"], "not_affected");
    assert_eq!(analysis["justification"], "code_not_reachable");
    assert_eq!(analysis["detail"], "stated in `vex.json` statements[0]");
    assert_eq!(analysis["lastUpdated"], "2024-05-01T00:00:00Z");
    let analysis = &entry(vulnerabilities, "/id", "CVE-2012-2812")["analysis"];
    assert_eq!(analysis["state"], "resolved");
    assert_eq!(
        analysis["detail"],
        "patched (stated in `cdx.json` vulnerabilities[0])"
    );
    assert_eq!(cyclonedx["metadata"]["component"]["purl"], IMAGE_PRODUCT);
}

#[test]
fn justification_without_counterpart_is_written_in_words() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let mut outcome = outcome(&db);
    let cyclonedx = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
      "vulnerabilities": [{"id": "CVE-2012-2812",
        "analysis": {"state": "not_affected", "justification": "requires_configuration"},
        "affects": [{"ref": "pkg:apk/test/libexif"}]}]}"#;
    let mut vex = VexSet::new();
    vex.add_document("cdx.json", cyclonedx).unwrap();
    vex.apply(&mut outcome, None);
    assert_eq!(outcome.suppressed.len(), 1);
    let [_, _, openvex, cyclonedx] = reports(&db, &outcome);

    let statement = entry(
        &openvex["statements"],
        "/vulnerability/name",
        "CVE-2012-2812",
    );
    assert_eq!(statement["status"], "not_affected");
    assert!(statement.get("justification").is_none(), "{statement:#}");
    assert_eq!(statement["impact_statement"], "requires configuration");
    let analysis = &entry(&cyclonedx["vulnerabilities"], "/id", "CVE-2012-2812")["analysis"];
    assert_eq!(analysis["justification"], "requires_configuration");
}

#[test]
fn statements_name_packages_without_a_product() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let outcome = outcome(&db);
    let status = db.status().unwrap();
    let source = ScanSource {
        kind: ScanSourceKind::Sbom,
        name: "sbom.json".to_owned(),
        digest: Some(format!("sha256:{}", "cd".repeat(32))),
    };
    let report = ScanReport {
        source: &source,
        database: &status,
        outcome: &outcome,
    };
    let write = |product: Option<&str>| {
        let mut bytes = Vec::new();
        let document = VexDocument {
            timestamp: "2025-01-01T00:00:00Z",
            product,
        };
        write_openvex(&report, &document, &mut bytes).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    };
    let statements = write(None)["statements"].clone();
    for statement in statements.as_array().unwrap() {
        let products = statement["products"].as_array().unwrap();
        assert_eq!(products.len(), 1);
        assert!(
            products[0]["@id"]
                .as_str()
                .unwrap()
                .starts_with("pkg:apk/test/")
        );
        assert!(products[0].get("subcomponents").is_none());
    }
    let statements = write(Some("pkg:oci/app@sha256%3Aee"))["statements"].clone();
    for statement in statements.as_array().unwrap() {
        assert_eq!(statement["products"][0]["@id"], "pkg:oci/app@sha256%3Aee");
    }
}
