//! The baseline controls. Each function records every field that breaks its control, so that a
//! report names all of them at once.

use super::{Control, Version, Violations};
use crate::k8s::field::{Field, Typed};
use crate::k8s::workload::{Container, PodSpec};

/// Capabilities a container may add at baseline: the container runtimes' default set.
pub(super) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls allowed at baseline, each with the first version that allows it.
const SAFE_SYSCTLS: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

/// `SELinux` types a pod may request, each with the first version that allows it.
const SELINUX_TYPES: &[(&str, u32)] = &[
    ("container_t", 0),
    ("container_init_t", 0),
    ("container_kvm_t", 0),
    ("container_engine_t", 31),
];

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// Checks one baseline control.
pub(super) fn check(control: Control, pod: &PodSpec<'_>, version: Version, found: &mut Violations) {
    match control {
        Control::HostProcess => host_process(pod, found),
        Control::HostNamespaces => {
            for key in ["hostNetwork", "hostPID", "hostIPC"] {
                found.forbid_true(&pod.spec.get(key), None);
            }
        }
        Control::Privileged => {
            for container in &pod.containers {
                found.forbid_true(
                    &container.security_context().get("privileged"),
                    Some(container),
                );
            }
        }
        Control::CapabilitiesBaseline => capabilities(pod, found),
        Control::HostPathVolumes => host_path_volumes(pod, found),
        Control::HostPorts => host_ports(pod, found),
        Control::HostProbes => host_probes(pod, found),
        Control::AppArmor => apparmor(pod, found),
        Control::SeLinux => selinux(pod, version, found),
        Control::ProcMountBaseline => {
            // With its own user namespace, a container's unmasked /proc belongs to that namespace.
            let user_namespace = pod.spec.get("hostUsers").as_bool() == Typed::Value(false);
            if !(version.at_least(35) && user_namespace) {
                default_proc_mount(pod, found);
            }
        }
        Control::SeccompBaseline if version.at_least(19) => seccomp_fields(pod, found),
        Control::SeccompBaseline => seccomp_annotations(pod, found),
        Control::Sysctls => sysctls(pod, version, found),
        _ => {}
    }
}

fn host_process(pod: &PodSpec<'_>, found: &mut Violations) {
    let hostprocess = ["windowsOptions", "hostProcess"];
    found.forbid_true(&pod.security_context().at(&hostprocess), None);
    for container in &pod.containers {
        found.forbid_true(
            &container.security_context().at(&hostprocess),
            Some(container),
        );
    }
}

fn capabilities(pod: &PodSpec<'_>, found: &mut Violations) {
    for container in &pod.containers {
        let add = container.security_context().at(&["capabilities", "add"]);
        match add.strings() {
            Typed::Absent => {}
            Typed::Invalid => found.add(&add, Some(container), "must be a list of strings".into()),
            Typed::Value(names) => {
                for (name, field) in names {
                    if !BASELINE_CAPABILITIES.contains(&name) {
                        let message = format!(
                            "adds capability `{name}`, which is not in the default set ({})",
                            BASELINE_CAPABILITIES.join(", ")
                        );
                        found.add(&field, Some(container), message);
                    }
                }
            }
        }
    }
}

fn host_path_volumes(pod: &PodSpec<'_>, found: &mut Violations) {
    for volume in volumes(pod, found) {
        let host_path = volume.get("hostPath");
        if host_path.is_present() {
            found.add(&host_path, None, "hostPath volumes are not allowed".into());
        }
    }
}

/// The pod's volumes; a `volumes` field that is no list is recorded as a violation.
pub(super) fn volumes<'a>(pod: &PodSpec<'a>, found: &mut Violations) -> Vec<Field<'a>> {
    let field = pod.spec.get("volumes");
    match field.items() {
        Typed::Value(items) => items,
        Typed::Absent => Vec::new(),
        Typed::Invalid => {
            found.add(&field, None, "must be a list of volumes".into());
            Vec::new()
        }
    }
}

