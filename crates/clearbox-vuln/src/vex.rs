//! Reading VEX documents and suppressing the findings they mark `not_affected` or `fixed`.
//!
//! Formats:
//! - OpenVEX 0.2.0 (<https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md>), and the
//!   0.0.1 spellings (`vulnerability` as a string, products as strings, statement-level
//!   `subcomponents`);
//! - CycloneDX VEX, any 1.4 to 1.6 document with `vulnerabilities[].analysis`
//!   (<https://cyclonedx.org/docs/1.6/json/#vulnerabilities>). Analysis states map as
//!   `not_affected` and `false_positive` → not affected, `resolved` and
//!   `resolved_with_pedigree` → fixed, `exploitable` → affected, `in_triage` → under
//!   investigation.
//!
//! A statement applies to a finding when its vulnerability name or one of its aliases is the
//! finding's id or one of the finding's aliases, and one of its products is the finding's
//! package. A product is the package when its purl has the same type, namespace and name, the
//! same version if it gives one, and the same value for each qualifier it gives. A product that
//! is the scanned image (`pkg:oci/…@sha256:…` with the image's digest) covers the packages
//! listed as its `subcomponents`, or every package when it lists none.
//!
//! Of several statements for one finding, the latest wins (statement `timestamp`, else the
//! document's; later in the input order on a tie), as OpenVEX specifies. A finding is
//! suppressed when the winning status is `not_affected` or `fixed`.

use std::cmp::Ordering;
use std::path::Path;

use clearbox_catalog::Purl;
use serde::Serialize;
use serde_json::Value;

use crate::error::VulnError;
use crate::finding::{Finding, MatchOutcome};

/// A statement's status, in OpenVEX terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// The product is not affected.
    NotAffected,
    /// The product is affected.
    Affected,
    /// The product contains a fix.
    Fixed,
    /// Not known yet.
    UnderInvestigation,
}

impl VexStatus {
    /// Whether this status suppresses a finding.
    #[must_use]
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

/// One statement, as read from a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexStatement {
    /// The document it came from, as the caller named it.
    pub document: String,
    /// Position of the statement in the document (`statements[i]` or `vulnerabilities[i]`).
    pub index: usize,
    /// Vulnerability id.
    pub vulnerability: String,
    /// Other ids of the vulnerability.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Status.
    pub status: VexStatus,
    /// OpenVEX `justification` or CycloneDX `analysis.justification`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// OpenVEX `impact_statement` or CycloneDX `analysis.detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// RFC 3339 time of the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip)]
    products: Vec<Product>,
}

#[derive(Debug, Clone, PartialEq)]
struct Product {
    purl: Purl,
    subcomponents: Vec<Purl>,
}

/// A finding that a VEX statement suppressed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    /// The finding as matched.
    pub finding: Finding,
    /// The statement that suppressed it.
    pub statement: VexStatement,
}

/// Statements from any number of documents.
#[derive(Debug, Clone, Default)]
pub struct VexSet {
    statements: Vec<VexStatement>,
}

