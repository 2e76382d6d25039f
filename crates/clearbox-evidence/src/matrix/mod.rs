//! The compliance matrix: each control of each framework with its status, the checks behind
//! it and the evidence files that hold their results, rendered as `compliance-matrix.json`,
//! `compliance-matrix.md` and the self-contained `report.html`.
//!
//! The matrix never decides a status itself. The framework files name the checks that evidence
//! each control, [`checks`] turns the run's results into check outcomes, and
//! [`clearbox_policy::compliance::evaluate`] applies the status rules. Text taken from the
//! image (its reference, labels, annotations and the checks' findings) is escaped in every
//! format: JSON by its own escaping, Markdown by code spans and escaped table separators, HTML
//! by entity escaping.

mod checks;
mod compare;
mod html;
mod markdown;

use std::collections::{BTreeMap, BTreeSet};

use clearbox_catalog::Catalog;
use clearbox_oci::Image;
use clearbox_policy::CheckResult;
use clearbox_policy::compliance::{CheckRun, ControlStatus, FrameworkError, FrameworkId, evaluate};
use clearbox_policy::k8s::K8sReport;
use serde::Serialize;

pub use compare::Comparison;

use crate::attestations::ArtifactEvidence;
use crate::vulns::VulnerabilityScan;

/// Version of the JSON document's shape, raised when a field changes meaning or is removed.
pub const MATRIX_VERSION: u32 = 1;

/// The results the matrix is built from.
pub(crate) struct Inputs<'a> {
    pub(crate) image: &'a Image,
    pub(crate) catalog: &'a Catalog,
    pub(crate) scan: &'a VulnerabilityScan,
    pub(crate) artifacts: &'a ArtifactEvidence,
    pub(crate) checks: &'a [CheckResult],
    pub(crate) k8s: Option<&'a K8sReport>,
    /// True when the matrix is written into an evidence package, whose manifest lists it.
    pub(crate) in_package: bool,
    pub(crate) tool_version: &'a str,
}

/// The compliance matrix of one image.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// Always [`MATRIX_VERSION`].
    pub matrix_version: u32,
    /// Tool and version that computed it.
    pub generator: String,
    /// The image assessed.
    pub image: ImageIdentity,
    /// Facts the HTML report charts: inventory, vulnerabilities, signature and provenance.
    pub overview: Overview,
    /// Every check a selected framework names, with its outcome.
    pub checks: Vec<CheckRun>,
    /// The selected frameworks, in the order given.
    pub frameworks: Vec<FrameworkReport>,
}

/// The image's reference and digests, and the labels and annotations it states about itself.
#[derive(Debug, Clone, Serialize)]
pub struct ImageIdentity {
    /// The reference as given.
    pub reference: String,
    /// The manifest digest; `None` for a `docker save` archive or a root filesystem.
    pub manifest_digest: Option<String>,
    /// The config digest; `None` for a root filesystem.
    pub config_digest: Option<String>,
    /// The creation time the config states.
    pub created: Option<String>,
    /// Config labels.
    pub labels: BTreeMap<String, String>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Summary facts of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Packages in the SBOM.
    pub packages: usize,
    /// Packages per component type (`deb`, `python`, `model`, ...).
    pub packages_by_type: BTreeMap<String, usize>,
    /// Findings per severity, or why the scan did not run.
    pub vulnerabilities: VulnerabilityOverview,
    /// The `signature-verified` check.
    pub signature: CheckRun,
    /// The `provenance-verified` check.
    pub provenance: CheckRun,
    /// Kubernetes manifest files checked with `--k8s`, as given.
    pub k8s_files: Vec<String>,
}

/// Findings per severity.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityOverview {
    /// True when the scan ran.
    pub scanned: bool,
    /// The reason the scan did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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

/// One framework's controls with their statuses.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkReport {
    /// The framework id, such as `eu-ai-act`.
    pub id: FrameworkId,
    /// Display name.
    pub name: String,
    /// The document and version the controls cite.
    pub source: String,
    /// Controls per status.
    pub summary: StatusCounts,
    /// Every control, in the file's order.
    pub controls: Vec<ControlRow>,
}

/// Number of controls per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// Satisfied controls.
    pub satisfied: usize,
    /// Controls not satisfied.
    pub not_satisfied: usize,
    /// Controls not evidenced.
    pub not_evidenced: usize,
}

/// One control and its status.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRow {
    /// Control id, unique in its framework.
    pub id: String,
    /// Article, function, theme or section.
    pub group: String,
    /// The provision it cites, such as `Art. 15(5)`.
    pub cites: String,
    /// The requirement, paraphrased.
    pub title: String,
    /// The part of the requirement the checks cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The status.
    pub status: ControlStatus,
    /// The reason for the status: the checks that failed or did not run, or the reason no check
    /// can evidence the control.
    pub reason: String,
    /// Ids of the checks behind it.
    pub checks: Vec<String>,
    /// Files holding those checks' evidence, each once.
    pub evidence: Vec<String>,
}

