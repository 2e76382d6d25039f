//! Results of the Kubernetes checks, and the report that collects them.
//!
//! The report serialises as the JSON that `clearbox check k8s --format json` prints; the field
//! list is in `docs/k8s-checks.md`. Results come in a fixed order (files as read, objects in
//! file order, checks in catalog order, containers in pod spec order), so one input gives one
//! output byte for byte.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::field::Field;
use super::pss::{Control, Level, Version};
use super::workload::{Container, ResourceRef};
use super::yaml::Location;

/// Whether a check passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The resource meets the check.
    Pass,
    /// The resource does not meet it.
    Fail,
}

impl Outcome {
    /// `pass` or `fail`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
        }
    }
}

/// The body of rules a check comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standard {
    /// The CIS Kubernetes Benchmark, section 5 (policies).
    CisKubernetes,
    /// The Kubernetes Pod Security Standards.
    PodSecurityStandards,
    /// clearbox's own least-privilege checks, which no benchmark numbers.
    Clearbox,
}

/// A check as reports list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Stable id: the CIS number (`5.2.6`), `pss-<level>-<control>`, or `k8s-<name>`.
    pub id: &'static str,
    /// The requirement, such as `Containers drop ALL capabilities`.
    pub title: &'static str,
    /// The standard the check comes from.
    pub standard: Standard,
}

impl CheckInfo {
    /// The entry of a Pod Security Standards control.
    #[must_use]
    pub fn of_control(control: Control) -> Self {
        CheckInfo {
            id: control.id(),
            title: control.title(),
            standard: Standard::PodSecurityStandards,
        }
    }
}

/// The result of one check on one resource, container or field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The check id.
    pub check: &'static str,
    /// The object checked.
    pub resource: ResourceRef,
    /// The container, for checks about one container.
    pub container: Option<String>,
    /// The container's image, when it has one.
    pub image: Option<String>,
    /// The field path the result is about, such as
    /// `spec.template.spec.containers[0].securityContext.runAsNonRoot`.
    pub field: String,
    /// Line of the field, or of its closest present parent.
    pub line: u32,
    /// Column of the field, or of its closest present parent.
    pub column: u32,
    /// `pass` or `fail`.
    pub result: Outcome,
    /// The finding, such as `set to true`.
    pub message: String,
}

/// A check that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedCheck {
    /// The check id.
    pub check: &'static str,
    /// The reason it did not run.
    pub reason: String,
}

/// The Pod Security Standards level and version a run held pods to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PssSelection {
    /// The level.
    pub level: Level,
    /// The version whose rules were applied.
    pub version: Version,
}

/// Everything one run checked and found.
#[derive(Debug, Clone, Serialize)]
pub struct K8sReport {
    /// The Pod Security Standards level and version the `pss-*` checks used.
    pub pss: PssSelection,
    /// True when only the Pod Security Standards were evaluated (`--pss`).
    pub pss_only: bool,
    /// Every file read, in order.
    #[serde(serialize_with = "serialize_paths")]
    pub files: Vec<PathBuf>,
    /// Every object with a pod template that was checked.
    pub resources: Vec<ResourceRef>,
    /// Objects of other kinds, which no check applies to.
    pub skipped_resources: Vec<ResourceRef>,
    /// The checks that ran.
    pub checks: Vec<CheckInfo>,
    /// The checks that did not run, with the reason.
    pub skipped_checks: Vec<SkippedCheck>,
    /// Every result.
    pub results: Vec<CheckResult>,
}

/// Counts for the `summary` object of the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Workload objects checked.
    pub resources: usize,
    /// Workload objects with at least one failed result.
    pub failed_resources: usize,
    /// Objects of other kinds.
    pub skipped_resources: usize,
    /// Results that passed.
    pub passed: usize,
    /// Results that failed.
    pub failed: usize,
}

/// The JSON document: the report with a version and a summary in front.
#[derive(Serialize)]
struct JsonReport<'a> {
    report_version: u32,
    summary: Summary,
    #[serde(flatten)]
    report: &'a K8sReport,
}

/// Version of the JSON report's shape; raised when a field changes meaning or is removed.
pub const JSON_REPORT_VERSION: u32 = 1;

impl K8sReport {
    /// Counts resources and results.
    #[must_use]
    pub fn summary(&self) -> Summary {
        let failed = self.failures().count();
        let mut failed_resources: Vec<&ResourceRef> =
            self.failures().map(|r| &r.resource).collect();
        failed_resources.dedup();
        Summary {
            resources: self.resources.len(),
            failed_resources: failed_resources.len(),
            skipped_resources: self.skipped_resources.len(),
            passed: self.results.len() - failed,
            failed,
        }
    }

    /// Writes the report as pretty-printed JSON with a trailing newline.
    pub fn write_json(&self, writer: &mut dyn Write) -> std::io::Result<()> {
        let document = JsonReport {
            report_version: JSON_REPORT_VERSION,
            summary: self.summary(),
            report: self,
        };
        serde_json::to_writer_pretty(&mut *writer, &document)?;
        writeln!(writer)
    }

    /// The failed results.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| r.result == Outcome::Fail)
    }

    /// True when any result failed.
    #[must_use]
    pub fn has_failures(&self) -> bool {
        self.failures().next().is_some()
    }

    /// The catalog entry of a check that ran.
    #[must_use]
    pub fn check_info(&self, id: &str) -> Option<&CheckInfo> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Appends the results of one resource to a report.
pub(crate) struct Recorder<'r> {
    pub(crate) resource: &'r ResourceRef,
    pub(crate) results: &'r mut Vec<CheckResult>,
}

impl Recorder<'_> {
    /// Records a result about `field`.
    pub(crate) fn record(
        &mut self,
        check: &CheckInfo,
        outcome: Outcome,
        field: &Field<'_>,
        container: Option<&Container<'_>>,
        message: impl Into<String>,
    ) {
        self.record_at(
            check.id,
            outcome,
            (field.path(), field.location()),
            container.map(|c| (c.name.as_str(), c.image)),
            message.into(),
        );
    }

    /// Records a pass about `field`.
    pub(crate) fn pass(
        &mut self,
        check: &CheckInfo,
        field: &Field<'_>,
        container: Option<&Container<'_>>,
        message: impl Into<String>,
    ) {
        self.record(check, Outcome::Pass, field, container, message);
    }

    /// Records a failure about `field`.
    pub(crate) fn fail(
        &mut self,
        check: &CheckInfo,
        field: &Field<'_>,
        container: Option<&Container<'_>>,
        message: impl Into<String>,
    ) {
        self.record(check, Outcome::Fail, field, container, message);
    }

    /// Records a result at an explicit field path and location.
    pub(crate) fn record_at(
        &mut self,
        check: &'static str,
        outcome: Outcome,
        (field, location): (&str, Location),
        container: Option<(&str, Option<&str>)>,
        message: String,
    ) {
        self.results.push(CheckResult {
            check,
            resource: self.resource.clone(),
            container: container.map(|(name, _)| name.to_owned()),
            image: container.and_then(|(_, image)| image.map(str::to_owned)),
            field: field.to_owned(),
            line: location.line,
            column: location.column,
            result: outcome,
            message,
        });
    }
}

/// Serialises a path as text; bytes that are not UTF-8 become U+FFFD.
pub(crate) fn serialize_path<S: serde::Serializer>(
    path: &Path,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&path.to_string_lossy())
}

fn serialize_paths<S: serde::Serializer>(
    paths: &[PathBuf],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(paths.iter().map(|p| p.to_string_lossy()))
}
