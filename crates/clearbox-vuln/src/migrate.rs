//! Upgrades of databases written with an older schema version, run when such a file is opened.
//!
//! Version 1 (`PRAGMA user_version = 1`, no `application_id`) had the `feed` table of version 2
//! and these record tables:
//!
//! ```sql
//! CREATE TABLE advisory (
//!     id TEXT PRIMARY KEY, modified TEXT NOT NULL, published TEXT, raw TEXT NOT NULL,
//!     feed_id INTEGER NOT NULL REFERENCES feed(id));
//! CREATE TABLE affected (
//!     advisory_id TEXT NOT NULL REFERENCES advisory(id) ON DELETE CASCADE,
//!     ecosystem TEXT NOT NULL, ecosystem_base TEXT NOT NULL, name TEXT NOT NULL,
//!     PRIMARY KEY (advisory_id, ecosystem, name)) WITHOUT ROWID;
//! CREATE INDEX affected_package ON affected(ecosystem, name);
//! ```
//!
//! `modified` and `published` were normalised as in version 2, and `affected.name` was in index
//! form ([`index_name`](crate::index_name)).
//!
//! Version 1 to 2: version 2 adds the compact forms that matching reads (`advisory.report`,
//! `affected.entries`) and keys `affected` by package first. Every stored record is parsed
//! from `advisory.raw` again and written back with the same id, times and feed. Feed rows stay
//! as they are. It all runs in one transaction, so a failure leaves the file at version 1.
//! The space of the old tables is reused by later imports but not returned to the file system.

use rusqlite::{Connection, TransactionBehavior};
use tracing::info;

use crate::error::VulnError;
use crate::store::{self, AdvisoryRow, RECORD_TABLES, SCHEMA_VERSION};

/// Migrates a version 1 database to the current schema version.
pub(crate) fn from_v1(conn: &mut Connection) -> Result<(), VulnError> {
    info!(
        from = 1,
        to = SCHEMA_VERSION,
        "migrating the advisory database schema"
    );
    // Dropping and renaming the record tables needs foreign key enforcement off, and SQLite
    // ignores that setting inside a transaction.
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = rebuild_v1(conn);
    conn.pragma_update(None, "foreign_keys", true)?;
    let advisories = result?;
    info!(advisories, "advisory database migrated");
    Ok(())
}

/// Rebuilds the record tables from the stored records and returns how many were written.
fn rebuild_v1(conn: &mut Connection) -> Result<u64, VulnError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(&format!(
        "DROP TABLE affected; ALTER TABLE advisory RENAME TO advisory_v1; {RECORD_TABLES}"
    ))?;
    let mut count = 0;
    {
        let mut select =
            tx.prepare("SELECT id, modified, published, feed_id, raw FROM advisory_v1")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let modified: String = row.get(1)?;
            let published: Option<String> = row.get(2)?;
            let raw: String = row.get(4)?;
            let record = store::parse_stored(&id, &raw)?;
            let stored = AdvisoryRow {
                modified: &modified,
                published: published.as_deref(),
                feed_id: row.get(3)?,
                raw: &raw,
            };
            store::insert_advisory(&tx, &record, &stored)?;
            count += 1;
        }
    }
    tx.execute_batch(&format!(
        "DROP TABLE advisory_v1; PRAGMA user_version = {SCHEMA_VERSION};"
    ))?;
    tx.commit()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::Database;

    /// The version 1 schema as clearbox created it.
    const V1_SCHEMA: &str = "
        CREATE TABLE feed (
            id INTEGER PRIMARY KEY, source TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            sha256 TEXT, imported_at TEXT NOT NULL, records INTEGER NOT NULL,
            inserted INTEGER NOT NULL, replaced INTEGER NOT NULL, unchanged INTEGER NOT NULL,
            older INTEGER NOT NULL, withdrawn INTEGER NOT NULL, rejected INTEGER NOT NULL);
        CREATE TABLE advisory (
            id TEXT PRIMARY KEY, modified TEXT NOT NULL, published TEXT, raw TEXT NOT NULL,
            feed_id INTEGER NOT NULL REFERENCES feed(id));
        CREATE TABLE affected (
            advisory_id TEXT NOT NULL REFERENCES advisory(id) ON DELETE CASCADE,
            ecosystem TEXT NOT NULL, ecosystem_base TEXT NOT NULL, name TEXT NOT NULL,
            PRIMARY KEY (advisory_id, ecosystem, name)) WITHOUT ROWID;
        CREATE INDEX affected_package ON affected(ecosystem, name);
        PRAGMA user_version = 1;
        INSERT INTO feed VALUES (1, '/feeds/pypa', 'directory', NULL, '2024-01-01T00:00:00Z',
            1, 1, 0, 0, 0, 0, 0);";

    const RECORD: &str = r#"{"id": "PYSEC-1", "modified": "2024-01-02T03:04:05Z",
        "summary": "bug", "affected": [{"package": {"ecosystem": "PyPI", "name": "Jinja2"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}"#;

    fn v1_database(path: &Path, raw: &str) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO advisory VALUES ('PYSEC-1', '2024-01-02T03:04:05.000000000Z', NULL, \
             ?1, 1)",
            [raw],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO affected VALUES ('PYSEC-1', 'PyPI', 'PyPI', 'jinja2')",
            [],
        )
        .unwrap();
    }

    fn user_version(path: &Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn v1_database_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("advisories.db");
        v1_database(&path, RECORD);
        let db = Database::open(&path).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        let rows = db.package_rows("PyPI", "jinja2").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].advisory_id, "PYSEC-1");
        assert!(rows[0].entries.contains("2.0"), "{}", rows[0].entries);
        assert!(rows[0].report.contains("bug"), "{}", rows[0].report);
        let record = db.advisory("PYSEC-1").unwrap().unwrap();
        assert_eq!(record.summary.as_deref(), Some("bug"));
        let status = db.status().unwrap();
        assert_eq!(status.feeds[0].advisories, 1);
    }

    #[test]
    fn failed_migration_keeps_v1() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("advisories.db");
        v1_database(&path, "{not json");
        let err = Database::open(&path).unwrap_err();
        assert!(matches!(err, VulnError::Migrate { found: 1, .. }), "{err}");
        assert_eq!(user_version(&path), 1);
        let conn = Connection::open(&path).unwrap();
        let stored: i64 = conn
            .query_row("SELECT count(*) FROM affected", [], |row| row.get(0))
            .unwrap();
        assert_eq!(stored, 1);
    }
}
