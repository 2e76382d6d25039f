//! CIS and clearbox checks on real manifests: checkov's Kubernetes check examples
//! (`checkov/tests-kubernetes-checks/example_<Check>/`, verdict in the file name) wherever a
//! checkov check tests what one of ours tests, and Pod Security admission fixtures for the items
//! checkov has no example of.
//!
//! Each case states clearbox's expected verdict. When that differs from the verdict in checkov's
//! file name, the case says why; when it does not, the test checks that it really is checkov's
//! verdict, so a mislabelled case cannot hide. Every check in the table has at least one
//! passing and one failing manifest.

use std::collections::BTreeMap;
use std::path::Path;

use clearbox_policy::k8s::manifest::parse_manifest;
use clearbox_policy::k8s::{K8sOptions, K8sReport, Outcome, RegistryPrefix};

use crate::support::{check, k8s_corpus, require};

/// The verdict clearbox must give for the check in a file.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Every workload in the file fails the check at least once.
    Fails,
    /// Every workload has results for the check, and none failed.
    Passes,
    /// Per workload in file order: true when it fails the check.
    Each(&'static [bool]),
    /// Every result of the check by container (`None` for a pod-level result): true when it
    /// failed.
    Containers(&'static [(Option<&'static str>, bool)]),
}

/// One file checked for one check.
struct Case {
    /// Path under the corpus's `k8s/` folder.
    file: &'static str,
    check: &'static str,
    expect: Expect,
    /// The reason clearbox's verdict differs from the one in checkov's file name.
    differs: Option<&'static str>,
    /// Text replaced in memory before parsing: `(from, to)`.
    edit: Option<(&'static str, &'static str)>,
    /// Allowed registries for the run.
    allow: &'static [&'static str],
}

const fn case(file: &'static str, check: &'static str, expect: Expect) -> Case {
    Case {
        file,
        check,
        expect,
        differs: None,
        edit: None,
        allow: &[],
    }
}

const fn differs(
    file: &'static str,
    check: &'static str,
    expect: Expect,
    why: &'static str,
) -> Case {
    Case {
        differs: Some(why),
        ..case(file, check, expect)
    }
}

const CK: &str = "checkov/tests-kubernetes-checks/";

/// checkov's examples give six hexadecimal digits after `@sha256:`; a SHA-256 digest has 64, and
/// no runtime pulls the short form. These cases pad the digest to 64 digits in memory.
const PADDED_DIGEST: (&str, &str) = (
    "@sha256:123456\n",
    "@sha256:1234560000000000000000000000000000000000000000000000000000000000\n",
);
const SHORT_DIGEST: &str = "the image's digest has 6 hexadecimal digits, not 64, so it is no \
                            digest and nothing pins the image; checkov accepts any `@sha256:`";

macro_rules! ck {
    ($file:literal) => {
        concat!("checkov/tests-kubernetes-checks/", $file)
    };
}

