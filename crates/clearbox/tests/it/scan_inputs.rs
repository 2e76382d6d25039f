//! `clearbox scan` and `clearbox db` on inputs that the tests write: a CycloneDX SBOM, VEX
//! documents, advisory databases from the demonstration records in `examples/advisories`, and
//! malformed, oversized, special and foreign files. Needs neither the corpus nor the example
//! image.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{
    assert_exit, clearbox, clearbox_env, stderr, stdout, validate_cyclonedx, validate_sarif, venv,
    workspace,
};

const IMAGE_DIGEST: &str =
    "sha256:03811e2115d58e4b4b66963e140963d7aa6d3339f921ebbdcc4905280ad1ad2a";
const SUBJECT: &str =
    "pkg:oci/app@sha256%3A03811e2115d58e4b4b66963e140963d7aa6d3339f921ebbdcc4905280ad1ad2a";

/// Returns the path of a database of the 16 demonstration records, built once per test process.
fn demo_db() -> &'static str {
    static DB: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = crate::support::process_tempdir();
        let db = dir.path().join("advisories.db").display().to_string();
        let records = workspace().join("examples/advisories");
        assert_exit(
            &clearbox(&["db", "import", records.to_str().unwrap(), "--db", &db]),
            0,
        );
        (dir, db)
    });
    path
}

/// Writes a CycloneDX SBOM of an image with requests 2.25.0, urllib3 1.26.4 and `extra`
/// components.
fn write_sbom(dir: &Path, extra: &[serde_json::Value]) -> PathBuf {
    let mut components = vec![
        serde_json::json!({"type": "library", "bom-ref": "requests-1", "name": "requests",
                           "version": "2.25.0", "purl": "pkg:pypi/requests@2.25.0"}),
        serde_json::json!({"type": "library", "bom-ref": "urllib3-1", "name": "urllib3",
                           "version": "1.26.4", "purl": "pkg:pypi/urllib3@1.26.4"}),
    ];
    components.extend(extra.iter().cloned());
    let sbom = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "container", "bom-ref": "image", "name": "app",
                                   "version": IMAGE_DIGEST, "purl": SUBJECT}},
        "components": components,
    });
    let path = dir.join("sbom.cdx.json");
    std::fs::write(&path, sbom.to_string()).unwrap();
    path
}

/// Writes an OpenVEX document with `statements`.
fn write_openvex(dir: &Path, statements: &serde_json::Value) -> PathBuf {
    let document = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex/1",
        "author": "test",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": statements,
    });
    let path = dir.join("vex.json");
    std::fs::write(&path, document.to_string()).unwrap();
    path
}

/// Builds the statement that suppresses PYSEC-2023-74 in requests.
fn requests_not_affected() -> serde_json::Value {
    serde_json::json!([{
        "vulnerability": {"name": "PYSEC-2023-74"},
        "products": [{"@id": "pkg:pypi/requests"}],
        "status": "not_affected",
        "justification": "vulnerable_code_not_present",
        "impact_statement": "the proxy code path is not used"
    }])
}

/// Scans `sbom` with the demonstration database and `extra` arguments; `--max-db-age` keeps
/// the 2023 records from counting as stale.
fn scan(sbom: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec![
        "scan",
        sbom.to_str().unwrap(),
        "--db",
        demo_db(),
        "--max-db-age",
        "36500d",
    ];
    args.extend(extra);
    clearbox_env(&args, env)
}

fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

