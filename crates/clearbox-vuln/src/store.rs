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

use chrono::Timelike as _;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use tracing::debug;

use crate::compact::{self, ReportFields};
use crate::error::VulnError;
use crate::osv::{OsvRecord, ecosystem_base};

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of a clearbox advisory database: the ASCII bytes `CBAD`. SQLite keeps
/// it in the file header for this purpose, so another program's database is recognised before
/// anything is written to it. Files created before clearbox set it are recognised by their
/// tables instead (see [`Database::open`]).
const APPLICATION_ID: i32 = i32::from_be_bytes(*b"CBAD");

/// How far after the current time a record's `modified` may be and still count for the database
/// age: one day, which covers clock skew between the feed's publisher and this machine.
const FUTURE_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::days(1);

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
    /// The id existed with an older `modified` and different content.
    Replaced,
    /// The id existed with the same `modified` and different content: the later import wins,
    /// so the outcome depends on the order of the sources.
    ReplacedSameTime,
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
    /// The newest `modified` time among those advisories, in UTC, leaving out those dated in
    /// the future as [`DatabaseStatus::newest_modified`] does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
}

impl DatabaseStatus {
    /// Returns how long before `now` the newest stored record was modified, leaving out records
    /// dated in the future. `None` when no record is left: an empty database, or every record
    /// dated in the future.
    #[must_use]
    pub fn age(&self, now: std::time::SystemTime) -> Option<std::time::Duration> {
        age_of(self.newest_modified.as_deref()?, now)
    }
}

/// Stored advisories whose `modified` time is more than a day after the time a status was
/// taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FutureDated {
    /// The cutoff: the time the status was taken plus one day, in whole seconds UTC.
    pub after: String,
    /// How many advisories are modified after the cutoff.
    pub advisories: u64,
    /// The id of the one modified last.
    pub latest_id: String,
    /// Its `modified` time, in UTC.
    pub latest_modified: String,
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
    /// The newest `modified` time of any stored record, in UTC, leaving out records dated more
    /// than a day after the status was taken. Such a time is a clock error or a forged record,
    /// and it would make an old database look current. Those are counted in `future_dated`.
    /// Alpine secdb records are left out too, since their time is only the file's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
    /// Records left out of `newest_modified` because they are dated in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub future_dated: Option<FutureDated>,
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

/// The schema facts of an SQLite file, read before clearbox writes to it.
struct Layout {
    application_id: i32,
    user_version: i64,
    /// Entries of `sqlite_schema` that are not SQLite's own: tables, indexes, views, triggers.
    objects: i64,
    /// Names of the tables that are not SQLite's own, sorted.
    tables: Vec<String>,
    /// Whether the `advisory` table has a `raw` column, as every clearbox version's does.
    has_raw_column: bool,
}

