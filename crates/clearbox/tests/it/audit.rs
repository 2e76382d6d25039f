//! The audit store: sign, attest and evidence runs append hash-chained records, `audit verify`
//! names the first changed one, seals are checked with the public key, and exported segments
//! verify on their own.

use std::path::Path;

use serde_json::Value;

use crate::signing_inputs::tiny_layout;
use crate::support::{assert_exit, clearbox_env, key_pair, stderr};

const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "audit pw");

fn records(store: &Path) -> Vec<Value> {
    let conn = rusqlite::Connection::open(store).unwrap();
    let mut statement = conn
        .prepare("SELECT record FROM audit_record ORDER BY seq")
        .unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|text| serde_json::from_str(&text.unwrap()).unwrap())
        .collect()
}

fn run(log: &Path, args: &[&str]) -> std::process::Output {
    clearbox_env(
        args,
        &[PASSWORD, ("CLEARBOX_AUDIT_STORE", log.to_str().unwrap())],
    )
}

/// Exports the whole store and checks the segment on its own with the seal's key.
fn export_verifies_alone(log: &Path, dir: &Path, public: &str) {
    // An exported segment verifies on its own.
    let segment = dir.join("segment.jsonl");
    let out = run(
        log,
        &[
            "audit",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2999-12-31",
            "--output",
            segment.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 0);
    let out = run(
        log,
        &[
            "audit",
            "verify",
            "--segment",
            segment.to_str().unwrap(),
            "--key",
            public,
        ],
    );
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("audit segment"), "{}", stderr(&out));
}

#[test]
fn audit_store_records_runs_and_finds_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("image");
    let image = tiny_layout(&layout);
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let log = dir.path().join("state/audit.db");

    assert_exit(
        &run(
            &log,
            &[
                "sign",
                &image,
                "--key",
                &key,
                "--identity",
                "registry.example/app",
            ],
        ),
        0,
    );
    let failed = clearbox_env(
        &[
            "sign",
            &image,
            "--key",
            &key,
            "--identity",
            "registry.example/app",
        ],
        &[
            ("CLEARBOX_PASSWORD", "wrong"),
            ("CLEARBOX_AUDIT_STORE", log.to_str().unwrap()),
        ],
    );
    assert_exit(&failed, 2);
    // Checks are not recorded.
    assert_exit(&run(&log, &["verify", &image, "--key", &public]), 0);

    let written = records(&log);
    assert_eq!(written.len(), 2);
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(written[0]["kind"], "sign");
    assert_eq!(written[0]["decision"], "signed");
    assert_eq!(written[0]["image"], image.as_str());
    assert_eq!(written[0]["digest"], index["manifests"][0]["digest"]);
    assert_eq!(written[0]["seq"], 1);
    assert_eq!(written[1]["decision"], "failed");
    assert!(
        written[1]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("failed to load the signing key"),
        "{}",
        written[1]
    );
    assert_eq!(written[1]["prev"], written[0]["hash"]);

    let out = run(&log, &["audit", "verify"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("the chain of 2 records is intact; 0 seals not checked"),
        "{}",
        stderr(&out)
    );

    // A seal, checked with the public key; the wrong key fails at the seal.
    assert_exit(&run(&log, &["audit", "seal", "--key", &key]), 0);
    let out = run(&log, &["audit", "verify", "--key", &public, "--json"]);
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["seals_verified"], 1);
    assert_eq!(report["sealed_through"], 3);
    // Another key's view: the seal is not its own, so nothing is sealed for it.
    let (_, other) = key_pair(dir.path(), "other", PASSWORD);
    let out = run(&log, &["audit", "verify", "--key", &other, "--json"]);
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["seals_other_key"], 1);
    assert!(
        stderr(&out).contains("no record is sealed by key"),
        "{}",
        stderr(&out)
    );

    export_verifies_alone(&log, dir.path(), &public);

    // A changed decision is named by row and record.
    let conn = rusqlite::Connection::open(&log).unwrap();
    conn.execute(
        "UPDATE audit_record SET record = replace(record, '\"failed\"', '\"signed\"') \
         WHERE seq = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let out = run(&log, &["audit", "verify"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(
            "1 records verified, then row 2 (record 2): modified: its content does not match \
             its hash"
        ),
        "{}",
        stderr(&out)
    );
}

