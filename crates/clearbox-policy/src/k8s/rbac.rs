//! CIS Kubernetes Benchmark section 5.1 (RBAC and service accounts) applied to the `Role`,
//! `ClusterRole`, `RoleBinding`, `ClusterRoleBinding` and `ServiceAccount` objects of manifests.
//!
//! Numbers and titles follow CIS Kubernetes Benchmark v1.9 as kube-bench encodes it
//! (`cfg/cis-1.9/policies.yaml`; v1.10 to v1.12 number section 5.1 the same way). The benchmark
//! audits what subjects can do in a cluster (`kubectl auth can-i`); here each item is applied
//! to the rules and bindings the files declare:
//!
//! | item | object | fails when |
//! |---|---|---|
//! | 5.1.1 | bindings | `roleRef` is the `cluster-admin` `ClusterRole`, except the built-in `cluster-admin` binding to `system:masters` |
//! | 5.1.2 | roles | a rule grants `get`, `list` or `watch` on `secrets` |
//! | 5.1.3 | roles | `*` in `verbs`, `resources`, `apiGroups` or `nonResourceURLs` |
//! | 5.1.4 | roles | a rule grants `create` on `pods` |
//! | 5.1.5 | bindings, the `default` `ServiceAccount` | a binding names a `default` service account; the `default` service account does not set `automountServiceAccountToken: false` |
//! | 5.1.6 | `ServiceAccount` objects | the token is mounted (`automountServiceAccountToken` not `false`) but no binding in the files grants the account anything |
//! | 5.1.7 | bindings | a subject is the group `system:masters`, except in the built-in binding |
//! | 5.1.8 | roles | a rule names `bind`, `escalate` or `impersonate`, or grants `*` verbs on what they apply to (roles, cluster roles, users, groups, service accounts) |
//! | 5.1.9 | roles | a rule grants `create` on `persistentvolumes` |
//! | 5.1.10 | roles | a rule grants any verb on `nodes/proxy` |
//! | 5.1.11 | roles | a rule grants `update` or `patch` on `certificatesigningrequests/approval` |
//! | 5.1.12 | roles | a rule grants a write verb on validating or mutating webhook configurations |
//! | 5.1.13 | roles | a rule grants `create` on `serviceaccounts/token` |
//! | `k8s-rbac-pods-exec` | roles | a rule grants `get` or `create` on `pods/exec` or `pods/attach` (no CIS number) |
//!
//! A rule grants a verb on a resource when three lists match, as the RBAC authorizer matches
//! them. `verbs` contains the verb or `*`, and `apiGroups` the resource's group or `*`.
//! `resources` contains the resource or `*`, or for a subresource `resource/*` or
//! `*/subresource`. `resourceNames`
//! narrows a rule but is not taken into account. Rules that a `ClusterRole`'s `aggregationRule`
//! fills in at run time are not in the file and not checked.

use super::cis::{AUTOMOUNT_TOKEN, DEFAULT_SERVICE_ACCOUNT};
use super::field::{Field, Typed};
use super::results::{CheckInfo, Recorder, Standard};
use super::yaml::Node;

const fn cis(id: &'static str, title: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        title,
        standard: Standard::CisKubernetes,
    }
}

const CLUSTER_ADMIN: CheckInfo = cis(
    "5.1.1",
    "The cluster-admin role is bound only where required",
);
const SECRETS: CheckInfo = cis("5.1.2", "Roles grant no get, list or watch on secrets");
const WILDCARDS: CheckInfo = cis("5.1.3", "Roles and ClusterRoles use no wildcards");
const CREATE_PODS: CheckInfo = cis("5.1.4", "Roles grant no create on pods");
const SYSTEM_MASTERS: CheckInfo = cis("5.1.7", "Bindings do not name the system:masters group");
const ESCALATION: CheckInfo = cis(
    "5.1.8",
    "Roles grant no bind, escalate or impersonate permissions",
);
const CREATE_PERSISTENT_VOLUMES: CheckInfo =
    cis("5.1.9", "Roles grant no create on persistent volumes");