impl VexSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> VexSet {
        VexSet::default()
    }

    /// Returns the statements read so far.
    #[must_use]
    pub fn statements(&self) -> &[VexStatement] {
        &self.statements
    }

    /// Reads an OpenVEX or CycloneDX VEX JSON file; returns how many statements it added.
    pub fn load(&mut self, path: &Path) -> Result<usize, VulnError> {
        let bytes = std::fs::read(path).map_err(|source| VulnError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.add_document(&path.display().to_string(), &bytes)
    }

    /// Reads one document from bytes; `name` identifies it in reports.
    pub fn add_document(&mut self, name: &str, bytes: &[u8]) -> Result<usize, VulnError> {
        let invalid = |reason: String| VulnError::InvalidVex {
            document: name.to_owned(),
            reason,
        };
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let statements = if value.get("statements").is_some() {
            openvex_statements(name, &value).map_err(invalid)?
        } else if value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            cyclonedx_statements(name, &value).map_err(invalid)?
        } else {
            return Err(invalid(
                "neither an OpenVEX document (`statements`) nor a CycloneDX BOM (`bomFormat`)"
                    .to_owned(),
            ));
        };
        let added = statements.len();
        self.statements.extend(statements);
        Ok(added)
    }

    /// Moves the findings that a `not_affected` or `fixed` statement covers from
    /// `outcome.findings` to `outcome.suppressed`. `image_digest` is the scanned image's
    /// digest (`sha256:…`), for statements whose product is the image.
    pub fn apply(&self, outcome: &mut MatchOutcome, image_digest: Option<&str>) {
        let findings = std::mem::take(&mut outcome.findings);
        for finding in findings {
            match self.winning_statement(&finding, image_digest) {
                Some(statement) if statement.status.suppresses() => {
                    outcome.suppressed.push(Suppressed {
                        finding,
                        statement: statement.clone(),
                    });
                }
                _ => outcome.findings.push(finding),
            }
        }
    }

    fn winning_statement(
        &self,
        finding: &Finding,
        image_digest: Option<&str>,
    ) -> Option<&VexStatement> {
        let Ok(package) = finding.package.purl.parse::<Purl>() else {
            return None;
        };
        let mut ids = vec![finding.advisory.id.as_str()];
        ids.extend(finding.advisory.aliases.iter().map(String::as_str));
        self.statements
            .iter()
            .filter(|s| {
                std::iter::once(&s.vulnerability)
                    .chain(&s.aliases)
                    .any(|v| ids.contains(&v.as_str()))
            })
            .filter(|s| s.products.iter().any(|p| p.covers(&package, image_digest)))
            .max_by(|a, b| compare_times(a.timestamp.as_deref(), b.timestamp.as_deref()))
    }
}

/// Orders two optional RFC 3339 times; a missing time is the oldest, and equal times keep
/// input order (so `max_by` picks the later statement).
fn compare_times(a: Option<&str>, b: Option<&str>) -> Ordering {
    let parse = |t: Option<&str>| t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    parse(a).cmp(&parse(b))
}

impl Product {
    fn covers(&self, package: &Purl, image_digest: Option<&str>) -> bool {
        if self.purl.ty == "oci" {
            let is_image = image_digest.is_some()
                && self
                    .purl
                    .version
                    .as_deref()
                    .map(|v| v.replace("%3A", ":"))
                    .as_deref()
                    == image_digest;
            return is_image
                && (self.subcomponents.is_empty()
                    || self.subcomponents.iter().any(|s| purl_covers(s, package)));
        }
        purl_covers(&self.purl, package)
    }
}

/// Whether the statement purl `pattern` names `package` (see the module documentation).
fn purl_covers(pattern: &Purl, package: &Purl) -> bool {
    pattern.ty == package.ty
        && pattern.namespace == package.namespace
        && pattern.name == package.name
        && pattern
            .version
            .as_ref()
            .is_none_or(|v| package.version.as_ref() == Some(v))
        && pattern
            .qualifiers
            .iter()
            .all(|(k, v)| package.qualifiers.get(k) == Some(v))
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_purl(text: &str, document: &str) -> Result<Purl, String> {
    text.parse::<Purl>()
        .map_err(|e| format!("{document}: product `{text}` is not a package URL: {e}"))
}

/// A product or subcomponent: `{"@id": purl}`, `{"identifiers": {"purl": …}}` or a string.
fn product_purl(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| {
        value
            .get("identifiers")
            .and_then(|i| i.get("purl"))
            .and_then(Value::as_str)
            .or_else(|| value.get("@id").and_then(Value::as_str))
    })
}

