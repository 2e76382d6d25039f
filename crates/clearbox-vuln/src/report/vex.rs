//! Findings written as VEX documents: OpenVEX 0.2.0 and CycloneDX 1.6 VEX.
//!
//! Statuses: an `affected` finding is OpenVEX `affected` (CycloneDX `exploitable`) with an
//! action statement naming the fixed versions; a `will-not-fix` finding is `affected` with the
//! distribution's reason; a `not-affected` finding is `not_affected` with the reason as impact
//! statement. An advisory that names a package but whose range could not be checked
//! ([`MatchNote::RangeSkipped`]) is `under_investigation` (CycloneDX `in_triage`).
//!
//! A finding that an input VEX statement suppressed keeps that statement: `not_affected` or
//! `fixed` (CycloneDX `not_affected` or `resolved`), its justification, its impact statement,
//! and its time when it has a valid one. A justification label without a counterpart in the
//! output format is written in words in the impact statement (CycloneDX `detail`).
//! `status_notes` (CycloneDX `detail`) name the input document and statement.
//!
//! Product: the caller's package URL for the scanned thing when it has one (an SBOM's subject),
//! else `pkg:oci/NAME@DIGEST` for an image with a digest. Each statement names the package as a
//! subcomponent of that product. Without a product, each statement names the package itself.
//!
//! Determinism: statements follow the report's finding order, then the suppressed findings in
//! their order. The timestamp is the caller's, and the document id is a SHA-256 over the
//! document with an empty id. So one scan of one input gives the same bytes for one timestamp.

use std::io::Write;

use clearbox_catalog::Purl;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ScanReport, ScanSourceKind, write_json_value};
use crate::error::VulnError;
use crate::finding::{Finding, FindingStatus, MatchNote};
use crate::vex::justification;
use crate::vex::{Suppressed, VexStatement, VexStatus};

/// Document facts of a VEX output that the scan report does not hold.
#[derive(Debug, Clone, Copy)]
pub struct VexDocument<'a> {
    /// RFC 3339 time of the document, and of each statement without a time of its own.
    pub timestamp: &'a str,
    /// Package URL of the scanned thing, such as the subject of a scanned SBOM. `None` takes
    /// `pkg:oci/NAME@DIGEST` for an image with a digest; see the module documentation.
    pub product: Option<&'a str>,
}

/// Image reference prefixes, in skopeo's transport names.
const TRANSPORTS: [&str; 5] = [
    "docker://",
    "oci-archive:",
    "docker-archive:",
    "oci:",
    "dir:",
];