const NODE_PROXY: CheckInfo = cis("5.1.10", "Roles grant no access to nodes/proxy");
const CSR_APPROVAL: CheckInfo = cis(
    "5.1.11",
    "Roles grant no update on certificatesigningrequests/approval",
);
const WEBHOOKS: CheckInfo = cis(
    "5.1.12",
    "Roles grant no changes to admission webhook configurations",
);
const TOKEN_CREATE: CheckInfo = cis("5.1.13", "Roles grant no create on serviceaccounts/token");
const PODS_EXEC: CheckInfo = CheckInfo {
    id: "k8s-rbac-pods-exec",
    title: "Roles grant no pods/exec or pods/attach",
    standard: Standard::Clearbox,
};

/// The checks of this module that no other module declares, in catalog order. 5.1.5 and 5.1.6
/// are in [`super::cis::CHECKS`], which applies them to workloads.
pub(crate) const CHECKS: [CheckInfo; 12] = [
    CLUSTER_ADMIN,
    SECRETS,
    WILDCARDS,
    CREATE_PODS,
    SYSTEM_MASTERS,
    ESCALATION,
    CREATE_PERSISTENT_VOLUMES,
    NODE_PROXY,
    CSR_APPROVAL,
    WEBHOOKS,
    TOKEN_CREATE,
    PODS_EXEC,
];

/// True for the kinds this module checks.
#[must_use]
pub(crate) fn applies(kind: &str) -> bool {
    matches!(
        kind,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" | "ServiceAccount"
    )
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// A permission that a check forbids: any of `verbs` (any verb when empty) on any of
/// `targets`, as `(API group, resource)`.
struct Permission {
    check: &'static CheckInfo,
    verbs: &'static [&'static str],
    targets: &'static [(&'static str, &'static str)],
    fix: &'static str,
}

const PERMISSIONS: &[Permission] = &[
    Permission {
        check: &SECRETS,
        verbs: &["get", "list", "watch"],
        targets: &[("", "secrets")],
        fix: "remove these verbs, or mount the secrets the workload needs as volumes",
    },
    Permission {
        check: &CREATE_PODS,
        verbs: &["create"],
        targets: &[("", "pods")],
        fix: "remove `create`; let a controller (Deployment, Job) create pods",
    },
    Permission {
        check: &CREATE_PERSISTENT_VOLUMES,
        verbs: &["create"],
        targets: &[("", "persistentvolumes")],
        fix: "remove `create`; provision volumes through a StorageClass and claims",
    },
    Permission {
        check: &NODE_PROXY,
        verbs: &[],
        targets: &[("", "nodes/proxy")],
        fix: "remove access to `nodes/proxy`, which reaches the kubelet API directly",
    },
    Permission {
        check: &CSR_APPROVAL,
        verbs: &["update", "patch"],
        targets: &[("certificates.k8s.io", "certificatesigningrequests/approval")],
        fix: "remove the verbs; only the certificate approver should approve requests",
    },
    Permission {
        check: &WEBHOOKS,
        verbs: WRITE_VERBS,
        targets: &[
            (
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
            ),
            (
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
            ),
        ],
        fix: "grant only get, list and watch on webhook configurations",
    },
    Permission {
        check: &TOKEN_CREATE,
        verbs: &["create"],
        targets: &[("", "serviceaccounts/token")],
        fix: "remove `create`; a holder can mint tokens for every service account it covers",
    },
    Permission {
        check: &PODS_EXEC,
        verbs: &["get", "create"],
        targets: &[("", "pods/exec"), ("", "pods/attach")],
        fix: "remove the verbs; running commands in pods bypasses the image's controls",
    },
];

/// The privilege-escalation verbs of 5.1.8 and the resources each applies to.
const ESCALATION_VERBS: &[(&str, &[(&str, &str)])] = &[
    (
        "bind",
        &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
    ),
    (
        "escalate",
        &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
    ),
    (
        "impersonate",
        &[
            ("", "users"),
            ("", "groups"),
            ("", "serviceaccounts"),
            ("authentication.k8s.io", "uids"),
            ("authentication.k8s.io", "userextras"),
        ],
    ),
];

