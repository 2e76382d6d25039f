//! Running the image checks on an image, and the report that `clearbox check image` writes:
//! JSON, a table for people, or SARIF 2.1.0
//! (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).
//!
//! The JSON fields are listed in `docs/image-checks.md`. One image gives one output byte for
//! byte: checks come in catalog order, secrets in config order and then by path and line, and
//! files not scanned by path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use clearbox_oci::{Image, OciError, Progress, ReadOptions};
use serde::Serialize;
use serde_json::{Value, json};

use super::known_binaries::{ImageCheckOptions, known_binaries};
use super::secrets::{
    FileScanner, NotScanned, SecretFinding, SecretScan, passwd_text, scan_config,
};
use super::{CheckOutcome, CheckResult, Evidence, ImageFacts, check_image};
use crate::k8s::sarif::file_uri;

/// Version of the JSON report's shape, raised when a field changes meaning or is removed.
const REPORT_VERSION: u32 = 1;

/// Evidence lines shown per check in the table; the JSON report has all of them.
const MAX_TABLE_EVIDENCE: usize = 10;

/// The `uriBaseId` of file locations in SARIF: the root of the image's merged filesystem.
const IMAGE_ROOT: &str = "IMAGE_ROOT";

const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Every check's result on one image, with the secrets found and the files not scanned.
#[derive(Debug, Clone)]
pub struct ImageReport {
    /// The image reference as given.
    pub image: String,
    /// The manifest digest; `None` for a `docker save` archive or a root filesystem.
    pub manifest_digest: Option<String>,
    /// One result per check, in catalog order.
    pub results: Vec<CheckResult>,
    /// Every secret found, masked.
    pub secrets: Vec<SecretFinding>,
    /// Files whose text was not scanned for secrets.
    pub not_scanned: Vec<NotScanned>,
}

/// Counts of results by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    /// Checks run.
    pub checks: usize,
    /// Checks passed.
    pub pass: usize,
    /// Checks failed.
    pub fail: usize,
    /// Checks that do not apply.
    pub not_applicable: usize,
    /// Checks that lacked the data to decide.
    pub could_not_check: usize,
}

/// Reads the image's layers once and runs every image check on its config, manifest
/// annotations, merged filesystem and file contents.
pub fn run_image_checks(
    image: &Image,
    options: &ReadOptions,
    progress: &dyn Progress,
) -> Result<ImageReport, OciError> {
    // Read the layers: the merged tree, and the secrets in every file up to the size limit.
    let scan = image.scan(&FileScanner, options, progress)?;
    let has_config = image.config_digest.is_some();
    let config_findings = if has_config {
        scan_config(&image.config)
    } else {
        Vec::new()
    };
    let secrets = SecretScan::from_scan(&scan, config_findings, has_config);
    tracing::debug!(
        secrets = secrets.findings.len(),
        files_scanned = secrets.files_scanned,
        not_scanned = secrets.not_scanned.len(),
        "scanned files for secrets"
    );

    // Check.
    let empty = BTreeMap::new();
    let layer_digests: Vec<String> = scan
        .layers
        .iter()
        .map(|layer| layer.diff_id.to_string())
        .collect();
    let facts = ImageFacts {
        config: &image.config,
        annotations: image.manifest.as_ref().map_or(&empty, |m| &m.annotations),
        tree: &scan.tree,
        layer_digests: &layer_digests,
        has_config,
        has_manifest: image.manifest.is_some(),
        passwd: passwd_text(&scan),
        secrets: &secrets,
    };
    let results = check_image(&facts);
    Ok(ImageReport {
        image: image.reference.to_string(),
        manifest_digest: image.manifest_digest.as_ref().map(ToString::to_string),
        results,
        secrets: secrets.findings,
        not_scanned: secrets.not_scanned,
    })
}

/// Runs [`run_image_checks`], and the checks that `checks` turns on. With
/// [`ImageCheckOptions::require_known_binaries`] the image is cataloged too, which reads every
/// layer a second time.
pub fn run_image_checks_with(
    image: &Image,
    options: &ReadOptions,
    progress: &dyn Progress,
    checks: &ImageCheckOptions,
) -> Result<ImageReport, OciError> {
    let mut report = run_image_checks(image, options, progress)?;
    if checks.require_known_binaries {
        let contents = clearbox_catalog::catalog_image(image, options, progress)?;
        let result = known_binaries(&contents.catalog.packages);
        tracing::debug!(
            unowned = result.evidence.iter().filter(|e| e.violation).count(),
            "checked that every executable is accounted for"
        );
        report.results.push(result);
    }
    Ok(report)
}

/// The JSON document, in field order.
#[derive(Serialize)]
struct JsonReport<'a> {
    report_version: u32,
    image: &'a str,
    manifest_digest: Option<&'a str>,
    summary: ImageSummary,
    results: &'a [CheckResult],
    secrets: &'a [SecretFinding],
    not_scanned: &'a [NotScanned],
}

impl ImageReport {
    /// Counts the results by outcome.
    #[must_use]
    pub fn summary(&self) -> ImageSummary {
        let count = |outcome| self.results.iter().filter(|r| r.outcome == outcome).count();
        ImageSummary {
            checks: self.results.len(),
            pass: count(CheckOutcome::Pass),
            fail: count(CheckOutcome::Fail),
            not_applicable: count(CheckOutcome::NotApplicable),
            could_not_check: count(CheckOutcome::CouldNotCheck),
        }
    }

    /// Returns true when any check failed.
    #[must_use]
    pub fn has_failures(&self) -> bool {
        self.results.iter().any(|r| r.outcome == CheckOutcome::Fail)
    }