/// Returns the product the statements are about (see the module documentation).
fn product_id(report: &ScanReport<'_>, document: &VexDocument<'_>) -> Option<String> {
    if let Some(product) = document.product {
        return Some(product.to_owned());
    }
    let source = report.source;
    match (&source.kind, &source.digest) {
        (ScanSourceKind::Image, Some(digest)) => {
            // The name is the last path segment of the reference without its transport and tag.
            let reference = TRANSPORTS
                .iter()
                .find_map(|t| source.name.strip_prefix(t))
                .unwrap_or(&source.name);
            let name = reference
                .rsplit('/')
                .next()
                .unwrap_or(reference)
                .split([':', '@'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            Some(format!("pkg:oci/{name}@{}", digest.replace(':', "%3A")))
        }
        _ => None,
    }
}

/// OpenVEX `products` for one package: the package as a subcomponent of the product, or the
/// package alone.
fn openvex_products(product: Option<&str>, purl: &str) -> Value {
    match product {
        Some(product) => json!([{"@id": product, "subcomponents": [{"@id": purl}]}]),
        None => json!([{"@id": purl}]),
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

fn openvex_statement(finding: &Finding, product: Option<&str>, timestamp: &str) -> Value {
    let mut statement = json!({
        "vulnerability": {"name": finding.advisory.id, "aliases": finding.advisory.aliases},
        "timestamp": timestamp,
        "products": openvex_products(product, &finding.package.purl),
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

/// Formats where a suppressing statement came from: `` `vex.json` statements[0] ``.
fn origin(statement: &VexStatement) -> String {
    format!("`{}` {}", statement.document, statement.location())
}

/// Returns the statement's time when it is valid RFC 3339, else `fallback`.
fn statement_time<'a>(statement: &'a VexStatement, fallback: &'a str) -> &'a str {
    statement
        .timestamp
        .as_deref()
        .filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
        .unwrap_or(fallback)
}

/// Writes the statement's reason for a format whose justification label for it is `mapped`:
/// the input label in words when `mapped` is `None`, then the impact statement. Returns `None`
/// when the mapped label is the whole reason.
fn reason_in_words(statement: &VexStatement, mapped: Option<&str>) -> Option<String> {
    let unmapped = statement
        .justification
        .as_deref()
        .filter(|_| mapped.is_none())
        .map(justification::words);
    match (unmapped, &statement.impact) {
        (Some(words), Some(impact)) => Some(format!("{words}: {impact}")),
        (Some(words), None) => Some(words),
        (None, Some(impact)) => Some(impact.clone()),
        (None, None) => None,
    }
}

/// Converts the input statement that suppressed a finding to an OpenVEX statement.
fn openvex_suppressed(entry: &Suppressed, product: Option<&str>, timestamp: &str) -> Value {
    let finding = &entry.finding;
    let statement = &entry.statement;
    let mut value = json!({
        "vulnerability": {"name": finding.advisory.id, "aliases": finding.advisory.aliases},
        "timestamp": statement_time(statement, timestamp),
        "products": openvex_products(product, &finding.package.purl),
        "status": statement.status.label(),
    });
    let mut notes = format!("stated in {}", origin(statement));
    let label = statement.openvex_justification();
    if statement.status == VexStatus::NotAffected {
        // OpenVEX requires a justification or an impact statement for `not_affected`.
        let impact = reason_in_words(statement, label).or_else(|| {
            label
                .is_none()
                .then(|| format!("stated not affected in {}", origin(statement)))
        });
        if let Some(label) = label {
            value["justification"] = json!(label);
        }
        if let Some(impact) = impact {
            value["impact_statement"] = json!(impact);
        }
    } else if let Some(detail) = &statement.impact {
        notes = format!("{notes}: {detail}");
    }
    value["status_notes"] = json!(notes);
    value
}

fn merge(target: &mut Value, fields: Value) {
    if let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) {
        target.extend(fields);
    }
}

/// Writes an OpenVEX document with one statement per finding, per suppressed finding and per
/// skipped range.
pub fn write_openvex(
    report: &ScanReport<'_>,
    document: &VexDocument<'_>,
    writer: &mut dyn Write,
) -> Result<(), VulnError> {
    let product = product_id(report, document);
    let product = product.as_deref();
    let timestamp = document.timestamp;
    let mut statements: Vec<Value> = report
        .outcome
        .findings
        .iter()
        .map(|f| openvex_statement(f, product, timestamp))
        .collect();
    statements.extend(
        report
            .outcome
            .suppressed
            .iter()
            .map(|s| openvex_suppressed(s, product, timestamp)),
    );
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
                "products": openvex_products(product, purl),
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

/// Builds the CycloneDX vulnerability of one finding with the given `analysis`.
fn cyclonedx_vulnerability(finding: &Finding, analysis: Value) -> Value {
    let package = &finding.package;
    let references: Vec<Value> = finding
        .advisory
        .aliases
        .iter()
        .map(|alias| json!({"id": alias, "source": {"name": "alias"}}))
        .collect();
    let mut vulnerability = json!({
        "bom-ref": format!("{}@{}", finding.advisory.id, package.purl),
        "id": finding.advisory.id,
        "analysis": null,
        "affects": [{"ref": package.purl}],
    });
    vulnerability["analysis"] = analysis;
    if !references.is_empty() {
        vulnerability["references"] = json!(references);
    }
    vulnerability
}

/// Builds the CycloneDX `analysis` of the input statement that suppressed a finding.
fn cyclonedx_suppressed(statement: &VexStatement) -> Value {
    let stated = format!("stated in {}", origin(statement));
    let (state, label) = match statement.status {
        VexStatus::NotAffected => ("not_affected", statement.cyclonedx_justification()),
        _ => ("resolved", None),
    };
    let reason = match statement.status {
        VexStatus::NotAffected => reason_in_words(statement, label),
        _ => statement.impact.clone(),
    };
    let detail = match reason {
        Some(reason) => format!("{reason} ({stated})"),
        None => stated,
    };
    let mut analysis = json!({"state": state, "detail": detail});
    if let Some(label) = label {
        analysis["justification"] = json!(label);
    }
    if let Some(time) = statement
        .timestamp
        .as_deref()
        .filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
    {
        analysis["lastUpdated"] = json!(time);
    }
    analysis
}

/// Writes a CycloneDX 1.6 BOM with one component per affected package and one vulnerability
/// per finding, per suppressed finding and per skipped range.
pub fn write_cyclonedx_vex(
    report: &ScanReport<'_>,
    document: &VexDocument<'_>,
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
        let analysis = json!({"state": state, "detail": detail});
        vulnerabilities.push(cyclonedx_vulnerability(finding, analysis));
    }
    for entry in &report.outcome.suppressed {
        let package = &entry.finding.package;
        add_component(&package.purl, &package.name, Some(&package.version));
        let analysis = cyclonedx_suppressed(&entry.statement);
        vulnerabilities.push(cyclonedx_vulnerability(&entry.finding, analysis));
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
    let mut metadata = json!({
        "timestamp": document.timestamp,
        "tools": {"components": [{"type": "application", "name": "clearbox",
                                  "version": env!("CARGO_PKG_VERSION")}]},
    });
    if let Some(product) = product_id(report, document) {
        metadata["component"] = subject_component(&product);
    }
    let mut document = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "",
        "version": 1,
        "metadata": metadata,
        "components": components,
        "vulnerabilities": vulnerabilities,
    });
    let hash = Sha256::digest(document.to_string().as_bytes());
    document["serialNumber"] = json!(format!("urn:uuid:{}", uuid_from(&hash)));
    write_json_value(&document, writer)
}

/// Builds the `metadata.component` for the product's package URL: a container for `pkg:oci`,
/// else an application, named after the purl's name.
fn subject_component(product: &str) -> Value {
    let parsed = product.parse::<Purl>().ok();
    let kind = match &parsed {
        Some(purl) if purl.ty == "oci" => "container",
        _ => "application",
    };
    let name = parsed.map_or_else(|| product.to_owned(), |purl| purl.name);
    json!({"type": kind, "bom-ref": product, "name": name, "purl": product})
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
