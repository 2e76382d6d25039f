//! Shared helpers: where the corpus's Kubernetes folder is, and running the checks on a file.

use std::path::{Path, PathBuf};

use clearbox_policy::k8s::{
    CheckResult, K8sOptions, K8sReport, Level, ManifestFile, PssSelection, Version,
    manifest::{objects, read_file},
};

/// Returns from the test when a prerequisite is missing (after the notice `skip` printed).
macro_rules! require {
    ($option:expr) => {
        match $option {
            Some(value) => value,
            None => return,
        }
    };
}
pub(crate) use require;

/// The corpus's `k8s/` folder.
pub(crate) fn k8s_corpus() -> Option<PathBuf> {
    clearbox_testdata::corpus().map(|corpus| corpus.join("k8s"))
}

/// Reads a manifest file, panicking with the path when it is not valid YAML.
pub(crate) fn read(path: &Path) -> ManifestFile {
    read_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Splits a file into one file per object, so that each object gets its own report.
pub(crate) fn split(file: &ManifestFile) -> Vec<ManifestFile> {
    objects(file)
        .into_iter()
        .map(|object| ManifestFile {
            path: file.path.clone(),
            documents: vec![object.clone()],
        })
        .collect()
}

/// Options that evaluate only the Pod Security Standards at `level` and `version`.
pub(crate) fn pss_options(level: Level, version: Version) -> K8sOptions {
    K8sOptions {
        pss: PssSelection { level, version },
        pss_only: true,
        ..K8sOptions::default()
    }
}

/// Checks one file with `options`.
pub(crate) fn check(file: &ManifestFile, options: &K8sOptions) -> K8sReport {
    clearbox_policy::k8s::check_files(std::slice::from_ref(file), options)
}

/// The failed results of `check` ids for which `wanted` returns true.
pub(crate) fn failures(report: &K8sReport, wanted: impl Fn(&str) -> bool) -> Vec<&CheckResult> {
    report.failures().filter(|r| wanted(r.check)).collect()
}

/// Lists the files directly in `dir` with extension `yaml`, sorted.
pub(crate) fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}
