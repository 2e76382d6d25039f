//! Report encoders: SARIF validated against the SARIF 2.1.0 JSON schema with Python's
//! `jsonschema`, JSON checked field by field, and the table's columns.

use clearbox_vuln::report::{ReportFormat, ScanReport, ScanSource, ScanSourceKind};
use clearbox_vuln::{Database, MatchOutcome, match_catalog_with_notes};

use crate::support::{
    catalog, corpus, corpus_db, db_with, deb, debian_catalog, go_module, python, require, venv,
};

fn source() -> ScanSource {
    ScanSource {
        kind: ScanSourceKind::Image,
        name: "oci:example:latest".to_owned(),
        digest: Some(format!("sha256:{}", "ab".repeat(32))),
    }
}

fn render(db: &Database, outcome: &MatchOutcome, format: ReportFormat) -> String {
    let status = db.status().unwrap();
    let source = source();
    let report = ScanReport {
        source: &source,
        database: &status,
        outcome,
    };
    let mut out = Vec::new();
    format.write(&report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Findings with every severity source: CVSS vectors (GHSA-qppj-fm5r-hxr3), labels, no
/// severity (Debian records), several locations, and a note.
fn mixed_outcome(db: &Database) -> MatchOutcome {
    let mut packages = vec![
        go_module("golang.org/x/net", "v0.6.0", "/usr/bin/app"),
        go_module("golang.org/x/image", "v0.4.0", "/usr/bin/app"),
        deb("libodbc1", "2.3.6-0.1", Some(("unixodbc", "2.3.6-0.1"))),
    ];
    packages[0].locations.push(clearbox_catalog::Location {
        path: "/opt/tools/bin/app copy".to_owned(),
        layer: None,
    });
    packages[1].locations.clear();
    match_catalog_with_notes(db, &debian_catalog("10", packages)).unwrap()
}

/// Validates with the SARIF 2.1.0 schema that scripts/setup.sh puts in the venv.
fn validate_sarif(sarif: &str) -> Option<()> {
    let venv = venv()?;
    if let Err(problem) = clearbox_testdata::validate_sarif(&venv, sarif.as_bytes()) {
        panic!("SARIF does not validate: {problem}");
    }
    Some(())
}

#[test]
fn sarif_validates_mixed_findings() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(
        &corpus,
        &["fixtures-harvested/Go", "fixtures-harvested/Debian"],
    );
    let outcome = mixed_outcome(&db);
    assert!(outcome.findings.len() >= 4, "{:#?}", outcome.findings);
    let sarif = render(&db, &outcome, ReportFormat::Sarif);
    require!(validate_sarif(&sarif));

    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "clearbox");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    let scored = rule("GHSA-qppj-fm5r-hxr3");
    let score = scored["properties"]["security-severity"].as_str().unwrap();
    assert!(score.parse::<f64>().is_ok(), "{score}");
    assert_eq!(
        scored["properties"]["tags"],
        serde_json::json!(["security", "vulnerability"])
    );
    assert!(
        rule("GHSA-qgc7-mgm3-q253")["properties"]
            .get("security-severity")
            .is_none()
    );

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), outcome.findings.len());
    for result in results {
        let rule_id = result["ruleId"].as_str().unwrap();
        assert_eq!(
            rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
            rule_id
        );
        for location in result["locations"].as_array().unwrap() {
            if let Some(uri) = location["physicalLocation"]["artifactLocation"]["uri"].as_str() {
                assert!(!uri.starts_with('/'), "{uri}");
            }
            assert!(
                location["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
                    .starts_with("pkg:")
            );
        }
    }
    let net = results
        .iter()
        .find(|r| r["ruleId"] == "GHSA-qppj-fm5r-hxr3")
        .unwrap();
    let uris: Vec<&str> = net["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(uris, ["usr/bin/app", "opt/tools/bin/app%20copy"]);
    let image = results
        .iter()
        .find(|r| r["ruleId"] == "GHSA-qgc7-mgm3-q253")
        .unwrap();
    assert_eq!(image["level"], "note");
    assert!(image["locations"][0].get("physicalLocation").is_none());
    let text = image["message"]["text"].as_str().unwrap();
    assert!(text.contains("golang.org/x/image v0.4.0"), "{text}");
    assert!(text.contains("fixed in v0.5.0"), "{text}");

    // Same input, same bytes.
    assert_eq!(sarif, render(&db, &outcome, ReportFormat::Sarif));
}

#[test]
fn sarif_validates_example_image() {
    let corpus_db = require!(corpus_db());
    let db = corpus_db.open();
    let packages = vec![
        python("requests", "2.25.0"),
        python("Jinja2", "2.11.2"),
        crate::support::go_stdlib("1.19.8", "/usr/bin/age"),
    ];
    let outcome = match_catalog_with_notes(&db, &catalog(packages)).unwrap();
    require!(validate_sarif(&render(&db, &outcome, ReportFormat::Sarif)));
}

#[test]
fn json_report_fields() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(
        &corpus,
        &["fixtures-harvested/Go", "fixtures-harvested/Debian"],
    );
    let outcome = mixed_outcome(&db);
    let text = render(&db, &outcome, ReportFormat::Json);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "matches",
            "suppressed",
            "source",
            "database",
            "counts",
            "notes"
        ]
    );
    assert_eq!(doc["suppressed"], serde_json::json!([]));

    let first = &doc["matches"][0];
    for key in [
        "id",
        "aliases",
        "summary",
        "severity",
        "fixed_versions",
        "modified",
        "references",
    ] {
        assert!(
            first["advisory"].get(key).is_some(),
            "advisory.{key} missing: {first:#}"
        );
    }
    for key in ["name", "version", "ecosystem", "purl", "locations", "kind"] {
        assert!(
            first["package"].get(key).is_some(),
            "package.{key} missing: {first:#}"
        );
    }
    for key in ["ecosystem", "name", "version", "range"] {
        assert!(
            first["matched"].get(key).is_some(),
            "matched.{key} missing: {first:#}"
        );
    }
    let scored = doc["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["advisory"]["id"] == "GHSA-qppj-fm5r-hxr3")
        .unwrap();
    assert_eq!(scored["advisory"]["cvss"]["version"], "4.0");
    assert!(scored["advisory"]["cvss"]["base_score"].is_f64());

    assert_eq!(doc["source"]["type"], "image");
    assert_eq!(doc["source"]["name"], "oci:example:latest");
    assert_eq!(
        doc["database"]["schema_version"],
        clearbox_vuln::SCHEMA_VERSION
    );
    assert!(doc["database"].get("path").is_none());
    let counts = &doc["counts"];
    let total: u64 = ["critical", "high", "medium", "low", "unknown"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap())
        .sum();
    // Counts leave out findings that the distribution states are not affected (the Debian
    // record of `unixodbc` has `urgency: unimportant`).
    let vulnerable = outcome
        .findings
        .iter()
        .filter(|f| f.status.is_vulnerable())
        .count();
    assert_eq!(total as usize, vulnerable);
    assert!(vulnerable < outcome.findings.len());
    assert_eq!(doc["notes"], serde_json::json!([]));
}