#[test]
fn vex_suppressed_findings_stay_in_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = write_sbom(dir.path(), &[]);
    let vex = write_openvex(dir.path(), &requests_not_affected());
    let vex = vex.to_str().unwrap();

    let out = scan(&sbom, &["--format", "json", "--vex", vex], &[]);
    assert_exit(&out, 0);
    let report = json_of(&out);
    let matched: Vec<&str> = report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["advisory"]["id"].as_str().unwrap())
        .collect();
    assert!(!matched.contains(&"PYSEC-2023-74"), "{matched:?}");
    assert_eq!(matched.len(), 2, "{matched:?}");
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["finding"]["advisory"]["id"], "PYSEC-2023-74");
    assert_eq!(
        suppressed[0]["finding"]["package"]["purl"],
        "pkg:pypi/requests@2.25.0"
    );
    let statement = &suppressed[0]["statement"];
    assert_eq!(statement["status"], "not_affected");
    assert_eq!(statement["justification"], "vulnerable_code_not_present");
    assert_eq!(statement["impact"], "the proxy code path is not used");
    assert_eq!(statement["document"], vex);
    assert_eq!(statement["index"], 0);

    // The note on stderr is in words, and --quiet drops it.
    let text = stderr(&out);
    assert!(
        text.contains(&format!(
            "1 finding suppressed by VEX statements:\n  `PYSEC-2023-74` in \
             `pkg:pypi/requests@2.25.0`: not affected: vulnerable code not present (`{vex}` \
             statements[0])"
        )),
        "{text}"
    );
    assert!(!text.contains("NotAffected"), "{text}");
    let out = scan(&sbom, &["-q", "--format", "json", "--vex", vex], &[]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out), "");

    let sarif_path = dir.path().join("scan.sarif");
    let out = scan(
        &sbom,
        &[
            "--format",
            "sarif",
            "--vex",
            vex,
            "-o",
            sarif_path.to_str().unwrap(),
        ],
        &[],
    );
    assert_exit(&out, 0);
    if let Some(venv) = venv() {
        validate_sarif(&venv, &sarif_path);
    }
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let suppressed: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "PYSEC-2023-74");
    assert_eq!(
        suppressed[0]["suppressions"],
        serde_json::json!([{"kind": "external", "status": "accepted",
            "justification": format!("not affected: vulnerable code not present; the proxy \
                                      code path is not used (VEX statement `statements[0]` in \
                                      `{vex}`)")}])
    );
}

