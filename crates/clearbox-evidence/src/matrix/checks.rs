//! The outcome of every check the frameworks can name. The evidence package's own checks are
//! decided here from the run's results. The image checks are taken as `clearbox check image`
//! reports them, and the Kubernetes checks are summed over every workload of the manifests.

use std::fmt::Write as _;

use clearbox_attest::cosign::format::ArtifactKind;
use clearbox_catalog::{Catalog, PackageKind};
use clearbox_oci::Image;
use clearbox_policy::compliance::{CheckRun, CheckStatus, EVIDENCE_CHECKS, k8s_checks};
use clearbox_policy::k8s::{K8sReport, Outcome as K8sOutcome};
use clearbox_policy::{CheckOutcome, CheckResult};

use super::Inputs;
use crate::attestations::{ArtifactEvidence, Outcome};
use crate::vulns::VulnerabilityScan;

/// The file the image checks write.
const IMAGE_CHECKS_FILE: &str = "cis-compliance.md";

/// Facts of an image check quoted in the detail; `cis-compliance.md` has all of them.
const MAX_FACTS: usize = 2;

/// Data sets of a model card named in the detail; the CycloneDX SBOM has all of them.
const MAX_DATASETS: usize = 5;

/// Decides every check's outcome: the evidence package's checks, the image checks, then the
/// Kubernetes checks.
pub(super) fn runs(inputs: &Inputs<'_>) -> Vec<CheckRun> {
    let mut runs = vec![
        sbom(inputs.catalog),
        vulnerability_scan(inputs.scan, inputs.catalog),
        no_critical_high(inputs.scan),
        signature(inputs.artifacts),
        provenance(inputs.artifacts),
        model_inventory(inputs.catalog),
        model_card_datasets(inputs.catalog),
        image_identity(inputs.image),
        evidence_manifest(inputs.in_package),
    ];
    runs.extend(inputs.checks.iter().map(image_check));
    runs.extend(k8s_checks().map(|(id, title)| k8s_check(id, title, inputs.k8s)));
    runs
}

/// Builds the run of one of the evidence package's checks, with the title the check list gives.
fn evidence_run(id: &str, status: CheckStatus, detail: String, files: &[&str]) -> CheckRun {
    let title = EVIDENCE_CHECKS
        .iter()
        .find(|check| check.id == id)
        .map_or("", |check| check.title);
    CheckRun {
        id: id.to_owned(),
        title: title.to_owned(),
        status,
        detail,
        evidence: files.iter().map(|&f| f.to_owned()).collect(),
    }
}

/// Id of the signature check, which the overview shows.
const SIGNATURE: &str = "signature-verified";
/// Id of the provenance check, which the overview shows.
const PROVENANCE: &str = "provenance-verified";

fn sbom(catalog: &Catalog) -> CheckRun {
    let files = ["sbom.spdx.json", "sbom.cdx.json"];
    if catalog.packages.is_empty() {
        return evidence_run(
            "sbom",
            CheckStatus::Fail,
            "the catalogers found no package, so the SBOM lists nothing".to_owned(),
            &files,
        );
    }
    let mut counts = std::collections::BTreeMap::new();
    for package in &catalog.packages {
        *counts.entry(package.kind.name()).or_insert(0usize) += 1;
    }
    let by_type: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let mut detail = format!(
        "{} packages ({})",
        catalog.packages.len(),
        by_type.join(", ")
    );
    if !catalog.unknowns.is_empty() {
        let _ = write!(
            detail,
            "; {} files could not be read (image-metadata.json lists them)",
            catalog.unknowns.len()
        );
    }
    evidence_run("sbom", CheckStatus::Pass, detail, &files)
}

fn vulnerability_scan(scan: &VulnerabilityScan, catalog: &Catalog) -> CheckRun {
    let files = ["vulnerabilities.json", "vulnerability-scan.sarif"];
    match scan {
        VulnerabilityScan::Ran { advisories, .. } => evidence_run(
            "vulnerability-scan",
            CheckStatus::Pass,
            format!(
                "{} packages matched against {advisories} advisories",
                catalog.packages.len()
            ),
            &files,
        ),
        VulnerabilityScan::NotRun { reason, .. } => evidence_run(
            "vulnerability-scan",
            CheckStatus::NotRun,
            reason.clone(),
            &files,
        ),
    }
}

