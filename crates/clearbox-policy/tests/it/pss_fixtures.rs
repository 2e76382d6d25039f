//! The Pod Security admission controller's own fixtures: every file under
//! `pod-security-admission/testdata/<level>/<version>/{pass,fail}/` is a Pod that the upstream
//! implementation admits (`pass`) or rejects (`fail`) at that level and version. Each is checked
//! at exactly its level and version, and a `fail` fixture must fail the control its file name
//! names (`hostports1.yaml` fails Host Ports).

use std::collections::BTreeMap;
use std::path::Path;

use clearbox_policy::k8s::{Control, Level, Version};

use crate::support::{check, failures, k8s_corpus, pss_options, read, require, yaml_files};

/// The control a fixture file name tests, from the name without its trailing digits.
fn control_for(name: &str) -> Option<Control> {
    let stem = name
        .trim_end_matches(".yaml")
        .trim_end_matches(char::is_numeric);
    Some(match stem {
        "windowshostprocess" => Control::HostProcess,
        "hostnamespaces" => Control::HostNamespaces,
        "privileged" => Control::Privileged,
        "capabilities_baseline" => Control::CapabilitiesBaseline,
        "hostpathvolumes" => Control::HostPathVolumes,
        "hostports" => Control::HostPorts,
        "hostprobesandhostlifecycle" => Control::HostProbes,
        "apparmorprofile" => Control::AppArmor,
        "selinuxoptions" => Control::SeLinux,
        "procmount" => Control::ProcMountBaseline,
        "seccompprofile_baseline" => Control::SeccompBaseline,
        "sysctls" => Control::Sysctls,
        "restrictedvolumes" => Control::VolumeTypes,
        "allowprivilegeescalation" => Control::PrivilegeEscalation,
        "runasnonroot" => Control::RunAsNonRoot,
        "runasuser" => Control::RunAsUser,
        "seccompprofile_restricted" => Control::SeccompRestricted,
        "capabilities_restricted" => Control::CapabilitiesRestricted,
        "procmount_restricted" => Control::ProcMountRestricted,
        _ => return None,
    })
}

/// Checks one fixture; returns the fixture and what differs when clearbox's verdict does.
fn check_fixture(path: &Path, level: Level, version: Version, expect_pass: bool) -> Option<String> {
    let file = read(path);
    let report = check(&file, &pss_options(level, version));
    let disagree = |detail: String| Some(format!("{}: {detail}", path.display()));
    if report.resources.len() != 1 {
        return disagree(format!(
            "expected one Pod, found {}",
            report.resources.len()
        ));
    }
    let shape = failures(&report, |id| id == "k8s-pod-spec-valid");
    if !shape.is_empty() {
        return disagree(format!("pod spec reported invalid: {shape:?}"));
    }
    let failed = failures(&report, |id| id.starts_with("pss-"));
    let name = path.file_name().unwrap().to_string_lossy();
    if expect_pass {
        if !failed.is_empty() {
            let found: Vec<String> = failed
                .iter()
                .map(|r| format!("{} at {}: {}", r.check, r.field, r.message))
                .collect();
            return disagree(format!("expected pass, failed: {found:#?}"));
        }
        return None;
    }
    let Some(control) = control_for(&name) else {
        // `base*.yaml` and the like are pass fixtures only.
        return disagree("a fail fixture with no known control in its name".into());
    };
    if !failed.iter().any(|r| r.check == control.id()) {
        let found: Vec<&str> = failed.iter().map(|r| r.check).collect();
        return disagree(format!(
            "expected {} to fail, failed: {found:?}",
            control.id()
        ));
    }
    None
}