#[allow(clippy::too_many_lines, reason = "one table of cases, one per line")]
fn cases() -> Vec<Case> {
    use Expect::{Containers, Each, Fails, Passes};
    vec![
        // 5.1.5: checkov's default service account examples are ServiceAccount objects; these
        // workloads from other examples name a service account or none.
        case(
            ck!("example_AllowPrivilegeEscalation/ds-nginx-ingress-FAILED.yaml"),
            "5.1.5",
            Passes,
        )
        .unlabelled(),
        case(
            ck!("example_AllowPrivilegeEscalation/pod-runas1000-PASSED.yaml"),
            "5.1.5",
            Fails,
        )
        .unlabelled(),
        // 5.1.6
        case(
            ck!("example_ServiceAccountTokens/ServiceAccountTokensFAILED.yaml"),
            "5.1.6",
            Fails,
        ),
        case(
            ck!("example_ServiceAccountTokens/ServiceAccountTokensPASSED.yaml"),
            "5.1.6",
            Passes,
        ),
        // 5.1.1 to 5.1.13 on Role, ClusterRole, RoleBinding, ClusterRoleBinding and
        // ServiceAccount objects. Checks without a checkov example use a real role with one
        // rule edited in memory.
        case(
            ck!("example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-FAILED.yaml"),
            "5.1.1",
            Each(&[false, true]),
        ),
        case(
            ck!("example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-PASSED.yaml"),
            "5.1.1",
            Passes,
        ),
        case(
            ck!("example_KubernetesDashboard/kube-dashboard-FAILED.yaml"),
            "5.1.2",
            Fails,
        )
        .unlabelled(),
        case(
            ck!("example_WildcardRoles/role-passed-1.yaml"),
            "5.1.2",
            Passes,
        )
        .unlabelled(),
        case(
            ck!("example_WildcardRoles/role-failed-1.yaml"),
            "5.1.3",
            Fails,
        ),
        case(
            ck!("example_WildcardRoles/role-failed-2.yaml"),
            "5.1.3",
            Fails,
        ),
        case(
            ck!("example_WildcardRoles/role-failed-3.yaml"),
            "5.1.3",
            Fails,
        ),
        case(
            ck!("example_WildcardRoles/role-passed-1.yaml"),
            "5.1.3",
            Passes,
        ),
        case(
            ck!("example_WildcardRoles/role-passed-2.yaml"),
            "5.1.3",
            Passes,
        ),
        Case {
            edit: Some(("verbs: [\"get\"]", "verbs: [\"create\"]")),
            ..case(WEBHOOK_ROLE, "5.1.4", Fails).unlabelled()
        },
        case(WEBHOOK_ROLE, "5.1.4", Passes).unlabelled(),
        case(
            ck!("example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-FAILED.yaml"),
            "5.1.5",
            Each(&[true, true]),
        ),
        case(
            ck!("example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-PASSED.yaml"),
            "5.1.5",
            Passes,
        ),
        case(
            ck!("example_DefaultServiceAccount/DefaultServiceAccount-FAILED.yaml"),
            "5.1.5",
            Fails,
        ),
        case(
            ck!("example_DefaultServiceAccount/DefaultServiceAccount-FAILED2.yaml"),
            "5.1.5",
            Fails,
        ),
        case(
            ck!("example_DefaultServiceAccount/DefaultServiceAccount-PASSED.yaml"),
            "5.1.5",
            Passes,
        ),
        // `notdefault` mounts its token and no binding in the file grants it anything.
        case(
            ck!("example_DefaultServiceAccount/DefaultServiceAccount-PASSED.yaml"),
            "5.1.6",
            Each(&[true, false]),
        )
        .unlabelled(),
        case(
            ck!("example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-PASSED.yaml"),
            "5.1.6",
            Passes,
        ),
        Case {
            edit: Some(("name: manager", "name: system:masters")),
            ..case(
                ck!(
                    "example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-PASSED.yaml"
                ),
                "5.1.7",
                Each(&[false, false, true]),
            )
            .unlabelled()
        },
        case(
            ck!("example_DefaultServiceAccountBinding/DefaultServiceAccountBinding-PASSED.yaml"),
            "5.1.7",
            Passes,
        ),
        case(
            ck!("example_RbacEscalateRoles/clusterrole-failed-1.yaml"),
            "5.1.8",
            Fails,
        ),
        case(
            ck!("example_RbacEscalateRoles/role-failed-2.yaml"),
            "5.1.8",
            Fails,
        ),
        case(
            ck!("example_RbacEscalateRoles/clusterrole-passed-1.yaml"),
            "5.1.8",
            Passes,
        ),
        case(
            ck!("example_RbacBindRoleBindings/clusterrole-failed-1.yaml"),
            "5.1.8",
            Fails,
        ),
        case(
            ck!("example_RbacBindRoleBindings/role-failed-2.yaml"),
            "5.1.8",
            Fails,
        ),
        case(
            ck!("example_RbacBindRoleBindings/clusterrole-passed-1.yaml"),
            "5.1.8",
            Passes,
        ),
        differs(
            ck!("example_RbacEscalateRoles/role-passed-2.yaml"),
            "5.1.8",
            Fails,
            "the rule grants `*` verbs on `serviceaccounts` in the core group, which include \
             `impersonate`; checkov's example is about `escalate` only",
        ),
        Case {
            edit: Some(PERSISTENT_VOLUMES),
            ..case(WEBHOOK_ROLE, "5.1.9", Fails).unlabelled()
        },
        case(WEBHOOK_ROLE, "5.1.9", Passes).unlabelled(),
        case(
            ck!("example_DockerSocketVolume/cloudwatch-agent-1PASSED-1FAILED.yaml"),
            "5.1.10",
            Each(&[true, false]),
        )
        .unlabelled(),
        // `get` on every resource in every group includes `nodes/proxy`.
        case(
            ck!("example_RbacControlWebhooks/clusterrole-passed-1.yaml"),
            "5.1.10",
            Fails,
        )
        .unlabelled(),
        case(
            ck!("example_WildcardRoles/role-passed-1.yaml"),
            "5.1.10",
            Passes,
        )
        .unlabelled(),
        case(
            ck!("example_RbacApproveCertificateSigningRequests/clusterrole-failed-1.yaml"),
            "5.1.11",
            Fails,
        ),
        case(
            ck!("example_RbacApproveCertificateSigningRequests/clusterrole-failed-2.yaml"),
            "5.1.11",
            Fails,
        ),
        case(
            ck!("example_RbacApproveCertificateSigningRequests/clusterrole-failed-3.yaml"),
            "5.1.11",
            Fails,
        ),
        case(
            ck!("example_RbacApproveCertificateSigningRequests/clusterrole-passed-1.yaml"),
            "5.1.11",
            Passes,
        ),
        case(
            ck!("example_RbacApproveCertificateSigningRequests/clusterrole-passed-2.yaml"),
            "5.1.11",
            Passes,
        ),
        case(
            ck!("example_RbacControlWebhooks/clusterrole-failed-1.yaml"),
            "5.1.12",
            Fails,
        ),
        case(
            ck!("example_RbacControlWebhooks/clusterrole-failed-2.yaml"),
            "5.1.12",
            Fails,
        ),
        case(
            ck!("example_RbacControlWebhooks/clusterrole-passed-1.yaml"),
            "5.1.12",
            Passes,
        ),
        case(
            ck!("example_RbacControlWebhooks/clusterrole-passed-2.yaml"),
            "5.1.12",
            Passes,
        ),
        Case {
            edit: Some(TOKEN_REQUEST),
            ..case(WEBHOOK_ROLE, "5.1.13", Fails).unlabelled()
        },
        case(WEBHOOK_ROLE, "5.1.13", Passes).unlabelled(),
        Case {
            edit: Some(POD_EXEC),
            ..case(WEBHOOK_ROLE, "k8s-rbac-pods-exec", Fails).unlabelled()
        },
        case(WEBHOOK_ROLE, "k8s-rbac-pods-exec", Passes).unlabelled(),
        // 5.2.2
        case(
            ck!("example_PrivilegedContainers/privilegedPod-FAILED.yaml"),
            "5.2.2",
            Fails,
        ),
        case(
            ck!("example_PrivilegedContainers/privilegedDaemonSet-FAILED.yaml"),
            "5.2.2",
            Fails,
        ),
        case(
            ck!("example_PrivilegedContainers/nginx-deployment-PASSED.yaml"),
            "5.2.2",
            Passes,
        ),
        // 5.2.3, 5.2.4, 5.2.5: each failing example shares all three namespaces.
        case(
            ck!("example_ShareHost/cronjob-hostresources-FAILED.yaml"),
            "5.2.3",
            Fails,
        ),
        case(
            ck!("example_ShareHost/privilegedDaemonSet-FAILED.yaml"),
            "5.2.4",
            Fails,
        ),
        case(
            ck!("example_ShareHost/privilegedPod-FAILED.yaml"),
            "5.2.5",
            Fails,
        ),
        case(
            ck!("example_ShareHost/privilegedPod-PASS.yaml"),
            "5.2.3",
            Passes,
        ),
        case(
            ck!("example_ShareHost/jenkinsDeployment-PASSED.yaml"),
            "5.2.4",
            Passes,
        ),
        case(
            ck!("example_ShareHost/memcachedStatefulSet-PASSED.yaml"),
            "5.2.5",
            Passes,
        ),
        // 5.2.6
        case(
            ck!("example_AllowPrivilegeEscalation/ds-nginx-ingress-FAILED.yaml"),
            "5.2.6",
            Fails,
        ),
        case(
            ck!("example_AllowPrivilegeEscalation/nginx-app-FAILED.json"),
            "5.2.6",
            Fails,
        ),
        case(
            ck!("example_AllowPrivilegeEscalation/pod-to-node-FAILED.yaml"),
            "5.2.6",
            Fails,
        ),
        case(
            ck!("example_AllowPrivilegeEscalation/pod-runas1000-PASSED.yaml"),
            "5.2.6",
            Passes,
        ),
        case(
            ck!("example_AllowPrivilegeEscalation/rootDeployment-PASSED.yaml"),
            "5.2.6",
            Passes,
        ),
        // 5.2.7
        case(
            ck!("example_RootContainers/rootContainersFAILED.yaml"),
            "5.2.7",
            Fails,
        ),
        case(
            ck!("example_RootContainers/rootContainersFAILED_2.yaml"),
            "5.2.7",
            Fails,
        ),
        differs(
            ck!("example_RootContainers/rootContainersPASSED.yaml"),
            "5.2.7",
            Each(&[false, false, false, true, true]),
            "pod4 and pod5 set runAsUser: 1000 but not runAsNonRoot; checkov accepts a non-zero \
             uid, clearbox requires runAsNonRoot: true as the restricted Pod Security Standard \
             does",
        ),
        // k8s-run-as-user-not-root, on the same examples: only explicit uid 0 fails.
        case(
            ck!("example_RootContainers/rootContainersPASSED.yaml"),
            "k8s-run-as-user-not-root",
            Passes,
        ),
        differs(
            ck!("example_RootContainers/rootContainersFAILED.yaml"),
            "k8s-run-as-user-not-root",
            Each(&[false, false, true, true, true]),
            "pod1 and pod2 fail checkov's root check through runAsNonRoot, and set no uid",
        ),
        // 5.2.8
        case(
            ck!("example_DropCapabilities/pod-drop-NET_RAW-capabilities-FAILED-MISSING.yaml"),
            "5.2.8",
            Fails,
        ),
        case(
            ck!("example_DropCapabilities/pod-drop-none-FAILED.yaml"),
            "5.2.8",
            Fails,
        ),
        case(
            ck!("example_DropCapabilities/pod-drop-NET_RAW-capabilities-PASSED.yaml"),
            "5.2.8",
            Passes,
        ),
        case(
            ck!("example_DropCapabilities/pod-drop-all-capabilities-PASSED.yaml"),
            "5.2.8",
            Passes,
        ),
        case(
            ck!("example_DropCapabilities/pod-drop-all-capabilities-PASSED2.yaml"),
            "5.2.8",
            Passes,
        ),
        // 5.2.9
        case(
            ck!("example_AllowedCapabilities/cassandra-FAILED.yaml"),
            "5.2.9",
            Fails,
        ),
        case(
            ck!("example_AllowedCapabilitiesSysAdmin/pod-FAILED.yaml"),
            "5.2.9",
            Fails,
        ),
        case(
            ck!("example_AllowedCapabilities/cronjob-PASSED.yaml"),
            "5.2.9",
            Passes,
        ),
        case(
            ck!("example_AllowedCapabilities/nginx-deployment-PASSED.yaml"),
            "5.2.9",
            Passes,
        ),
        case(
            ck!("example_AllowedCapabilitiesSysAdmin/cronjob-PASSED.yaml"),
            "5.2.9",
            Passes,
        ),
        // 5.2.10: the NET_RAW examples also drop ALL or nothing.
        case(
            ck!("example_DropCapabilities/pod-drop-all-capabilities-PASSED.yaml"),
            "5.2.10",
            Passes,
        ),
        case(
            ck!("example_DropCapabilities/pod-drop-none-FAILED.yaml"),
            "5.2.10",
            Fails,
        ),
        // 5.2.11: checkov has no HostProcess example; the admission fixtures do.
        case(
            "pod-security-admission/testdata/baseline/v1.37/fail/windowshostprocess0.yaml",
            "5.2.11",
            Fails,
        ),
        case(
            "pod-security-admission/testdata/baseline/v1.37/fail/windowshostprocess1.yaml",
            "5.2.11",
            Fails,
        ),
        case(
            "pod-security-admission/testdata/restricted/v1.37/pass/base_windows.yaml",
            "5.2.11",
            Passes,
        ),
        // 5.2.12
        case(
            ck!("example_DockerSocketVolume/CronJob-pass.yaml"),
            "5.2.12",
            Passes,
        ),
        case(
            ck!("example_DockerSocketVolume/scope-2PASSED-1FAILED.yaml"),
            "5.2.12",
            Each(&[false, false, true]),
        ),
        differs(
            ck!("example_DockerSocketVolume/cloudwatch-agent-1PASSED-1FAILED.yaml"),
            "5.2.12",
            Each(&[true, true]),
            "checkov's example looks for the Docker socket only; fluentd-cloudwatch mounts \
             other host paths (/var/log), which 5.2.12 forbids",
        ),
        // 5.2.13
        case(
            ck!("example_HostPort/DS-node-exporter-FAILED.yaml"),
            "5.2.13",
            Fails,
        ),
        case(
            ck!("example_HostPort/nginx-app-FAILED.yaml"),
            "5.2.13",
            Fails,
        ),
        case(
            ck!("example_HostPort/nginx-app-PASSED.yaml"),
            "5.2.13",
            Passes,
        ),
        // 5.4.1
        case(
            ck!("example_Secrets/pod-secretEnvironment-FAILED.yaml"),
            "5.4.1",
            Fails,
        ),
        case(
            ck!("example_Secrets/nginx-NoSecret-PASSED.yaml"),
            "5.4.1",
            Passes,
        ),
        case(
            ck!("example_Secrets/pod-secretVolume-PASSED.yaml"),
            "5.4.1",
            Passes,
        ),
        differs(
            ck!("example_Secrets/pod-secretsEnvironment-UNKNOWN.yaml"),
            "5.4.1",
            Fails,
            "`env` is a string, which the API server rejects; clearbox fails the check rather \
             than guess, where checkov reports unknown",
        ),
        // 5.7.2
        case(
            ck!("example_Seccomp/cronjob-seccomp-FAILED.yaml"),
            "5.7.2",
            Fails,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-FAILED.yaml"),
            "5.7.2",
            Fails,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-FAILED2.yaml"),
            "5.7.2",
            Fails,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-FAILED3.yaml"),
            "5.7.2",
            Containers(&[(Some("my-container"), false), (Some("my-container2"), true)]),
        ),
        case(
            ck!("example_Seccomp/cronjob-seccomp-PASSED2.yaml"),
            "5.7.2",
            Passes,
        ),
        case(
            ck!("example_Seccomp/cronjob-seccomp-PASSED3.yaml"),
            "5.7.2",
            Passes,
        ),
        case(
            ck!("example_Seccomp/cronjob-seccomp-securityContext-PASSED.yaml"),
            "5.7.2",
            Passes,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-PASSED3.yaml"),
            "5.7.2",
            Passes,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-PASSED4.yaml"),
            "5.7.2",
            Passes,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-PASSED5.yaml"),
            "5.7.2",
            Passes,
        ),
        case(
            ck!("example_Seccomp/pod-seccomp-PASSED7.yaml"),
            "5.7.2",
            Passes,
        ),
        differs(
            ck!("example_Seccomp/pod-seccomp-PASSED.yaml"),
            "5.7.2",
            Fails,
            SECCOMP_ANNOTATION,
        ),
        differs(
            ck!("example_Seccomp/pod-seccomp-PASSED2.yaml"),
            "5.7.2",
            Fails,
            SECCOMP_ANNOTATION,
        ),
        differs(
            ck!("example_Seccomp/pod-seccomp-PASSED6.yaml"),
            "5.7.2",
            Fails,
            SECCOMP_ANNOTATION,
        ),
        differs(
            ck!("example_Seccomp/cronjob-seccomp-PASSED.yaml"),
            "5.7.2",
            Fails,
            SECCOMP_ANNOTATION,
        ),
        // 5.7.3
        case(
            ck!("example_SecurityContexts/frontend-replicaset-both-FAILED.yaml"),
            "5.7.3",
            Fails,
        ),
        case(
            ck!("example_SecurityContexts/pod-container-both-PASSED.yaml"),
            "5.7.3",
            Passes,
        ),
        case(
            ck!("example_SecurityContexts/podFAILED-containerPASSED.yaml"),
            "5.7.3",
            Containers(&[(None, true), (Some("main"), false)]),
        ),
        case(
            ck!("example_SecurityContexts/podPassed-containerFailed.yaml"),
            "5.7.3",
            Containers(&[(None, false), (Some("hello"), true)]),
        ),
        // 5.7.4
        case(
            ck!("example_DefaultNamespace/nginx-statefulset-FAILED.yaml"),
            "5.7.4",
            Fails,
        ),
        case(
            ck!("example_DefaultNamespace/scope-PASSED.yaml"),
            "5.7.4",
            Passes,
        ),
        case(
            ck!("example_NoDefaultNamespace/Dev-PASSED.yaml"),
            "5.7.4",
            Passes,
        ),
        // k8s-read-only-root-filesystem
        case(
            ck!("example_ReadOnlyFilesystem/frontend-replicaset-FAILED.yaml"),
            "k8s-read-only-root-filesystem",
            Fails,
        ),
        case(
            ck!("example_ReadOnlyFilesystem/pod-readonly-false-FAILED.yaml"),
            "k8s-read-only-root-filesystem",
            Fails,
        ),
        case(
            ck!("example_ReadOnlyFilesystem/pod-readonly-PASSED.yaml"),
            "k8s-read-only-root-filesystem",
            Passes,
        ),
        // k8s-resource-requests and k8s-resource-limits
        case(
            ck!("example_Requests_Limits/cronjob-request-limit-1FAILED.yaml"),
            "k8s-resource-requests",
            Fails,
        ),
        case(
            ck!("example_Requests_Limits/cronjob-request-limit-1FAILED.yaml"),
            "k8s-resource-limits",
            Fails,
        ),
        case(
            ck!("example_Requests_Limits/pod-requests-limits-2PASSED.yaml"),
            "k8s-resource-requests",
            Passes,
        ),
        case(
            ck!("example_Requests_Limits/pod-requests-limits-2PASSED.yaml"),
            "k8s-resource-limits",
            Passes,
        ),
        case(
            ck!("example_Requests_Limits/pod-requests-limits-1FAILED1PASSED.yaml"),
            "k8s-resource-requests",
            Containers(&[(Some("db"), true), (Some("wp"), false)]),
        ),
        case(
            ck!("example_Requests_Limits/pod-requests-limits-1FAILED1PASSED.yaml"),
            "k8s-resource-limits",
            Containers(&[(Some("db"), true), (Some("wp"), false)]),
        ),
        // k8s-image-pull-policy
        case(
            ck!("example_ImagePullPolicy/replctrl-PullIfNotPresent-FAILED.yaml"),
            "k8s-image-pull-policy",
            Fails,
        ),
        case(
            ck!("example_ImagePullPolicy/wordpress-ImageTagged-DefaultPullPolicy-FAILED.yaml"),
            "k8s-image-pull-policy",
            Fails,
        ),
        case(
            ck!("example_ImagePullPolicy/cassandra-PullPolicyAlways-PASSED.yaml"),
            "k8s-image-pull-policy",
            Passes,
        ),
        case(
            ck!("example_ImagePullPolicy/imageWithDigest-PullPolicyAlways-PASSED.yaml"),
            "k8s-image-pull-policy",
            Passes,
        ),
        case(
            ck!("example_ImagePullPolicy/job-ImageTagLatest-PASSED.yaml"),
            "k8s-image-pull-policy",
            Passes,
        ),
        case(
            ck!("example_ImagePullPolicy/kafka-PullPolicyAlways-PASSED.yaml"),
            "k8s-image-pull-policy",
            Passes,
        ),
        case(
            ck!("example_ImagePullPolicy/storm-nimbus-ImageUntagged-PASSED.json"),
            "k8s-image-pull-policy",
            Passes,
        ),
        differs(
            ck!("example_ImagePullPolicy/imageWithDigest-DefaultPullPolicy-PASSED.yaml"),
            "k8s-image-pull-policy",
            Fails,
            SHORT_DIGEST,
        ),
        Case {
            edit: Some((
                "@sha256:12345678\n",
                "@sha256:1234567800000000000000000000000000000000000000000000000000000000\n",
            )),
            ..case(
                ck!("example_ImagePullPolicy/imageWithDigest-DefaultPullPolicy-PASSED.yaml"),
                "k8s-image-pull-policy",
                Passes,
            )
        },
        // k8s-image-digest
        case(
            ck!("example_ImageDigest/job-ImageTagLatest-FAILED.yaml"),
            "k8s-image-digest",
            Fails,
        ),
        case(
            ck!("example_ImageDigest/storm-zookeeper-FAILED.json"),
            "k8s-image-digest",
            Fails,
        ),
        differs(
            ck!("example_ImageDigest/kafka-PASSED.yaml"),
            "k8s-image-digest",
            Fails,
            SHORT_DIGEST,
        ),
        differs(
            ck!("example_ImageDigest/imageWithTagAndDigest-PASSED.yaml"),
            "k8s-image-digest",
            Fails,
            SHORT_DIGEST,
        ),
        Case {
            edit: Some(PADDED_DIGEST),
            ..case(
                ck!("example_ImageDigest/kafka-PASSED.yaml"),
                "k8s-image-digest",
                Passes,
            )
        },
        Case {
            edit: Some(PADDED_DIGEST),
            ..case(
                ck!("example_ImageDigest/kafka-withrepo-PASSED.yaml"),
                "k8s-image-digest",
                Passes,
            )
        },
        Case {
            edit: Some(PADDED_DIGEST),
            ..case(
                ck!("example_ImageDigest/imageWithTagAndDigest-PASSED.yaml"),
                "k8s-image-digest",
                Passes,
            )
        },
        // k8s-registry-allowlist: checkov has no allowlist check; these examples name images in
        // Docker Hub's library and in a private registry with a port.
        Case {
            allow: &["docker.io/library"],
            ..case(
                ck!("example_ImageDigest/job-ImageTagLatest-FAILED.yaml"),
                "k8s-registry-allowlist",
                Passes,
            )
            .unlabelled()
        },
        Case {
            allow: &["ghcr.io", "docker.io/bitnami"],
            ..case(
                ck!("example_ImageDigest/job-ImageTagLatest-FAILED.yaml"),
                "k8s-registry-allowlist",
                Fails,
            )
            .unlabelled()
        },
        Case {
            allow: &["docker-registry.mycompany.co:4567/super-sre"],
            edit: Some(PADDED_DIGEST),
            ..case(
                ck!("example_ImageDigest/kafka-withrepo-PASSED.yaml"),
                "k8s-registry-allowlist",
                Passes,
            )
            .unlabelled()
        },
        Case {
            allow: &["docker-registry.mycompany.co:4567/super"],
            edit: Some(PADDED_DIGEST),
            ..case(
                ck!("example_ImageDigest/kafka-withrepo-PASSED.yaml"),
                "k8s-registry-allowlist",
                Fails,
            )
            .unlabelled()
        },
        // k8s-pod-spec-valid: malformed specs that checkov reads anyway.
        differs(
            ck!("example_AllowPrivilegeEscalation/pod-runas1000-malformed-PASSED.yaml"),
            "k8s-pod-spec-valid",
            Fails,
            "`containers` is a mapping, not a list; the API server rejects the pod, and clearbox \
             reports that instead of reading a container out of it",
        ),
        case(
            ck!("example_SecurityContexts/pod-container-both-PASSED.yaml"),
            "k8s-pod-spec-valid",
            Passes,
        ),
    ]
}

