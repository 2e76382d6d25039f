//! The store behind the audit trail: SQLite for one machine, PostgreSQL for writers on several.
//!
//! Both hold the same three tables: `audit_record (seq, record)` with each record's JSON text
//! as written, `image_sbom (digest, reference, stored_at, sbom)` for rescans, and
//! `rescan_finding (digest, advisory, package, aliases, first_seen)`. The SQL is written once
//! with `?N` placeholders and run on either backend.
//!
//! An append reads the last record and inserts the next records in one transaction that no
//! other appender can interleave with: SQLite's `BEGIN IMMEDIATE`, PostgreSQL's `LOCK TABLE …
//! IN SHARE ROW EXCLUSIVE MODE`. Several writers therefore extend one chain and never fork it.
//! SQLite runs with `synchronous=FULL` and PostgreSQL commits synchronously by default, so a
//! record whose append returned survives a crash. [`Store::append_all`] commits several
//! records in one such transaction, so one flush to disk covers them all.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use clearbox_attest::{PublicKey, SigningKey};
use rusqlite::{Connection, TransactionBehavior};

use crate::{
    AuditError, Chain, Event, GENESIS, KnownFinding, Record, SEAL, SegmentHeader, SegmentLine,
    StoredSbom, Verification, record_of, seal_message,
};

/// SQLite's `application_id` for audit stores: "cbau".
const APPLICATION_ID: i32 = 0x6362_6175;