/// Service accounts that a binding in the checked files names, as `(namespace, name,
/// binding)`.
#[derive(Debug, Default)]
pub(crate) struct BoundAccounts {
    accounts: Vec<(Option<String>, String, String)>,
}

impl BoundAccounts {
    /// Collects the service account subjects of every binding among `objects`.
    pub(crate) fn collect<'a>(objects: impl Iterator<Item = &'a Node>) -> Self {
        let mut accounts = Vec::new();
        for object in objects {
            let root = Field::root(object, "");
            let kind = root.get("kind").as_str().value().unwrap_or_default();
            if !matches!(kind, "RoleBinding" | "ClusterRoleBinding") {
                continue;
            }
            let binding_namespace = root.at(&["metadata", "namespace"]).as_str().value();
            let name = root.at(&["metadata", "name"]).as_str().value();
            let binding = format!("{kind}/{}", name.unwrap_or("(unnamed)"));
            let Typed::Value(subjects) = root.get("subjects").items() else {
                continue;
            };
            for subject in subjects {
                if subject.get("kind").as_str().value() != Some("ServiceAccount") {
                    continue;
                }
                let Some(account) = subject.get("name").as_str().value() else {
                    continue;
                };
                let namespace = subject
                    .get("namespace")
                    .as_str()
                    .value()
                    .or(binding_namespace)
                    .map(str::to_owned);
                accounts.push((namespace, account.to_owned(), binding.clone()));
            }
        }
        BoundAccounts { accounts }
    }

    /// Finds the first binding that names the account. A namespace missing on either side matches
    /// any namespace, because the files do not say where they will be applied.
    fn binding_of(&self, namespace: Option<&str>, name: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|(bound_namespace, bound_name, _)| {
                bound_name == name
                    && match (bound_namespace.as_deref(), namespace) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            })
            .map(|(_, _, binding)| binding.as_str())
    }
}

/// Runs the checks that apply to the object's kind.
pub(crate) fn check(object: &Node, bound: &BoundAccounts, recorder: &mut Recorder<'_>) {
    let root = Field::root(object, "");
    match root.get("kind").as_str().value().unwrap_or_default() {
        "Role" | "ClusterRole" => check_rules(&root.get("rules"), recorder),
        "RoleBinding" | "ClusterRoleBinding" => check_binding(&root, recorder),
        "ServiceAccount" => check_service_account(&root, bound, recorder),
        _ => {}
    }
}

/// Reads the strings of a list field, or `None` when it is not a list of strings.
fn strings<'a>(field: &Field<'a>) -> Option<Vec<(&'a str, Field<'a>)>> {
    match field.strings() {
        Typed::Value(items) => Some(items),
        Typed::Absent => Some(Vec::new()),
        Typed::Invalid => None,
    }
}

/// One rule's lists, read once.
struct Rule<'a> {
    field: Field<'a>,
    verbs: Vec<&'a str>,
    groups: Vec<&'a str>,
    resources: Vec<&'a str>,
}

impl Rule<'_> {
    /// Lists the verbs among `requested` (any verb when empty) that the rule grants on `group`
    /// and `resource`.
    fn granted(&self, requested: &[&str], group: &str, resource: &str) -> Vec<String> {
        let group_matches = self.groups.iter().any(|g| *g == "*" || *g == group);
        let resource_matches = self.resources.iter().any(|r| resource_matches(r, resource));
        if !group_matches || !resource_matches {
            return Vec::new();
        }
        self.verbs
            .iter()
            .filter(|verb| {
                !verb.is_empty()
                    && (**verb == "*" || requested.is_empty() || requested.contains(verb))
            })
            .map(|verb| format!("`{verb}`"))
            .collect()
    }
}