fn host_ports(pod: &PodSpec<'_>, found: &mut Violations) {
    for container in &pod.containers {
        let ports = container.field.get("ports");
        let items = match ports.items() {
            Typed::Value(items) => items,
            Typed::Absent => continue,
            Typed::Invalid => {
                found.add(&ports, Some(container), "must be a list of ports".into());
                continue;
            }
        };
        for port in items {
            let host_port = port.get("hostPort");
            match host_port.as_i64() {
                Typed::Absent | Typed::Value(0) => {}
                Typed::Value(number) => {
                    found.add(
                        &host_port,
                        Some(container),
                        format!("uses host port {number}"),
                    );
                }
                Typed::Invalid => {
                    found.add(&host_port, Some(container), "must be an integer".into());
                }
            }
        }
    }
}

fn host_probes(pod: &PodSpec<'_>, found: &mut Violations) {
    const HANDLERS: [&str; 2] = ["httpGet", "tcpSocket"];
    for container in &pod.containers {
        let probes = ["livenessProbe", "readinessProbe", "startupProbe"]
            .map(|probe| container.field.get(probe));
        let hooks = ["postStart", "preStop"].map(|hook| container.field.at(&["lifecycle", hook]));
        for action in probes.iter().chain(&hooks) {
            for handler in HANDLERS {
                let host = action.at(&[handler, "host"]);
                match host.as_str() {
                    Typed::Absent | Typed::Value("") => {}
                    Typed::Value(name) => found.add(
                        &host,
                        Some(container),
                        format!("names host `{name}`; probes and hooks must leave `host` unset"),
                    ),
                    Typed::Invalid => found.add(&host, Some(container), "must be a string".into()),
                }
            }
        }
    }
}

fn apparmor(pod: &PodSpec<'_>, found: &mut Violations) {
    if let Typed::Value(annotations) = pod.metadata.get("annotations").entries() {
        for (key, value) in annotations {
            if !key.starts_with(APPARMOR_ANNOTATION_PREFIX) {
                continue;
            }
            match value.as_str() {
                Typed::Value(profile)
                    if profile.is_empty()
                        || profile == "runtime/default"
                        || profile.starts_with("localhost/") => {}
                Typed::Absent => {}
                Typed::Value(profile) => found.add(
                    &value,
                    None,
                    format!(
                        "AppArmor profile `{profile}` is not `runtime/default` or `localhost/*`"
                    ),
                ),
                Typed::Invalid => found.add(&value, None, "must be a string".into()),
            }
        }
    }
    let check_profile = |field: Field<'_>, container, found: &mut Violations| {
        if !field.is_present() {
            return;
        }
        let kind = field.get("type");
        match kind.as_str() {
            Typed::Value("RuntimeDefault" | "Localhost") => {}
            Typed::Value(other) => found.add(
                &kind,
                container,
                format!("AppArmor profile type `{other}` is not `RuntimeDefault` or `Localhost`"),
            ),
            Typed::Absent | Typed::Invalid => found.add(
                &kind,
                container,
                "must be `RuntimeDefault` or `Localhost`".into(),
            ),
        }
    };
    check_profile(pod.security_context().get("appArmorProfile"), None, found);
    for container in &pod.containers {
        check_profile(
            container.security_context().get("appArmorProfile"),
            Some(container),
            found,
        );
    }
}

fn selinux(pod: &PodSpec<'_>, version: Version, found: &mut Violations) {
    let allowed: Vec<&str> = SELINUX_TYPES
        .iter()
        .filter(|(_, since)| version.at_least(*since))
        .map(|(name, _)| *name)
        .collect();
    let check_options = |options: Field<'_>, container, found: &mut Violations| {
        let kind = options.get("type");
        match kind.as_str() {
            Typed::Absent | Typed::Value("") => {}
            Typed::Value(name) if allowed.contains(&name) => {}
            Typed::Value(name) => found.add(
                &kind,
                container,
                format!("SELinux type `{name}` is not one of {}", allowed.join(", ")),
            ),
            Typed::Invalid => found.add(&kind, container, "must be a string".into()),
        }
        for key in ["user", "role"] {
            let field = options.get(key);
            match field.as_str() {
                Typed::Absent | Typed::Value("") => {}
                Typed::Value(_) | Typed::Invalid => {
                    found.add(&field, container, format!("SELinux {key} must be unset"));
                }
            }
        }
    };
    check_options(pod.security_context().get("seLinuxOptions"), None, found);
    for container in &pod.containers {
        check_options(
            container.security_context().get("seLinuxOptions"),
            Some(container),
            found,
        );
    }
}