/// The tables, in SQL both backends accept.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS audit_record (
        seq BIGINT PRIMARY KEY,
        record TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS image_sbom (
        digest TEXT PRIMARY KEY,
        reference TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        sbom TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS rescan_finding (
        digest TEXT NOT NULL,
        advisory TEXT NOT NULL,
        package TEXT NOT NULL,
        aliases TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (digest, advisory, package)
    );";

/// The query for the last record, which the next one follows.
const LAST: &str = "SELECT seq, record FROM audit_record ORDER BY seq DESC LIMIT 1";

/// The insert of the next record.
const INSERT: &str = "INSERT INTO audit_record (seq, record) VALUES (?1, ?2)";

/// PostgreSQL's insert of several records: an array of `seq` values and one of record texts.
const INSERT_ARRAYS: &str =
    "INSERT INTO audit_record (seq, record) SELECT * FROM unnest($1::bigint[], $2::text[])";

/// The PostgreSQL advisory lock key taken while creating the tables ("cbau").
const SCHEMA_LOCK: i64 = 0x6362_6175;

/// Describes a PostgreSQL error with the server's message, which `Display` leaves out.
fn postgres_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

/// One row of a result, every column read as text (`seq` as its decimal digits).
type Row = Vec<String>;

/// The records of one append, with the `seq` column and text of each, in chain order.
#[derive(Default)]
struct Batch {
    records: Vec<Record>,
    seqs: Vec<i64>,
    texts: Vec<String>,
}

/// Returns the `seq` and `prev` of the record that follows `last` (its `seq` column and text),
/// or of the first record when the store is empty. A last record that does not parse, does not
/// match its hash or sits in the wrong row is an error, since a record after it would vouch for
/// the damage.
fn chain_tail(location: &str, last: Option<(i64, String)>) -> Result<(u64, String), AuditError> {
    let Some((row, text)) = last else {
        return Ok((1, GENESIS.to_owned()));
    };
    let damaged = |reason: String| AuditError::DamagedTail {
        location: location.to_owned(),
        reason,
    };
    let last: Record =
        serde_json::from_str(&text).map_err(|e| damaged(format!("not a record: {e}")))?;
    let hash = last.compute_hash();
    if last.hash.as_deref() != Some(hash.as_str()) || i64::try_from(last.seq).ok() != Some(row) {
        return Err(damaged(format!(
            "record {row} does not match its hash or position"
        )));
    }
    Ok((last.seq + 1, hash))
}

enum Backend {
    Sqlite(Connection),
    Postgres(Box<postgres::Client>),
}

/// An audit store.
pub struct Store {
    backend: Backend,
    location: String,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Rewrites `?N` placeholders as PostgreSQL's `$N`.
fn postgres_sql(sql: &str) -> String {
    sql.replace('?', "$")
}

impl Store {
    /// Opens or creates the store that `url` names: `sqlite://PATH` or a plain path, or
    /// `postgres://USER@HOST:PORT/DATABASE` (no TLS: use it on a trusted network or a local
    /// socket).
    pub fn open(url: &str) -> Result<Store, AuditError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Store::open_postgres(url);
        }
        if let Some((scheme, _)) = url.split_once("://")
            && scheme != "sqlite"
        {
            return Err(AuditError::Invalid(format!(
                "audit store `{url}`: unknown scheme `{scheme}`; use sqlite://PATH, a path, or \
                 postgres://USER@HOST:PORT/DATABASE"
            )));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.trim().is_empty() {
            return Err(AuditError::Invalid(format!(
                "audit store `{url}` names no file; give sqlite://PATH or a path"
            )));
        }
        Store::open_sqlite(Path::new(path))
    }

    fn open_sqlite(path: &Path) -> Result<Store, AuditError> {
        let location = path.display().to_string();
        let failed = |source: rusqlite::Error| AuditError::Database {
            location: location.clone(),
            message: source.to_string(),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| AuditError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }

        let conn = Connection::open(path).map_err(failed)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(failed)?;
        let application_id: i32 = conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(|source| match source {
                rusqlite::Error::SqliteFailure(ref e, _)
                    if e.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    AuditError::Invalid(format!(
                        "audit store `{location}` is not a SQLite database"
                    ))
                }
                other => failed(other),
            })?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(failed)?;
        if application_id != APPLICATION_ID && (application_id != 0 || tables != 0) {
            return Err(AuditError::Invalid(format!(
                "`{location}` is a SQLite database of another program, not a clearbox audit \
                 store"
            )));
        }

        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(failed)?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous=FULL; PRAGMA application_id={APPLICATION_ID}; {SCHEMA}"
        ))
        .map_err(failed)?;
        Ok(Store {
            backend: Backend::Sqlite(conn),
            location,
        })
    }

    fn open_postgres(url: &str) -> Result<Store, AuditError> {
        // The URL without a password, for messages.
        let location = match url.split_once('@') {
            Some((credentials, rest)) => {
                let scheme_end = credentials.find("://").map_or(0, |i| i + 3);
                match credentials[scheme_end..].split_once(':') {
                    Some((user, _)) => format!("{}{user}:***@{rest}", &credentials[..scheme_end]),
                    None => url.to_owned(),
                }
            }
            None => url.to_owned(),
        };

        let failed = |source: postgres::Error| AuditError::Database {
            location: location.clone(),
            message: postgres_message(&source),
        };
        let mut config: postgres::Config = url.parse().map_err(failed)?;
        config.connect_timeout(std::time::Duration::from_secs(10));
        let mut client = config.connect(postgres::NoTls).map_err(failed)?;

        // Two first writers could both create the tables; PostgreSQL's catalog does not allow
        // that even with IF NOT EXISTS, so creation takes a transaction-scoped advisory lock.
        let mut tx = client.transaction().map_err(failed)?;
        tx.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {SCHEMA}"
        ))
        .map_err(failed)?;
        tx.commit().map_err(failed)?;

        Ok(Store {
            backend: Backend::Postgres(Box::new(client)),
            location,
        })
    }

    /// Returns the store's location as shown in messages (a PostgreSQL password is masked).
    #[must_use]
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Sets how long a write waits for another writer's lock before it fails, 10 seconds by
    /// default. A server that must respond by a deadline sets it below that deadline.
    pub fn set_lock_timeout(&mut self, timeout: std::time::Duration) -> Result<(), AuditError> {
        let result = match &mut self.backend {
            Backend::Sqlite(conn) => conn.busy_timeout(timeout).map_err(|e| e.to_string()),
            Backend::Postgres(client) => client
                .batch_execute(&format!(
                    "SET lock_timeout = {}",
                    timeout.as_millis().max(1)
                ))
                .map_err(|e| postgres_message(&e)),
        };
        result.map_err(|message| self.failed(message))
    }

    fn failed(&self, message: impl fmt::Display) -> AuditError {
        AuditError::Database {
            location: self.location.clone(),
            message: message.to_string(),
        }
    }

    fn execute(&mut self, sql: &str, params: &[&str]) -> Result<(), AuditError> {
        let result = match &mut self.backend {
            Backend::Sqlite(conn) => conn
                .execute(sql, rusqlite::params_from_iter(params.iter()))
                .map(drop)
                .map_err(|e| e.to_string()),
            Backend::Postgres(client) => client
                .execute(&postgres_sql(sql), &postgres_refs(params))
                .map(drop)
                .map_err(|e| postgres_message(&e)),
        };
        result.map_err(|e| self.failed(e))
    }

    fn query(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Row>, AuditError> {
        let result = match &mut self.backend {
            Backend::Sqlite(conn) => sqlite_rows(conn, sql, params).map_err(|e| e.to_string()),
            Backend::Postgres(client) => client
                .query(&postgres_sql(sql), &postgres_refs(params))
                .map(|rows| rows.iter().map(postgres_row).collect())
                .map_err(|e| postgres_message(&e)),
        };
        result.map_err(|e| self.failed(e))
    }

    /// Appends one record for `event`. Returns the record as stored.
    pub fn append(&mut self, event: &Event) -> Result<Record, AuditError> {
        let mut records = self.append_all(std::slice::from_ref(event))?;
        Ok(records.remove(0))
    }

    /// Appends one record per event, in order, in one transaction: either every record is
    /// stored or none is. Returns the records as stored. On SQLite the whole batch costs one
    /// `fsync`, which is why callers with several records at hand should prefer it to
    /// [`Store::append`]. An empty slice appends nothing and opens no transaction.
    pub fn append_all(&mut self, events: &[Event]) -> Result<Vec<Record>, AuditError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.append_with(events.len(), |_, index, seq, prev| {
            Ok(record_of(&events[index], seq, prev))
        })
    }

    /// Appends a seal: a record signed with `key` over the last record's sequence number and
    /// hash. An empty store cannot be sealed, and neither can one whose chain is broken, since
    /// the seal would vouch for the damage.
    pub fn seal(&mut self, key: &SigningKey, actor: &str) -> Result<Record, AuditError> {
        self.require_intact("seal")?;
        let mut records = self.append_with(1, |location, _, seq, prev| {
            if seq == 1 {
                return Err(AuditError::Invalid(format!(
                    "audit store `{location}` has no records to seal"
                )));
            }
            let signature = key.sign(&seal_message(seq - 1, prev))?;
            let mut record = record_of(
                &Event {
                    kind: SEAL.to_owned(),
                    actor: actor.to_owned(),
                    decision: "sealed".to_owned(),
                    ..Event::default()
                },
                seq,
                prev,
            );
            record.key = Some(key.public_key().fingerprint());
            record.signature = Some(STANDARD.encode(signature.to_der()));
            Ok(record)
        })?;
        Ok(records.remove(0))
    }

    /// Appends `count` records in one transaction that holds the append lock from reading the
    /// last record to the commit. `make(location, index, seq, prev)` builds the record at
    /// `index` of the batch, whose place in the chain is `seq` after the record hashed `prev`.
    fn append_with(
        &mut self,
        count: usize,
        mut make: impl FnMut(&str, usize, u64, &str) -> Result<Record, AuditError>,
    ) -> Result<Vec<Record>, AuditError> {
        let location = self.location.clone();
        let mut extend = |last: Option<(i64, String)>| -> Result<Batch, AuditError> {
            let (mut seq, mut prev) = chain_tail(&location, last)?;
            let mut batch = Batch::default();
            for index in 0..count {
                let mut record = make(&location, index, seq, &prev)?;
                let hash = record.compute_hash();
                record.hash = Some(hash.clone());
                batch
                    .seqs
                    .push(i64::try_from(record.seq).unwrap_or(i64::MAX));
                batch
                    .texts
                    .push(serde_json::to_string(&record).expect("a record encodes as JSON"));
                batch.records.push(record);
                seq += 1;
                prev = hash;
            }
            Ok(batch)
        };
        let failed = |message: String| AuditError::Database {
            location: self.location.clone(),
            message,
        };
        match &mut self.backend {
            Backend::Sqlite(conn) => {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| failed(e.to_string()))?;
                let last = sqlite_rows(&tx, LAST, &[])
                    .map_err(|e| failed(e.to_string()))?
                    .into_iter()
                    .next()
                    .map(|row| (row[0].parse().unwrap_or(-1), row[1].clone()));
                let batch = extend(last)?;
                {
                    let mut insert = tx
                        .prepare_cached(INSERT)
                        .map_err(|e| failed(e.to_string()))?;
                    for (seq, text) in batch.seqs.iter().zip(&batch.texts) {
                        insert
                            .execute(rusqlite::params![seq, text])
                            .map_err(|e| failed(e.to_string()))?;
                    }
                }
                tx.commit().map_err(|e| failed(e.to_string()))?;
                Ok(batch.records)
            }
            Backend::Postgres(client) => {
                let mut tx = client
                    .transaction()
                    .map_err(|e| failed(postgres_message(&e)))?;
                tx.batch_execute("LOCK TABLE audit_record IN SHARE ROW EXCLUSIVE MODE")
                    .map_err(|e| failed(postgres_message(&e)))?;
                let last = tx
                    .query(LAST, &[])
                    .map_err(|e| failed(postgres_message(&e)))?
                    .first()
                    .map(|row| (row.get::<_, i64>(0), row.get::<_, String>(1)));
                let batch = extend(last)?;
                // One statement for the whole batch, so the table lock is held for one round
                // trip to the server rather than one per record.
                tx.execute(INSERT_ARRAYS, &[&batch.seqs, &batch.texts])
                    .map_err(|e| failed(postgres_message(&e)))?;
                tx.commit().map_err(|e| failed(postgres_message(&e)))?;
                Ok(batch.records)
            }
        }
    }

    /// Returns `(seq column, record text)` of every record in chain order.
    pub(crate) fn record_rows(&mut self) -> Result<Vec<(i64, String)>, AuditError> {
        Ok(self
            .query("SELECT seq, record FROM audit_record ORDER BY seq", &[])?
            .into_iter()
            .map(|mut row| (row[0].parse().unwrap_or(-1), row.swap_remove(1)))
            .collect())
    }

    /// Checks every record's hash and place in the chain, and with `key` the signature of every
    /// seal. Stops at the first record that does not fit.
    pub fn verify(&mut self, key: Option<&PublicKey>) -> Result<Verification, AuditError> {
        let mut chain = Chain::new(key, false, 1, GENESIS.to_owned());
        for (position, text) in self.record_rows()? {
            if !chain.push(
                &format!("row {position}"),
                Some(u64::try_from(position).unwrap_or(0)),
                text.as_bytes(),
            ) {
                break;
            }
        }
        Ok(chain.finish(self.location.clone()))
    }

    /// Writes the records whose time is in `[from, to]` to `output` as a segment: a header
    /// naming the record they follow, then one record per line. The segment continues to the
    /// first seal after the range, so it ends in a signed head when the store has one. Returns
    /// the number of records written.
    ///
    /// # Panics
    ///
    /// Never in practice: the header is plain data that always encodes as JSON.
    pub fn export(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        output: &mut impl Write,
    ) -> Result<u64, AuditError> {
        if from > to {
            return Err(AuditError::Invalid(format!(
                "--from {from} is after --to {to}"
            )));
        }
        self.require_intact("export")?;

        let mut after = (0u64, GENESIS.to_owned());
        let mut selected: Vec<String> = Vec::new();
        let mut closing = false;
        for (_, text) in self.record_rows()? {
            let record: Record = serde_json::from_str(&text).map_err(|e| {
                AuditError::Invalid(format!(
                    "audit store `{}`: a record is damaged ({e}); run `clearbox audit verify`",
                    self.location
                ))
            })?;
            let time = DateTime::parse_from_rfc3339(&record.time)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    AuditError::Invalid(format!(
                        "audit store `{}`: record {} has the invalid time `{}`: {e}",
                        self.location, record.seq, record.time
                    ))
                })?;
            if closing || time > to {
                if selected.is_empty() {
                    break;
                }
                closing = true;
                selected.push(text);
                if record.kind == SEAL {
                    break;
                }
            } else if time < from {
                after = (record.seq, record.hash.unwrap_or_default());
            } else {
                selected.push(text);
            }
        }

        let header = SegmentLine {
            segment: SegmentHeader {
                store: self.location.clone(),
                from: from.to_rfc3339_opts(SecondsFormat::Millis, true),
                to: to.to_rfc3339_opts(SecondsFormat::Millis, true),
                after_seq: after.0,
                after_hash: after.1,
            },
        };
        let mut bytes = serde_json::to_vec(&header).expect("a header encodes as JSON");
        bytes.push(b'\n');
        for line in &selected {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        output.write_all(&bytes).map_err(|source| AuditError::Io {
            path: PathBuf::from("the export output"),
            source,
        })?;
        Ok(selected.len() as u64)
    }

    /// Keeps `sbom` (CycloneDX JSON) as the SBOM of the image with `digest`, replacing an
    /// earlier one.
    pub fn put_sbom(
        &mut self,
        digest: &str,
        reference: &str,
        sbom: &str,
    ) -> Result<(), AuditError> {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        self.execute(
            "INSERT INTO image_sbom (digest, reference, stored_at, sbom) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (digest) DO UPDATE SET reference = excluded.reference,
                 stored_at = excluded.stored_at, sbom = excluded.sbom",
            &[digest, reference, &now, sbom],
        )
    }

    /// Returns the stored SBOMs in digest order. With `shard` `(i, n)` it returns only those
    /// whose digest falls in shard `i` of `n` (by the digest's last hex digits), so `n`
    /// processes share the work without overlap. Only the shard's documents are read into
    /// memory. To hold one at a time, iterate over [`Store::sbom_digests`] with
    /// [`Store::sbom`].
    pub fn sboms(&mut self, shard: Option<(u64, u64)>) -> Result<Vec<StoredSbom>, AuditError> {
        let mut sboms = Vec::new();
        for digest in self.sbom_digests(shard)? {
            sboms.extend(self.sbom(&digest)?);
        }
        Ok(sboms)
    }

    /// Returns the digests of the stored SBOMs in order, only those of shard `i` of `n` with
    /// `shard` `(i, n)`.
    pub fn sbom_digests(&mut self, shard: Option<(u64, u64)>) -> Result<Vec<String>, AuditError> {
        // The shard is computed here rather than in SQL, so both backends and every caller
        // assign a digest to the same shard.
        let mut digests: Vec<String> = self
            .query("SELECT digest FROM image_sbom ORDER BY digest", &[])?
            .into_iter()
            .filter_map(|row| row.into_iter().next())
            .collect();
        if let Some((index, count)) = shard {
            digests.retain(|digest| crate::shard_of(digest, count) == index);
        }
        Ok(digests)
    }

    /// Returns the stored SBOM of the image with `digest`, or `None` when there is none.
    pub fn sbom(&mut self, digest: &str) -> Result<Option<StoredSbom>, AuditError> {
        let rows = self.query(
            "SELECT digest, reference, stored_at, sbom FROM image_sbom WHERE digest = ?1",
            &[digest],
        )?;
        Ok(rows.into_iter().next().map(|row| {
            let mut row = row.into_iter();
            let mut next = || row.next().unwrap_or_default();
            StoredSbom {
                digest: next(),
                reference: next(),
                stored_at: next(),
                sbom: next(),
            }
        }))
    }

    /// Returns the `(advisory, package)` pairs reported for `digest` so far.
    pub fn known_findings(
        &mut self,
        digest: &str,
    ) -> Result<BTreeSet<(String, String)>, AuditError> {
        Ok(self
            .query(
                "SELECT advisory, package FROM rescan_finding WHERE digest = ?1",
                &[digest],
            )?
            .into_iter()
            .map(|mut row| {
                let package = row.swap_remove(1);
                (row.swap_remove(0), package)
            })
            .collect())
    }

    /// Records findings a rescan reported for the first time, all in one transaction. A
    /// finding already recorded keeps its first `first_seen`.
    pub fn add_findings(&mut self, findings: &[KnownFinding]) -> Result<(), AuditError> {
        const INSERT_FINDING: &str =
            "INSERT INTO rescan_finding (digest, advisory, package, aliases, first_seen)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
        if findings.is_empty() {
            return Ok(());
        }
        let rows: Vec<[String; 5]> = findings
            .iter()
            .map(|finding| {
                [
                    finding.digest.clone(),
                    finding.advisory.clone(),
                    finding.package.clone(),
                    finding.aliases.join(" "),
                    finding.first_seen.clone(),
                ]
            })
            .collect();
        let result = match &mut self.backend {
            Backend::Sqlite(conn) => insert_sqlite(conn, INSERT_FINDING, &rows),
            Backend::Postgres(client) => insert_postgres(client, INSERT_FINDING, &rows),
        };
        result.map_err(|e| self.failed(e))
    }

    /// Returns the findings of `advisory` (an id or an alias, compared exactly) reported for
    /// any stored image.
    pub fn findings_of(&mut self, advisory: &str) -> Result<Vec<KnownFinding>, AuditError> {
        if advisory.trim().is_empty() {
            return Err(AuditError::Invalid(
                "the advisory id is empty; give an id or alias such as CVE-2023-32681".to_owned(),
            ));
        }
        let rows = self.query(
            "SELECT digest, advisory, package, aliases, first_seen FROM rescan_finding
             ORDER BY digest, package",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .filter(|row| {
                row[1] == advisory || row[3].split_whitespace().any(|alias| alias == advisory)
            })
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or_default();
                KnownFinding {
                    digest: next(),
                    advisory: next(),
                    package: next(),
                    aliases: next().split_whitespace().map(str::to_owned).collect(),
                    first_seen: next(),
                }
            })
            .collect())
    }

    /// Returns the records about the image with `digest`, in chain order. Records that do not
    /// parse are skipped; `verify` reports them.
    pub fn records_for_digest(&mut self, digest: &str) -> Result<Vec<Record>, AuditError> {
        Ok(self
            .record_rows()?
            .into_iter()
            .filter_map(|(_, text)| serde_json::from_str::<Record>(&text).ok())
            .filter(|record| record.digest.as_deref() == Some(digest))
            .collect())
    }

    /// Fails when the chain does not verify, naming the first bad record; `action` is what the
    /// caller was about to do.
    fn require_intact(&mut self, action: &str) -> Result<(), AuditError> {
        let result = self.verify(None)?;
        match result.problem {
            None => Ok(()),
            Some(problem) => Err(AuditError::Invalid(format!(
                "audit store `{}` cannot {action}: its chain is broken at {problem}; run \
                 `clearbox audit verify`",
                self.location
            ))),
        }
    }

    /// Runs SQL on the store directly, for tests that tamper with it.
    #[doc(hidden)]
    pub fn execute_raw(&mut self, sql: &str) -> Result<(), AuditError> {
        self.execute(sql, &[])
    }
}

