//! Importing OSV records into the database from files, directories and osv.dev's `all.zip`.
//!
//! Sources:
//! - a `.json`, `.yaml` or `.yml` file holding one record;
//! - a directory, read recursively in path order. It takes those file types and skips names
//!   that start with `.`, such as the PyPA database's `.id-allocator`. Symbolic links to
//!   directories are not followed;
//! - a `.zip` archive, taking every `*.json` member in name order, read in memory.
//!
//! One source is one SQLite transaction: an I/O, zip or database error rolls the whole source
//! back. A malformed record does not: it is listed in [`ImportReport::rejected`] with its file,
//! zip member and field, and the import goes on. Files and members over [`MAX_RECORD_BYTES`]
//! are rejected the same way, so an archive cannot make the importer allocate without bound.
//!
//! A YAML file with the top-level keys `distroversion` and `packages` is an Alpine secdb file;
//! it becomes one record per release, package and vulnerability (see the `secdb` module), and
//! each counts as one record. A JSON file whose `document.category` is `csaf_vex` is a Red Hat
//! CSAF VEX file. It becomes one record of Red Hat's will-not-fix and not-affected states (see
//! the `csaf` module).
//!
//! Record rules: a withdrawn record is not stored and removes a stored record with the same id
//! and an equal or older `modified`. A record whose id is stored already replaces it when its
//! `modified` is equal or newer and its content differs; identical content counts as
//! unchanged, an older `modified` as older. Replacing a record of the same `modified` is
//! reported as a warning, since then the order of the sources decides. A record whose `modified` is more than a day
//! after the import is rejected, since it would keep out every later correction.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::{debug, info, warn};

use crate::error::VulnError;
use crate::osv::{self, FieldProblem};
use crate::store::{self, Database, FeedCounts, Outcome};
use crate::{csaf, secdb};

/// Largest file or zip member read as one record: 16 MiB. The limit bounds memory for a hostile
/// archive. It is far above real records: the largest OSV record in the test corpus, a Red Hat
/// advisory, has 104 KB.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Kind of source an import read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// One JSON or YAML file.
    File,
    /// A directory tree.
    Directory,
    /// A zip archive.
    Zip,
}

impl SourceKind {
    /// Lowercase name: `file`, `directory`, `zip`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Directory => "directory",
            SourceKind::Zip => "zip",
        }
    }
}

/// A record the import rejected or kept with a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordProblem {
    /// The file, or the zip archive for a zip member.
    pub file: PathBuf,
    /// The member name inside a zip archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The record id, when the document got far enough to have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Field path such as `affected[0].ranges[0].events`; empty when the document as a whole is
    /// unreadable.
    pub field: String,
    /// Description of the problem.
    pub message: String,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.file.display())?;
        if let Some(member) = &self.member {
            write!(f, " member `{member}`")?;
        }
        if let Some(id) = &self.id {
            write!(f, " record `{id}`")?;
        }
        if !self.field.is_empty() {
            write!(f, " field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The result of importing one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The source as stored: an absolute path.
    pub source: PathBuf,
    /// Kind of source.
    pub kind: SourceKind,
    /// RFC 3339 UTC time of the import.
    pub imported_at: String,
    /// Files or zip members read as records.
    pub records: u64,
    /// New advisory ids stored.
    pub inserted: u64,
    /// Stored advisories replaced by a record with an equal or newer `modified`.
    pub replaced: u64,
    /// Records identical to the stored ones.
    pub unchanged: u64,
    /// Records older than the stored ones, which were kept.
    pub older: u64,
    /// Withdrawn records, not stored.
    pub withdrawn: u64,
    /// Malformed records, not stored.
    pub rejected: Vec<RecordProblem>,
    /// Records stored with a problem that does not stop matching.
    pub warnings: Vec<RecordProblem>,
}

impl ImportReport {
    fn counts(&self) -> FeedCounts {
        FeedCounts {
            records: self.records,
            inserted: self.inserted,
            replaced: self.replaced,
            unchanged: self.unchanged,
            older: self.older,
            withdrawn: self.withdrawn,
            rejected: self.rejected.len() as u64,
        }
    }
}

/// One document to import and where it came from.
struct Document<'a> {
    file: &'a Path,
    member: Option<&'a str>,
    bytes: &'a [u8],
    yaml: bool,
    /// The file's modification time (RFC 3339), for formats without their own timestamps.
    mtime: Option<String>,
}

