//! Vulnerability report encoders: JSON, SARIF 2.1.0 and a text table.
//!
//! Every encoder writes the findings in the order the matcher returns them, and maps are
//! written in a fixed key order, so one scan gives byte-identical output.

pub mod json;
pub mod sarif;
pub mod table;
pub mod vex;

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::error::VulnError;
use crate::finding::{Finding, MatchOutcome};
use crate::severity::Severity;
use crate::store::DatabaseStatus;

/// Scanned input, as the caller names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanSource {
    /// `image` or `sbom`.
    #[serde(rename = "type")]
    pub kind: ScanSourceKind,
    /// Image reference or SBOM file name.
    pub name: String,
    /// Image manifest digest or SBOM file digest, such as `sha256:…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Kind of input a scan read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanSourceKind {
    /// A container image.
    Image,
    /// An SBOM file.
    Sbom,
}

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub struct ScanReport<'a> {
    /// Scanned input.
    pub source: &'a ScanSource,
    /// The advisory database the scan used.
    pub database: &'a DatabaseStatus,
    /// Findings and notes from [`match_catalog_with_notes`](crate::match_catalog_with_notes).
    pub outcome: &'a MatchOutcome,
}

/// Number of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Critical findings.
    pub critical: u64,
    /// High findings.
    pub high: u64,
    /// Medium findings.
    pub medium: u64,
    /// Low findings.
    pub low: u64,
    /// Findings without a known severity.
    pub unknown: u64,
}

impl SeverityCounts {
    /// Counts `findings` by severity; findings that a distribution states are not affected or
    /// will not be fixed are not counted.
    #[must_use]
    pub fn of(findings: &[Finding]) -> SeverityCounts {
        let mut counts = SeverityCounts::default();
        for finding in findings.iter().filter(|f| f.status.is_vulnerable()) {
            let slot = match finding.advisory.severity {
                Severity::Critical => &mut counts.critical,
                Severity::High => &mut counts.high,
                Severity::Medium => &mut counts.medium,
                Severity::Low => &mut counts.low,
                Severity::Unknown => &mut counts.unknown,
            };
            *slot += 1;
        }
        counts
    }
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// clearbox's JSON report; see [`json`].
    Json,
    /// SARIF 2.1.0; see [`sarif`].
    Sarif,
    /// Aligned text columns; see [`table`].
    Table,
}

impl ReportFormat {
    /// The format's command-line name: `json`, `sarif`, `table`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Sarif => "sarif",
            ReportFormat::Table => "table",
        }
    }

    /// Writes `report` in this format.
    pub fn write(self, report: &ScanReport<'_>, writer: &mut dyn Write) -> Result<(), VulnError> {
        match self {
            ReportFormat::Json => json::write(report, writer),
            ReportFormat::Sarif => sarif::write(report, writer),
            ReportFormat::Table => table::write(&report.outcome.findings, writer),
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that is not a report format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format `{0}`; expected one of json, sarif, table")]
pub struct ParseReportFormatError(String);

impl FromStr for ReportFormat {
    type Err = ParseReportFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [ReportFormat::Json, ReportFormat::Sarif, ReportFormat::Table]
            .into_iter()
            .find(|format| format.name() == s)
            .ok_or_else(|| ParseReportFormatError(s.to_owned()))
    }
}

/// Writes a pretty-printed JSON value followed by a newline.
fn write_json_value(value: &impl Serialize, writer: &mut dyn Write) -> Result<(), VulnError> {
    serde_json::to_writer_pretty(&mut *writer, value).map_err(VulnError::Encode)?;
    writer.write_all(b"\n").map_err(VulnError::Write)
}
