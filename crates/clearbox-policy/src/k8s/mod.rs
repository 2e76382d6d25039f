//! Checks on Kubernetes manifests: the Pod Security Standards, CIS Kubernetes Benchmark section 5
//! items, and least-privilege checks on images and pod specs.
//!
//! The pipeline has four stages. [`manifest`] reads files and directories into documents that
//! keep line numbers. [`workload`] finds the pod template of each workload object. [`pss`],
//! [`cis`] and [`images`] check it, and [`rbac`] checks roles, bindings and service accounts.
//! [`results`] collects the results, which [`table`], [`sarif`] or the JSON writer render.
//! [`signature`] signs and verifies the objects of a manifest, apart from the checks.
//!
//! # Supported
//! - YAML (multi-document) and JSON files, directories walked recursively, `List` objects.
//! - `Pod` objects and the pod templates of `Deployment`, `StatefulSet`, `DaemonSet`,
//!   `ReplicaSet`, `ReplicationController`, `Job` and `CronJob` objects.
//! - Pod Security Standards `baseline` and `restricted` at every version from v1.0 to v1.37.
//! - CIS Kubernetes Benchmark v1.9 items 5.1.5, 5.1.6, 5.2.2 to 5.2.13, 5.4.1, 5.7.2 to 5.7.4,
//!   applied to workloads, and items 5.1.1 to 5.1.13 applied to `Role`, `ClusterRole`,
//!   `RoleBinding`, `ClusterRoleBinding` and `ServiceAccount` objects.
//! - Image pull policy, digest pinning and a registry allowlist; read-only root filesystem,
//!   `runAsUser: 0`, resource requests and limits.
//! - Results carry the field path and the line of the field (or of its closest present parent).
//!
//! # Not yet
//! - Other kinds: `PodTemplate`, `DeploymentConfig`, custom resources with pod
//!   templates (Argo Rollouts, Knative). They are listed as skipped.
//! - The cluster-side CIS items (permissions granted outside the files, network policies,
//!   admission configuration) and the Pod Security Standards feature gate for user namespaces.
//! - Helm charts and Kustomize overlays: render them first (`helm template`,
//!   `kubectl kustomize`); template syntax is no valid YAML.
//!
//! # Never
//! - Contacting a cluster: the checks see only what the files say, so defaults that a cluster
//!   injects (a namespace's Pod Security labels, mutating webhooks, `LimitRange` defaults) are
//!   unknown.

pub mod cis;
pub mod field;
pub mod images;
pub mod manifest;
pub mod pss;
pub mod rbac;
pub mod results;
pub mod sarif;
pub mod signature;
pub mod table;
pub mod workload;
pub mod yaml;

use std::path::PathBuf;

pub use images::RegistryPrefix;
pub use manifest::{K8sError, ManifestFile};
pub use pss::{Control, Level, Version};
pub use results::{CheckInfo, CheckResult, K8sReport, Outcome, PssSelection, SkippedCheck};
pub use workload::ResourceRef;

use results::Recorder;
use workload::{Extracted, PodSpec, Workload};

/// Options of a `check k8s` run.
#[derive(Debug, Clone)]
pub struct K8sOptions {
    /// Registry hosts or `host/repository` prefixes that images may come from. Empty (the
    /// default) skips the registry check, and the report lists it as skipped.
    pub allowed_registries: Vec<RegistryPrefix>,
    /// The Pod Security Standards level and version for the `pss-*` checks. Default:
    /// `restricted` at [`Version::LATEST`].
    pub pss: PssSelection,
    /// Evaluate only the Pod Security Standards (and the pod spec's shape, without which they
    /// cannot be decided). Default: false, every check runs.
    pub pss_only: bool,
}

impl Default for K8sOptions {
    fn default() -> Self {
        K8sOptions {
            allowed_registries: Vec::new(),
            pss: PssSelection {
                level: Level::Restricted,
                version: Version::LATEST,
            },
            pss_only: false,
        }
    }
}