/// `audit verify --require-sealed` passes only when the last record is a seal by the key: a
/// record after the last seal fails, and so does a seal by another key at the end.
#[test]
fn audit_verify_require_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(&dir.path().join("image"));
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let (other_key, _) = key_pair(dir.path(), "other", PASSWORD);
    let log = dir.path().join("audit.db");
    let sign = [
        "sign",
        &image,
        "--key",
        &key,
        "--identity",
        "registry.example/app",
    ];
    assert_exit(&run(&log, &sign), 0);
    assert_exit(&run(&log, &["audit", "seal", "--key", &key]), 0);
    assert_exit(&run(&log, &sign), 0);

    let require_sealed = |code: i32, expected: &str| {
        let out = run(
            &log,
            &["audit", "verify", "--key", &public, "--require-sealed"],
        );
        assert_exit(&out, code);
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    };
    require_sealed(
        1,
        "the 1 records after the last seal (record 2) are not sealed",
    );
    assert_exit(&run(&log, &["audit", "verify", "--key", &public]), 0);

    assert_exit(&run(&log, &["audit", "seal", "--key", &other_key]), 0);
    require_sealed(1, "1 seals by other keys not checked");

    assert_exit(&run(&log, &["audit", "seal", "--key", &key]), 0);
    require_sealed(
        0,
        "2 seals verified, the last at record 5; 0 records after it",
    );
}

#[test]
fn audit_store_unwritable_or_off() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(&dir.path().join("image"));
    let (key, _) = key_pair(dir.path(), "signer", PASSWORD);

    // A directory where the store should be.
    let out = run(
        dir.path(),
        &[
            "sign",
            &image,
            "--key",
            &key,
            "--identity",
            "registry.example/app",
        ],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "the sign run completed, but its audit record could not be written; fix the store \
             or choose another with --audit-store URL"
        ),
        "{}",
        stderr(&out)
    );

    let out = run(
        Path::new("none"),
        &[
            "sign",
            &image,
            "--key",
            &key,
            "--identity",
            "registry.example/app",
        ],
    );
    assert_exit(&out, 0);
    let out = run(Path::new("none"), &["audit", "verify"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("no audit store"), "{}", stderr(&out));
}

/// `scan` keeps the image's SBOM in the store. `rescan` reports only findings no earlier rescan
/// reported, gates on `--fail-on` and splits the work by shard. `audit query` finds the image by
/// advisory.
#[test]
fn rescan_reports_new_findings_once() {
    let Some(example) = crate::support::example_image() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("audit.db");
    let db = dir.path().join("advisories.db");
    let db_arg = db.to_str().unwrap();
    let advisories = crate::support::workspace().join("examples/advisories");
    let image = format!("oci:{}:latest", example.display());

    // First only the Debian advisory, then the rest.
    let import = |path: &Path| {
        assert_exit(
            &run(
                &store,
                &["db", "import", path.to_str().unwrap(), "--db", db_arg],
            ),
            0,
        );
    };
    import(&advisories.join("debian"));
    assert_exit(&run(&store, &["scan", &image, "--db", db_arg]), 0);
    let first = run(&store, &["rescan", "--db", db_arg]);
    assert_exit(&first, 0);
    let first_lines = crate::support::stdout(&first).lines().count();
    assert!(
        stderr(&first).contains("rescanned 1 stored images"),
        "{}",
        stderr(&first)
    );

    import(&advisories.join("pypi"));
    let second = run(&store, &["rescan", "--db", db_arg, "--fail-on", "low"]);
    assert_exit(&second, 1);
    let new: Vec<Value> = crate::support::stdout(&second)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!new.is_empty());
    assert!(
        new.iter()
            .all(|f| f["package"].as_str().unwrap().starts_with("pkg:pypi/")),
        "only the PyPI findings are new: {new:?}"
    );
    assert!(first_lines > 0 || new.len() > first_lines);
    let advisory = new[0]["advisory"].as_str().unwrap().to_owned();
    let digest = new[0]["digest"].as_str().unwrap().to_owned();

    // The findings that failed the gate are not remembered, so a retried job fails again;
    // a run without the gate reports and remembers them.
    let retried = run(&store, &["rescan", "--db", db_arg, "--fail-on", "low"]);
    assert_exit(&retried, 1);
    assert_eq!(
        crate::support::stdout(&retried).lines().count(),
        new.len(),
        "{}",
        crate::support::stdout(&retried)
    );
    let accepted = run(&store, &["rescan", "--db", db_arg]);
    assert_exit(&accepted, 0);
    assert_eq!(crate::support::stdout(&accepted).lines().count(), new.len());

    // Nothing is new then, whichever shard runs.
    for shard in ["0/2", "1/2"] {
        let third = run(&store, &["rescan", "--db", db_arg, "--shard", shard]);
        assert_exit(&third, 0);
        assert_eq!(crate::support::stdout(&third), "");
    }
    let bad = run(&store, &["rescan", "--db", db_arg, "--shard", "2/2"]);
    assert_exit(&bad, 2);
    // `--store` names the store when the other commands record nowhere.
    let store_arg = store.to_str().unwrap();
    let named = ["--audit-store", "none", "rescan", "--db", db_arg];
    let given = run(&store, &[&named[..], &["--store", store_arg]].concat());
    assert_exit(&given, 0);
    assert!(
        stderr(&given).contains("rescanned 1 stored images"),
        "{}",
        stderr(&given)
    );
    let off = run(&store, &named);
    assert_exit(&off, 2);
    assert!(stderr(&off).contains("--store"), "{}", stderr(&off));

    let query = run(&store, &["audit", "query", "--advisory", &advisory]);
    assert_exit(&query, 0);
    let answer: Value = serde_json::from_slice(&query.stdout).unwrap();
    assert!(
        answer["images"][&digest]["packages"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{answer}"
    );
}