fn openvex_statements(name: &str, document: &Value) -> Result<Vec<VexStatement>, String> {
    let document_time = text(document, "timestamp");
    let statements = document
        .get("statements")
        .and_then(Value::as_array)
        .ok_or("`statements` is not an array")?;
    let mut out = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let at = |reason: &str| format!("statements[{index}]: {reason}");
        let vulnerability = statement
            .get("vulnerability")
            .ok_or_else(|| at("no `vulnerability`"))?;
        let (id, aliases) = match vulnerability {
            Value::String(id) => (id.clone(), Vec::new()),
            object => {
                let id = text(object, "name").ok_or_else(|| at("`vulnerability` has no `name`"))?;
                let aliases = object
                    .get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                (id, aliases)
            }
        };
        let status = match statement.get("status").and_then(Value::as_str) {
            Some("not_affected") => VexStatus::NotAffected,
            Some("affected") => VexStatus::Affected,
            Some("fixed") => VexStatus::Fixed,
            Some("under_investigation") => VexStatus::UnderInvestigation,
            other => return Err(at(&format!("unknown status {other:?}"))),
        };
        let shared: Vec<Purl> = statement
            .get("subcomponents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(product_purl)
            .map(|p| parse_purl(p, name))
            .collect::<Result<_, _>>()?;
        let mut products = Vec::new();
        for product in statement
            .get("products")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let purl = product_purl(product).ok_or_else(|| at("a product has no `@id`"))?;
            let mut subcomponents: Vec<Purl> = product
                .get("subcomponents")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(product_purl)
                .map(|p| parse_purl(p, name))
                .collect::<Result<_, _>>()?;
            subcomponents.extend(shared.iter().cloned());
            products.push(Product {
                purl: parse_purl(purl, name)?,
                subcomponents,
            });
        }
        out.push(VexStatement {
            document: name.to_owned(),
            index,
            vulnerability: id,
            aliases,
            status,
            justification: text(statement, "justification"),
            impact: text(statement, "impact_statement"),
            timestamp: text(statement, "timestamp").or_else(|| document_time.clone()),
            products,
        });
    }
    Ok(out)
}

/// Collects `bom-ref → purl` from `metadata.component` and `components`, recursively.
fn bom_refs(value: &Value, out: &mut Vec<(String, String)>) {
    if let (Some(reference), Some(purl)) = (text(value, "bom-ref"), text(value, "purl")) {
        out.push((reference, purl));
    }
    for child in value
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        bom_refs(child, out);
    }
}