#[test]
fn json_lists_notes() {
    let db = Database::open_in_memory().unwrap();
    let outcome =
        match_catalog_with_notes(&db, &catalog(vec![deb("bash", "5.2.15-2+b2", None)])).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&render(&db, &outcome, ReportFormat::Json)).unwrap();
    assert_eq!(
        doc["notes"],
        serde_json::json!([{"kind": "no-distro", "packages": 1}])
    );
    assert_eq!(doc["matches"], serde_json::json!([]));
}

#[test]
fn table_columns_align() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(
        &corpus,
        &["fixtures-harvested/Go", "fixtures-harvested/Debian"],
    );
    let outcome = mixed_outcome(&db);
    let table = render(&db, &outcome, ReportFormat::Table);
    println!("{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), outcome.findings.len() + 1);
    let header = lines[0];
    assert!(header.starts_with("SEVERITY  ID"), "{header}");
    let columns: Vec<usize> = ["ID", "PACKAGE", "VERSION", "FIXED-IN"]
        .iter()
        .map(|c| header.find(c).unwrap())
        .collect();
    for (line, finding) in lines[1..].iter().zip(&outcome.findings) {
        assert_eq!(
            &line[columns[0]..columns[0] + finding.advisory.id.len()],
            finding.advisory.id
        );
        assert_eq!(
            &line[columns[1]..columns[1] + finding.package.name.len()],
            finding.package.name
        );
        assert_eq!(
            &line[columns[2]..columns[2] + finding.package.version.len()],
            finding.package.version
        );
    }
}

#[test]
fn format_names_parse() {
    for format in [ReportFormat::Json, ReportFormat::Sarif, ReportFormat::Table] {
        assert_eq!(format.name().parse::<ReportFormat>().unwrap(), format);
    }
    assert!("xml".parse::<ReportFormat>().is_err());
}