impl Layout {
    fn read(conn: &Connection) -> rusqlite::Result<Layout> {
        let application_id = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
        let user_version = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let objects = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            [],
            |row| row.get(0),
        )?;
        let mut statement = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )?;
        let tables = statement
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        let has_raw_column = conn.query_row(
            "SELECT count(*) FROM pragma_table_info('advisory') WHERE name = 'raw'",
            [],
            |row| row.get::<_, i64>(0),
        )? > 0;
        Ok(Layout {
            application_id,
            user_version,
            objects,
            tables,
            has_raw_column,
        })
    }

    /// A new file: no schema objects, no version, no application id.
    fn is_empty(&self) -> bool {
        self.objects == 0
            && self.user_version == 0
            && matches!(self.application_id, 0 | APPLICATION_ID)
    }

    /// Returns whether the file belongs to another program. Such a file has content, but
    /// neither clearbox's application id nor (for files from before clearbox set it) its tables.
    fn is_foreign(&self) -> bool {
        if self.is_empty() || self.application_id == APPLICATION_ID {
            return false;
        }
        let clearbox_tables = self.application_id == 0
            && matches!(self.user_version, 1 | SCHEMA_VERSION)
            && self.tables == ["advisory", "affected", "feed"]
            && self.has_raw_column;
        !clearbox_tables
    }
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
    ///
    /// The file must be empty, or a clearbox advisory database: one with clearbox's
    /// `application_id`, or (written before clearbox set it) with exactly clearbox's tables and
    /// schema version 1 or 2. Anything else is [`VulnError::ForeignDatabase`], found before
    /// anything is written to the file. Every error names `path`.
    pub fn open(path: &Path) -> Result<Database, VulnError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| VulnError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        let open_error = |source| VulnError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        // Check whose file it is before the journal mode change writes to it.
        let layout = Layout::read(&conn).map_err(open_error)?;
        if layout.is_foreign() {
            return Err(VulnError::ForeignDatabase {
                path: path.to_owned(),
            });
        }
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_error)?;
        Database::prepare(conn, &layout, Some(path.to_owned()))
    }

    /// Opens an empty database in memory, for tests and one-off scans.
    pub fn open_in_memory() -> Result<Database, VulnError> {
        let open_error = |source| VulnError::Open {
            path: PathBuf::from(":memory:"),
            source,
        };
        let conn = Connection::open_in_memory().map_err(open_error)?;
        let layout = Layout::read(&conn).map_err(open_error)?;
        Database::prepare(conn, &layout, None)
    }

    /// Creates or migrates the schema that `layout` found, which is not a foreign one.
    fn prepare(
        mut conn: Connection,
        layout: &Layout,
        path: Option<PathBuf>,
    ) -> Result<Database, VulnError> {
        let shown_path = || path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        let open_error = |source| VulnError::Open {
            path: shown_path(),
            source,
        };
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_error)?;
        // Without the query planner stability guarantee, SQLite marks the package lookup (a
        // join) as depending on its bound values, and `sqlite3_clear_bindings`, which rusqlite
        // calls when a cached statement goes back to its cache, then forces a new prepare on
        // the next run of the statement.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(open_error)?;
        match layout.user_version {
            _ if layout.is_empty() => {
                conn.execute_batch(&format!(
                    "BEGIN; {FEED_TABLE} {RECORD_TABLES} PRAGMA user_version = {SCHEMA_VERSION}; \
                     PRAGMA application_id = {APPLICATION_ID}; COMMIT;"
                ))
                .map_err(open_error)?;
            }
            SCHEMA_VERSION => {}
            1 => {
                crate::migrate::from_v1(&mut conn).map_err(|source| VulnError::Migrate {
                    path: shown_path(),
                    found: 1,
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
        if layout.application_id != APPLICATION_ID && !layout.is_empty() {
            // A file from before clearbox set its application id: mark it now. A read-only
            // file stays recognised by its tables.
            if let Err(error) = conn.pragma_update(None, "application_id", APPLICATION_ID) {
                debug!(%error, "cannot set the application id of the advisory database");
            }
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

    /// Counts advisories per ecosystem and lists the import sources, as of the current time.
    pub fn status(&self) -> Result<DatabaseStatus, VulnError> {
        self.status_at(std::time::SystemTime::now())
    }

    /// Counts advisories per ecosystem and lists the import sources; records modified more
    /// than a day after `now` are counted as future-dated.
    pub fn status_at(&self, now: std::time::SystemTime) -> Result<DatabaseStatus, VulnError> {
        let conn = &self.conn;
        // Stored times are normalised the same way, so text order is time order.
        let cutoff = (chrono::DateTime::<chrono::Utc>::from(now) + FUTURE_TOLERANCE)
            .with_nanosecond(0)
            .unwrap_or_default();
        let shown_cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let advisories: i64 = conn.query_row("SELECT count(*) FROM advisory", [], |r| r.get(0))?;
        // Alpine secdb records carry the file's copy time, not a publication time, so they
        // are left out of the age.
        let undated = format!("{}%", crate::secdb::RECORD_ID_PREFIX);
        let newest_modified: Option<String> = conn.query_row(
            "SELECT max(modified) FROM advisory WHERE modified <= ?1 AND id NOT LIKE ?2",
            [&cutoff, &undated],
            |r| r.get(0),
        )?;
        let future_dated = self.future_dated(&cutoff, &shown_cutoff)?;
        let last_import: Option<String> =
            conn.query_row("SELECT max(imported_at) FROM feed", [], |r| r.get(0))?;
        let mut feeds = conn.prepare(
            "SELECT f.source, f.kind, f.sha256, f.imported_at, f.records, f.rejected, \
             count(a.id), max(CASE WHEN a.modified <= ?1 AND a.id NOT LIKE ?2 THEN a.modified END) \
             FROM feed f LEFT JOIN advisory a ON a.feed_id = f.id \
             GROUP BY f.id ORDER BY f.source",
        )?;
        let feeds = feeds
            .query_map([&cutoff, &undated], |row| {
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
            future_dated,
            last_import,
            feeds,
        })
    }

    /// Counts the records modified after `cutoff` (a normalised time, shown as `shown_cutoff`)
    /// and names the latest.
    fn future_dated(
        &self,
        cutoff: &str,
        shown_cutoff: &str,
    ) -> Result<Option<FutureDated>, VulnError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM advisory WHERE modified > ?1",
            [cutoff],
            |r| r.get(0),
        )?;
        if count == 0 {
            return Ok(None);
        }
        let (latest_id, latest_modified) = self.conn.query_row(
            "SELECT id, modified FROM advisory WHERE modified > ?1 \
             ORDER BY modified DESC, id LIMIT 1",
            [cutoff],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Some(FutureDated {
            after: shown_cutoff.to_owned(),
            advisories: count.unsigned_abs(),
            latest_id,
            latest_modified,
        }))
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
        Some((stored_modified, _)) if stored_modified == modified => Outcome::ReplacedSameTime,
        Some(_) => Outcome::Replaced,
    };
    let published = record
        .published
        .as_deref()
        .and_then(crate::osv::normalize_time);
    if matches!(outcome, Outcome::Replaced | Outcome::ReplacedSameTime) {
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
        let cases = [
            ("tables", "CREATE TABLE t (x)"),
            ("view only", "CREATE VIEW v AS SELECT 1"),
            (
                "its own version 2",
                "CREATE TABLE t (x); PRAGMA user_version = 2",
            ),
            (
                "clearbox's table names, another application id",
                "CREATE TABLE feed (x); CREATE TABLE advisory (raw); CREATE TABLE affected (x); \
                 PRAGMA user_version = 2; PRAGMA application_id = 7",
            ),
            (
                "clearbox's table names, other columns",
                "CREATE TABLE feed (x); CREATE TABLE advisory (x); CREATE TABLE affected (x); \
                 PRAGMA user_version = 2",
            ),
        ];
        for (case, schema) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("other.db");
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema).unwrap();
            drop(conn);
            let before = std::fs::read(&path).unwrap();

            let err = Database::open(&path).unwrap_err();
            assert!(
                matches!(err, VulnError::ForeignDatabase { .. }),
                "{case}: {err}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "`{}` is an SQLite database without a clearbox schema; use another path for \
                     the advisory database",
                    path.display()
                ),
                "{case}"
            );
            assert!(
                std::fs::read(&path).unwrap() == before,
                "{case}: the file was changed"
            );
        }
    }

    #[test]
    fn new_database_is_marked_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("advisories.db");
        drop(Database::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
        drop(conn);
        assert_eq!(
            Database::open(&path).unwrap().status().unwrap().advisories,
            0
        );
    }

    #[test]
    fn unmarked_clearbox_database_is_marked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("advisories.db");
        drop(Database::open(&path).unwrap());
        // Files written before clearbox set an application id have the tables alone.
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0).unwrap();
        drop(conn);
        let db = Database::open(&path).unwrap();
        let id: i32 = db
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
    }

    /// Writes an OSV record with one PyPI package and the given `modified` time.
    fn record(dir: &Path, id: &str, modified: &str) {
        let record = serde_json::json!({"id": id, "modified": modified,
            "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": ["1"]}]});
        std::fs::write(dir.join(format!("{id}.json")), record.to_string()).unwrap();
    }

    #[test]
    fn future_dated_records_leave_the_age() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed");
        std::fs::create_dir(&feed).unwrap();
        record(&feed, "PYSEC-1", "2024-03-01T00:00:00Z");
        // Dated after the `now` of the status below, but before the import, which rejects
        // records dated ahead of itself.
        record(&feed, "PYSEC-2", "2026-11-01T00:00:00Z");
        record(&feed, "PYSEC-3", "2026-10-01T00:00:00Z");
        let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();
        db.import(&feed).unwrap();

        let now = chrono::DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z").unwrap();
        let status = db.status_at(now.into()).unwrap();
        assert_eq!(
            status.newest_modified.as_deref(),
            Some("2024-03-01T00:00:00.000000000Z")
        );
        assert_eq!(status.feeds[0].newest_modified, status.newest_modified);
        let future = status.future_dated.as_ref().unwrap();
        assert_eq!(future.advisories, 2);
        assert_eq!(future.latest_id, "PYSEC-2");
        assert_eq!(future.latest_modified, "2026-11-01T00:00:00.000000000Z");
        assert_eq!(future.after, "2025-06-02T12:00:00Z");
        let age = status.age(now.into()).unwrap();
        assert_eq!(age.as_secs() / 86_400, 457);

        // Within a day of now a record counts: that is clock skew, not a forged date.
        let late = chrono::DateTime::parse_from_rfc3339("2024-02-29T01:00:00Z").unwrap();
        let status = db.status_at(late.into()).unwrap();
        assert_eq!(
            status.newest_modified.as_deref(),
            Some("2024-03-01T00:00:00.000000000Z")
        );
        assert_eq!(status.future_dated.unwrap().advisories, 2);
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