/// A `ClusterRole` whose second rule grants `get` on pods; the edits below change that rule.
const WEBHOOK_ROLE: &str = ck!("example_RbacControlWebhooks/clusterrole-failed-1.yaml");
const POD_RULE: &str = "resources: [\"pods\"]\n  verbs: [\"get\"]";
const PERSISTENT_VOLUMES: (&str, &str) = (
    POD_RULE,
    "resources: [\"persistentvolumes\"]\n  verbs: [\"create\"]",
);
const TOKEN_REQUEST: (&str, &str) = (
    POD_RULE,
    "resources: [\"serviceaccounts/token\"]\n  verbs: [\"create\"]",
);
const POD_EXEC: (&str, &str) = (POD_RULE, "resources: [\"pods/exec\"]\n  verbs: [\"get\"]");

const SECCOMP_ANNOTATION: &str = "the example sets only the `seccomp.security.alpha.kubernetes.io` \
                                  annotation, which Kubernetes deprecated in v1.19 for the \
                                  `seccompProfile` field that CIS 5.7.2's remediation sets";

impl Case {
    /// Marks a case whose file name carries the verdict of a different checkov check.
    const fn unlabelled(self) -> Self {
        Case {
            differs: Some("the file's verdict is for another checkov check"),
            ..self
        }
    }
}

