//! Opening a schema version 1 database: the migration keeps every match, and a failed migration
//! leaves the file at version 1. The version 1 file is written here from the layout that the
//! `migrate` module documents, filled with the demonstration records in `examples/advisories`.

use std::path::{Path, PathBuf};

use clearbox_vuln::{
    Database, MatchOutcome, OsvRecord, VulnError, ecosystem_base, index_name,
    match_catalog_with_notes,
};
use rusqlite::Connection;

use crate::support::{deb, debian_catalog, go_stdlib, python};

/// The version 1 schema, as the `migrate` module documents it.
const V1_SCHEMA: &str = "
    CREATE TABLE feed (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, sha256 TEXT,
        imported_at TEXT NOT NULL, records INTEGER NOT NULL, inserted INTEGER NOT NULL,
        replaced INTEGER NOT NULL, unchanged INTEGER NOT NULL, older INTEGER NOT NULL,
        withdrawn INTEGER NOT NULL, rejected INTEGER NOT NULL);
    CREATE TABLE advisory (
        id TEXT PRIMARY KEY, modified TEXT NOT NULL, published TEXT, raw TEXT NOT NULL,
        feed_id INTEGER NOT NULL REFERENCES feed(id));
    CREATE TABLE affected (
        advisory_id TEXT NOT NULL REFERENCES advisory(id) ON DELETE CASCADE,
        ecosystem TEXT NOT NULL, ecosystem_base TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (advisory_id, ecosystem, name)) WITHOUT ROWID;
    CREATE INDEX affected_package ON affected(ecosystem, name);
    PRAGMA user_version = 1;";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories")
}

/// Lists the `.json` records under `dir`, sorted.
fn record_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(record_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Converts an RFC 3339 time to the stored form: UTC with nine fractional digits.
fn stored_time(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .unwrap()
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Writes a version 1 database at `path` holding the records of `files`, as clearbox 1 wrote
/// them. `corrupt` replaces the stored text of that advisory id.
fn write_v1(path: &Path, files: &[PathBuf], corrupt: Option<&str>) -> usize {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(V1_SCHEMA).unwrap();
    conn.execute(
        "INSERT INTO feed VALUES (1, ?1, 'directory', NULL, '2025-01-01T00:00:00Z', ?2, ?2, \
         0, 0, 0, 0, 0)",
        rusqlite::params![
            examples().display().to_string(),
            i64::try_from(files.len()).unwrap()
        ],
    )
    .unwrap();
    let mut affected_rows = 0;
    for file in files {
        let raw = std::fs::read_to_string(file).unwrap();
        let record: OsvRecord = serde_json::from_str(&raw).unwrap();
        let raw = if corrupt == Some(record.id.as_str()) {
            "{not json".to_owned()
        } else {
            raw
        };
        conn.execute(
            "INSERT INTO advisory VALUES (?1, ?2, ?3, ?4, 1)",
            rusqlite::params![
                record.id,
                stored_time(&record.modified),
                record.published.as_deref().map(stored_time),
                raw
            ],
        )
        .unwrap();
        for affected in &record.affected {
            let Some(package) = &affected.package else {
                continue;
            };
            affected_rows += conn
                .execute(
                    "INSERT OR IGNORE INTO affected VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![
                        record.id,
                        package.ecosystem,
                        ecosystem_base(&package.ecosystem),
                        index_name(&package.ecosystem, &package.name)
                    ],
                )
                .unwrap();
        }
    }
    affected_rows
}

/// Matches the example image's packages, and a Debian 12 glibc, against `db`.
fn example_outcome(db: &Database) -> MatchOutcome {
    let packages = vec![
        python("requests", "2.25.0"),
        python("urllib3", "1.26.4"),
        python("numpy", "1.24.0"),
        python("Jinja2", "2.11.2"),
        python("markupsafe", "2.1.2"),
        python("Pillow", "9.3.0"),
        go_stdlib("1.19.8", "/usr/bin/age"),
        deb("libc6", "2.36-9+deb12u1", Some(("glibc", "2.36-9+deb12u1"))),
    ];
    match_catalog_with_notes(db, &debian_catalog("12", packages)).unwrap()
}

fn user_version(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

fn count(path: &Path, table: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .unwrap()
}

#[test]
fn migrated_v1_matches_like_fresh_import() {
    let files = record_files(&examples());
    assert_eq!(files.len(), 16);
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    write_v1(&old, &files, None);
    let mut fresh = Database::open(&dir.path().join("fresh.db")).unwrap();
    let report = fresh.import(&examples()).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);

    let migrated = Database::open(&old).unwrap();
    assert_eq!(user_version(&old), clearbox_vuln::SCHEMA_VERSION);
    let expected = example_outcome(&fresh);
    let found = example_outcome(&migrated);
    // The README of the records lists 12 findings for the image; glibc adds the 13th.
    assert_eq!(expected.findings.len(), 13);
    let ids = |outcome: &MatchOutcome| -> Vec<String> {
        outcome
            .findings
            .iter()
            .map(|f| format!("{} {}", f.advisory.id, f.package.name))
            .collect()
    };
    assert_eq!(ids(&found), ids(&expected));
    assert_eq!(found, expected);

    let status = migrated.status().unwrap();
    assert_eq!(status.advisories, 16);
    assert_eq!(status.feeds.len(), 1);
    assert_eq!(status.feeds[0].advisories, 16);
    assert_eq!(status.feeds[0].imported_at, "2025-01-01T00:00:00Z");
}

#[test]
fn failed_v1_migration_leaves_version_1() {
    let files = record_files(&examples());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let affected_rows = write_v1(&path, &files, Some("PYSEC-2023-74"));

    for attempt in ["first", "second"] {
        let err = Database::open(&path).unwrap_err();
        assert!(
            matches!(err, VulnError::Migrate { found: 1, .. }),
            "{attempt}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "cannot migrate advisory database `{}` from schema version 1 to 2; import the \
                 advisory sources into a new database",
                path.display()
            )
        );
        assert_eq!(user_version(&path), 1, "{attempt}");
        assert_eq!(count(&path, "advisory"), 16, "{attempt}");
        assert_eq!(
            count(&path, "affected"),
            i64::try_from(affected_rows).unwrap(),
            "{attempt}"
        );
        // The version 1 tables are still there, not the version 2 ones.
        assert_eq!(
            count(
                &path,
                "pragma_table_info('affected') WHERE name = 'entries'"
            ),
            0,
            "{attempt}"
        );
    }
}