/// A rescan of a mistyped store is an error rather than an empty store that passes, and an SBOM
/// that cannot be read fails the gate, since its image was not checked.
#[test]
fn rescan_rejects_missing_store_and_unreadable_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("audit.db");
    let db = dir.path().join("advisories.db");
    let db_arg = db.to_str().unwrap();
    let advisories = crate::support::workspace().join("examples/advisories/debian");
    let import = ["db", "import", advisories.to_str().unwrap(), "--db", db_arg];
    assert_exit(&run(&store, &import), 0);

    let missing = dir.path().join("missing/audit.db");
    let rescan = ["rescan", "--db", db_arg, "--fail-on", "low", "--store"];
    let out = run(
        &store,
        &[&rescan[..], &[missing.to_str().unwrap()]].concat(),
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("there is no audit store at"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("missing").exists());

    // A signing run creates the store; then one SBOM row that is not an SBOM.
    let image = tiny_layout(&dir.path().join("image"));
    let (key, _) = key_pair(dir.path(), "signer", PASSWORD);
    // Sealing does not create the store a mistyped path names.
    let out = run(&missing, &["audit", "seal", "--key", &key]);
    assert_exit(&out, 2);
    assert!(!dir.path().join("missing").exists());
    let sign = [
        "sign",
        &image,
        "--key",
        &key,
        "--identity",
        "registry.example/app",
    ];
    assert_exit(&run(&store, &sign), 0);
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute(
        "INSERT INTO image_sbom (digest, reference, stored_at, sbom) \
         VALUES ('sha256:00', 'broken', '2026-01-01T00:00:00Z', 'not json')",
        [],
    )
    .unwrap();
    drop(conn);
    let out = run(&store, &[&rescan[..], &[store.to_str().unwrap()]].concat());
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("1 stored SBOMs could not be read"),
        "{}",
        stderr(&out)
    );
    // Without a gate the run reports the warning and succeeds.
    assert_exit(&run(&store, &["rescan", "--db", db_arg]), 0);
}

/// Hostile or careless store arguments: an empty URL is refused rather than recording into
/// nothing, `--key` without a seal by that key fails, a broken chain is not sealed or exported,
/// and `%` matches no advisory.
#[test]
fn audit_store_refuses_unsafe_requests() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(&dir.path().join("image"));
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let sign = [
        "sign",
        &image,
        "--key",
        &key,
        "--identity",
        "registry.example/app",
    ];

    for empty in ["", "sqlite://"] {
        let out = run(Path::new(empty), &sign);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("names no file"), "{}", stderr(&out));
    }

    // A mistyped store is reported, not created.
    let typo = dir.path().join("typo.db");
    let out = run(&typo, &["audit", "verify"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("there is no audit store at"),
        "{}",
        stderr(&out)
    );
    assert!(!typo.exists());

    let store = dir.path().join("audit.db");
    assert_exit(&run(&store, &sign), 0);
    let out = run(&store, &["audit", "verify", "--key", &public]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("but no record is sealed by key"),
        "{}",
        stderr(&out)
    );
    let out = run(&store, &["audit", "query", "--advisory", "%"]);
    assert_exit(&out, 0);
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["images"], serde_json::json!({}));
    // A shortened digest is an error, not an empty timeline.
    let out = run(&store, &["audit", "query", "--image", "sha256:3d62"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "invalid digest `sha256:3d62`: a sha256 digest has 64 hexadecimal digits; give \
             --image the full manifest digest"
        ),
        "{}",
        stderr(&out)
    );

    // Output through a symbolic link writes its target and keeps the link.
    let target = dir.path().join("segment.jsonl");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let export = |output: &Path| {
        run(
            &store,
            &[
                "audit",
                "export",
                "--from",
                "2000-01-01",
                "--to",
                "2999-12-31",
                "--output",
                output.to_str().unwrap(),
            ],
        )
    };
    assert_exit(&export(&link), 0);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("\"segment\"")
    );

    // A broken chain is neither sealed nor exported.
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute(
        "UPDATE audit_record SET record = replace(record, '\"signed\"', '\"denied\"')",
        [],
    )
    .unwrap();
    drop(conn);
    let out = run(&store, &["audit", "seal", "--key", &key]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("cannot seal: its chain is broken at row 1 (record 1)"),
        "{}",
        stderr(&out)
    );
    assert_exit(&export(&dir.path().join("broken.jsonl")), 2);
}