#[test]
fn every_admission_fixture_agrees() {
    let corpus = require!(k8s_corpus());
    let root = corpus.join("pod-security-admission/testdata");
    let mut disagreements = Vec::new();
    let mut counts: BTreeMap<(Level, Version, &str), usize> = BTreeMap::new();
    for level in [Level::Baseline, Level::Restricted] {
        for version in Version::all() {
            for (verdict, expect_pass) in [("pass", true), ("fail", false)] {
                let dir = root
                    .join(level.name())
                    .join(version.to_string())
                    .join(verdict);
                // Restricted has no fail fixtures before v1.8 in some snapshots; a missing
                // directory counts as zero fixtures and is caught by the total below.
                if !dir.is_dir() {
                    continue;
                }
                for path in yaml_files(&dir) {
                    *counts.entry((level, version, verdict)).or_default() += 1;
                    disagreements.extend(check_fixture(&path, level, version, expect_pass));
                }
            }
        }
    }
    let total: usize = counts.values().sum();
    let agreed = total - disagreements.len();
    println!("Pod Security admission fixtures: {agreed} of {total} agree");
    assert!(disagreements.is_empty(), "{disagreements:#?}");

    // Every level and version has both pass and fail fixtures, so none was skipped.
    for level in [Level::Baseline, Level::Restricted] {
        for version in Version::all() {
            for verdict in ["pass", "fail"] {
                assert!(
                    counts
                        .get(&(level, version, verdict))
                        .is_some_and(|n| *n > 0),
                    "no {verdict} fixtures for {level} {version}"
                );
            }
        }
    }

    // Nothing under testdata was left out: the count equals the YAML files on disk.
    let on_disk = count_yaml(&root);
    assert_eq!(total, on_disk);
}

fn count_yaml(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            if path.is_dir() {
                count_yaml(&path)
            } else {
                usize::from(path.extension().is_some_and(|e| e == "yaml"))
            }
        })
        .sum()
}

/// A fixture that passes at its own version fails one version earlier when the rule it
/// exercises is newer: the sysctls allowlist grew in v1.27, v1.29, v1.32 and v1.37.
#[test]
fn sysctls_allowlist_grows_by_version() {
    let corpus = require!(k8s_corpus());
    let root = corpus.join("pod-security-admission/testdata/baseline");
    for minor in [27, 29, 32, 37] {
        let path = root.join(format!("v1.{minor}/pass/sysctls1.yaml"));
        let file = read(&path);
        let at = |minor| check(&file, &pss_options(Level::Baseline, Version::new(minor)));
        assert!(
            !at(minor).has_failures(),
            "{} at v1.{minor}",
            path.display()
        );
        assert!(
            at(minor - 1).has_failures(),
            "{} at v1.{}",
            path.display(),
            minor - 1
        );
    }
}

/// Windows pods are exempt from three restricted controls from v1.25, not before.
#[test]
fn windows_exemption_starts_at_1_25() {
    let corpus = require!(k8s_corpus());
    let path =
        corpus.join("pod-security-admission/testdata/restricted/v1.29/pass/base_windows.yaml");
    let file = read(&path);
    let at = |minor| check(&file, &pss_options(Level::Restricted, Version::new(minor)));
    assert!(!at(25).has_failures());
    let failed: Vec<&str> = at(24).failures().map(|r| r.check).collect();
    assert!(
        failed.contains(&"pss-restricted-privilege-escalation"),
        "{failed:?}"
    );
    assert!(failed.contains(&"pss-restricted-seccomp"), "{failed:?}");
    assert!(
        failed.contains(&"pss-restricted-capabilities"),
        "{failed:?}"
    );
}

/// From v1.35 baseline allows an unmasked /proc in a pod with its own user namespace, and
/// restricted still does not.
#[test]
fn unmasked_proc_mount_with_user_namespace() {
    let corpus = require!(k8s_corpus());
    let path = corpus.join("pod-security-admission/testdata/baseline/v1.35/pass/procmount1.yaml");
    let file = read(&path);
    let baseline = |minor| check(&file, &pss_options(Level::Baseline, Version::new(minor)));
    assert!(!baseline(35).has_failures());
    assert!(baseline(34).has_failures());
    let restricted = check(&file, &pss_options(Level::Restricted, Version::new(35)));
    let failed: Vec<&str> = restricted.failures().map(|r| r.check).collect();
    assert!(failed.contains(&"pss-restricted-proc-mount"), "{failed:?}");
}
