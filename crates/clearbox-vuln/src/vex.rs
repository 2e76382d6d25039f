//! Reading VEX documents and suppressing the findings they mark `not_affected` or `fixed`.
//!
//! Formats: OpenVEX 0.2.0 and 0.0.1 (the `openvex` module) and CycloneDX 1.4 to 1.6 VEX (the
//! `cyclonedx` module). A document is read whole and checked before any of its statements is
//! used: an invalid statement rejects the document, naming the statement.
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

mod cyclonedx;
pub(crate) mod justification;
mod openvex;

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

use clearbox_catalog::{Purl, printable};
use serde::Serialize;
use serde_json::Value;

use crate::error::VulnError;
use crate::finding::{Finding, MatchOutcome};

/// Maximum size of a VEX document: 16 MiB. A document is parsed whole in memory, and one
/// statement takes a few hundred bytes.
pub const MAX_VEX_BYTES: u64 = 16 * 1024 * 1024;

/// Maximum length of an impact statement in a one-line description, in characters.
const MAX_IMPACT_CHARS: usize = 200;

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

    /// Returns the OpenVEX label: `not_affected`, `affected`, `fixed`, `under_investigation`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// Writes the status in words: `not affected`, `affected`, `fixed`, `under investigation`.
impl fmt::Display for VexStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&justification::words(self.label()))
    }
}

/// The format a statement was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VexFormat {
    /// OpenVEX.
    #[serde(rename = "openvex")]
    OpenVex,
    /// CycloneDX VEX.
    #[serde(rename = "cyclonedx")]
    CycloneDx,
}

/// One statement, as read from a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexStatement {
    /// The document it came from, as the caller named it.
    pub document: String,
    /// The format of that document.
    pub format: VexFormat,
    /// Position of the statement in the document (`statements[i]` or `vulnerabilities[i]`).
    pub index: usize,
    /// Vulnerability id.
    pub vulnerability: String,
    /// Other ids of the vulnerability.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Status.
    pub status: VexStatus,
    /// OpenVEX `justification` or CycloneDX `analysis.justification`, as the document spells
    /// it. The reader accepts only the labels of the document's format.
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

impl VexStatement {
    /// Returns the statement's field in its document: `statements[3]` or `vulnerabilities[3]`.
    #[must_use]
    pub fn location(&self) -> String {
        match self.format {
            VexFormat::OpenVex => format!("statements[{}]", self.index),
            VexFormat::CycloneDx => format!("vulnerabilities[{}]", self.index),
        }
    }

    /// Describes the statement in words: the status, then the justification or else the impact
    /// statement, such as `not affected: vulnerable code not present`. Control characters in
    /// the impact statement are escaped, and it is cut at 200 characters.
    #[must_use]
    pub fn describe(&self) -> String {
        let reason = match (&self.justification, &self.impact) {
            (Some(label), _) => justification::words(label),
            (None, Some(impact)) => printable(impact, MAX_IMPACT_CHARS),
            (None, None) => return self.status.to_string(),
        };
        format!("{}: {reason}", self.status)
    }

    /// Returns the OpenVEX justification label with the meaning of the statement's, if any.
    #[must_use]
    pub fn openvex_justification(&self) -> Option<&'static str> {
        justification::to_openvex(self.format, self.justification.as_deref()?)
    }

    /// Returns the CycloneDX justification value with the meaning of the statement's, if any.
    #[must_use]
    pub fn cyclonedx_justification(&self) -> Option<&'static str> {
        justification::to_cyclonedx(self.format, self.justification.as_deref()?)
    }
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
    ///
    /// The file must be a regular file of at most [`MAX_VEX_BYTES`]: a FIFO, a device or a
    /// directory is an error, raised without waiting for a FIFO writer.
    pub fn load(&mut self, path: &Path) -> Result<usize, VulnError> {
        let bytes = clearbox_oci::read_regular_file(path, MAX_VEX_BYTES).map_err(|source| {
            VulnError::ReadVex {
                path: path.to_owned(),
                source,
            }
        })?;
        self.add_document(&path.display().to_string(), &bytes)
    }

    /// Reads one document from bytes; `name` identifies it in reports and errors.
    pub fn add_document(&mut self, name: &str, bytes: &[u8]) -> Result<usize, VulnError> {
        let invalid = |reason: String| VulnError::InvalidVex {
            document: name.to_owned(),
            reason,
        };
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let statements = if value.get("statements").is_some() || value.get("@context").is_some() {
            openvex::statements(name, &value).map_err(invalid)?
        } else if value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            cyclonedx::statements(name, &value).map_err(invalid)?
        } else {
            return Err(invalid(
                "neither an OpenVEX document (`@context`, `statements`) nor a CycloneDX BOM \
                 (`bomFormat`)"
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

fn parse_purl(text: &str) -> Result<Purl, String> {
    text.parse::<Purl>()
        .map_err(|e| format!("product `{text}` is not a package URL: {e}"))
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
    fn statements_are_described_in_words() {
        let document = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": "CVE-1", "products": [], "status": "not_affected",
             "justification": "vulnerable_code_not_present"},
            {"vulnerability": "CVE-2", "products": [], "status": "not_affected",
             "impact_statement": "the parser\nis never called"},
            {"vulnerability": "CVE-3", "products": [], "status": "fixed"}]}"#;
        let mut set = VexSet::new();
        set.add_document("a.json", document).unwrap();
        let described: Vec<String> = set
            .statements()
            .iter()
            .map(VexStatement::describe)
            .collect();
        assert_eq!(
            described,
            [
                "not affected: vulnerable code not present",
                "not affected: the parser\\u{a}is never called",
                "fixed",
            ]
        );
        assert_eq!(set.statements()[2].location(), "statements[2]");
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