/// Matches a rule's resource entry against `resource` (`pods` or `pods/exec`).
fn resource_matches(entry: &str, resource: &str) -> bool {
    if entry == "*" || entry == resource {
        return true;
    }
    match (resource.split_once('/'), entry.split_once('/')) {
        (Some((parent, sub)), Some((entry_parent, entry_sub))) => {
            (entry_parent == parent && entry_sub == "*")
                || (entry_parent == "*" && entry_sub == sub)
        }
        _ => false,
    }
}

fn check_rules(rules: &Field<'_>, recorder: &mut Recorder<'_>) {
    let items = match rules.items() {
        Typed::Value(items) => items,
        Typed::Absent => Vec::new(),
        Typed::Invalid => {
            for check in rule_checks() {
                recorder.fail(check, rules, None, "`rules` is not a list");
            }
            return;
        }
    };
    let mut parsed = Vec::new();
    let mut failed: Vec<&'static str> = Vec::new();
    for item in items {
        let lists = (
            strings(&item.get("verbs")),
            strings(&item.get("apiGroups")),
            strings(&item.get("resources")),
        );
        let (Some(verbs), Some(groups), Some(resources)) = lists else {
            let message = "`verbs`, `apiGroups` and `resources` must be lists of strings";
            for check in rule_checks() {
                recorder.fail(check, &item, None, message);
                failed.push(check.id);
            }
            continue;
        };
        wildcards(&item, &mut failed, recorder);
        parsed.push(Rule {
            field: item,
            verbs: verbs.into_iter().map(|(verb, _)| verb).collect(),
            groups: groups.into_iter().map(|(group, _)| group).collect(),
            resources: resources.into_iter().map(|(r, _)| r).collect(),
        });
    }
    for rule in &parsed {
        for permission in PERMISSIONS {
            forbidden_permission(rule, permission, &mut failed, recorder);
        }
        escalation(rule, &mut failed, recorder);
    }
    for check in rule_checks() {
        if !failed.contains(&check.id) {
            recorder.pass(check, rules, None, "no rule grants it");
        }
    }
}

/// Lists the checks about rules, in catalog order.
fn rule_checks() -> impl Iterator<Item = &'static CheckInfo> {
    [
        &SECRETS,
        &WILDCARDS,
        &CREATE_PODS,
        &ESCALATION,
        &CREATE_PERSISTENT_VOLUMES,
        &NODE_PROXY,
        &CSR_APPROVAL,
        &WEBHOOKS,
        &TOKEN_CREATE,
        &PODS_EXEC,
    ]
    .into_iter()
}

/// 5.1.3: every `*` entry of a rule.
fn wildcards(rule: &Field<'_>, failed: &mut Vec<&'static str>, recorder: &mut Recorder<'_>) {
    for (list, grants) in [
        ("verbs", "every verb"),
        ("resources", "every resource"),
        ("apiGroups", "every API group"),
        ("nonResourceURLs", "every URL"),
    ] {
        let Some(items) = strings(&rule.get(list)) else {
            continue;
        };
        for (value, field) in items {
            if value == "*" {
                let message = format!(
                    "`*` in {list} grants {grants}, including those added by later Kubernetes \
                     versions and CRDs; list the ones needed"
                );
                recorder.fail(&WILDCARDS, &field, None, message);
                failed.push(WILDCARDS.id);
            }
        }
    }
}

fn forbidden_permission(
    rule: &Rule<'_>,
    permission: &Permission,
    failed: &mut Vec<&'static str>,
    recorder: &mut Recorder<'_>,
) {
    for (group, resource) in permission.targets {
        let verbs = rule.granted(permission.verbs, group, resource);
        if verbs.is_empty() {
            continue;
        }
        let group = if group.is_empty() { "core" } else { group };
        let message = format!(
            "grants {} on `{resource}` (API group {group}); {}",
            verbs.join(", "),
            permission.fix
        );
        recorder.fail(permission.check, &rule.field.get("verbs"), None, message);
        failed.push(permission.check.id);
    }
}

