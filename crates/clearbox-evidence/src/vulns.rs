//! The vulnerability files of the package: `vulnerabilities.json`,
//! `critical-vulnerabilities.json` and `vulnerability-scan.sarif`.
//!
//! Without a usable advisory database the scan does not run, and each file says so: the JSON
//! files carry `"status": "not-run"` and no `matches` list, and the SARIF run is marked as an
//! unsuccessful execution with the reason. None of them can be read as "no vulnerabilities".

use std::path::Path;

use clearbox_catalog::Catalog;
use clearbox_sbom::Subject;
use clearbox_vuln::report::{ScanReport, ScanSource, ScanSourceKind, SeverityCounts};
use clearbox_vuln::{Database, MatchOutcome, Severity, default_db_path, match_catalog_with_notes};
use serde_json::json;

use crate::EvidenceError;

/// The outcome of the vulnerability step.
#[derive(Debug)]
pub enum VulnerabilityScan {
    /// The scan ran.
    Ran {
        /// `vulnerabilities.json`.
        all: Vec<u8>,
        /// `critical-vulnerabilities.json`.
        critical: Vec<u8>,
        /// `vulnerability-scan.sarif`.
        sarif: Vec<u8>,
        /// Findings per severity.
        counts: SeverityCounts,
        /// Advisories in the database.
        advisories: u64,
    },
    /// The scan could not run.
    NotRun {
        /// Why.
        reason: String,
        /// The three files, each stating the reason.
        all: Vec<u8>,
        /// `critical-vulnerabilities.json`.
        critical: Vec<u8>,
        /// `vulnerability-scan.sarif`.
        sarif: Vec<u8>,
    },
}

impl VulnerabilityScan {
    pub(crate) fn ran(&self) -> bool {
        matches!(self, VulnerabilityScan::Ran { .. })
    }

    pub(crate) fn not_run_reason(&self) -> String {
        match self {
            VulnerabilityScan::NotRun { reason, .. } => reason.clone(),
            VulnerabilityScan::Ran { .. } => String::new(),
        }
    }

    pub(crate) fn files(&self) -> [(&'static str, Vec<u8>); 3] {
        let (all, critical, sarif) = match self {
            VulnerabilityScan::Ran {
                all,
                critical,
                sarif,
                ..
            }
            | VulnerabilityScan::NotRun {
                all,
                critical,
                sarif,
                ..
            } => (all, critical, sarif),
        };
        [
            ("vulnerabilities.json", all.clone()),
            ("critical-vulnerabilities.json", critical.clone()),
            ("vulnerability-scan.sarif", sarif.clone()),
        ]
    }

    pub(crate) fn summary_line(&self) -> String {
        match self {
            VulnerabilityScan::Ran {
                counts, advisories, ..
            } => format!(
                "Vulnerabilities: {} critical, {} high, {} medium, {} low, {} of unknown severity \
                 (matched against {advisories} advisories).",
                counts.critical, counts.high, counts.medium, counts.low, counts.unknown
            ),
            VulnerabilityScan::NotRun { reason, .. } => {
                format!("Vulnerabilities: NOT SCANNED: {reason}.")
            }
        }
    }
}

/// Matches the catalog against the database at `db_path` (or the default location) and
/// renders the three files.
pub(crate) fn scan(
    catalog: &Catalog,
    db_path: Option<&Path>,
    subject: &Subject,
    tool_version: &str,
) -> Result<VulnerabilityScan, EvidenceError> {
    let source = ScanSource {
        kind: ScanSourceKind::Image,
        name: subject.reference.clone(),
        digest: subject
            .manifest_digest
            .clone()
            .or_else(|| subject.config_digest.clone()),
    };
    let Some(path) = db_path.map(Path::to_owned).or_else(default_db_path) else {
        return Ok(not_run(
            "no advisory database location is known (HOME is not set)",
            &source,
            tool_version,
        ));
    };
    if !path.exists() {
        let reason = format!(
            "no advisory database at `{}`; import advisories with `clearbox db import` and write the package again",
            path.display()
        );
        return Ok(not_run(&reason, &source, tool_version));
    }
    let database = Database::open(&path)?;
    let status = database.status()?;
    if status.advisories == 0 {
        let reason = format!(
            "the advisory database `{}` holds no advisories",
            path.display()
        );
        return Ok(not_run(&reason, &source, tool_version));
    }
    let outcome = match_catalog_with_notes(&database, catalog)?;
    let report = ScanReport {
        source: &source,
        database: &status,
        outcome: &outcome,
    };
    let critical_outcome = MatchOutcome {
        findings: outcome
            .findings
            .iter()
            .filter(|f| f.advisory.severity >= Severity::High)
            .cloned()
            .collect(),
        notes: outcome.notes.clone(),
        ..outcome.clone()
    };
    let critical_report = ScanReport {
        outcome: &critical_outcome,
        ..report
    };
    let mut all = Vec::new();
    clearbox_vuln::report::json::write(&report, &mut all)?;
    let mut critical = Vec::new();
    clearbox_vuln::report::json::write(&critical_report, &mut critical)?;
    let mut sarif = Vec::new();
    clearbox_vuln::report::sarif::write(&report, &mut sarif)?;
    Ok(VulnerabilityScan::Ran {
        all,
        critical,
        sarif,
        counts: SeverityCounts::of(&outcome.findings),
        advisories: status.advisories,
    })
}

fn not_run(reason: &str, source: &ScanSource, tool_version: &str) -> VulnerabilityScan {
    let json_file = |title: &str| {
        let value = json!({
            "status": "not-run",
            "reason": reason,
            "contents": title,
            "source": source,
        });
        let mut bytes = serde_json::to_vec_pretty(&value).expect("JSON values always serialize");
        bytes.push(b'\n');
        bytes
    };
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "clearbox",
                "version": tool_version,
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
            }},
            "invocations": [{
                "executionSuccessful": false,
                "toolExecutionNotifications": [{
                    "level": "error",
                    "message": {"text": format!("vulnerability scan not run: {reason}")},
                }],
            }],
            "results": [],
        }],
    });
    let mut sarif_bytes = serde_json::to_vec_pretty(&sarif).expect("JSON values always serialize");
    sarif_bytes.push(b'\n');
    VulnerabilityScan::NotRun {
        reason: reason.to_owned(),
        all: json_file("all vulnerability findings"),
        critical: json_file("critical and high vulnerability findings"),
        sarif: sarif_bytes,
    }
}
