//! The advisory database: an SQLite file holding OSV records, an index of the packages they
//! affect, and the compact forms of each record that matching reads (see the `compact` module).
//!
//! Schema version 2 (`PRAGMA user_version`):
//!
//! ```sql
//! feed(id, source UNIQUE, kind, sha256, imported_at, records, inserted, replaced,
//!      unchanged, older, withdrawn, rejected)
//! advisory(id PRIMARY KEY, modified, published, feed_id → feed, report, raw)
//! affected(ecosystem, name, advisory_id → advisory ON DELETE CASCADE, ecosystem_base, entries,
//!          PRIMARY KEY (ecosystem, name, advisory_id))
//! INDEX affected_advisory ON affected(advisory_id)
//! ```
//!
//! `advisory.raw` is the record as JSON: the file's own bytes for JSON sources and the parsed
//! record written back as JSON for YAML sources. `advisory.report` holds the fields a finding
//! reports and `affected.entries` the record's affected entries for that package, both as the
//! `compact` module writes them. `advisory.modified` is the record's `modified` time in UTC
//! with nine fractional digits, so text comparison is time comparison. `affected.name` is
//! normalised per ecosystem (see [`index_name`]). The `affected` primary key starts with the
//! package, so a lookup reads one contiguous run of rows.
//!
//! Version 1 had no `report` and `entries` columns and keyed `affected` by advisory first.
//! Opening a version 1 file migrates it in place (see the `migrate` module). A newer schema
//! version in the file is an error; there is no downgrade path.

use std::path::{Path, PathBuf};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::compact::{self, ReportFields};
use crate::error::VulnError;
use crate::osv::{OsvRecord, ecosystem_base};

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = 2;

const FEED_TABLE: &str = "
CREATE TABLE feed (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    sha256 TEXT,
    imported_at TEXT NOT NULL,
    records INTEGER NOT NULL,
    inserted INTEGER NOT NULL,
    replaced INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    older INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);
";

/// The tables that hold records, which the schema migration rebuilds.
// NOTE: `report` comes before `raw` so that reading it does not walk the overflow pages of a
// large record.
pub(crate) const RECORD_TABLES: &str = "
CREATE TABLE advisory (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    published TEXT,
    feed_id INTEGER NOT NULL REFERENCES feed(id),
    report TEXT NOT NULL,
    raw TEXT NOT NULL
);
CREATE TABLE affected (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisory(id) ON DELETE CASCADE,
    ecosystem_base TEXT NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, advisory_id)
) WITHOUT ROWID;
CREATE INDEX affected_advisory ON affected(advisory_id);
";

/// Normalises a package name for the index: PEP 503 for `PyPI`, unchanged for every other
/// ecosystem (Go module paths and Debian source package names are case-sensitive).
#[must_use]
pub fn index_name(ecosystem: &str, name: &str) -> String {
    if ecosystem_base(ecosystem) == "PyPI" {
        clearbox_catalog::normalize_python_name(name)
    } else {
        name.to_owned()
    }
}

/// Effect of one record on the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A new id.
    Inserted,
    /// The id existed with an older or equal `modified` and different content.
    Replaced,
    /// The id existed with the same content.
    Unchanged,
    /// The id existed with a newer `modified`; the stored record stays.
    Older,
}

/// Provenance of one import source, stored per source path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedStatus {
    /// Absolute path of the source.
    pub source: String,
    /// `file`, `directory` or `zip`.
    pub kind: String,
    /// SHA-256 of the file for `file` and `zip` sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// RFC 3339 UTC time of the last import from this source.
    pub imported_at: String,
    /// Records read in that import.
    pub records: u64,
    /// Records rejected in that import.
    pub rejected: u64,
    /// Advisories stored now whose latest version came from this source.
    pub advisories: u64,
    /// The newest `modified` time among those advisories, in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
}

impl DatabaseStatus {
    /// How long before `now` the newest stored record was modified; `None` for an empty
    /// database.
    #[must_use]
    pub fn age(&self, now: std::time::SystemTime) -> Option<std::time::Duration> {
        age_of(self.newest_modified.as_deref()?, now)
    }
}