/// The verdict in a checkov file name, when it has a single one.
fn checkov_verdict(file: &str) -> Option<bool> {
    let name = Path::new(file).file_name()?.to_str()?;
    let failed = name.contains("FAILED");
    let passed = name.contains("PASSED") || name.contains("-PASS.") || name.contains("-pass.");
    match (failed, passed) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The kinds that the RBAC checks read.
const RBAC_KINDS: &[&str] = &[
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
];

/// The checks that only RBAC objects get; 5.1.5 and 5.1.6 apply to workloads too.
const RBAC_CHECKS: &[&str] = &[
    "5.1.1",
    "5.1.2",
    "5.1.3",
    "5.1.4",
    "5.1.7",
    "5.1.8",
    "5.1.9",
    "5.1.10",
    "5.1.11",
    "5.1.12",
    "5.1.13",
    "k8s-rbac-pods-exec",
];

/// Runs one case; returns what went wrong, if anything.
fn run(corpus: &Path, case: &Case) -> Result<(), String> {
    let path = corpus.join(case.file);
    let mut text = std::fs::read_to_string(&path).map_err(|e| format!("{e}"))?;
    if let Some((from, to)) = case.edit {
        if !text.contains(from) {
            return Err(format!("`{from}` is not in the file"));
        }
        text = text.replace(from, to);
    }
    let file = parse_manifest(&path, &text).map_err(|e| e.to_string())?;
    let options = K8sOptions {
        allowed_registries: case
            .allow
            .iter()
            .map(|a| a.parse::<RegistryPrefix>().unwrap())
            .collect(),
        ..K8sOptions::default()
    };
    let report = check(&file, &options);
    if report.resources.is_empty() {
        return Err("no workloads".into());
    }
    compare(&report, case)
}

fn compare(report: &K8sReport, case: &Case) -> Result<(), String> {
    let results: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.check == case.check)
        .collect();
    // An RBAC check has no result for a workload, nor a workload check for an RBAC object;
    // such pairs are left out. A workload without a result for a workload check still counts.
    let rbac_check = RBAC_CHECKS.contains(&case.check);
    let fails_per_resource: Vec<Option<bool>> = report
        .resources
        .iter()
        .filter_map(|resource| {
            let mine: Vec<_> = results.iter().filter(|r| &r.resource == resource).collect();
            let unrelated = rbac_check || RBAC_KINDS.contains(&resource.kind.as_str());
            if mine.is_empty() && unrelated {
                return None;
            }
            Some((!mine.is_empty()).then(|| mine.iter().any(|r| r.result == Outcome::Fail)))
        })
        .collect();
    let found = || format!("{fails_per_resource:?} {results:#?}");
    let ok = match case.expect {
        Expect::Fails => fails_per_resource.iter().all(|f| *f == Some(true)),
        Expect::Passes => fails_per_resource.iter().all(|f| *f == Some(false)),
        Expect::Each(expected) => {
            fails_per_resource == expected.iter().map(|f| Some(*f)).collect::<Vec<_>>()
        }
        Expect::Containers(expected) => {
            let actual: Vec<(Option<&str>, bool)> = results
                .iter()
                .map(|r| (r.container.as_deref(), r.result == Outcome::Fail))
                .collect();
            actual == expected
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {:?}, found {}", case.expect, found()))
    }
}

/// True when the expectation is the same verdict as checkov's label `fails`.
fn matches_label(expect: Expect, fails: bool) -> bool {
    match expect {
        Expect::Fails => fails,
        Expect::Passes => !fails,
        Expect::Each(each) => each.iter().any(|f| *f) == fails,
        Expect::Containers(list) => list.iter().any(|(_, f)| *f) == fails,
    }
}

#[test]
fn checkov_examples_give_expected_verdicts() {
    let corpus = require!(k8s_corpus());
    let cases = cases();
    let mut problems = Vec::new();
    let mut outcomes: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    let mut differ = 0;
    for case in &cases {
        let label = case
            .file
            .starts_with(CK)
            .then(|| checkov_verdict(case.file))
            .flatten();
        match (case.differs, label) {
            (None, Some(fails)) if !matches_label(case.expect, fails) => problems.push(format!(
                "{} {}: expectation contradicts checkov's verdict without a reason",
                case.file, case.check
            )),
            (Some(_), _) => differ += 1,
            _ => {}
        }
        if let Err(problem) = run(&corpus, case) {
            problems.push(format!("{} {}: {problem}", case.file, case.check));
        }
        let entry = outcomes.entry(case.check).or_default();
        match case.expect {
            Expect::Fails => entry.1 = true,
            Expect::Passes => entry.0 = true,
            Expect::Each(list) => {
                entry.0 |= list.contains(&false);
                entry.1 |= list.contains(&true);
            }
            Expect::Containers(list) => {
                entry.0 |= list.iter().any(|(_, f)| !f);
                entry.1 |= list.iter().any(|(_, f)| *f);
            }
        }
    }
    println!(
        "checkov examples: {} cases over {} checks, {} with a stated difference",
        cases.len(),
        outcomes.len(),
        differ
    );
    assert!(problems.is_empty(), "{problems:#?}");

    // Every check of the table has a passing and a failing manifest.
    for (check, (pass, fail)) in &outcomes {
        assert!(*pass, "{check} has no passing manifest");
        assert!(*fail, "{check} has no failing manifest");
    }
}

/// Every CIS and clearbox check that can fail on a manifest is in the table above.
#[test]
fn every_check_has_real_manifests() {
    let covered: Vec<&str> = cases().iter().map(|c| c.check).collect();
    let report = check(
        &parse_manifest(Path::new("empty.yaml"), "").unwrap(),
        &K8sOptions {
            allowed_registries: vec!["ghcr.io".parse().unwrap()],
            ..K8sOptions::default()
        },
    );
    for info in &report.checks {
        if !info.id.starts_with("pss-") {
            assert!(covered.contains(&info.id), "{} has no case", info.id);
        }
    }
}