impl Database {
    /// Imports every record of `source` (a file, a directory or a zip archive) in one
    /// transaction and stores the source's provenance.
    pub fn import(&mut self, source: &Path) -> Result<ImportReport, VulnError> {
        let io_error = |source_error| VulnError::Io {
            path: source.to_owned(),
            source: source_error,
        };
        let absolute = std::path::absolute(source).map_err(io_error)?;
        let metadata = std::fs::metadata(&absolute).map_err(io_error)?;
        if !metadata.is_dir() && !metadata.is_file() {
            // Opening a FIFO would wait for a writer.
            return Err(io_error(std::io::Error::other(
                "not a regular file or directory (a FIFO, socket or device); give a file, a \
                 directory or a zip archive",
            )));
        }
        let kind = if metadata.is_dir() {
            SourceKind::Directory
        } else if has_extension(&absolute, &["zip"]) {
            SourceKind::Zip
        } else if has_extension(&absolute, &["json", "yaml", "yml"]) {
            SourceKind::File
        } else {
            return Err(VulnError::UnsupportedSource {
                path: source.to_owned(),
            });
        };
        let sha256 = match kind {
            SourceKind::Directory => None,
            SourceKind::File | SourceKind::Zip => Some(file_sha256(&absolute)?),
        };
        let imported_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        info!(source = %absolute.display(), kind = kind.name(), "importing advisories");

        let tx = self.conn.transaction()?;
        let feed_id = store::start_feed(
            &tx,
            &absolute.to_string_lossy(),
            kind.name(),
            sha256.as_deref(),
            &imported_at,
        )?;
        let mut report = ImportReport {
            source: absolute.clone(),
            kind,
            imported_at,
            records: 0,
            inserted: 0,
            replaced: 0,
            unchanged: 0,
            older: 0,
            withdrawn: 0,
            rejected: Vec::new(),
            warnings: Vec::new(),
        };
        let mut import_one = |document: Document<'_>| -> Result<(), VulnError> {
            import_document(&tx, feed_id, &document, &mut report)
        };
        match kind {
            SourceKind::File => read_file(&absolute, &mut import_one)?,
            SourceKind::Directory => {
                for file in walk(&absolute)? {
                    read_file(&file, &mut import_one)?;
                }
            }
            SourceKind::Zip => read_zip(&absolute, &mut import_one)?,
        }
        store::finish_feed(&tx, feed_id, report.counts())?;
        tx.commit()?;