fn cyclonedx_statements(name: &str, document: &Value) -> Result<Vec<VexStatement>, String> {
    let mut refs = Vec::new();
    if let Some(component) = document.get("metadata").and_then(|m| m.get("component")) {
        bom_refs(component, &mut refs);
    }
    bom_refs(document, &mut refs);
    let document_time = document.get("metadata").and_then(|m| text(m, "timestamp"));
    let mut out = Vec::new();
    for (index, vulnerability) in document
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = |reason: &str| format!("vulnerabilities[{index}]: {reason}");
        let id = text(vulnerability, "id").ok_or_else(|| at("no `id`"))?;
        let Some(analysis) = vulnerability.get("analysis") else {
            continue;
        };
        let status = match analysis.get("state").and_then(Value::as_str) {
            Some("not_affected" | "false_positive") => VexStatus::NotAffected,
            Some("resolved" | "resolved_with_pedigree") => VexStatus::Fixed,
            Some("exploitable") => VexStatus::Affected,
            Some("in_triage") => VexStatus::UnderInvestigation,
            None => continue,
            Some(other) => return Err(at(&format!("unknown analysis state `{other}`"))),
        };
        let aliases = vulnerability
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| text(r, "id"))
            .collect();
        let mut products = Vec::new();
        for affect in vulnerability
            .get("affects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(reference) = text(affect, "ref") else {
                continue;
            };
            // A BOM-Link names a bom-ref after `#`; a plain ref is a bom-ref or a purl.
            let local = reference
                .rsplit_once('#')
                .map_or(reference.as_str(), |(_, r)| r);
            let purl = refs
                .iter()
                .find(|(r, _)| r == local)
                .map(|(_, purl)| purl.clone())
                .or_else(|| local.starts_with("pkg:").then(|| local.to_owned()));
            if let Some(purl) = purl {
                products.push(Product {
                    purl: parse_purl(&purl, name)?,
                    subcomponents: Vec::new(),
                });
            }
        }
        out.push(VexStatement {
            document: name.to_owned(),
            index,
            vulnerability: id,
            aliases,
            status,
            justification: text(analysis, "justification"),
            impact: text(analysis, "detail"),
            timestamp: text(analysis, "lastUpdated")
                .or_else(|| text(vulnerability, "updated"))
                .or_else(|| document_time.clone()),
            products,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purl(text: &str) -> Purl {
        text.parse().unwrap()
    }

    #[test]
    fn purl_cover_table() {
        let package = purl("pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=alpine-3.11.5");
        let cases = [
            ("pkg:apk/alpine/musl", true),
            ("pkg:apk/alpine/musl@1.1.24-r2", true),
            ("pkg:apk/alpine/musl@1.1.24-r3", false),
            ("pkg:apk/alpine/musl?arch=x86_64", true),
            ("pkg:apk/alpine/musl?arch=aarch64", false),
            ("pkg:apk/alpine/busybox", false),
            ("pkg:deb/alpine/musl", false),
        ];
        for (pattern, expected) in cases {
            assert_eq!(purl_covers(&purl(pattern), &package), expected, "{pattern}");
        }
    }

    #[test]
    fn openvex_reads_both_spellings() {
        let document =
            br#"{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2024-01-01T00:00:00Z",
          "statements": [
            {"vulnerability": {"name": "CVE-2019-14697", "aliases": ["GHSA-x"]},
             "products": [{"@id": "pkg:apk/alpine/musl"}], "status": "not_affected",
             "justification": "vulnerable_code_not_present"},
            {"vulnerability": "CVE-2020-1", "products": ["pkg:oci/app@sha256%3Aabc"],
             "subcomponents": ["pkg:apk/alpine/zlib"], "status": "fixed"}]}"#;
        let mut set = VexSet::new();
        assert_eq!(set.add_document("a.json", document).unwrap(), 2);
        let statements = set.statements();
        assert_eq!(statements[0].aliases, ["GHSA-x"]);
        assert_eq!(
            statements[0].timestamp.as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(statements[1].status, VexStatus::Fixed);
        let zlib = purl("pkg:apk/alpine/zlib@1.2.11-r3");
        assert!(statements[1].products[0].covers(&zlib, Some("sha256:abc")));
        assert!(!statements[1].products[0].covers(&zlib, Some("sha256:def")));
    }

    #[test]
    fn cyclonedx_resolves_bom_refs() {
        let document = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
          "components": [{"bom-ref": "musl-1", "purl": "pkg:apk/alpine/musl@1.1.24-r2"}],
          "vulnerabilities": [
            {"id": "CVE-2019-14697", "analysis": {"state": "false_positive"},
             "affects": [{"ref": "urn:cdx:1234/1#musl-1"}]},
            {"id": "CVE-2020-2", "analysis": {"state": "in_triage"}, "affects": [{"ref": "pkg:npm/x@1"}]},
            {"id": "CVE-2020-3"}]}"#;
        let mut set = VexSet::new();
        assert_eq!(set.add_document("b.json", document).unwrap(), 2);
        let statements = set.statements();
        assert_eq!(statements[0].status, VexStatus::NotAffected);
        assert_eq!(
            statements[0].products[0].purl,
            purl("pkg:apk/alpine/musl@1.1.24-r2")
        );
        assert_eq!(statements[1].status, VexStatus::UnderInvestigation);
    }

    #[test]
    fn unknown_documents_are_rejected() {
        let mut set = VexSet::new();
        assert!(set.add_document("c.json", b"{}").is_err());
        assert!(set.add_document("d.json", b"not json").is_err());
        let bad_status =
            br#"{"statements": [{"vulnerability": "CVE-1", "products": [], "status": "maybe"}]}"#;
        assert!(set.add_document("e.json", bad_status).is_err());
    }
}
