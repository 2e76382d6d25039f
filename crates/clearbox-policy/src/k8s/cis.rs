//! CIS Kubernetes Benchmark section 5 items that a manifest decides, and clearbox's own
//! least-privilege checks on pod specs.
//!
//! Numbers follow CIS Kubernetes Benchmark v1.9, which kube-bench applies to Kubernetes 1.27 to
//! 1.29 (the version mapping in its `cfg/config.yaml`). The benchmark audits cluster policies; here
//! each item is applied to the workloads the policies would admit. The RBAC items are in
//! [`super::rbac`]. Items about network policies, admission configuration or external secret
//! stores need a cluster and are not checked.
//!
//! Checks about one container run for every container, init container and ephemeral container,
//! except the resource checks: ephemeral containers cannot declare resources. Security settings
//! are taken as the kubelet resolves them: the container's `securityContext` field, else the
//! pod's.

use super::field::{Field, Typed};
use super::results::{CheckInfo, Recorder, Standard};
use super::workload::{Container, ContainerKind, PodSpec, Workload};

const fn cis(id: &'static str, title: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        title,
        standard: Standard::CisKubernetes,
    }
}

const fn own(id: &'static str, title: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        title,
        standard: Standard::Clearbox,
    }
}

pub(crate) const POD_SPEC_VALID: CheckInfo = own(
    "k8s-pod-spec-valid",
    "The pod spec has the shape the Kubernetes API requires",
);
pub(crate) const DEFAULT_SERVICE_ACCOUNT: CheckInfo =
    cis("5.1.5", "Pods do not use the default service account");
pub(crate) const AUTOMOUNT_TOKEN: CheckInfo = cis(
    "5.1.6",
    "Service account tokens are not mounted (automountServiceAccountToken: false)",
);
const PRIVILEGED: CheckInfo = cis("5.2.2", "Containers are not privileged");
const HOST_PID: CheckInfo = cis("5.2.3", "Pods do not share the host process ID namespace");
const HOST_IPC: CheckInfo = cis("5.2.4", "Pods do not share the host IPC namespace");
const HOST_NETWORK: CheckInfo = cis("5.2.5", "Pods do not share the host network namespace");
const PRIVILEGE_ESCALATION: CheckInfo =
    cis("5.2.6", "Containers set allowPrivilegeEscalation: false");
const RUN_AS_NON_ROOT: CheckInfo = cis("5.2.7", "Containers run with runAsNonRoot: true");
const NET_RAW: CheckInfo = cis("5.2.8", "Containers drop the NET_RAW capability");
const ADDED_CAPABILITIES: CheckInfo = cis("5.2.9", "Containers add no capabilities");
const DROP_ALL: CheckInfo = cis("5.2.10", "Containers drop ALL capabilities");
const HOST_PROCESS: CheckInfo = cis(
    "5.2.11",
    "Containers are not Windows HostProcess containers",
);
const HOST_PATH: CheckInfo = cis("5.2.12", "Pods use no hostPath volumes");
const HOST_PORTS: CheckInfo = cis("5.2.13", "Containers use no host ports");
const SECRETS_AS_ENV: CheckInfo = cis(
    "5.4.1",
    "Secrets reach containers as files, not environment variables",
);
const SECCOMP: CheckInfo = cis(
    "5.7.2",
    "Containers run with the RuntimeDefault seccomp profile (or a Localhost profile)",
);
const SECURITY_CONTEXT: CheckInfo = cis("5.7.3", "Pods and containers set a securityContext");
const DEFAULT_NAMESPACE: CheckInfo = cis("5.7.4", "Resources name a namespace other than default");
const RUN_AS_USER: CheckInfo = own(
    "k8s-run-as-user-not-root",
    "Containers do not set runAsUser: 0",
);
const READ_ONLY_ROOT: CheckInfo = own(
    "k8s-read-only-root-filesystem",
    "Containers set readOnlyRootFilesystem: true",
);
const RESOURCE_REQUESTS: CheckInfo =
    own("k8s-resource-requests", "Containers request CPU and memory");
const RESOURCE_LIMITS: CheckInfo = own("k8s-resource-limits", "Containers limit CPU and memory");