        info!(
            source = %report.source.display(),
            records = report.records,
            inserted = report.inserted,
            replaced = report.replaced,
            withdrawn = report.withdrawn,
            rejected = report.rejected.len(),
            "import finished"
        );
        Ok(report)
    }
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn file_sha256(path: &Path) -> Result<String, VulnError> {
    let io_error = |source| VulnError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Lists the record files under `dir`, sorted by path.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, VulnError> {
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| VulnError::Io { path, source }
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(io_error(&current))? {
            let entry = entry.map_err(io_error(&current))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let file_type = entry.file_type().map_err(io_error(&path))?;
            if file_type.is_dir() {
                pending.push(path);
            } else if has_extension(&path, &["json", "yaml", "yml"])
                && std::fs::metadata(&path).map_err(io_error(&path))?.is_file()
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read_file(
    path: &Path,
    import_one: &mut impl FnMut(Document<'_>) -> Result<(), VulnError>,
) -> Result<(), VulnError> {
    let io_error = |source| VulnError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(|time| chrono::DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Secs, true));
    import_one(Document {
        file: path,
        member: None,
        bytes: &bytes,
        yaml: has_extension(path, &["yaml", "yml"]),
        mtime,
    })
}

fn read_zip(
    path: &Path,
    import_one: &mut impl FnMut(Document<'_>) -> Result<(), VulnError>,
) -> Result<(), VulnError> {
    let zip_error = |source| VulnError::Zip {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(|source| VulnError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    let mut names: Vec<String> = archive
        .file_names()
        .collect::<Result<Vec<_>, _>>()
        .map_err(zip_error)?
        .into_iter()
        .filter(|name| !name.ends_with('/') && has_extension(Path::new(&**name), &["json"]))
        .map(std::borrow::Cow::into_owned)
        .collect();
    names.sort();
    let mut bytes = Vec::new();
    for name in &names {
        let member = archive.by_name(name).map_err(zip_error)?;
        bytes.clear();
        member
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| VulnError::Io {
                path: path.join(name),
                source,
            })?;
        import_one(Document {
            file: path,
            member: Some(name),
            bytes: &bytes,
            yaml: false,
            mtime: None,
        })?;
    }
    Ok(())
}

/// Parses, checks and stores one document, counting the outcome in `report`.
fn import_document(
    tx: &rusqlite::Transaction<'_>,
    feed_id: i64,
    document: &Document<'_>,
    report: &mut ImportReport,
) -> Result<(), VulnError> {
    report.records += 1;
    let problem = |id: Option<&str>, field: FieldProblem| RecordProblem {
        file: document.file.to_owned(),
        member: document.member.map(str::to_owned),
        id: id.map(str::to_owned),
        field: field.field,
        message: field.message,
    };

    // Parse and check the record.
    if document.bytes.len() as u64 > MAX_RECORD_BYTES {
        let field = FieldProblem {
            field: String::new(),
            message: format!("larger than the {MAX_RECORD_BYTES}-byte limit for one record"),
        };
        report.rejected.push(problem(None, field));
        return Ok(());
    }
    if document.yaml && secdb::is_secdb(document.bytes) {
        report.records -= 1;
        return import_secdb(tx, feed_id, document, report);
    }
    if !document.yaml
        && let Some(csaf) = csaf_document(document.bytes)
    {
        return import_csaf(tx, feed_id, document, &csaf, report);
    }
    let parsed = if document.yaml {
        osv::parse_yaml(document.bytes)
    } else {
        osv::parse_json(document.bytes)
    };
    let mut reject = |id: Option<&str>, field: FieldProblem| {
        let rejected = problem(id, field);
        debug!(problem = %rejected, "rejected advisory record");
        report.rejected.push(rejected);
    };
    let record = match parsed {
        Ok(record) => record,
        Err(field) => {
            reject(None, field);
            return Ok(());
        }
    };
    let checked = match record.validate() {
        Ok(checked) => checked,
        Err(field) => {
            reject(Some(&record.id), field);
            return Ok(());
        }
    };
    let modified = checked.modified;
    if let Err(field) = check_not_ahead(&record.modified, &report.imported_at) {
        reject(Some(&record.id), field);
        return Ok(());
    }
    for warning in checked.warnings {
        let warning = problem(Some(&record.id), warning);
        warn!(problem = %warning, "advisory record has a problem; stored anyway");
        report.warnings.push(warning);
    }

    // Store it.
    if record.withdrawn.is_some() {
        report.withdrawn += 1;
        if store::withdraw(tx, &record.id, &modified)? {
            debug!(advisory = %record.id, "removed withdrawn advisory");
        }
        return Ok(());
    }
    let raw = if document.yaml {
        serde_json::to_string(&record).map_err(VulnError::Encode)?
    } else {
        String::from_utf8_lossy(document.bytes).into_owned()
    };
    match store::upsert(tx, feed_id, &record, &modified, &raw)? {
        Outcome::Inserted => report.inserted += 1,
        Outcome::Replaced => report.replaced += 1,
        Outcome::ReplacedSameTime => {
            report.replaced += 1;
            let field = FieldProblem {
                field: "modified".to_owned(),
                message: format!(
                    "replaced a stored record with the same id and `modified` ({}) but other \
                     content; with two such sources the one imported last wins, so give the \
                     corrected record a later `modified`",
                    record.modified
                ),
            };
            let warning = problem(Some(&record.id), field);
            warn!(problem = %warning, "advisory record replaced at the same time");
            report.warnings.push(warning);
        }
        Outcome::Unchanged => report.unchanged += 1,
        Outcome::Older => report.older += 1,
    }
    Ok(())
}

/// How far a record's `modified` may be ahead of the import time, for clocks that differ.
const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Rejects a `modified` time more than a day after the import. A record dated ahead would
/// replace every correction published before that date, since the later `modified` wins.
fn check_not_ahead(modified: &str, imported_at: &str) -> Result<(), FieldProblem> {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let (Some(modified_at), Some(now)) = (parse(modified), parse(imported_at)) else {
        return Ok(());
    };
    if modified_at <= now + MAX_CLOCK_SKEW {
        return Ok(());
    }
    Err(FieldProblem {
        field: "modified".to_owned(),
        message: format!(
            "`{modified}` is after the import time {imported_at}; a record dated ahead would \
             keep out every later correction of it. Fix the date in the source"
        ),
    })
}

/// Returns the document as JSON when it is a CSAF document. Only documents that mention
/// `csaf_` are parsed a second time.
fn csaf_document(bytes: &[u8]) -> Option<serde_json::Value> {
    const MARK: &[u8] = b"csaf_";
    if !bytes.windows(MARK.len()).any(|w| w == MARK) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    csaf::is_csaf(&value).then_some(value)
}

/// Stores the record of one Red Hat CSAF VEX file.
fn import_csaf(
    tx: &rusqlite::Transaction<'_>,
    feed_id: i64,
    document: &Document<'_>,
    value: &serde_json::Value,
    report: &mut ImportReport,
) -> Result<(), VulnError> {
    let problem = |id: Option<&str>, field: FieldProblem| RecordProblem {
        file: document.file.to_owned(),
        member: document.member.map(str::to_owned),
        id: id.map(str::to_owned),
        field: field.field,
        message: field.message,
    };
    let (record, warnings) = match csaf::record(value) {
        Ok(parsed) => parsed,
        Err(field) => {
            report.rejected.push(problem(None, field));
            return Ok(());
        }
    };
    let id = record.as_ref().map(|r| r.id.clone());
    for warning in warnings {
        let warning = problem(id.as_deref(), warning);
        debug!(problem = %warning, "CSAF VEX products left out");
        report.warnings.push(warning);
    }
    let Some(record) = record else {
        let field = FieldProblem {
            field: "vulnerabilities[0].product_status".to_owned(),
            message: "nothing to store: no RHEL product is known affected or known not affected"
                .to_owned(),
        };
        report.warnings.push(problem(None, field));
        return Ok(());
    };
    let checked = match record.validate() {
        Ok(checked) => checked,
        Err(field) => {
            report.rejected.push(problem(Some(&record.id), field));
            return Ok(());
        }
    };
    if let Err(field) = check_not_ahead(&record.modified, &report.imported_at) {
        report.rejected.push(problem(Some(&record.id), field));
        return Ok(());
    }
    let raw = serde_json::to_string(&record).map_err(VulnError::Encode)?;
    match store::upsert(tx, feed_id, &record, &checked.modified, &raw)? {
        Outcome::Inserted => report.inserted += 1,
        Outcome::Replaced | Outcome::ReplacedSameTime => report.replaced += 1,
        Outcome::Unchanged => report.unchanged += 1,
        Outcome::Older => report.older += 1,
    }
    Ok(())
}

/// Stores the records of one Alpine secdb file.
fn import_secdb(
    tx: &rusqlite::Transaction<'_>,
    feed_id: i64,
    document: &Document<'_>,
    report: &mut ImportReport,
) -> Result<(), VulnError> {
    let problem = |field: FieldProblem| RecordProblem {
        file: document.file.to_owned(),
        member: document.member.map(str::to_owned),
        id: None,
        field: field.field,
        message: field.message,
    };
    let modified = document
        .mtime
        .clone()
        .unwrap_or_else(|| report.imported_at.clone());
    let (records, warnings) = match secdb::records(document.bytes, &modified) {
        Ok(parsed) => parsed,
        Err(field) => {
            report.records += 1;
            report.rejected.push(problem(field));
            return Ok(());
        }
    };
    for warning in warnings {
        let warning = problem(warning);
        warn!(problem = %warning, "Alpine secdb entry has a problem");
        report.warnings.push(warning);
    }
    let modified = osv::normalize_time(&modified).unwrap_or(modified);
    for record in records {
        report.records += 1;
        let raw = serde_json::to_string(&record).map_err(VulnError::Encode)?;
        match store::upsert(tx, feed_id, &record, &modified, &raw)? {
            Outcome::Inserted => report.inserted += 1,
            Outcome::Replaced | Outcome::ReplacedSameTime => report.replaced += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Older => report.older += 1,
        }
    }
    Ok(())
}