fn sqlite_rows(conn: &Connection, sql: &str, params: &[&str]) -> Result<Vec<Row>, rusqlite::Error> {
    let mut statement = conn.prepare(sql)?;
    let columns = statement.column_count();
    let rows = statement.query_map(rusqlite::params_from_iter(params.iter()), |row| {
        (0..columns)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    _ => String::new(),
                })
            })
            .collect::<Result<Row, rusqlite::Error>>()
    })?;
    rows.collect()
}

/// Runs `sql` once per row of `rows` in one SQLite transaction.
fn insert_sqlite<const N: usize>(
    conn: &mut Connection,
    sql: &str,
    rows: &[[String; N]],
) -> Result<(), String> {
    let run = |conn: &mut Connection| -> Result<(), rusqlite::Error> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut statement = tx.prepare_cached(sql)?;
            for row in rows {
                statement.execute(rusqlite::params_from_iter(row.iter()))?;
            }
        }
        tx.commit()
    };
    run(conn).map_err(|e| e.to_string())
}

/// Runs `sql` once per row of `rows` in one PostgreSQL transaction.
fn insert_postgres<const N: usize>(
    client: &mut postgres::Client,
    sql: &str,
    rows: &[[String; N]],
) -> Result<(), String> {
    let run = |client: &mut postgres::Client| -> Result<(), postgres::Error> {
        let mut tx = client.transaction()?;
        let statement = tx.prepare(&postgres_sql(sql))?;
        for row in rows {
            let params: Vec<&str> = row.iter().map(String::as_str).collect();
            tx.execute(&statement, &postgres_refs(&params))?;
        }
        tx.commit()
    };
    run(client).map_err(|e| postgres_message(&e))
}

fn postgres_refs<'a>(params: &'a [&'a str]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|text| text as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

fn postgres_row(row: &postgres::Row) -> Row {
    (0..row.len())
        .map(|i| {
            row.try_get::<_, String>(i)
                .or_else(|_| row.try_get::<_, i64>(i).map(|n| n.to_string()))
                .unwrap_or_default()
        })
        .collect()
}