fn no_critical_high(scan: &VulnerabilityScan) -> CheckRun {
    let id = "no-critical-high-vulnerabilities";
    let files = ["critical-vulnerabilities.json", "vulnerabilities.json"];
    let counts = match scan {
        VulnerabilityScan::Ran { counts, .. } => counts,
        VulnerabilityScan::NotRun { reason, .. } => {
            let detail = format!("the vulnerability scan did not run: {reason}");
            return evidence_run(id, CheckStatus::NotRun, detail, &files);
        }
    };
    // Findings of unknown severity count against the check, as with `scan --fail-on`: many
    // advisories carry no CVSS score, and nothing shows such a finding is below high.
    let detail = format!(
        "{} critical, {} high, {} of unknown severity ({} medium and {} low not counted)",
        counts.critical, counts.high, counts.unknown, counts.medium, counts.low
    );
    let status = if counts.critical + counts.high + counts.unknown == 0 {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    evidence_run(id, status, detail, &files)
}

/// Decides the `signature-verified` check.
pub(super) fn signature(artifacts: &ArtifactEvidence) -> CheckRun {
    let files = ["signature-verification.txt"];
    let key = artifacts.key.as_deref().unwrap_or("");
    let (status, detail) = match &artifacts.signatures {
        Some(checked) => match checked.outcome() {
            Outcome::Verified => (
                CheckStatus::Pass,
                format!(
                    "{} verified with key {key}; the repository a signature claims was not \
                     checked",
                    plural(checked.verified.len(), "signature", "signatures")
                ),
            ),
            Outcome::Failed => (
                CheckStatus::Fail,
                format!("no signature verified with key {key}: {}", checked.reason()),
            ),
            Outcome::NotChecked => (
                CheckStatus::NotRun,
                format!("the signatures could not be checked: {}", checked.reason()),
            ),
        },
        None => (CheckStatus::NotRun, not_verified(artifacts, "signature")),
    };
    evidence_run(SIGNATURE, status, detail, &files)
}

/// Decides the `provenance-verified` check.
pub(super) fn provenance(artifacts: &ArtifactEvidence) -> CheckRun {
    let files = ["slsa-provenance.json", "attestations.json"];
    let statements = artifacts.provenance().len();
    let (status, detail) = match &artifacts.attestations {
        Some(_) if statements > 0 && artifacts.policy_passed() == Some(false) => (
            CheckStatus::Fail,
            "SLSA provenance verified with the key, but none meets the provenance policy"
                .to_owned(),
        ),
        Some(_) if statements > 0 => (
            CheckStatus::Pass,
            format!(
                "{} verified with the key; {}",
                plural(
                    statements,
                    "SLSA provenance statement",
                    "SLSA provenance statements"
                ),
                if artifacts.policy_passed() == Some(true) {
                    "one meets the provenance policy"
                } else {
                    "their content was not checked against a policy"
                }
            ),
        ),
        Some(checked) => match checked.outcome() {
            Outcome::Verified => (
                CheckStatus::Fail,
                "no SLSA provenance among the attestations that verified with the key".to_owned(),
            ),
            Outcome::Failed => (
                CheckStatus::Fail,
                format!("no attestation verified with the key: {}", checked.reason()),
            ),
            Outcome::NotChecked => (
                CheckStatus::NotRun,
                format!(
                    "the attestations could not be checked: {}",
                    checked.reason()
                ),
            ),
        },
        None => (CheckStatus::NotRun, not_verified(artifacts, "attestation")),
    };
    evidence_run(PROVENANCE, status, detail, &files)
}

/// Why signatures or attestations were not verified: the source cannot carry them, or no key
/// was given.
fn not_verified(artifacts: &ArtifactEvidence, what: &str) -> String {
    if let Some(reason) = artifacts.unsearched {
        return reason.to_owned();
    }
    let kind = if what == "signature" {
        ArtifactKind::Signatures
    } else {
        ArtifactKind::Attestations
    };
    format!(
        "no --key was given, so no {what} was verified ({} found)",
        plural(artifacts.count(kind), "manifest", "manifests")
    )
}

fn model_inventory(catalog: &Catalog) -> CheckRun {
    let id = "model-inventory";
    let files = ["sbom.cdx.json", "sbom.spdx.json"];
    let models: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Model)
        .collect();
    if models.is_empty() {
        let detail = "no model weights were found in the image".to_owned();
        return evidence_run(id, CheckStatus::NotApplicable, detail, &files);
    }
    // A model is pinned when its main file has a SHA-256 and so has every shard it lists.
    let unpinned: Vec<String> = models
        .iter()
        .filter(|m| {
            let shards = m.model.as_ref().map_or(&[][..], |facts| &facts.files[..]);
            m.hashes.iter().all(|h| h.algorithm != "SHA256")
                || shards.iter().any(|f| f.sha256.is_empty())
        })
        .map(|m| model_name(m))
        .collect();
    if unpinned.is_empty() {
        let names: Vec<String> = models.iter().map(|m| model_name(m)).collect();
        let detail = format!(
            "{} with the SHA-256 of every file: {}",
            plural(models.len(), "model", "models"),
            names.join(", ")
        );
        evidence_run(id, CheckStatus::Pass, detail, &files)
    } else {
        let detail = format!("no SHA-256 for {}", unpinned.join(", "));
        evidence_run(id, CheckStatus::Fail, detail, &files)
    }
}

