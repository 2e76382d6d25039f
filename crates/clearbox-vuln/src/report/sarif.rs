//! SARIF 2.1.0 output (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).
//!
//! One run whose driver is `clearbox`. Each advisory id is a rule: `shortDescription` is the
//! summary, `help` lists the fixed versions, and `properties.security-severity` is the CVSS
//! base score as a string (the property GitHub code scanning reads), present only when a score
//! is known. Each finding is a result:
//! - `level`: critical and high are `error`, medium `warning`, low and unknown `note`, and
//!   `none` for a finding that the distribution states is not affected or will not be fixed
//!   (its status is in `properties.status`);
//! - `locations`: one per evidence file of the package, as a path relative to the image root
//!   (no leading `/`, percent-encoded where RFC 3986 requires). Each has a logical location
//!   with the package URL, and a package without files gets the logical location alone;
//! - `partialFingerprints["clearboxFinding/v1"]`: SHA-256 of advisory id, package URL and
//!   first evidence path, so a result keeps its identity between scans;
//! - `suppressions`: for a finding that a VEX statement marked `not_affected` or `fixed`, one
//!   `external` suppression with status `accepted` whose `justification` gives the statement in
//!   words and where it came from. `properties.vexStatus` is the statement's status. These
//!   results follow the unsuppressed ones.
//!
//! Not written: regions (a package is a whole file), code flows, fixes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ScanReport, write_json_value};
use crate::error::VulnError;
use crate::finding::Finding;
use crate::severity::Severity;
use crate::vex::VexStatement;

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Writes `report` as a SARIF 2.1.0 log.
pub fn write(report: &ScanReport<'_>, writer: &mut dyn Write) -> Result<(), VulnError> {
    write_json_value(&to_value(report), writer)
}

/// Builds the SARIF log as a JSON value.
#[must_use]
pub fn to_value(report: &ScanReport<'_>) -> Value {
    let findings = &report.outcome.findings;
    let suppressed = &report.outcome.suppressed;

    // Rules: one per advisory id, sorted by id; results refer to them by index.
    let mut by_id: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings.iter().chain(suppressed.iter().map(|s| &s.finding)) {
        by_id
            .entry(finding.advisory.id.as_str())
            .or_default()
            .push(finding);
    }
    let rule_index: BTreeMap<&str, usize> =
        by_id.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules: Vec<Value> = by_id.values().map(|group| rule(group)).collect();
    let mut results: Vec<Value> = findings
        .iter()
        .map(|f| result(f, rule_index[f.advisory.id.as_str()]))
        .collect();
    for entry in suppressed {
        let finding = &entry.finding;
        let mut result = result(finding, rule_index[finding.advisory.id.as_str()]);
        result["suppressions"] = json!([suppression(&entry.statement)]);
        result["properties"]["vexStatus"] = json!(entry.statement.status.label());
        results.push(result);
    }

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "clearbox",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}

/// Builds the rule for one advisory from the findings that name it (at least one).
fn rule(group: &[&Finding]) -> Value {
    let advisory = &group[0].advisory;
    let summary = advisory.summary.as_deref().unwrap_or(&advisory.id);
    let mut fixed: Vec<&str> = group
        .iter()
        .flat_map(|f| f.advisory.fixed_versions.iter().map(String::as_str))
        .collect();
    fixed.sort_unstable();
    fixed.dedup();
    let fixed_text = if fixed.is_empty() {
        "No fixed version is known.".to_owned()
    } else {
        format!("Fixed in: {}.", fixed.join(", "))
    };
    let mut help = format!("{summary}\n\n{fixed_text}");
    if !advisory.aliases.is_empty() {
        let _ = write!(help, "\nAliases: {}.", advisory.aliases.join(", "));
    }

    let mut properties = json!({ "tags": ["security", "vulnerability"] });
    if let Some(cvss) = &advisory.cvss {
        properties["security-severity"] = json!(format!("{:.1}", cvss.base_score));
    }
    let mut rule = json!({
        "id": advisory.id,
        "shortDescription": { "text": summary },
        "help": { "text": help },
        "properties": properties,
    });
    let help_uri = advisory
        .references
        .iter()
        .find(|r| r.kind == "ADVISORY")
        .or_else(|| advisory.references.first());
    if let Some(reference) = help_uri {
        rule["helpUri"] = json!(reference.url);
    }
    rule
}

fn result(finding: &Finding, rule_index: usize) -> Value {
    let advisory = &finding.advisory;
    let package = &finding.package;
    let fixed = if advisory.fixed_versions.is_empty() {
        "no fixed version is known".to_owned()
    } else {
        format!("fixed in {}", advisory.fixed_versions.join(", "))
    };
    let message = format!(
        "{} {} ({}) is affected by {} ({} severity); {}.",
        package.name, package.version, package.ecosystem, advisory.id, advisory.severity, fixed
    );
    let logical = json!([{
        "name": package.name,
        "fullyQualifiedName": package.purl,
        "kind": "package",
    }]);
    let locations: Vec<Value> = if package.locations.is_empty() {
        vec![json!({ "logicalLocations": logical })]
    } else {
        package
            .locations
            .iter()
            .map(|location| {
                json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": relative_uri(&location.path) }
                    },
                    "logicalLocations": logical,
                })
            })
            .collect()
    };
    let first_path = package.locations.first().map_or("", |l| l.path.as_str());
    json!({
        "ruleId": advisory.id,
        "ruleIndex": rule_index,
        "level": if finding.status.is_vulnerable() { level(advisory.severity) } else { "none" },
        "properties": { "status": finding.status.name() },
        "message": { "text": message },
        "locations": locations,
        "partialFingerprints": {
            "clearboxFinding/v1": fingerprint(&[&advisory.id, &package.purl, first_path]),
        },
    })
}

/// Builds an external, accepted suppression for a VEX statement. Its justification is the
/// statement's meaning in words, its impact statement, and the document and field it came from.
fn suppression(statement: &VexStatement) -> Value {
    let mut justification = statement.status.to_string();
    let mut separator = ": ";
    if let Some(label) = &statement.justification {
        let _ = write!(justification, "{separator}{}", label.replace('_', " "));
        separator = "; ";
    }
    if let Some(impact) = &statement.impact {
        let _ = write!(justification, "{separator}{impact}");
    }
    let _ = write!(
        justification,
        " (VEX statement `{}` in `{}`)",
        statement.location(),
        statement.document
    );
    json!({"kind": "external", "status": "accepted", "justification": justification})
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// SHA-256 over the parts, each followed by a NUL byte so that no two part lists collide.
fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Converts an image path to a relative URI reference. The leading `/` is dropped, and every
/// byte outside RFC 3986's unreserved set and the path punctuation `/!$&'()*+,;=:@` is
/// percent-encoded.
fn relative_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for &byte in path.trim_start_matches('/').as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    // A first segment with `:` would read as a URI scheme.
    if uri.split('/').next().is_some_and(|s| s.contains(':')) {
        uri.insert_str(0, "./");
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_uri_strips_root_and_encodes() {
        assert_eq!(relative_uri("/usr/bin/age"), "usr/bin/age");
        assert_eq!(relative_uri("/opt/my app/x%y"), "opt/my%20app/x%25y");
        assert_eq!(relative_uri("/a:b/c"), "./a:b/c");
    }

    #[test]
    fn levels() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(level(Severity::Unknown), "note");
    }

    #[test]
    fn fingerprint_parts_do_not_run_together() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