/// Advisory count for one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcosystemCount {
    /// Ecosystem name: the full OSV string (`Debian:12`) or its part before `:` (`Debian`).
    pub ecosystem: String,
    /// Advisories with at least one affected package in it.
    pub advisories: u64,
}

/// Summary of the database contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseStatus {
    /// Database file; `None` for an in-memory database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Schema version.
    pub schema_version: i64,
    /// Stored advisories.
    pub advisories: u64,
    /// Advisory counts per ecosystem family (the part before `:`), sorted by name.
    pub ecosystem_families: Vec<EcosystemCount>,
    /// Advisory counts per full ecosystem string, sorted by name.
    pub ecosystems: Vec<EcosystemCount>,
    /// The newest `modified` time of any stored record, in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
    /// The time of the latest import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_import: Option<String>,
    /// Import sources, sorted by path.
    pub feeds: Vec<FeedStatus>,
}

/// How long before `now` an RFC 3339 time is; zero for a time after `now`, `None` for text
/// that is not an RFC 3339 time.
#[must_use]
pub fn age_of(time: &str, now: std::time::SystemTime) -> Option<std::time::Duration> {
    let time = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    let now = chrono::DateTime::<chrono::Utc>::from(now);
    Some(now.signed_duration_since(time).to_std().unwrap_or_default())
}

/// The stored match data of one advisory for one package.
pub(crate) struct PackageRow {
    pub(crate) advisory_id: String,
    /// A JSON array of [`compact::MatchEntry`].
    pub(crate) entries: String,
    /// A [`ReportFields`] as JSON.
    pub(crate) report: String,
}

/// An open advisory database.
#[derive(Debug)]
pub struct Database {
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
}