/// 5.1.8: `bind`, `escalate` and `impersonate` named on any resource, or granted through `*`.
fn escalation(rule: &Rule<'_>, failed: &mut Vec<&'static str>, recorder: &mut Recorder<'_>) {
    let fix = "remove it; a holder can grant itself permissions it does not have";
    for (verb, targets) in ESCALATION_VERBS {
        let message = if rule.verbs.contains(verb) {
            format!("grants `{verb}`; {fix}")
        } else if let Some((_, resource)) = targets
            .iter()
            .find(|(group, resource)| !rule.granted(&[verb], group, resource).is_empty())
        {
            format!("grants `*` verbs on `{resource}`, which include `{verb}`; {fix}")
        } else {
            continue;
        };
        recorder.fail(&ESCALATION, &rule.field.get("verbs"), None, message);
        failed.push(ESCALATION.id);
    }
}

/// True for the built-in binding of `cluster-admin` to `system:masters`, which every cluster
/// has and kube-bench exempts.
fn is_builtin_cluster_admin(root: &Field<'_>) -> bool {
    let name = root.at(&["metadata", "name"]).as_str().value();
    let Typed::Value(subjects) = root.get("subjects").items() else {
        return false;
    };
    root.get("kind").as_str().value() == Some("ClusterRoleBinding")
        && name == Some("cluster-admin")
        && !subjects.is_empty()
        && subjects.iter().all(|subject| {
            subject.get("kind").as_str().value() == Some("Group")
                && subject.get("name").as_str().value() == Some("system:masters")
        })
}

fn check_binding(root: &Field<'_>, recorder: &mut Recorder<'_>) {
    let builtin = is_builtin_cluster_admin(root);

    // 5.1.1: the role bound.
    let role_ref = root.get("roleRef");
    let role_kind = role_ref.get("kind").as_str().value();
    let role_name = role_ref.get("name");
    if role_kind == Some("ClusterRole") && role_name.as_str().value() == Some("cluster-admin") {
        if builtin {
            let message = "the built-in binding of cluster-admin to system:masters";
            recorder.pass(&CLUSTER_ADMIN, &role_name, None, message);
        } else {
            let message = "binds the cluster-admin ClusterRole, which allows every action on \
                           every resource; bind a role with only the permissions the subjects \
                           need";
            recorder.fail(&CLUSTER_ADMIN, &role_name, None, message);
        }
    } else {
        recorder.pass(&CLUSTER_ADMIN, &role_name, None, "binds another role");
    }

    // 5.1.5 and 5.1.7: the subjects.
    let subjects = root.get("subjects");
    let items = match subjects.items() {
        Typed::Value(items) => items,
        Typed::Absent => Vec::new(),
        Typed::Invalid => {
            for check in [&DEFAULT_SERVICE_ACCOUNT, &SYSTEM_MASTERS] {
                recorder.fail(check, &subjects, None, "`subjects` is not a list");
            }
            return;
        }
    };
    let (mut default_bound, mut masters_bound) = (false, false);
    for subject in items {
        let kind = subject.get("kind").as_str().value();
        let name = subject.get("name");
        match (kind, name.as_str().value()) {
            (Some("ServiceAccount"), Some("default")) => {
                let message = "binds a `default` service account, whose permissions every pod \
                               that names no service account gets; create a service account \
                               for the workload and bind that";
                recorder.fail(&DEFAULT_SERVICE_ACCOUNT, &name, None, message);
                default_bound = true;
            }
            // The same accounts named as the user and groups the API server authenticates them
            // as: `system:serviceaccount:NS:default`, and every account of a namespace or of
            // the cluster.
            (Some("User"), Some(user))
                if user.starts_with("system:serviceaccount:") && user.ends_with(":default") =>
            {
                let message = "binds a `default` service account by its user name, whose \
                               permissions every pod that names no service account gets; \
                               create a service account for the workload and bind that";
                recorder.fail(&DEFAULT_SERVICE_ACCOUNT, &name, None, message);
                default_bound = true;
            }
            (Some("Group"), Some(group))
                if group == "system:serviceaccounts"
                    || group.starts_with("system:serviceaccounts:") =>
            {
                let message = "binds a group that holds every service account of a namespace \
                               or of the cluster, the `default` ones included; bind the \
                               workload's own service account instead";
                recorder.fail(&DEFAULT_SERVICE_ACCOUNT, &name, None, message);
                default_bound = true;
            }
            (Some("Group"), Some("system:masters")) if !builtin => {
                let message = "names the system:masters group, whose members bypass RBAC; bind \
                               a group of your own";
                recorder.fail(&SYSTEM_MASTERS, &name, None, message);
                masters_bound = true;
            }
            _ => {}
        }
    }
    if !default_bound {
        let message = "binds no `default` service account";
        recorder.pass(&DEFAULT_SERVICE_ACCOUNT, &subjects, None, message);
    }
    if !masters_bound {
        let message = "names no system:masters group outside the built-in binding";
        recorder.pass(&SYSTEM_MASTERS, &subjects, None, message);
    }
}