/// Records every container whose `procMount` is set to anything but `Default`.
pub(super) fn default_proc_mount(pod: &PodSpec<'_>, found: &mut Violations) {
    for container in &pod.containers {
        let field = container.security_context().get("procMount");
        match field.as_str() {
            Typed::Absent | Typed::Value("Default") => {}
            Typed::Value(other) => found.add(
                &field,
                Some(container),
                format!("/proc mount type `{other}` is not `Default`"),
            ),
            Typed::Invalid => found.add(&field, Some(container), "must be a string".into()),
        }
    }
}

/// Records a seccomp profile whose type is set to anything but `RuntimeDefault` or
/// `Localhost`; returns whether `profile` is present with one of those two.
pub(super) fn check_seccomp_profile(
    profile: &Field<'_>,
    container: Option<&Container<'_>>,
    found: &mut Violations,
) -> bool {
    if !profile.is_present() {
        return false;
    }
    let kind = profile.get("type");
    match kind.as_str() {
        Typed::Value("RuntimeDefault" | "Localhost") => true,
        Typed::Value(other) => {
            let message =
                format!("seccomp profile type `{other}` is not `RuntimeDefault` or `Localhost`");
            found.add(&kind, container, message);
            false
        }
        Typed::Absent | Typed::Invalid => {
            found.add(
                &kind,
                container,
                "must be `RuntimeDefault` or `Localhost`".into(),
            );
            false
        }
    }
}

fn seccomp_fields(pod: &PodSpec<'_>, found: &mut Violations) {
    check_seccomp_profile(&pod.security_context().get("seccompProfile"), None, found);
    for container in &pod.containers {
        let profile = container.security_context().get("seccompProfile");
        check_seccomp_profile(&profile, Some(container), found);
    }
}

/// Before v1.19, seccomp was set through annotations, and `unconfined` was the escape.
fn seccomp_annotations(pod: &PodSpec<'_>, found: &mut Violations) {
    let mut check = |field: Field<'_>, container| match field.as_str() {
        Typed::Value("unconfined") => found.add(
            &field,
            container,
            "seccomp profile `unconfined` is not allowed".into(),
        ),
        Typed::Invalid => found.add(&field, container, "must be a string".into()),
        Typed::Value(_) | Typed::Absent => {}
    };
    check(pod.annotation(SECCOMP_POD_ANNOTATION), None);
    for container in &pod.containers {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", container.name);
        check(pod.annotation(&key), Some(container));
    }
}

fn sysctls(pod: &PodSpec<'_>, version: Version, found: &mut Violations) {
    let field = pod.security_context().get("sysctls");
    let items = match field.items() {
        Typed::Value(items) => items,
        Typed::Absent => return,
        Typed::Invalid => {
            found.add(&field, None, "must be a list of sysctls".into());
            return;
        }
    };
    for item in items {
        let name = item.get("name");
        match name.as_str() {
            Typed::Value(text)
                if SAFE_SYSCTLS
                    .iter()
                    .any(|(safe, since)| *safe == text && version.at_least(*since)) => {}
            Typed::Value(text) => found.add(
                &name,
                None,
                format!("sysctl `{text}` is not in the allowed set at {version}"),
            ),
            Typed::Absent | Typed::Invalid => {
                found.add(&name, None, "must be a sysctl name".into());
            }
        }
    }
}
