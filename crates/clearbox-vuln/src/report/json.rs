//! clearbox's JSON vulnerability report.
//!
//! ```text
//! {
//!   "matches":    [ { "advisory": {...}, "package": {...}, "matched": {...} } ],
//!   "suppressed": [ { "finding": {...}, "statement": { "document", "format", "index",
//!                     "vulnerability", "status", "justification", "impact", ... } } ],
//!   "source":     { "type": "image" | "sbom", "name": ..., "digest": ... },
//!   "database":   { "schema_version", "advisories", "newest_modified", "future_dated",
//!                   "last_import", "ecosystems": [ {"ecosystem", "advisories"} ],
//!                   "feeds": [...] },
//!   "counts":     { "critical", "high", "medium", "low", "unknown" },
//!   "notes":      [ { "kind": ..., ... } ]
//! }
//! ```
//!
//! `matches[]` are [`Finding`]s serialised field by field. `suppressed[]` are the findings that
//! a VEX statement marked `not_affected` or `fixed`, each with that statement: its document
//! (the path as given), its position there, its status, and its justification label and impact
//! statement as the document spells them. They are not in `matches` and not in `counts`.
//!
//! `database.ecosystems` counts per ecosystem family (`Debian`, not `Debian:12`), and
//! `database.future_dated` lists advisories dated after the scan, which the database age leaves
//! out. The database path is left out because it differs between machines.

use std::io::Write;

use serde::Serialize;

use super::{ScanReport, ScanSource, SeverityCounts, write_json_value};
use crate::error::VulnError;
use crate::finding::{Finding, MatchNote};
use crate::store::{EcosystemCount, FeedStatus, FutureDated};
use crate::vex::Suppressed;

#[derive(Serialize)]
struct JsonReport<'a> {
    matches: &'a [Finding],
    suppressed: &'a [Suppressed],
    source: &'a ScanSource,
    database: DatabaseSummary<'a>,
    counts: SeverityCounts,
    notes: &'a [MatchNote],
}

#[derive(Serialize)]
struct DatabaseSummary<'a> {
    schema_version: i64,
    advisories: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_modified: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    future_dated: Option<&'a FutureDated>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_import: Option<&'a str>,
    ecosystems: &'a [EcosystemCount],
    feeds: &'a [FeedStatus],
}

/// Writes `report` as pretty-printed JSON.
pub fn write(report: &ScanReport<'_>, writer: &mut dyn Write) -> Result<(), VulnError> {
    let database = report.database;
    let document = JsonReport {
        matches: &report.outcome.findings,
        suppressed: &report.outcome.suppressed,
        source: report.source,
        database: DatabaseSummary {
            schema_version: database.schema_version,
            advisories: database.advisories,
            newest_modified: database.newest_modified.as_deref(),
            future_dated: database.future_dated.as_ref(),
            last_import: database.last_import.as_deref(),
            ecosystems: &database.ecosystem_families,
            feeds: &database.feeds,
        },
        counts: SeverityCounts::of(&report.outcome.findings),
        notes: &report.outcome.notes,
    };
    write_json_value(&document, writer)
}