fn check_service_account(root: &Field<'_>, bound: &BoundAccounts, recorder: &mut Recorder<'_>) {
    let name = root
        .at(&["metadata", "name"])
        .as_str()
        .value()
        .unwrap_or_default();
    let namespace = root.at(&["metadata", "namespace"]).as_str().value();
    let automount = root.get("automountServiceAccountToken");
    let token = automount.as_bool();
    if token == Typed::Invalid {
        for check in [&DEFAULT_SERVICE_ACCOUNT, &AUTOMOUNT_TOKEN] {
            recorder.fail(check, &automount, None, "the value is not a boolean");
        }
        return;
    }
    let mounts = token != Typed::Value(false);

    // 5.1.5: the default service account mounts no token.
    if name != "default" {
        let message = format!("`{name}` is not the default service account");
        recorder.pass(&DEFAULT_SERVICE_ACCOUNT, &automount, None, message);
    } else if mounts {
        let message = "the default service account mounts its token into every pod that names \
                       no service account; set automountServiceAccountToken: false";
        recorder.fail(&DEFAULT_SERVICE_ACCOUNT, &automount, None, message);
    } else {
        let message = "the default service account mounts no token";
        recorder.pass(&DEFAULT_SERVICE_ACCOUNT, &automount, None, message);
    }

    // 5.1.6: a token only where a binding gives it a use.
    let binding = bound.binding_of(namespace, name);
    match (mounts, binding) {
        (false, _) => recorder.pass(&AUTOMOUNT_TOKEN, &automount, None, "set to false"),
        (true, Some(binding)) => {
            let message =
                format!("{binding} grants the account API access, so pods may need the token");
            recorder.pass(&AUTOMOUNT_TOKEN, &automount, None, message);
        }
        (true, None) => {
            let message = "the token is mounted, but no RoleBinding or ClusterRoleBinding in \
                           the checked files grants the account anything; set \
                           automountServiceAccountToken: false, and true only in the pods that \
                           call the API";
            recorder.fail(&AUTOMOUNT_TOKEN, &automount, None, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::k8s::results::{CheckResult, Outcome};
    use crate::k8s::workload::ResourceRef;
    use crate::k8s::yaml::parse_documents;

    /// Runs the checks on every document of `text` and returns the results.
    fn run(text: &str) -> Vec<CheckResult> {
        let documents = parse_documents(text).unwrap();
        let bound = BoundAccounts::collect(documents.iter());
        let mut results = Vec::new();
        for document in &documents {
            let resource = ResourceRef {
                kind: String::new(),
                namespace: None,
                name: String::new(),
                file: Path::new("t.yaml").to_owned(),
                line: document.location.line,
            };
            let mut recorder = Recorder {
                resource: &resource,
                results: &mut results,
            };
            check(document, &bound, &mut recorder);
        }
        results
    }

    /// Lists the failures of `check`, as `(field, line, message)`.
    fn failures(results: &[CheckResult], check: &str) -> Vec<(String, u32, String)> {
        results
            .iter()
            .filter(|r| r.check == check && r.result == Outcome::Fail)
            .map(|r| (r.field.clone(), r.line, r.message.clone()))
            .collect()
    }

    fn passed(results: &[CheckResult], check: &str) -> bool {
        let any = results.iter().any(|r| r.check == check);
        any && failures(results, check).is_empty()
    }

    const ROLE: &str = "kind: Role\nmetadata: {name: r, namespace: n}\nrules:\n";

    fn role(rules: &str) -> String {
        format!("{ROLE}{rules}")
    }

    #[test]
    fn read_only_role_passes_everything() {
        let results = run(&role(
            "- apiGroups: [\"\"]\n  resources: [pods, configmaps]\n  verbs: [get, list]\n",
        ));
        for check in rule_checks() {
            assert!(passed(&results, check.id), "{}", check.id);
        }
    }

    #[test]
    fn secrets_read_fails() {
        let results = run(&role(
            "- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get, update]\n",
        ));
        let found = failures(&results, "5.1.2");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "rules[0].verbs");
        assert_eq!(found[0].1, 6);
        assert!(
            found[0]
                .2
                .starts_with("grants `get` on `secrets` (API group core); remove"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn wildcards_located_per_entry() {
        let results = run(&role(
            "- apiGroups: [\"*\"]\n  resources:\n  - pods\n  - \"*\"\n  verbs: [get]\n",
        ));
        let found = failures(&results, "5.1.3");
        let fields: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(fields, ["rules[0].resources[1]", "rules[0].apiGroups[0]"]);
        assert_eq!(found[0].1, 7);
    }

    #[test]
    fn create_pods_through_star_verbs_fails() {
        let results = run(&role(
            "- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [\"*\"]\n",
        ));
        let found = failures(&results, "5.1.4");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].2.starts_with("grants `*` on `pods`"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn subresources_match_as_rbac_does() {
        // One failure per subresource granted: exec, attach or both.
        let cases = [
            ("[pods/exec]", 1),
            ("[\"pods/*\"]", 2),
            ("[\"*/exec\"]", 1),
            ("[\"*\"]", 2),
        ];
        for (resources, count) in cases {
            let results = run(&role(&format!(
                "- apiGroups: [\"\"]\n  resources: {resources}\n  verbs: [create]\n"
            )));
            assert_eq!(
                failures(&results, "k8s-rbac-pods-exec").len(),
                count,
                "{resources}"
            );
        }
        let results = run(&role(
            "- apiGroups: [\"\"]\n  resources: [pods/log]\n  verbs: [get]\n",
        ));
        assert!(passed(&results, "k8s-rbac-pods-exec"));
    }

    #[test]
    fn escalation_verbs_fail() {
        let results = run(&role(
            "- apiGroups: [rbac.authorization.k8s.io]\n  resources: [rolebindings]\n  verbs: [bind]\n\
             - apiGroups: [\"\"]\n  resources: [users]\n  verbs: [\"*\"]\n",
        ));
        let messages: Vec<String> = failures(&results, "5.1.8")
            .into_iter()
            .map(|f| f.2)
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("grants `bind`;"), "{}", messages[0]);
        assert!(
            messages[1].starts_with("grants `*` verbs on `users`, which include `impersonate`"),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn other_permissions_fail() {
        let cases = [
            ("5.1.9", "\"\"", "persistentvolumes", "create"),
            ("5.1.10", "\"\"", "nodes/proxy", "get"),
            (
                "5.1.11",
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
                "update",
            ),
            (
                "5.1.12",
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                "patch",
            ),
            ("5.1.13", "\"\"", "serviceaccounts/token", "create"),
        ];
        for (check, group, resource, verb) in cases {
            let results = run(&role(&format!(
                "- apiGroups: [{group}]\n  resources: [{resource}]\n  verbs: [{verb}]\n"
            )));
            assert_eq!(failures(&results, check).len(), 1, "{check}");
            let results = run(&role(&format!(
                "- apiGroups: [{group}]\n  resources: [{resource}]\n  verbs: [list]\n"
            )));
            let expected = check == "5.1.10";
            assert_eq!(!passed(&results, check), expected, "{check} with list");
        }
    }

    #[test]
    fn empty_verb_grants_nothing() {
        let results = run(&role(
            "- apiGroups: [\"*\"]\n  resources: [\"*\"]\n  verbs: [\"\"]\n",
        ));
        assert!(passed(&results, "5.1.10"));
        assert!(passed(&results, "5.1.2"));
    }

    #[test]
    fn cluster_admin_binding_fails() {
        let text = "kind: ClusterRoleBinding\nmetadata: {name: ops}\nroleRef:\n  kind: ClusterRole\n  \
                    name: cluster-admin\nsubjects:\n- kind: User\n  name: bob\n";
        let found = failures(&run(text), "5.1.1");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0.as_str(), found[0].1), ("roleRef.name", 5));
    }

    #[test]
    fn builtin_cluster_admin_binding_passes() {
        let text = "kind: ClusterRoleBinding\nmetadata: {name: cluster-admin}\nroleRef: {kind: \
                    ClusterRole, name: cluster-admin}\nsubjects:\n- {kind: Group, name: \
                    system:masters}\n";
        let results = run(text);
        assert!(passed(&results, "5.1.1"));
        assert!(passed(&results, "5.1.7"));
    }

    #[test]
    fn masters_group_binding_fails() {
        let text = "kind: RoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r}\n\
                    subjects:\n- {kind: Group, name: system:masters}\n";
        let found = failures(&run(text), "5.1.7");
        assert_eq!(found[0].0, "subjects[0].name");
    }

    #[test]
    fn default_account_binding_fails() {
        let text = "kind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {kind: Role, \
                    name: r}\nsubjects:\n- kind: ServiceAccount\n  name: default\n";
        let found = failures(&run(text), "5.1.5");
        assert_eq!((found[0].0.as_str(), found[0].1), ("subjects[0].name", 6));
    }

    #[test]
    fn default_account_by_user_or_group_name_fails() {
        for subject in [
            "{kind: User, name: 'system:serviceaccount:n:default'}",
            "{kind: Group, name: 'system:serviceaccounts'}",
            "{kind: Group, name: 'system:serviceaccounts:n'}",
        ] {
            let text = format!(
                "kind: RoleBinding\nmetadata: {{name: b, namespace: n}}\nroleRef: {{kind: Role, \
                 name: r}}\nsubjects:\n- {subject}\n"
            );
            assert_eq!(failures(&run(&text), "5.1.5").len(), 1, "{subject}");
        }
        let text = "kind: RoleBinding\nmetadata: {name: b, namespace: n}\nroleRef: {kind: Role, \
                    name: r}\nsubjects:\n- {kind: User, name: 'system:serviceaccount:n:api'}\n";
        assert!(passed(&run(text), "5.1.5"));
    }

    #[test]
    fn default_account_must_disable_token() {
        let results = run("kind: ServiceAccount\nmetadata: {name: default}\n");
        assert_eq!(failures(&results, "5.1.5").len(), 1);
        let results = run(
            "kind: ServiceAccount\nmetadata: {name: default}\nautomountServiceAccountToken: false\n",
        );
        assert!(passed(&results, "5.1.5"));
        assert!(passed(&results, "5.1.6"));
    }

    #[test]
    fn unbound_account_with_token_fails() {
        let account = "kind: ServiceAccount\nmetadata: {name: app, namespace: n}\n";
        let found = failures(&run(account), "5.1.6");
        // A missing field is located at its parent, here the object's first key.
        assert_eq!(
            (found[0].0.as_str(), found[0].1),
            ("automountServiceAccountToken", 1)
        );

        let binding = "---\nkind: RoleBinding\nmetadata: {name: app, namespace: n}\nroleRef: \
                       {kind: Role, name: r}\nsubjects:\n- {kind: ServiceAccount, name: app}\n";
        let results = run(&format!("{account}{binding}"));
        assert!(passed(&results, "5.1.6"));
    }
}
