//! The restricted controls. The Windows exemptions are applied before these run
//! ([`super::evaluate_control`]).

use super::baseline::{check_seccomp_profile, default_proc_mount, volumes};
use super::{Control, Violations};
use crate::k8s::field::Typed;
use crate::k8s::workload::PodSpec;

/// Volume sources allowed at restricted. `image` (an OCI image mounted read-only) is allowed by
/// the upstream admission controller since Kubernetes v1.33 at every version of the standard,
/// though the standard's text does not list it yet.
const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Checks one restricted control.
pub(super) fn check(control: Control, pod: &PodSpec<'_>, found: &mut Violations) {
    match control {
        Control::VolumeTypes => volume_types(pod, found),
        Control::PrivilegeEscalation => privilege_escalation(pod, found),
        Control::RunAsNonRoot => run_as_non_root(pod, found),
        Control::RunAsUser => run_as_user(pod, found),
        Control::SeccompRestricted => seccomp(pod, found),
        Control::CapabilitiesRestricted => capabilities(pod, found),
        Control::ProcMountRestricted => default_proc_mount(pod, found),
        _ => {}
    }
}

fn volume_types(pod: &PodSpec<'_>, found: &mut Violations) {
    for volume in volumes(pod, found) {
        let Typed::Value(entries) = volume.entries() else {
            found.add(&volume, None, "a volume must be a mapping".into());
            continue;
        };
        for (key, source) in entries {
            if key == "name" || RESTRICTED_VOLUME_SOURCES.contains(&key) || !source.is_present() {
                continue;
            }
            let message = format!(
                "volume type `{key}` is not allowed; use one of {}",
                RESTRICTED_VOLUME_SOURCES.join(", ")
            );
            found.add(&source, None, message);
        }
    }
}

fn privilege_escalation(pod: &PodSpec<'_>, found: &mut Violations) {
    for container in &pod.containers {
        let field = container.security_context().get("allowPrivilegeEscalation");
        match field.as_bool() {
            Typed::Value(false) => {}
            Typed::Value(true) => found.add(&field, Some(container), "must be false".into()),
            Typed::Absent => found.add(
                &field,
                Some(container),
                "must be set to false; unset allows privilege escalation".into(),
            ),
            Typed::Invalid => found.add(&field, Some(container), "must be a boolean".into()),
        }
    }
}

fn run_as_non_root(pod: &PodSpec<'_>, found: &mut Violations) {
    let pod_field = pod.security_context().get("runAsNonRoot");
    let pod_non_root = match pod_field.as_bool() {
        Typed::Value(value) => {
            if !value {
                found.add(&pod_field, None, "must not be false".into());
            }
            value
        }
        Typed::Absent => false,
        Typed::Invalid => {
            found.add(&pod_field, None, "must be a boolean".into());
            false
        }
    };
    for container in &pod.containers {
        let field = container.security_context().get("runAsNonRoot");
        match field.as_bool() {
            Typed::Value(true) => {}
            Typed::Value(false) => found.add(&field, Some(container), "must not be false".into()),
            Typed::Absent if pod_non_root => {}
            Typed::Absent => found.add(
                &field,
                Some(container),
                "must be true here or in the pod's securityContext".into(),
            ),
            Typed::Invalid => found.add(&field, Some(container), "must be a boolean".into()),
        }
    }
}

fn run_as_user(pod: &PodSpec<'_>, found: &mut Violations) {
    let contexts = std::iter::once((pod.security_context(), None)).chain(
        pod.containers
            .iter()
            .map(|container| (container.security_context(), Some(container))),
    );
    for (context, container) in contexts {
        let field = context.get("runAsUser");
        match field.as_i64() {
            Typed::Value(0) => found.add(&field, container, "must not be 0 (root)".into()),
            Typed::Invalid => found.add(&field, container, "must be an integer".into()),
            Typed::Value(_) | Typed::Absent => {}
        }
    }
}

fn seccomp(pod: &PodSpec<'_>, found: &mut Violations) {
    let pod_profile = pod.security_context().get("seccompProfile");
    let pod_confined = check_seccomp_profile(&pod_profile, None, found);
    for container in &pod.containers {
        let profile = container.security_context().get("seccompProfile");
        if profile.is_present() {
            check_seccomp_profile(&profile, Some(container), found);
        } else if !pod_confined {
            found.add(
                &profile.get("type"),
                Some(container),
                "must be `RuntimeDefault` or `Localhost` here or in the pod's securityContext"
                    .into(),
            );
        }
    }
}

fn capabilities(pod: &PodSpec<'_>, found: &mut Violations) {
    for container in &pod.containers {
        let capabilities = container.security_context().get("capabilities");
        let drop = capabilities.get("drop");
        match drop.strings() {
            Typed::Value(names) if names.iter().any(|(name, _)| *name == "ALL") => {}
            Typed::Value(_) | Typed::Absent => {
                found.add(&drop, Some(container), "must drop `ALL`".into());
            }
            Typed::Invalid => found.add(&drop, Some(container), "must be a list of strings".into()),
        }
        let add = capabilities.get("add");
        match add.strings() {
            Typed::Absent => {}
            Typed::Invalid => found.add(&add, Some(container), "must be a list of strings".into()),
            Typed::Value(names) => {
                for (name, field) in names {
                    if name != "NET_BIND_SERVICE" {
                        let message = format!(
                            "adds capability `{name}`; only `NET_BIND_SERVICE` may be added"
                        );
                        found.add(&field, Some(container), message);
                    }
                }
            }
        }
    }
}