/// Default database path: `$XDG_DATA_HOME/clearbox/advisories.db`, else
/// `$HOME/.local/share/clearbox/advisories.db`. `None` when neither variable gives an absolute
/// path, because the XDG Base Directory specification requires relative values to be ignored.
#[must_use]
pub fn default_db_path() -> Option<PathBuf> {
    db_path_from(
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn db_path_from(data_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let data_home = data_home.filter(|p| p.is_absolute()).or_else(|| {
        home.filter(|p| p.is_absolute())
            .map(|home| home.join(".local").join("share"))
    })?;
    Some(data_home.join("clearbox").join("advisories.db"))
}

impl Database {
    /// Opens the database at `path`, creating the file, its parent directories and the schema
    /// when missing. Turns on write-ahead logging and a 5 s busy timeout, so a scan can read
    /// while an import writes.
    pub fn open(path: &Path) -> Result<Database, VulnError> {
        let open_error = |source| VulnError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| VulnError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_error)?;
        Database::prepare(conn, Some(path.to_owned()))
    }

    /// Opens an empty database in memory, for tests and one-off scans.
    pub fn open_in_memory() -> Result<Database, VulnError> {
        let conn = Connection::open_in_memory().map_err(|source| VulnError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        Database::prepare(conn, None)
    }

    fn prepare(mut conn: Connection, path: Option<PathBuf>) -> Result<Database, VulnError> {
        let shown_path = || path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        conn.pragma_update(None, "foreign_keys", true)?;
        // Without the query planner stability guarantee, SQLite marks the package lookup (a
        // join) as depending on its bound values, and `sqlite3_clear_bindings`, which rusqlite
        // calls when a cached statement goes back to its cache, then forces a new prepare on
        // the next run of the statement.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        match version {
            SCHEMA_VERSION => {}
            0 => {
                let tables: i64 = conn.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |row| row.get(0),
                )?;
                if tables > 0 {
                    return Err(VulnError::ForeignDatabase { path: shown_path() });
                }
                conn.execute_batch(&format!(
                    "BEGIN; {FEED_TABLE} {RECORD_TABLES} PRAGMA user_version = {SCHEMA_VERSION}; \
                     COMMIT;"
                ))?;
            }
            1 => {
                crate::migrate::from_v1(&mut conn).map_err(|source| VulnError::Migrate {
                    path: shown_path(),
                    found: version,
                    supported: SCHEMA_VERSION,
                    source: Box::new(source),
                })?;
            }
            found if found > SCHEMA_VERSION => {
                return Err(VulnError::NewerSchema {
                    path: shown_path(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            _ => return Err(VulnError::ForeignDatabase { path: shown_path() }),
        }
        Ok(Database { conn, path })
    }

    /// Returns the database file, or `None` for an in-memory database.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Looks up one advisory by id.
    pub fn advisory(&self, id: &str) -> Result<Option<OsvRecord>, VulnError> {
        let raw: Option<String> = self
            .conn
            .query_row("SELECT raw FROM advisory WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?;
        raw.map(|raw| parse_stored(id, &raw)).transpose()
    }

    /// Returns every advisory with an affected package named `name` (normalised with [`index_name`]) in
    /// `ecosystem` (the full OSV string, such as `Debian:12`), sorted by id.
    pub fn advisories_for_package(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<OsvRecord>, VulnError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT a.id, a.raw FROM affected f JOIN advisory a ON a.id = f.advisory_id \
             WHERE f.ecosystem = ?1 AND f.name = ?2 ORDER BY a.id",
        )?;
        let rows = statement.query_map(params![ecosystem, index_name(ecosystem, name)], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (id, raw) = row?;
            records.push(parse_stored(&id, &raw)?);
        }
        Ok(records)
    }

    /// Returns the compact forms of every advisory with an affected package named `name` (in
    /// index form) in `ecosystem`, in no particular order.
    pub(crate) fn package_rows(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<PackageRow>, VulnError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT f.advisory_id, f.entries, a.report FROM affected f \
             JOIN advisory a ON a.id = f.advisory_id WHERE f.ecosystem = ?1 AND f.name = ?2",
        )?;
        let rows = statement.query_map(params![ecosystem, name], |row| {
            Ok(PackageRow {
                advisory_id: row.get(0)?,
                entries: row.get(1)?,
                report: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Lists every ecosystem that an affected entry names, sorted.
    pub fn ecosystems(&self) -> Result<Vec<String>, VulnError> {
        // Seek from one ecosystem to the next in the primary key instead of reading every
        // package row.
        let mut statement = self.conn.prepare_cached(
            "WITH RECURSIVE next(ecosystem) AS ( \
                 SELECT min(ecosystem) FROM affected \
                 UNION ALL \
                 SELECT (SELECT min(ecosystem) FROM affected WHERE ecosystem > next.ecosystem) \
                 FROM next WHERE next.ecosystem IS NOT NULL) \
             SELECT ecosystem FROM next WHERE ecosystem IS NOT NULL",
        )?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    /// Counts advisories per ecosystem and lists the import sources.
    pub fn status(&self) -> Result<DatabaseStatus, VulnError> {
        let conn = &self.conn;
        let advisories: i64 = conn.query_row("SELECT count(*) FROM advisory", [], |r| r.get(0))?;
        let newest_modified: Option<String> =
            conn.query_row("SELECT max(modified) FROM advisory", [], |r| r.get(0))?;
        let last_import: Option<String> =
            conn.query_row("SELECT max(imported_at) FROM feed", [], |r| r.get(0))?;
        let mut feeds = conn.prepare(
            "SELECT f.source, f.kind, f.sha256, f.imported_at, f.records, f.rejected, \
             count(a.id), max(a.modified) FROM feed f LEFT JOIN advisory a ON a.feed_id = f.id \
             GROUP BY f.id ORDER BY f.source",
        )?;
        let feeds = feeds
            .query_map([], |row| {
                Ok(FeedStatus {
                    source: row.get(0)?,
                    kind: row.get(1)?,
                    sha256: row.get(2)?,
                    imported_at: row.get(3)?,
                    records: row.get::<_, i64>(4)?.unsigned_abs(),
                    rejected: row.get::<_, i64>(5)?.unsigned_abs(),
                    advisories: row.get::<_, i64>(6)?.unsigned_abs(),
                    newest_modified: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DatabaseStatus {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            advisories: advisories.unsigned_abs(),
            ecosystem_families: self.count_by("ecosystem_base")?,
            ecosystems: self.count_by("ecosystem")?,
            newest_modified,
            last_import,
            feeds,
        })
    }

    fn count_by(&self, column: &str) -> Result<Vec<EcosystemCount>, VulnError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {column}, count(DISTINCT advisory_id) FROM affected \
             GROUP BY {column} ORDER BY {column}"
        ))?;
        let counts = statement
            .query_map([], |row| {
                Ok(EcosystemCount {
                    ecosystem: row.get(0)?,
                    advisories: row.get::<_, i64>(1)?.unsigned_abs(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(counts)
    }
}

pub(crate) fn parse_stored(id: &str, raw: &str) -> Result<OsvRecord, VulnError> {
    serde_json::from_str(raw).map_err(|source| VulnError::CorruptRecord {
        id: id.to_owned(),
        source,
    })
}

/// Writes one validated record inside an import transaction. `modified` is the record's
/// normalised `modified` time.
pub(crate) fn upsert(
    tx: &Transaction<'_>,
    feed_id: i64,
    record: &OsvRecord,
    modified: &str,
    raw: &str,
) -> Result<Outcome, VulnError> {
    let stored: Option<(String, String)> = tx
        .prepare_cached("SELECT modified, raw FROM advisory WHERE id = ?1")?
        .query_row([&record.id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let outcome = match &stored {
        None => Outcome::Inserted,
        Some((stored_modified, _)) if modified < stored_modified.as_str() => {
            return Ok(Outcome::Older);
        }
        Some((_, stored_raw)) if stored_raw == raw => return Ok(Outcome::Unchanged),
        Some(_) => Outcome::Replaced,
    };
    let published = record
        .published
        .as_deref()
        .and_then(crate::osv::normalize_time);
    if outcome == Outcome::Replaced {
        tx.prepare_cached("DELETE FROM affected WHERE advisory_id = ?1")?
            .execute([&record.id])?;
    }
    let row = AdvisoryRow {
        modified,
        published: published.as_deref(),
        feed_id,
        raw,
    };
    insert_advisory(tx, record, &row)?;
    Ok(outcome)
}

/// The stored columns of an advisory that do not come from the record alone.
pub(crate) struct AdvisoryRow<'a> {
    /// The normalised `modified` time.
    pub(crate) modified: &'a str,
    /// The normalised `published` time.
    pub(crate) published: Option<&'a str>,
    pub(crate) feed_id: i64,
    /// The record as JSON.
    pub(crate) raw: &'a str,
}

/// Writes the advisory row of `record` with its compact forms, replacing a stored row with the
/// same id, and one package row per affected package. The caller removes the package rows of a
/// replaced record first.
pub(crate) fn insert_advisory(
    tx: &Transaction<'_>,
    record: &OsvRecord,
    row: &AdvisoryRow<'_>,
) -> Result<(), VulnError> {
    let report = serde_json::to_string(&ReportFields::of(record)).map_err(VulnError::Encode)?;
    tx.prepare_cached(
        "INSERT INTO advisory (id, modified, published, feed_id, report, raw) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT(id) DO UPDATE SET modified = excluded.modified, \
         published = excluded.published, feed_id = excluded.feed_id, \
         report = excluded.report, raw = excluded.raw",
    )?
    .execute(params![
        record.id,
        row.modified,
        row.published,
        row.feed_id,
        report,
        row.raw
    ])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO affected (ecosystem, name, advisory_id, ecosystem_base, entries) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for package in compact::package_entries(record).map_err(VulnError::Encode)? {
        insert.execute(params![
            package.ecosystem,
            package.name,
            record.id,
            package.ecosystem_base,
            package.entries,
        ])?;
    }
    Ok(())
}

/// Removes a stored record that a withdrawn record with an equal or newer `modified` replaces.
/// Returns whether a row was removed.
pub(crate) fn withdraw(tx: &Transaction<'_>, id: &str, modified: &str) -> Result<bool, VulnError> {
    let removed = tx
        .prepare_cached("DELETE FROM advisory WHERE id = ?1 AND modified <= ?2")?
        .execute(params![id, modified])?;
    Ok(removed > 0)
}

/// Counts of one import, as stored in the `feed` table.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FeedCounts {
    pub(crate) records: u64,
    pub(crate) inserted: u64,
    pub(crate) replaced: u64,
    pub(crate) unchanged: u64,
    pub(crate) older: u64,
    pub(crate) withdrawn: u64,
    pub(crate) rejected: u64,
}

/// Creates or refreshes the feed row for `source` and returns its id.
pub(crate) fn start_feed(
    tx: &Transaction<'_>,
    source: &str,
    kind: &str,
    sha256: Option<&str>,
    imported_at: &str,
) -> Result<i64, VulnError> {
    let id = tx.query_row(
        "INSERT INTO feed (source, kind, sha256, imported_at, records, inserted, replaced, \
         unchanged, older, withdrawn, rejected) VALUES (?1, ?2, ?3, ?4, 0, 0, 0, 0, 0, 0, 0) \
         ON CONFLICT(source) DO UPDATE SET kind = excluded.kind, sha256 = excluded.sha256, \
         imported_at = excluded.imported_at RETURNING id",
        params![source, kind, sha256, imported_at],
        |row| row.get(0),
    )?;
    Ok(id)
}

/// Stores the counts of a finished import.
pub(crate) fn finish_feed(
    tx: &Transaction<'_>,
    feed_id: i64,
    counts: FeedCounts,
) -> Result<(), VulnError> {
    let n = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    tx.execute(
        "UPDATE feed SET records = ?2, inserted = ?3, replaced = ?4, unchanged = ?5, \
         older = ?6, withdrawn = ?7, rejected = ?8 WHERE id = ?1",
        params![
            feed_id,
            n(counts.records),
            n(counts.inserted),
            n(counts.replaced),
            n(counts.unchanged),
            n(counts.older),
            n(counts.withdrawn),
            n(counts.rejected),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names_are_normalised() {
        assert_eq!(index_name("PyPI", "Jinja2"), "jinja2");
        assert_eq!(index_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(
            index_name("Go", "github.com/BurntSushi/toml"),
            "github.com/BurntSushi/toml"
        );
        assert_eq!(index_name("Debian:12", "Nginx"), "Nginx");
    }

    #[test]
    fn default_path_prefers_xdg_data_home() {
        let path = |xdg: Option<&str>, home: Option<&str>| {
            db_path_from(xdg.map(PathBuf::from), home.map(PathBuf::from))
        };
        let expected = PathBuf::from("/data/clearbox/advisories.db");
        assert_eq!(path(Some("/data"), Some("/home/u")), Some(expected));
        let from_home = PathBuf::from("/home/u/.local/share/clearbox/advisories.db");
        assert_eq!(path(None, Some("/home/u")), Some(from_home.clone()));
        assert_eq!(path(Some("relative"), Some("/home/u")), Some(from_home));
        assert_eq!(path(None, Some("relative")), None);
        assert_eq!(path(None, None), None);
    }

    #[test]
    fn newer_schema_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("advisories.db");
        Database::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Database::open(&path).unwrap_err();
        assert!(
            matches!(err, VulnError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
            "{err}"
        );
    }

    #[test]
    fn foreign_database_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        drop(conn);
        let err = Database::open(&path).unwrap_err();
        assert!(matches!(err, VulnError::ForeignDatabase { .. }), "{err}");
    }

    #[test]
    fn open_creates_parent_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("advisories.db");
        let db = Database::open(&path).unwrap();
        let mode: String = db
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(db.status().unwrap().advisories, 0);
    }
}