/// The checks of this module, in the order they run.
pub(crate) const CHECKS: [CheckInfo; 23] = [
    POD_SPEC_VALID,
    DEFAULT_SERVICE_ACCOUNT,
    AUTOMOUNT_TOKEN,
    PRIVILEGED,
    HOST_PID,
    HOST_IPC,
    HOST_NETWORK,
    PRIVILEGE_ESCALATION,
    RUN_AS_NON_ROOT,
    NET_RAW,
    ADDED_CAPABILITIES,
    DROP_ALL,
    HOST_PROCESS,
    HOST_PATH,
    HOST_PORTS,
    SECRETS_AS_ENV,
    SECCOMP,
    SECURITY_CONTEXT,
    DEFAULT_NAMESPACE,
    RUN_AS_USER,
    READ_ONLY_ROOT,
    RESOURCE_REQUESTS,
    RESOURCE_LIMITS,
];

/// Records the pod spec's shape problems, one failure each, or one pass.
pub(crate) fn check_shape(pod: &PodSpec<'_>, recorder: &mut Recorder<'_>) {
    if pod.problems.is_empty() {
        recorder.pass(
            &POD_SPEC_VALID,
            &pod.spec,
            None,
            "the pod spec has containers",
        );
    }
    for problem in &pod.problems {
        recorder.record_at(
            POD_SPEC_VALID.id,
            super::results::Outcome::Fail,
            (&problem.field, problem.location),
            None,
            problem.message.clone(),
        );
    }
}

/// Runs every check of this module but the shape check, in catalog order.
pub(crate) fn check(workload: &Workload<'_>, pod: &PodSpec<'_>, recorder: &mut Recorder<'_>) {
    service_account(pod, recorder);
    automount_token(pod, recorder);
    for container in &pod.containers {
        let field = container.security_context().get("privileged");
        forbid_true(
            recorder,
            &PRIVILEGED,
            &field,
            Some(container),
            "the container is privileged",
        );
    }
    let namespaces = [
        (HOST_PID, "hostPID", "process ID"),
        (HOST_IPC, "hostIPC", "IPC"),
        (HOST_NETWORK, "hostNetwork", "network"),
    ];
    for (info, key, namespace) in namespaces {
        let message = format!("the pod shares the host's {namespace} namespace");
        forbid_true(recorder, &info, &pod.spec.get(key), None, &message);
    }
    for container in &pod.containers {
        privilege_escalation(container, recorder);
    }
    for container in &pod.containers {
        run_as_non_root(pod, container, recorder);
    }
    for container in &pod.containers {
        capabilities(container, recorder);
    }
    for container in &pod.containers {
        let field = pod.effective(container, &["windowsOptions", "hostProcess"]);
        let message = "the container runs as a Windows HostProcess";
        forbid_true(recorder, &HOST_PROCESS, &field, Some(container), message);
    }
    host_path(pod, recorder);
    for container in &pod.containers {
        host_ports(container, recorder);
    }
    for container in &pod.containers {
        secrets_as_env(container, recorder);
    }
    for container in &pod.containers {
        seccomp(pod, container, recorder);
    }
    security_context(pod, recorder);
    default_namespace(workload, recorder);
    for container in &pod.containers {
        run_as_user(pod, container, recorder);
    }
    for container in &pod.containers {
        read_only_root(container, recorder);
    }
    for container in &pod.containers {
        if container.kind != ContainerKind::Ephemeral {
            resources(container, recorder);
        }
    }
}

/// Passes when a boolean field is unset or false; fails when it is true or not a boolean.
fn forbid_true(
    recorder: &mut Recorder<'_>,
    info: &CheckInfo,
    field: &Field<'_>,
    container: Option<&Container<'_>>,
    true_message: &str,
) {
    match field.as_bool() {
        Typed::Value(true) => recorder.fail(info, field, container, true_message),
        Typed::Invalid => recorder.fail(info, field, container, "the value is not a boolean"),
        Typed::Value(false) => recorder.pass(info, field, container, "set to false"),
        Typed::Absent => recorder.pass(info, field, container, "unset, which means false"),
    }
}

fn service_account(pod: &PodSpec<'_>, recorder: &mut Recorder<'_>) {
    // `serviceAccount` is the deprecated name of `serviceAccountName`.
    let current = pod.spec.get("serviceAccountName");
    let legacy = pod.spec.get("serviceAccount");
    let field = if current.is_present() || !legacy.is_present() {
        current
    } else {
        legacy
    };
    match field.as_str() {
        Typed::Value(name) if !name.is_empty() && name != "default" => {
            recorder.pass(
                &DEFAULT_SERVICE_ACCOUNT,
                &field,
                None,
                format!("uses `{name}`"),
            );
        }
        Typed::Value(_) => recorder.fail(
            &DEFAULT_SERVICE_ACCOUNT,
            &field,
            None,
            "names the `default` service account; create one for this workload",
        ),
        Typed::Absent => recorder.fail(
            &DEFAULT_SERVICE_ACCOUNT,
            &field,
            None,
            "unset, so the pod runs as the namespace's `default` service account",
        ),
        Typed::Invalid => {
            recorder.fail(
                &DEFAULT_SERVICE_ACCOUNT,
                &field,
                None,
                "the value is not a string",
            );
        }
    }
}