impl StatusCounts {
    fn add(&mut self, status: ControlStatus) {
        match status {
            ControlStatus::Satisfied => self.satisfied += 1,
            ControlStatus::NotSatisfied => self.not_satisfied += 1,
            ControlStatus::NotEvidenced => self.not_evidenced += 1,
        }
    }
}

impl Matrix {
    /// Computes every check the selected frameworks name and the status of each control.
    pub(crate) fn build(
        inputs: &Inputs<'_>,
        frameworks: &[FrameworkId],
    ) -> Result<Matrix, FrameworkError> {
        // Load the frameworks, then decide every check they name.
        let loaded = frameworks
            .iter()
            .map(|id| id.load().map(|f| (*id, f)))
            .collect::<Result<Vec<_>, _>>()?;
        let named: BTreeSet<&str> = loaded
            .iter()
            .flat_map(|(_, f)| &f.controls)
            .flat_map(|c| c.checks.iter().map(String::as_str))
            .collect();
        let all = checks::runs(inputs);
        let runs: BTreeMap<&str, &CheckRun> = all.iter().map(|r| (r.id.as_str(), r)).collect();

        // Evaluate each control.
        let reports = loaded
            .iter()
            .map(|(id, framework)| {
                let mut summary = StatusCounts::default();
                let controls = framework
                    .controls
                    .iter()
                    .map(|control| {
                        let outcome = evaluate(control, &runs);
                        summary.add(outcome.status);
                        ControlRow {
                            id: control.id.clone(),
                            group: control.group.clone(),
                            cites: control.cites.clone(),
                            title: control.title.clone(),
                            scope: control.scope.clone(),
                            status: outcome.status,
                            reason: outcome.reason,
                            checks: control.checks.clone(),
                            evidence: evidence_of(&control.checks, &runs),
                        }
                    })
                    .collect();
                FrameworkReport {
                    id: *id,
                    name: framework.name.clone(),
                    source: framework.source.clone(),
                    summary,
                    controls,
                }
            })
            .collect();

        let overview = overview(inputs);
        Ok(Matrix {
            matrix_version: MATRIX_VERSION,
            generator: format!("clearbox {}", inputs.tool_version),
            image: identity(inputs.image),
            overview,
            checks: all
                .iter()
                .filter(|r| named.contains(r.id.as_str()))
                .cloned()
                .collect(),
            frameworks: reports,
        })
    }

    /// Renders the matrix as pretty-printed JSON with a trailing newline.
    ///
    /// # Panics
    ///
    /// Only if `serde_json` failed on plain data, which it does not: every map key is a string.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the matrix always serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Renders the matrix as Markdown: a summary table, then one table per framework.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// Renders the matrix as one self-contained HTML page, with inline CSS and SVG, no scripts
    /// and nothing fetched.
    #[must_use]
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}

/// Lists the files that hold the evidence of `checks`, in first-seen order, each once.
fn evidence_of(checks: &[String], runs: &BTreeMap<&str, &CheckRun>) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for file in checks
        .iter()
        .filter_map(|id| runs.get(id.as_str()))
        .flat_map(|run| &run.evidence)
    {
        if !files.contains(file) {
            files.push(file.clone());
        }
    }
    files
}

fn identity(image: &Image) -> ImageIdentity {
    ImageIdentity {
        reference: image.reference.to_string(),
        manifest_digest: image.manifest_digest.as_ref().map(ToString::to_string),
        config_digest: image.config_digest.as_ref().map(ToString::to_string),
        created: image.config.created.clone(),
        labels: image.config.config.labels.clone().unwrap_or_default(),
        annotations: image
            .manifest
            .as_ref()
            .map(|m| m.annotations.clone())
            .unwrap_or_default(),
    }
}

fn overview(inputs: &Inputs<'_>) -> Overview {
    let mut packages_by_type = BTreeMap::new();
    for package in &inputs.catalog.packages {
        *packages_by_type
            .entry(package.kind.name().to_owned())
            .or_insert(0) += 1;
    }
    let vulnerabilities = match inputs.scan {
        VulnerabilityScan::Ran { counts, .. } => VulnerabilityOverview {
            scanned: true,
            reason: None,
            critical: counts.critical,
            high: counts.high,
            medium: counts.medium,
            low: counts.low,
            unknown: counts.unknown,
        },
        VulnerabilityScan::NotRun { reason, .. } => VulnerabilityOverview {
            scanned: false,
            reason: Some(reason.clone()),
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
            unknown: 0,
        },
    };
    Overview {
        packages: inputs.catalog.packages.len(),
        packages_by_type,
        vulnerabilities,
        signature: checks::signature(inputs.artifacts),
        provenance: checks::provenance(inputs.artifacts),
        k8s_files: inputs.k8s.map_or_else(Vec::new, |report| {
            report
                .files
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        }),
    }
}

/// True for a file the evidence package holds, which the reports link to by name.
pub(crate) fn is_package_file(name: &str) -> bool {
    name == crate::MANIFEST_FILE || crate::REQUIRED_FILES.contains(&name)
}
