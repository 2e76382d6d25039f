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
//! - Alpine secdb files (`secfixes` YAML), turned into OSV records of `Alpine:<release>` (see
//!   the `secdb` module for the mapping).
//! - Red Hat CSAF VEX files, turned into records of Red Hat's will-not-fix and not-affected
//!   states (the `csaf` module).
//! - Matching by purl type for PyPI, npm, Go, crates.io, Maven, NuGet, RubyGems and Packagist
//!   with version ordering, and for other OSV ecosystems by listed versions only. OS packages
//!   match by distribution release and source package for Debian, Ubuntu (with Pro), Alpine,
//!   AlmaLinux, Rocky Linux, Red Hat (CPE streams of the release) and SUSE. The `ecosystem`
//!   module has the tables.
//! - `introduced`, `fixed`, `last_affected` and `limit` events, and `versions` lists.
//! - Distribution statements that a package is not affected or will not be fixed, reported as
//!   the finding's status and never counted as vulnerable (see the `status` module).
//! - VEX input (OpenVEX, CycloneDX) to suppress findings, and VEX output. Every report keeps
//!   the suppressed findings with the statement that suppressed them.
//! - Severity from CVSS v4.0, v3.x and v2.0 vectors, GitHub severity labels and Ubuntu
//!   priorities.
//! - JSON, SARIF 2.1.0, table, OpenVEX and CycloneDX VEX reports.
//!
//! # Not yet
//! - Version ordering for Pub, Hex, `SwiftURL`, CRAN and Hackage: their ranges are not checked,
//!   and the outcome carries a note about it.
//! - Debian testing and unstable and Alpine edge (no usable `VERSION_ID`): reported as notes.
//! - Go symbol-level reachability (`ecosystem_specific.imports`): a module is affected when its
//!   version is, whether or not the binary calls the vulnerable function.
//! - Downloading feeds: the caller fetches files; this crate reads them from disk.
//!
//! # Never
//! - `GIT` ranges: they need each project's commit graph.
//! - Model weights: there is no advisory source for them.

#![forbid(unsafe_code)]

mod compact;
mod csaf;
mod ecosystem;
mod error;
mod finding;
mod import;
mod matcher;
mod migrate;
mod osv;
mod range;
pub mod report;
mod secdb;
mod severity;
mod status;
mod store;
pub mod vex;

pub use ecosystem::{ecosystem_for_purl_type, osv_name};
pub use error::VulnError;
pub use finding::{
    AdvisoryRef, Finding, FindingStatus, MatchDetail, MatchNote, MatchOutcome, PackageRef,
};
pub use import::{ImportReport, MAX_RECORD_BYTES, RecordProblem, SourceKind};
pub use matcher::{match_catalog, match_catalog_with_notes};
pub use osv::{
    Affected, AffectedPackage, Event, OsvRecord, Range, RangeKind, Reference, SeverityScore,
    ecosystem_base,
};
pub use severity::{CvssScore, ParseSeverityError, Severity, score_cvss};
pub use store::{
    Database, DatabaseStatus, EcosystemCount, FeedStatus, FutureDated, SCHEMA_VERSION, age_of,
    default_db_path, index_name,
};