fn model_card_datasets(catalog: &Catalog) -> CheckRun {
    let id = "model-card-datasets";
    let files = ["sbom.cdx.json"];
    let models: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Model)
        .collect();
    if models.is_empty() {
        let detail = "no model weights were found in the image".to_owned();
        return evidence_run(id, CheckStatus::NotApplicable, detail, &files);
    }
    let mut named = Vec::new();
    let mut missing = Vec::new();
    for model in &models {
        let card = model.model.as_ref().and_then(|facts| facts.card.as_ref());
        match card {
            Some(card) if !card.datasets.is_empty() => {
                let mut datasets =
                    card.datasets[..card.datasets.len().min(MAX_DATASETS)].join(", ");
                if card.datasets.len() > MAX_DATASETS {
                    let _ = write!(datasets, " and {} more", card.datasets.len() - MAX_DATASETS);
                }
                named.push(format!("{} ({datasets})", model_name(model)));
            }
            Some(card) => missing.push(format!(
                "{}: the card at {} names no data sets",
                model_name(model),
                card.path
            )),
            None => missing.push(format!("{}: no model card beside it", model_name(model))),
        }
    }
    if missing.is_empty() {
        let detail = format!("data sets named for {}", named.join("; "));
        evidence_run(id, CheckStatus::Pass, detail, &files)
    } else {
        evidence_run(id, CheckStatus::Fail, missing.join("; "), &files)
    }
}

/// `1 model`, `2 models`.
fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// Names a model by its package name and the path of its weights.
fn model_name(package: &clearbox_catalog::Package) -> String {
    match package.locations.first() {
        Some(location) => format!("{} at {}", package.name, location.path),
        None => package.name.clone(),
    }
}

fn image_identity(image: &Image) -> CheckRun {
    let id = "image-identity";
    let files = ["image-metadata.json"];
    let (status, detail) = match (&image.manifest_digest, &image.config_digest) {
        (Some(manifest), _) => (CheckStatus::Pass, format!("manifest digest {manifest}")),
        (None, Some(config)) => (
            CheckStatus::Pass,
            format!("config digest {config}; this source stores no manifest"),
        ),
        (None, None) => (
            CheckStatus::Fail,
            "a root filesystem has no manifest or config digest; assess the image instead"
                .to_owned(),
        ),
    };
    evidence_run(id, status, detail, &files)
}

