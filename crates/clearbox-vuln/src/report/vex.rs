//! Findings written as VEX documents: OpenVEX 0.2.0 and CycloneDX 1.6 VEX.
//!
//! Statuses: an `affected` finding is OpenVEX `affected` (CycloneDX `exploitable`) with an
//! action statement naming the fixed versions; a `will-not-fix` finding is `affected` with the
//! distribution's reason; a `not-affected` finding is `not_affected` with the reason as impact
//! statement. An advisory that names a package but whose range could not be checked
//! ([`MatchNote::RangeSkipped`]) is `under_investigation` (CycloneDX `in_triage`).
//!
//! Determinism: statements follow the report's finding order, the timestamp is the caller's
//! (the scanned image's creation time), and the document id is a SHA-256 over the document with
//! an empty id, so one scan of one image always gives the same bytes.

use std::io::Write;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ScanReport, ScanSourceKind, write_json_value};
use crate::error::VulnError;
use crate::finding::{Finding, FindingStatus, MatchNote};

/// The product the statements are about: `pkg:oci/NAME@DIGEST` for an image with a digest,
/// else the scanned name.
fn product_id(report: &ScanReport<'_>) -> String {
    let source = report.source;
    match (&source.kind, &source.digest) {
        (ScanSourceKind::Image, Some(digest)) => {
            let name = source
                .name
                .rsplit('/')
                .next()
                .unwrap_or(&source.name)
                .split([':', '@'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            format!("pkg:oci/{name}@{}", digest.replace(':', "%3A"))
        }
        _ => source.name.clone(),
    }
}

fn action(finding: &Finding) -> String {
    match (finding.status, finding.advisory.fixed_versions.as_slice()) {
        (FindingStatus::WillNotFix, _) => format!(
            "no fix planned by the distribution ({})",
            finding.status_reason.as_deref().unwrap_or("will not fix")
        ),
        (_, []) => "no fixed version is known; mitigate or remove the package".to_owned(),
        (_, fixed) => format!("update {} to {}", finding.package.name, fixed.join(" or ")),
    }
}

fn openvex_statement(finding: &Finding, product: &str, timestamp: &str) -> Value {
    let mut statement = json!({
        "vulnerability": {"name": finding.advisory.id, "aliases": finding.advisory.aliases},
        "timestamp": timestamp,
        "products": [{"@id": product, "subcomponents": [{"@id": finding.package.purl}]}],
    });
    let fields = match finding.status {
        FindingStatus::NotAffected => json!({
            "status": "not_affected",
            "impact_statement": finding.status_reason.clone().unwrap_or_default(),
        }),
        _ => json!({"status": "affected", "action_statement": action(finding)}),
    };
    merge(&mut statement, fields);
    statement
}

fn merge(target: &mut Value, fields: Value) {
    if let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) {
        target.extend(fields);
    }
}

/// Writes an OpenVEX document with one statement per finding and per skipped range.
pub fn write_openvex(
    report: &ScanReport<'_>,
    timestamp: &str,
    writer: &mut dyn Write,
) -> Result<(), VulnError> {
    let product = product_id(report);
    let mut statements: Vec<Value> = report
        .outcome
        .findings
        .iter()
        .map(|f| openvex_statement(f, &product, timestamp))
        .collect();
    for note in &report.outcome.notes {
        if let MatchNote::RangeSkipped {
            advisory,
            purl,
            reason,
            ..
        } = note
        {
            statements.push(json!({
                "vulnerability": {"name": advisory},
                "timestamp": timestamp,
                "products": [{"@id": product, "subcomponents": [{"@id": purl}]}],
                "status": "under_investigation",
                "status_notes": format!("the advisory's range could not be checked: {reason}"),
            }));
        }
    }
    let mut document = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "",
        "author": "clearbox",
        "role": "scanner",
        "timestamp": timestamp,
        "version": 1,
        "tooling": concat!("clearbox ", env!("CARGO_PKG_VERSION")),
        "statements": statements,
    });
    let digest = hex::encode(Sha256::digest(document.to_string().as_bytes()));
    document["@id"] = json!(format!("urn:clearbox:openvex:sha256:{digest}"));
    write_json_value(&document, writer)
}

/// Writes a CycloneDX 1.6 BOM with one component per affected package and one vulnerability
/// per finding and per skipped range.
pub fn write_cyclonedx_vex(
    report: &ScanReport<'_>,
    timestamp: &str,
    writer: &mut dyn Write,
) -> Result<(), VulnError> {
    let mut components: Vec<Value> = Vec::new();
    let mut add_component = |purl: &str, name: &str, version: Option<&str>| {
        if !components.iter().any(|c| c["bom-ref"] == purl) {
            let mut component =
                json!({"type": "library", "bom-ref": purl, "name": name, "purl": purl});
            if let Some(version) = version {
                component["version"] = json!(version);
            }
            components.push(component);
        }
    };
    let mut vulnerabilities = Vec::new();
    for finding in &report.outcome.findings {
        let package = &finding.package;
        add_component(&package.purl, &package.name, Some(&package.version));
        let (state, detail) = match finding.status {
            FindingStatus::NotAffected => (
                "not_affected",
                finding.status_reason.clone().unwrap_or_default(),
            ),
            _ => ("exploitable", action(finding)),
        };
        let references: Vec<Value> = finding
            .advisory
            .aliases
            .iter()
            .map(|alias| json!({"id": alias, "source": {"name": "alias"}}))
            .collect();
        let mut vulnerability = json!({
            "bom-ref": format!("{}@{}", finding.advisory.id, package.purl),
            "id": finding.advisory.id,
            "analysis": {"state": state, "detail": detail},
            "affects": [{"ref": package.purl}],
        });
        if !references.is_empty() {
            vulnerability["references"] = json!(references);
        }
        vulnerabilities.push(vulnerability);
    }
    for note in &report.outcome.notes {
        if let MatchNote::RangeSkipped {
            advisory,
            package,
            purl,
            reason,
        } = note
        {
            add_component(purl, package, None);
            vulnerabilities.push(json!({
                "bom-ref": format!("{advisory}@{purl}"),
                "id": advisory,
                "analysis": {"state": "in_triage",
                             "detail": format!("the advisory's range could not be checked: {reason}")},
                "affects": [{"ref": purl}],
            }));
        }
    }
    let mut document = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "",
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "clearbox",
                                      "version": env!("CARGO_PKG_VERSION")}]},
            "component": {"type": "container", "bom-ref": product_id(report),
                          "name": report.source.name},
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    });
    let hash = Sha256::digest(document.to_string().as_bytes());
    document["serialNumber"] = json!(format!("urn:uuid:{}", uuid_from(&hash)));
    write_json_value(&document, writer)
}

/// Formats the first 16 bytes of a hash as an RFC 9562 version 8 UUID.
fn uuid_from(hash: &[u8]) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