fn automount_token(pod: &PodSpec<'_>, recorder: &mut Recorder<'_>) {
    let field = pod.spec.get("automountServiceAccountToken");
    match field.as_bool() {
        Typed::Value(false) => recorder.pass(&AUTOMOUNT_TOKEN, &field, None, "set to false"),
        Typed::Value(true) => recorder.fail(
            &AUTOMOUNT_TOKEN,
            &field,
            None,
            "set to true: the pod gets an API token",
        ),
        Typed::Absent => recorder.fail(
            &AUTOMOUNT_TOKEN,
            &field,
            None,
            "unset: the pod gets an API token unless its service account disables it",
        ),
        Typed::Invalid => {
            recorder.fail(&AUTOMOUNT_TOKEN, &field, None, "the value is not a boolean");
        }
    }
}

fn privilege_escalation(container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let field = container.security_context().get("allowPrivilegeEscalation");
    let info = &PRIVILEGE_ESCALATION;
    match field.as_bool() {
        Typed::Value(false) => recorder.pass(info, &field, Some(container), "set to false"),
        Typed::Value(true) => recorder.fail(info, &field, Some(container), "set to true"),
        Typed::Absent => recorder.fail(
            info,
            &field,
            Some(container),
            "unset, which allows privilege escalation (setuid binaries, file capabilities)",
        ),
        Typed::Invalid => {
            recorder.fail(info, &field, Some(container), "the value is not a boolean");
        }
    }
}

fn run_as_non_root(pod: &PodSpec<'_>, container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let field = pod.effective(container, &["runAsNonRoot"]);
    let info = &RUN_AS_NON_ROOT;
    match field.as_bool() {
        Typed::Value(true) => recorder.pass(info, &field, Some(container), "set to true"),
        Typed::Value(false) => recorder.fail(info, &field, Some(container), "set to false"),
        Typed::Absent => recorder.fail(
            info,
            &field,
            Some(container),
            "unset in the container and the pod, so nothing stops the image's root user",
        ),
        Typed::Invalid => {
            recorder.fail(info, &field, Some(container), "the value is not a boolean");
        }
    }
}

/// A capability name as container runtimes read it: upper case, without `CAP_`.
fn normalize_capability(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_owned()
}

/// Reads a capability list; `None` when it is not a list of strings.
fn capability_list<'a>(field: &Field<'a>) -> Option<Vec<(String, Field<'a>)>> {
    match field.strings() {
        Typed::Value(names) => Some(
            names
                .into_iter()
                .map(|(name, field)| (normalize_capability(name), field))
                .collect(),
        ),
        Typed::Absent => Some(Vec::new()),
        Typed::Invalid => None,
    }
}

/// 5.2.8, 5.2.9 and 5.2.10 for one container.
fn capabilities(container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let capabilities = container.security_context().get("capabilities");
    let add_field = capabilities.get("add");
    let drop_field = capabilities.get("drop");
    let c = Some(container);
    let (Some(add), Some(drop)) = (capability_list(&add_field), capability_list(&drop_field))
    else {
        let message = "`capabilities.add` and `capabilities.drop` must be lists of strings";
        for info in [&NET_RAW, &ADDED_CAPABILITIES, &DROP_ALL] {
            recorder.fail(info, &capabilities, c, message);
        }
        return;
    };
    let drops = |name: &str| drop.iter().any(|(n, _)| n == "ALL" || n == name);

    // 5.2.8: NET_RAW must be dropped and not added back.
    if let Some((_, field)) = add.iter().find(|(name, _)| name == "NET_RAW") {
        recorder.fail(&NET_RAW, field, c, "adds NET_RAW");
    } else if drops("NET_RAW") {
        recorder.pass(&NET_RAW, &drop_field, c, "drops NET_RAW");
    } else {
        let message = "does not drop NET_RAW, which container runtimes grant by default";
        recorder.fail(&NET_RAW, &drop_field, c, message);
    }

    // 5.2.9: nothing added.
    if add.is_empty() {
        recorder.pass(&ADDED_CAPABILITIES, &add_field, c, "adds no capabilities");
    }
    for (name, field) in &add {
        recorder.fail(&ADDED_CAPABILITIES, field, c, format!("adds {name}"));
    }

    // 5.2.10: ALL dropped.
    if drop.iter().any(|(name, _)| name == "ALL") {
        recorder.pass(&DROP_ALL, &drop_field, c, "drops ALL");
    } else {
        recorder.fail(&DROP_ALL, &drop_field, c, "does not drop ALL");
    }
}