#[test]
fn vex_output_of_sbom_names_subject_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = write_sbom(dir.path(), &[]);
    let vex = write_openvex(dir.path(), &requests_not_affected());
    let vex = vex.to_str().unwrap();
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];

    let out = scan(&sbom, &["--format", "openvex", "--vex", vex], &epoch);
    assert_exit(&out, 0);
    let document = json_of(&out);
    assert_eq!(document["timestamp"], "2023-11-14T22:13:20Z");
    let statements = document["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 3);
    for statement in statements {
        assert_eq!(statement["products"][0]["@id"], SUBJECT, "{statement:#}");
    }
    let suppressed = statements
        .iter()
        .find(|s| s["vulnerability"]["name"] == "PYSEC-2023-74")
        .unwrap();
    assert_eq!(suppressed["status"], "not_affected");
    assert_eq!(suppressed["justification"], "vulnerable_code_not_present");
    assert_eq!(
        suppressed["impact_statement"],
        "the proxy code path is not used"
    );
    assert_eq!(suppressed["timestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(
        suppressed["products"][0]["subcomponents"][0]["@id"],
        "pkg:pypi/requests@2.25.0"
    );

    let cdx_path = dir.path().join("vex.cdx.json");
    let out = scan(
        &sbom,
        &[
            "--format",
            "cyclonedx-vex",
            "--vex",
            vex,
            "-o",
            cdx_path.to_str().unwrap(),
        ],
        &epoch,
    );
    assert_exit(&out, 0);
    if let Some(venv) = venv() {
        validate_cyclonedx(&venv, &cdx_path);
    }
    let cdx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cdx_path).unwrap()).unwrap();
    assert_eq!(cdx["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(cdx["metadata"]["component"]["purl"], SUBJECT);
    let analysis = &cdx["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "PYSEC-2023-74")
        .unwrap()["analysis"];
    assert_eq!(analysis["state"], "not_affected");
    assert_eq!(analysis["justification"], "code_not_present");

    // Without SOURCE_DATE_EPOCH an SBOM's document is dated now.
    let out = scan(&sbom, &["--format", "openvex"], &[]);
    assert_exit(&out, 0);
    let time = json_of(&out)["timestamp"].as_str().unwrap().to_owned();
    let time = chrono::DateTime::parse_from_rfc3339(&time).unwrap();
    let age = chrono::Utc::now().signed_duration_since(time);
    assert!(age.num_days() == 0, "document dated {time}");
}

#[test]
fn loose_vex_is_rejected_naming_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = write_sbom(dir.path(), &[]);
    let cases = [
        (
            serde_json::json!([{"vulnerability": {"name": "PYSEC-2023-74"},
                                "products": [{"@id": "pkg:pypi/requests"}],
                                "status": "not_affected"}]),
            "statements[0]: status `not_affected` needs a `justification` or an \
             `impact_statement`",
        ),
        (
            serde_json::json!([{"vulnerability": {"name": "PYSEC-2023-74"},
                                "products": [{"@id": "pkg:pypi/requests"}], "status": "fixed"},
                               {"vulnerability": {"name": ""},
                                "products": [{"@id": "pkg:pypi/requests"}], "status": "fixed"}]),
            "statements[1]: the vulnerability name is empty",
        ),
        (
            serde_json::json!([{"vulnerability": "CVE-1", "products": [{"@id": "pypi/requests"}],
                                "status": "fixed"}]),
            "statements[0]: product `pypi/requests` is not a package URL",
        ),
    ];
    for (statements, expected) in cases {
        let vex = write_openvex(dir.path(), &statements);
        let vex = vex.to_str().unwrap();
        let out = scan(&sbom, &["--vex", vex], &[]);
        assert_exit(&out, 2);
        let text = stderr(&out);
        assert!(
            text.contains(&format!("error: invalid VEX document `{vex}`: {expected}")),
            "{text}"
        );
        assert_eq!(text.matches(vex).count(), 1, "{text}");
    }

    let vex = dir.path().join("context.json");
    std::fs::write(
        &vex,
        r#"{"@context": "https://example.com/vex", "statements": []}"#,
    )
    .unwrap();
    let out = scan(&sbom, &["--vex", vex.to_str().unwrap()], &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out)
            .contains("`@context` is `https://example.com/vex`, which is not an OpenVEX context"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn oversized_and_special_inputs_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = write_sbom(dir.path(), &[]);

    // Sparse files: the size is checked before anything is read.
    let big_sbom = dir.path().join("big.cdx.json");
    std::fs::File::create(&big_sbom)
        .unwrap()
        .set_len(256 * 1024 * 1024 + 1)
        .unwrap();
    let out = scan(&big_sbom, &[], &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "error: cannot read SBOM `{}`\n  caused by: it is 268435457 bytes, more than the limit \
             of 268435456 bytes (256 MiB)",
            big_sbom.display()
        )),
        "{}",
        stderr(&out)
    );
    let big_vex = dir.path().join("big.vex.json");
    std::fs::File::create(&big_vex)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    let out = scan(&sbom, &["--vex", big_vex.to_str().unwrap()], &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("more than the limit of 16777216 bytes (16 MiB)"),
        "{}",
        stderr(&out)
    );

    // A FIFO without a writer would block a plain open.
    let fifo = dir.path().join("vex.fifo");
    let mkfifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(mkfifo.success());
    let out = scan(&sbom, &["--vex", fifo.to_str().unwrap()], &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "error: cannot read VEX document `{}`\n  caused by: it is a FIFO, not a regular file",
            fifo.display()
        )),
        "{}",
        stderr(&out)
    );
    let out = scan(&fifo, &[], &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("caused by: it is a FIFO, not a regular file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sbom_with_one_bad_purl_scans_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let broken = serde_json::json!({"type": "library", "bom-ref": "broken-1", "name": "broken",
                                    "version": "1", "purl": "pypi/broken@1"});
    let sbom = write_sbom(dir.path(), &[broken]);
    let out = scan(&sbom, &["--format", "json"], &[]);
    assert_exit(&out, 0);
    let text = stderr(&out);
    assert!(text.contains("bom-ref `broken-1`"), "{text}");
    assert!(text.contains("`pypi/broken@1`"), "{text}");
    assert_eq!(json_of(&out)["matches"].as_array().unwrap().len(), 3);
}