fn evidence_manifest(in_package: bool) -> CheckRun {
    let id = "evidence-manifest";
    let files = ["manifest.json"];
    if in_package {
        let detail = "manifest.json lists the SHA-256 and size of every file of this package; \
                      `clearbox evidence verify` checks them"
            .to_owned();
        evidence_run(id, CheckStatus::Pass, detail, &files)
    } else {
        let detail = "this report was not written as part of an evidence package; \
                      `clearbox evidence` writes one with manifest.json"
            .to_owned();
        evidence_run(id, CheckStatus::NotRun, detail, &files)
    }
}

/// Converts an image check's result: its outcome and its first facts, violations first.
fn image_check(result: &CheckResult) -> CheckRun {
    let status = match result.outcome {
        CheckOutcome::Pass => CheckStatus::Pass,
        CheckOutcome::Fail => CheckStatus::Fail,
        CheckOutcome::NotApplicable => CheckStatus::NotApplicable,
        CheckOutcome::CouldNotCheck => CheckStatus::NotRun,
    };
    let mut facts: Vec<&str> = result
        .evidence
        .iter()
        .filter(|e| e.violation)
        .chain(result.evidence.iter().filter(|e| !e.violation))
        .map(|e| e.text.as_str())
        .collect();
    let more = facts.len().saturating_sub(MAX_FACTS);
    facts.truncate(MAX_FACTS);
    let mut detail = facts.join("; ");
    if more > 0 {
        let _ = write!(detail, "; {more} more in {IMAGE_CHECKS_FILE}");
    }
    if status == CheckStatus::NotRun {
        detail = format!("could not check: {detail}");
    }
    CheckRun {
        id: result.id.to_owned(),
        title: result.title.to_owned(),
        status,
        detail,
        evidence: vec![IMAGE_CHECKS_FILE.to_owned()],
    }
}

/// Sums a Kubernetes check over every result. It fails when any result failed, passes when
/// every result passed, and does not run when it was skipped or has no result.
fn k8s_check(id: &str, title: &str, report: Option<&K8sReport>) -> CheckRun {
    let run = |status, detail: String, evidence: Vec<String>| CheckRun {
        id: id.to_owned(),
        title: title.to_owned(),
        status,
        detail,
        evidence,
    };
    let Some(report) = report else {
        let detail = "no Kubernetes manifests were given (clearbox report --k8s FILE)".to_owned();
        return run(CheckStatus::NotRun, detail, Vec::new());
    };
    let files = |results: &mut dyn Iterator<Item = &std::path::Path>| {
        let mut files: Vec<String> = Vec::new();
        for file in results.map(|p| p.to_string_lossy().into_owned()) {
            if !files.contains(&file) {
                files.push(file);
            }
        }
        files
    };
    if let Some(skipped) = report.skipped_checks.iter().find(|s| s.check == id) {
        let detail = format!("skipped: {}", skipped.reason);
        return run(CheckStatus::NotRun, detail, Vec::new());
    }
    let results: Vec<_> = report.results.iter().filter(|r| r.check == id).collect();
    let failed: Vec<_> = results
        .iter()
        .filter(|r| r.result == K8sOutcome::Fail)
        .collect();
    if results.is_empty() {
        let detail = if report.resources.is_empty() {
            "the manifests hold no workload this check applies to".to_owned()
        } else {
            "no workload in the manifests gave a result for this check".to_owned()
        };
        return run(CheckStatus::NotRun, detail, Vec::new());
    }
    if let Some(first) = failed.first() {
        let container = first
            .container
            .as_deref()
            .map_or_else(String::new, |c| format!(" container `{c}`"));
        let detail = format!(
            "{} of {} results failed; first: {}{container} {} (line {}): {}",
            failed.len(),
            results.len(),
            first.resource.display_name(),
            first.field,
            first.line,
            first.message
        );
        let evidence = files(&mut failed.iter().map(|r| r.resource.file.as_path()));
        return run(CheckStatus::Fail, detail, evidence);
    }
    let detail = format!("all {} results passed", results.len());
    let evidence = files(&mut results.iter().map(|r| r.resource.file.as_path()));
    run(CheckStatus::Pass, detail, evidence)
}