fn host_path(pod: &PodSpec<'_>, recorder: &mut Recorder<'_>) {
    let volumes = pod.spec.get("volumes");
    let items = match volumes.items() {
        Typed::Value(items) => items,
        Typed::Absent => Vec::new(),
        Typed::Invalid => {
            recorder.fail(&HOST_PATH, &volumes, None, "`volumes` is not a list");
            return;
        }
    };
    let mut failed = false;
    for volume in items {
        let host_path = volume.get("hostPath");
        if host_path.is_present() {
            let path = host_path.get("path").as_str().value().unwrap_or_default();
            let message = format!("mounts the node's `{path}`");
            recorder.fail(&HOST_PATH, &host_path, None, message);
            failed = true;
        }
    }
    if !failed {
        recorder.pass(&HOST_PATH, &volumes, None, "no hostPath volumes");
    }
}

fn host_ports(container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let ports = container.field.get("ports");
    let c = Some(container);
    let items = match ports.items() {
        Typed::Value(items) => items,
        Typed::Absent => Vec::new(),
        Typed::Invalid => {
            recorder.fail(&HOST_PORTS, &ports, c, "`ports` is not a list");
            return;
        }
    };
    let mut failed = false;
    for port in items {
        let host_port = port.get("hostPort");
        match host_port.as_i64() {
            Typed::Absent | Typed::Value(0) => {}
            Typed::Value(number) => {
                recorder.fail(
                    &HOST_PORTS,
                    &host_port,
                    c,
                    format!("uses host port {number}"),
                );
                failed = true;
            }
            Typed::Invalid => {
                recorder.fail(&HOST_PORTS, &host_port, c, "the value is not an integer");
                failed = true;
            }
        }
    }
    if !failed {
        recorder.pass(&HOST_PORTS, &ports, c, "no host ports");
    }
}

fn secrets_as_env(container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let c = Some(container);
    let mut failed = false;
    // (list field, reference inside each item, what the reference does)
    let sources = [
        (
            "env",
            &["valueFrom", "secretKeyRef"][..],
            "sets a variable from secret",
        ),
        (
            "envFrom",
            &["secretRef"][..],
            "imports every key as a variable from secret",
        ),
    ];
    for (list, reference_path, action) in sources {
        let field = container.field.get(list);
        let items = match field.items() {
            Typed::Value(items) => items,
            Typed::Absent => continue,
            Typed::Invalid => {
                recorder.fail(
                    &SECRETS_AS_ENV,
                    &field,
                    c,
                    format!("`{list}` is not a list"),
                );
                failed = true;
                continue;
            }
        };
        for item in items {
            let reference = item.at(reference_path);
            if reference.is_present() {
                let secret = reference.get("name").as_str().value().unwrap_or_default();
                recorder.fail(
                    &SECRETS_AS_ENV,
                    &reference,
                    c,
                    format!("{action} `{secret}`"),
                );
                failed = true;
            }
        }
    }
    if !failed {
        let message = "no environment variables from secrets";
        recorder.pass(&SECRETS_AS_ENV, &container.field.get("env"), c, message);
    }
}

fn seccomp(pod: &PodSpec<'_>, container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let profile = pod.effective(container, &["seccompProfile"]);
    let kind = profile.get("type");
    let c = Some(container);
    match kind.as_str() {
        Typed::Value("RuntimeDefault") => recorder.pass(&SECCOMP, &kind, c, "RuntimeDefault"),
        Typed::Value("Localhost") => {
            let name = profile
                .get("localhostProfile")
                .as_str()
                .value()
                .unwrap_or_default();
            recorder.pass(&SECCOMP, &kind, c, format!("Localhost profile `{name}`"));
        }
        Typed::Value(other) => recorder.fail(&SECCOMP, &kind, c, format!("profile type `{other}`")),
        Typed::Absent => recorder.fail(
            &SECCOMP,
            &kind,
            c,
            "unset in the container and the pod, which runs the container unconfined on most \
             runtimes",
        ),
        Typed::Invalid => recorder.fail(&SECCOMP, &kind, c, "the value is not a string"),
    }
}