/// Reads every manifest under `paths` and checks every workload in them.
pub fn check_paths(paths: &[PathBuf], options: &K8sOptions) -> Result<K8sReport, K8sError> {
    let files = manifest::collect_files(paths)?
        .iter()
        .map(|path| manifest::read_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    tracing::info!(files = files.len(), "read manifests");
    Ok(check_files(&files, options))
}

/// Checks every workload in files already read.
#[must_use]
pub fn check_files(files: &[ManifestFile], options: &K8sOptions) -> K8sReport {
    let mut report = K8sReport {
        pss: options.pss,
        pss_only: options.pss_only,
        files: files.iter().map(|f| f.path.clone()).collect(),
        resources: Vec::new(),
        skipped_resources: Vec::new(),
        checks: Vec::new(),
        skipped_checks: Vec::new(),
        results: Vec::new(),
    };
    list_checks(options, &mut report);
    let bound = rbac::BoundAccounts::collect(files.iter().flat_map(manifest::objects));
    for file in files {
        for object in manifest::objects(file) {
            match workload::extract(object, &file.path) {
                Extracted::Workload(workload) => check_workload(&workload, options, &mut report),
                Extracted::Skipped(resource)
                    if !options.pss_only && rbac::applies(&resource.kind) =>
                {
                    let mut recorder = Recorder {
                        resource: &resource,
                        results: &mut report.results,
                    };
                    rbac::check(object, &bound, &mut recorder);
                    report.resources.push(resource);
                }
                Extracted::Skipped(resource) => {
                    tracing::debug!(
                        file = %resource.file.display(),
                        line = resource.line,
                        "skipped {}: kind `{}` has no pod template",
                        resource.display_name(),
                        resource.kind
                    );
                    report.skipped_resources.push(resource);
                }
            }
        }
    }
    tracing::info!(
        resources = report.resources.len(),
        failed = report.failures().count(),
        "checked workloads"
    );
    report
}

/// Fills the lists of checks that run and checks that do not.
fn list_checks(options: &K8sOptions, report: &mut K8sReport) {
    let PssSelection { level, version } = options.pss;
    report.checks.push(cis::POD_SPEC_VALID);
    if options.pss_only {
        let reason = "only the Pod Security Standards were evaluated (--pss)";
        let skipped = cis::CHECKS
            .iter()
            .skip(1)
            .chain(&images::CHECKS)
            .chain(&rbac::CHECKS);
        report
            .skipped_checks
            .extend(skipped.map(|info| SkippedCheck {
                check: info.id,
                reason: reason.to_owned(),
            }));
    } else {
        report.checks.extend(cis::CHECKS.iter().skip(1));
        report.checks.extend(rbac::CHECKS);
        report.checks.extend([images::PULL_POLICY, images::DIGEST]);
        if options.allowed_registries.is_empty() {
            report.skipped_checks.push(SkippedCheck {
                check: images::REGISTRY.id,
                reason: "no allowed registries given (--allow-registry)".to_owned(),
            });
        } else {
            report.checks.push(images::REGISTRY);
        }
    }
    for control in Control::ALL {
        if control.applies(level, version.min(Version::LATEST)) {
            report.checks.push(CheckInfo::of_control(control));
        } else {
            report.skipped_checks.push(SkippedCheck {
                check: control.id(),
                reason: format!("not part of {level} at {version}"),
            });
        }
    }
}

fn check_workload(workload: &Workload<'_>, options: &K8sOptions, report: &mut K8sReport) {
    let pod = PodSpec::new(workload);
    let mut recorder = Recorder {
        resource: &workload.resource,
        results: &mut report.results,
    };
    cis::check_shape(&pod, &mut recorder);
    if !options.pss_only {
        cis::check(workload, &pod, &mut recorder);
        images::check(&pod, &options.allowed_registries, &mut recorder);
    }
    record_pss(&pod, options.pss, &mut recorder);
    report.resources.push(workload.resource.clone());
}

/// Records one pass per control the pod meets and one failure per violation.
fn record_pss(pod: &PodSpec<'_>, selection: PssSelection, recorder: &mut Recorder<'_>) {
    let spec = (pod.spec.path(), pod.spec.location());
    for outcome in pss::evaluate(pod, selection.level, selection.version) {
        let id = outcome.control.id();
        if outcome.violations.is_empty() {
            let message = outcome.exemption.map_or_else(
                || format!("meets {} at {}", outcome.control.title(), selection.version),
                str::to_owned,
            );
            recorder.record_at(id, Outcome::Pass, spec, None, message);
        }
        for violation in outcome.violations {
            recorder.record_at(
                id,
                Outcome::Fail,
                (&violation.field, violation.location),
                violation
                    .container
                    .as_deref()
                    .map(|name| (name, violation.image.as_deref())),
                violation.message,
            );
        }
    }
}
