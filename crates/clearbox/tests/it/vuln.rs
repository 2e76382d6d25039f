//! `clearbox scan` and `clearbox db` for the vulnerability engine: database age, VEX input and
//! output, and the Alpine secdb feed on the real Alpine 3.11 image.

use std::path::Path;

use crate::support::{
    assert_exit, clearbox, corpus, corpus_db, example_image, oci_ref, read_json, stderr, stdout,
    validate_cyclonedx, venv,
};

const ALPINE_IMAGE: &str = "images/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz";

fn import(db: &Path, sources: &[&Path]) {
    let mut args = vec!["db", "import"];
    args.extend(sources.iter().map(|s| s.to_str().unwrap()));
    args.extend(["--db", db.to_str().unwrap()]);
    assert_exit(&clearbox(&args), 0);
}

#[test]
fn db_status_lists_feed_counts_and_age() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    let alpine = corpus.join("osv/fixtures-harvested/Alpine");
    let secdb = corpus.join("osv/alpine-secdb/v3.11/main.yaml");
    import(&db, &[&alpine, &secdb]);

    let out = clearbox(&["db", "status", "--db", db.to_str().unwrap()]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("Alpine:v3.11"), "{text}");
    assert!(text.contains("2 advisories stored"), "{text}");
    assert!(text.contains("days old"), "{text}");

    let out = clearbox(&["db", "status", "--db", db.to_str().unwrap(), "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let feeds = status["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 2);
    let harvested = feeds.iter().find(|f| f["kind"] == "directory").unwrap();
    assert_eq!(harvested["advisories"], 2);
    assert!(harvested["newest_modified"].is_string());
    let secdb_feed = feeds.iter().find(|f| f["kind"] == "file").unwrap();
    assert!(secdb_feed["advisories"].as_u64().unwrap() > 100);
}

#[test]
fn stale_database_warns_and_can_fail() {
    let (Some(corpus), Some(image)) = (corpus(), example_image()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    import(&db, &[&corpus.join("osv/fixtures-harvested/PyPI")]);
    let db = db.to_str().unwrap();
    let target = oci_ref(&image);

    // The corpus records are from 2024 to 2026, so seven days is stale.
    let out = clearbox(&["scan", &target, "--db", db, "--max-db-age", "7d"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("more than --max-db-age allows"),
        "{}",
        stderr(&out)
    );
    let out = clearbox(&[
        "scan",
        &target,
        "--db",
        db,
        "--max-db-age",
        "24h",
        "--fail-on-stale",
    ]);
    assert_exit(&out, 1);
    let out = clearbox(&[
        "scan",
        &target,
        "--db",
        db,
        "--max-db-age",
        "36500d",
        "--fail-on-stale",
    ]);
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("--max-db-age"), "{}", stderr(&out));
    let out = clearbox(&["scan", &target, "--db", db, "--max-db-age", "seven"]);
    assert_exit(&out, 2);
}

/// The findings of a JSON report as `(advisory id, purl)`.
fn findings(report: &serde_json::Value) -> Vec<(String, String)> {
    report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["advisory"]["id"].as_str().unwrap().to_owned(),
                m["package"]["purl"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn vex_suppresses_and_says_so() {
    let (Some(image), Some(db)) = (example_image(), corpus_db()) else {
        return;
    };
    let db = db.to_str().unwrap();
    let target = oci_ref(&image);
    let age = ["--max-db-age", "36500d"];
    let out = clearbox(&[&["scan", &target, "--db", db, "--format", "json"][..], &age].concat());
    assert_exit(&out, 0);
    let before = findings(&serde_json::from_slice(&out.stdout).unwrap());
    assert!(!before.is_empty());
    let (id, purl) = before[0].clone();

    let dir = tempfile::tempdir().unwrap();
    let vex = dir.path().join("vex.json");
    let document = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex/1",
        "author": "test",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": id},
            "products": [{"@id": purl}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path"
        }]
    });
    std::fs::write(&vex, document.to_string()).unwrap();
    let vex = vex.to_str().unwrap();
    let out = clearbox(
        &[
            &[
                "scan", &target, "--db", db, "--format", "json", "--vex", vex,
            ][..],
            &age,
        ]
        .concat(),
    );
    assert_exit(&out, 0);
    let after = findings(&serde_json::from_slice(&out.stdout).unwrap());
    assert!(!after.contains(&(id.clone(), purl.clone())));
    assert_eq!(
        after.len(),
        before
            .iter()
            .filter(|f| **f == (id.clone(), purl.clone()))
            .count()
            .abs_diff(before.len())
    );
    let text = stderr(&out);
    assert!(text.contains("suppressed by VEX statements"), "{text}");
    assert!(text.contains(&format!("`{id}`")), "{text}");
    assert!(
        text.contains("not affected: vulnerable code not in execute path"),
        "{text}"
    );

    let out = clearbox(&[
        "scan",
        &target,
        "--db",
        db,
        "--vex",
        "/nonexistent/vex.json",
    ]);
    assert_exit(&out, 2);
}

#[test]
fn vex_output_is_deterministic_and_valid() {
    let (Some(image), Some(db)) = (example_image(), corpus_db()) else {
        return;
    };
    let db = db.to_str().unwrap();
    let target = oci_ref(&image);
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str, name: &str| {
        let path = dir.path().join(name);
        let out = clearbox(&[
            "scan",
            &target,
            "--db",
            db,
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
            "--max-db-age",
            "36500d",
        ]);
        assert_exit(&out, 0);
        path
    };
    let first = run("openvex", "a.openvex.json");
    let second = run("openvex", "b.openvex.json");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );
    let openvex = read_json(&first);
    assert_eq!(openvex["@context"], "https://openvex.dev/ns/v0.2.0");
    assert!(
        openvex["@id"]
            .as_str()
            .unwrap()
            .starts_with("urn:clearbox:openvex:sha256:")
    );
    let statements = openvex["statements"].as_array().unwrap();
    assert!(!statements.is_empty());
    assert!(
        statements
            .iter()
            .all(|s| s["status"] == "affected" || s["status"] == "under_investigation")
    );
    assert!(
        statements
            .iter()
            .all(|s| s["timestamp"] == openvex["timestamp"])
    );

    let cdx = run("cyclonedx-vex", "vex.cdx.json");
    let document = read_json(&cdx);
    assert_eq!(document["specVersion"], "1.6");
    assert!(
        document["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["analysis"]["state"] == "exploitable"
                || v["analysis"]["state"] == "in_triage")
    );
    if let Some(venv) = venv() {
        validate_cyclonedx(&venv, &cdx);
    }
}

#[test]
fn alpine_311_scan_with_secdb() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisories.db");
    import(&db, &[&corpus.join("osv/alpine-secdb/v3.11")]);
    let image = format!("docker-archive:{}", corpus.join(ALPINE_IMAGE).display());
    let out = clearbox(&[
        "scan",
        &image,
        "--db",
        db.to_str().unwrap(),
        "--format",
        "json",
        "--max-db-age",
        "36500d",
    ]);
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every apk package of this image is at or above its secdb fix (see the vuln crate's
    // oracle test), so the report is empty. The only note is about executables that no
    // package accounts for.
    assert_eq!(report["matches"].as_array().unwrap().len(), 0);
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().all(|n| n["kind"] == "files-not-matched"),
        "{notes:?}"
    );
}
