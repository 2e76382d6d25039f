//! Vulnerability matching: an SQLite database of OSV advisories, importers for it, a matcher
//! for a catalog's packages, CVSS-based severities, and report encoders.
//!
//! ```no_run
//! # fn main() -> Result<(), clearbox_vuln::VulnError> {
//! # let catalog = clearbox_catalog::Catalog::default();
//! use clearbox_vuln::{Database, default_db_path, match_catalog_with_notes};
//!
//! let mut db = Database::open(&default_db_path().expect("HOME is set"))?;
//! let report = db.import("go-vulndb/data/osv".as_ref())?;
//! eprintln!("{} records, {} rejected", report.records, report.rejected.len());
//! let outcome = match_catalog_with_notes(&db, &catalog)?;
//! # Ok(()) }
//! ```
//!
//! # Supported
//! - OSV schema 1.6 records from `.json` and `.yaml`/`.yml` files, directories of them, and
//!   osv.dev's `all.zip` export. Records of every ecosystem are stored.
//! - Matching for PyPI (PEP 440), Go modules and the Go standard library (`SEMVER` ranges),
//!   and Debian source packages (`Debian:<release>`, dpkg ordering).
//! - `introduced`, `fixed`, `last_affected` and `limit` events, and `versions` lists.
//! - Severity from CVSS v4.0, v3.x and v2.0 vectors, GitHub severity labels and Ubuntu
//!   priorities.
//! - JSON, SARIF 2.1.0 and table reports.
//!
//! # Not yet
//! - Other ecosystems (npm, Maven, crates.io, Alpine, RPM distributions): their records import
//!   but the matcher does not query them, because the catalog does not find those packages yet.
//! - Debian testing and unstable (no `VERSION_ID`), and Ubuntu: reported as notes.
//! - Go symbol-level reachability (`ecosystem_specific.imports`): a module is affected when its
//!   version is, whether or not the binary calls the vulnerable function.
//! - Downloading feeds: the caller fetches files; this crate reads them from disk.
//!
//! # Never
//! - `GIT` ranges: they need each project's commit graph.
//! - Model weights: there is no advisory source for them.

#![forbid(unsafe_code)]

mod error;
mod finding;
mod import;
mod matcher;
mod osv;
mod range;
pub mod report;
mod severity;
mod store;

pub use error::VulnError;
pub use finding::{AdvisoryRef, Finding, MatchDetail, MatchNote, MatchOutcome, PackageRef};
pub use import::{ImportReport, MAX_RECORD_BYTES, RecordProblem, SourceKind};
pub use matcher::{match_catalog, match_catalog_with_notes};
pub use osv::{
    Affected, AffectedPackage, Event, OsvRecord, Range, RangeKind, Reference, SeverityScore,
    ecosystem_base,
};
pub use severity::{CvssScore, ParseSeverityError, Severity, score_cvss};
pub use store::{
    Database, DatabaseStatus, EcosystemCount, FeedStatus, SCHEMA_VERSION, default_db_path,
    index_name,
};