    /// Writes the JSON report with a trailing newline.
    pub fn write_json(&self, writer: &mut dyn Write) -> std::io::Result<()> {
        let report = JsonReport {
            report_version: REPORT_VERSION,
            image: &self.image,
            manifest_digest: self.manifest_digest.as_deref(),
            summary: self.summary(),
            results: &self.results,
            secrets: &self.secrets,
            not_scanned: &self.not_scanned,
        };
        serde_json::to_writer_pretty(&mut *writer, &report)?;
        writeln!(writer)
    }

    /// Writes the table: one line per check with its evidence below it, then the counts.
    pub fn write_table(&self, writer: &mut dyn Write) -> std::io::Result<()> {
        let mut out = String::new();
        let _ = writeln!(out, "image: {}", printable(&self.image));
        if let Some(digest) = &self.manifest_digest {
            let _ = writeln!(out, "manifest digest: {digest}");
        }
        let id_width = self.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "\n{:<15}  {:<id_width$}  {:<4}  TITLE",
            "RESULT", "CHECK", "CIS"
        );
        for result in &self.results {
            let _ = writeln!(
                out,
                "{:<15}  {:<id_width$}  {:<4}  {}",
                result.outcome.label(),
                result.id,
                result.cis.unwrap_or("-"),
                result.title
            );
            for evidence in result.evidence.iter().take(MAX_TABLE_EVIDENCE) {
                let _ = writeln!(out, "    {}", printable(&evidence.text));
            }
            if result.evidence.len() > MAX_TABLE_EVIDENCE {
                let _ = writeln!(
                    out,
                    "    and {} more lines of evidence (--format json lists every one)",
                    result.evidence.len() - MAX_TABLE_EVIDENCE
                );
            }
        }
        let summary = self.summary();
        let _ = writeln!(
            out,
            "\n{} checks: {} passed, {} failed, {} not applicable, {} could not check; {} secrets \
             found, {} files not scanned for secrets",
            summary.checks,
            summary.pass,
            summary.fail,
            summary.not_applicable,
            summary.could_not_check,
            self.secrets.len(),
            self.not_scanned.len()
        );
        writer.write_all(out.as_bytes())
    }

    /// Writes the SARIF 2.1.0 log with a trailing newline.
    pub fn write_sarif(&self, writer: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *writer, &self.to_sarif())?;
        writeln!(writer)
    }

    /// Builds the SARIF log: every check is a rule, and every fact that makes a check fail is
    /// a result of level `error`. Passed and undecided checks have no results, since SARIF
    /// consumers treat every result as a finding.
    #[must_use]
    pub fn to_sarif(&self) -> Value {
        let rules: Vec<Value> = self.results.iter().map(sarif_rule).collect();
        let mut results = Vec::new();
        for (index, check) in self.results.iter().enumerate() {
            if check.outcome != CheckOutcome::Fail {
                continue;
            }
            let violations: Vec<&Evidence> =
                check.evidence.iter().filter(|e| e.violation).collect();
            if violations.is_empty() {
                let first = check.evidence.first().map_or("", |e| e.text.as_str());
                results.push(self.sarif_result(check, index, &Evidence::note(first)));
            }
            for evidence in violations {
                results.push(self.sarif_result(check, index, evidence));
            }
        }
        json!({
            "$schema": SARIF_SCHEMA_URI,
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
                "originalUriBaseIds": {
                    IMAGE_ROOT: {
                        "description": {
                            "text": format!("the root of the merged filesystem of {}", self.image)
                        }
                    }
                },
                "results": results,
            }]
        })
    }

    fn sarif_result(&self, check: &CheckResult, rule_index: usize, evidence: &Evidence) -> Value {
        let mut location = json!({
            "logicalLocations": [{ "fullyQualifiedName": self.image, "kind": "resource" }],
        });
        if let Some(path) = &evidence.path {
            let mut physical = json!({
                "artifactLocation": {
                    "uri": file_uri(std::path::Path::new(path.trim_start_matches('/'))),
                    "uriBaseId": IMAGE_ROOT,
                }
            });
            if let Some(line) = evidence.line {
                physical["region"] = json!({ "startLine": line.max(1) });
            }
            location["physicalLocation"] = physical;
        }
        let mut properties = json!({});
        if let Some(field) = &evidence.field {
            properties["field"] = json!(field);
            location["logicalLocations"]
                .as_array_mut()
                .expect("logicalLocations is an array")
                .push(json!({ "fullyQualifiedName": field, "kind": "property" }));
        }
        if let Some(layer) = &evidence.layer {
            properties["layer"] = json!(layer);
        }
        json!({
            "ruleId": check.id,
            "ruleIndex": rule_index,
            "level": "error",
            "message": { "text": format!("{}: {}", check.title, evidence.text) },
            "locations": [location],
            "properties": properties,
        })
    }
}

fn sarif_rule(check: &CheckResult) -> Value {
    let mut tags = vec!["security", "container-image"];
    if check.cis.is_some() {
        tags.push("cis-docker-benchmark");
    }
    let mut properties = json!({ "tags": tags });
    if let Some(cis) = check.cis {
        properties["cis"] = json!(cis);
    }
    json!({
        "id": check.id,
        "shortDescription": { "text": check.title },
        "help": { "text": check.remediation },
        "properties": properties,
    })
}

/// Escapes control characters, so that text from an image cannot rewrite the terminal.
fn printable(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(line, "\\u{{{:x}}}", u32::from(c));
        } else {
            line.push(c);
        }
    }
    line
}