/// Writes OSV records of requests 2.25.0 with the given ids and `modified` times.
fn write_records(dir: &Path, records: &[(&str, &str)]) -> PathBuf {
    let feed = dir.join("feed");
    std::fs::create_dir_all(&feed).unwrap();
    for (id, modified) in records {
        let record = serde_json::json!({"id": id, "modified": modified, "affected": [
            {"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["2.25.0"]}]});
        std::fs::write(feed.join(format!("{id}.json")), record.to_string()).unwrap();
    }
    feed
}

#[test]
fn future_dated_record_does_not_make_db_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let feed = write_records(
        dir.path(),
        &[
            ("PYSEC-2020-1", "2020-01-01T00:00:00Z"),
            ("PYSEC-2999-1", "2999-01-01T00:00:00Z"),
        ],
    );
    let db = dir.path().join("advisories.db");
    let db = db.to_str().unwrap();
    // The record dated ahead is rejected at import, so it cannot make the database look new.
    let out = clearbox(&["db", "import", feed.to_str().unwrap(), "--db", db]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("`2999-01-01T00:00:00Z` is after the import time"),
        "{}",
        stderr(&out)
    );
    let sbom = write_sbom(dir.path(), &[]);
    let sbom = sbom.to_str().unwrap();

    let out = clearbox(&["scan", sbom, "--db", db, "--fail-on-stale"]);
    assert_exit(&out, 1);
    let text = stderr(&out);
    assert!(
        text.contains("error: the newest advisory in the database was modified "),
        "{text}"
    );
    assert!(
        text.contains("ago (2020-01-01T00:00:00.000000000Z), more than --max-db-age allows"),
        "{text}"
    );
    assert!(!text.contains("warning: the newest advisory"), "{text}");

    let out = clearbox(&["db", "status", "--db", db]);
    assert_exit(&out, 0);
    let table = stdout(&out);
    assert!(
        table.contains("newest modified: 2020-01-01T00:00:00.000000000Z"),
        "{table}"
    );

    // Only records dated ahead: all are rejected, which the import reports as a failure.
    let only_future = tempfile::tempdir().unwrap();
    let feed = write_records(
        only_future.path(),
        &[("PYSEC-2999-2", "2999-01-01T00:00:00Z")],
    );
    let db = only_future.path().join("advisories.db");
    let db = db.to_str().unwrap();
    let out = clearbox(&["db", "import", feed.to_str().unwrap(), "--db", db]);
    assert_exit(&out, 1);
}

#[test]
fn db_import_fails_when_every_record_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    for i in 0..7 {
        std::fs::write(feed.join(format!("{i}.json")), r#"{"summary": "no id"}"#).unwrap();
    }
    let db = dir.path().join("advisories.db");
    let out = clearbox(&[
        "db",
        "import",
        feed.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_exit(&out, 1);
    let text = stderr(&out);
    let feed = feed.canonicalize().unwrap();
    assert!(
        text.contains(&format!(
            "error: all 7 records of `{}` were rejected",
            feed.display()
        )),
        "{text}"
    );
    assert_eq!(text.matches("missing field `id`").count(), 5, "{text}");
    assert!(text.contains("  and 2 more"), "{text}");

    // One good record among them is an import with rejections, not a failure.
    let good = workspace().join("examples/advisories/pypi/PYSEC-2023-74.json");
    std::fs::copy(good, feed.join("PYSEC-2023-74.json")).unwrap();
    let out = clearbox(&[
        "db",
        "import",
        feed.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out).matches("warning: rejected").count(), 7);
}

#[test]
fn max_db_age_beyond_limit_is_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = write_sbom(dir.path(), &[]);
    for age in [
        "999999999999d",
        "99999999999999999999d",
        "36501d",
        "876001h",
    ] {
        let out = clearbox(&[
            "scan",
            sbom.to_str().unwrap(),
            "--db",
            demo_db(),
            "--max-db-age",
            age,
        ]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(&format!(
                "invalid age `{age}`: the maximum is 36500d (100 years)"
            )),
            "{}",
            stderr(&out)
        );
    }
    // The helper scans with `--max-db-age 36500d`, the maximum.
    let out = scan(&sbom, &[], &[]);
    assert_exit(&out, 0);
}

#[test]
fn foreign_sqlite_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE VIEW notes AS SELECT 1 AS x; PRAGMA user_version = 2")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let records = workspace().join("examples/advisories/go");
    let db = path.to_str().unwrap();

    let out = clearbox(&["db", "import", records.to_str().unwrap(), "--db", db]);
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(
        text.contains(&format!(
            "error: `{db}` is an SQLite database without a clearbox schema; use another path \
             for the advisory database"
        )),
        "{text}"
    );
    assert_eq!(text.matches(db).count(), 1, "{text}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the file was changed"
    );
    let out = clearbox(&["db", "status", "--db", db]);
    assert_exit(&out, 2);
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the file was changed"
    );
}