/// True for a present, non-empty mapping.
fn is_non_empty_mapping(field: &Field<'_>) -> bool {
    matches!(field.entries(), Typed::Value(entries) if !entries.is_empty())
}

fn security_context(pod: &PodSpec<'_>, recorder: &mut Recorder<'_>) {
    let pod_context = pod.security_context();
    if is_non_empty_mapping(&pod_context) {
        recorder.pass(
            &SECURITY_CONTEXT,
            &pod_context,
            None,
            "the pod sets a securityContext",
        );
    } else {
        let message = "the pod sets no securityContext";
        recorder.fail(&SECURITY_CONTEXT, &pod_context, None, message);
    }
    for container in &pod.containers {
        let context = container.security_context();
        let c = Some(container);
        if is_non_empty_mapping(&context) {
            recorder.pass(
                &SECURITY_CONTEXT,
                &context,
                c,
                "the container sets a securityContext",
            );
        } else {
            let message = "the container sets no securityContext";
            recorder.fail(&SECURITY_CONTEXT, &context, c, message);
        }
    }
}

fn default_namespace(workload: &Workload<'_>, recorder: &mut Recorder<'_>) {
    let field = workload.object.at(&["metadata", "namespace"]);
    match field.as_str() {
        Typed::Value("default") => {
            recorder.fail(
                &DEFAULT_NAMESPACE,
                &field,
                None,
                "names the `default` namespace",
            );
        }
        Typed::Value(namespace) if !namespace.is_empty() => {
            recorder.pass(
                &DEFAULT_NAMESPACE,
                &field,
                None,
                format!("in `{namespace}`"),
            );
        }
        Typed::Value(_) | Typed::Absent => recorder.fail(
            &DEFAULT_NAMESPACE,
            &field,
            None,
            "unset, so the resource goes to the current context's namespace, `default` unless \
             configured",
        ),
        Typed::Invalid => {
            recorder.fail(
                &DEFAULT_NAMESPACE,
                &field,
                None,
                "the value is not a string",
            );
        }
    }
}

fn run_as_user(pod: &PodSpec<'_>, container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let field = pod.effective(container, &["runAsUser"]);
    let c = Some(container);
    match field.as_i64() {
        Typed::Value(0) => recorder.fail(&RUN_AS_USER, &field, c, "runs as uid 0 (root)"),
        Typed::Value(uid) => recorder.pass(&RUN_AS_USER, &field, c, format!("runs as uid {uid}")),
        Typed::Absent => recorder.pass(
            &RUN_AS_USER,
            &field,
            c,
            "unset, so the image's user applies (5.2.7 checks that it is not root)",
        ),
        Typed::Invalid => recorder.fail(&RUN_AS_USER, &field, c, "the value is not an integer"),
    }
}

fn read_only_root(container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let field = container.security_context().get("readOnlyRootFilesystem");
    let c = Some(container);
    match field.as_bool() {
        Typed::Value(true) => recorder.pass(&READ_ONLY_ROOT, &field, c, "set to true"),
        Typed::Value(false) => recorder.fail(&READ_ONLY_ROOT, &field, c, "set to false"),
        Typed::Absent => recorder.fail(
            &READ_ONLY_ROOT,
            &field,
            c,
            "unset, so the container can write to its root filesystem",
        ),
        Typed::Invalid => recorder.fail(&READ_ONLY_ROOT, &field, c, "the value is not a boolean"),
    }
}

fn resources(container: &Container<'_>, recorder: &mut Recorder<'_>) {
    let c = Some(container);
    for (info, section) in [(RESOURCE_REQUESTS, "requests"), (RESOURCE_LIMITS, "limits")] {
        let field = container.field.at(&["resources", section]);
        let missing: Vec<&str> = ["cpu", "memory"]
            .into_iter()
            .filter(|resource| !field.get(resource).is_present())
            .collect();
        if missing.is_empty() {
            recorder.pass(&info, &field, c, format!("sets cpu and memory {section}"));
        } else {
            let message = format!("no {} {section}", missing.join(" or "));
            let blamed = if missing.len() == 1 {
                field.get(missing[0])
            } else {
                field
            };
            recorder.fail(&info, &blamed, c, message);
        }
    }
}
