//! Fields that the API server fills in before a validating webhook receives an object, and that
//! a signed manifest usually leaves out.
//!
//! By the time a validating webhook runs, the API server has decoded the object with its
//! defaults (`dnsPolicy: ClusterFirst`, `terminationMessagePath`, `revisionHistoryLimit`, ...),
//! set `metadata.namespace` from the request, generated `metadata.name` from `generateName`, and
//! for a `Job` generated its selector and pod labels. The deployment controller also writes the
//! annotation `deployment.kubernetes.io/revision` into each Deployment. The signed canonical
//! form has none of these, so verifying the object as received would fail for every real
//! request.
//!
//! [`drop_server_defaults`] removes such a field from the received object only when all of these
//! hold, so that what it removes could not change what runs:
//! 1. the field is in the table that `fields` builds for the object's kind;
//! 2. the signed form does not have the field (a signed value is compared as signed);
//! 3. the received value is exactly the value the API server would have set, such as
//!    `imagePullPolicy: IfNotPresent` for an image with a tag other than `latest`.
//!
//! The values are those of Kubernetes' defaulting functions (`SetDefaults_*` in
//! `pkg/apis/{core,apps,batch}/v1/defaults.go`), of the `Job` strategy's selector generation,
//! and for bare Pods the values the `Priority` and `ServiceAccount` admission plugins set when
//! the Pod names no priority class or service account.
//!
//! # Not yet
//! - Fields that admission plugins add to bare Pods: the service account token volume and its
//!   mounts, and the `not-ready`/`unreachable` tolerations. So a bare Pod in a namespace that
//!   requires signatures is denied unless its signed form already has them. Sign the
//!   Deployment, Job or other controller instead, whose Pods are exempt.
//! - Defaults inside `volumeClaimTemplates`, a bare Pod's resource requests copied from its
//!   limits, and whatever mutating webhooks add.

use serde_json::{Map, Value, json};

/// The pod labels a `Job` gets from its strategy, with the Job's uid or name.
const JOB_LABELS: [&str; 4] = [
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "job-name",
];

/// The annotation in which the deployment controller records a Deployment's revision.
const REVISION: &str = "deployment.kubernetes.io/revision";

/// The values that the expected defaults are computed from.
struct Context<'a> {
    /// The signed canonical form.
    signed: &'a Value,
    /// The received `spec.template.metadata.labels`.
    template_labels: Option<&'a Value>,
    /// The request's namespace.
    namespace: Option<&'a str>,
    /// The received `metadata.name`.
    name: Option<&'a str>,
    /// The received `metadata.uid`.
    uid: Option<&'a str>,
    /// The signed `metadata.generateName`.
    generate_name: Option<&'a str>,
}

/// Returns the value the API server sets for a field, given the mapping that contains it.
type Expected = fn(&Context<'_>, &Map<String, Value>) -> Option<Value>;

/// One defaulted field: its path from the object's root (`*` is every item of an array) and its
/// value.
struct Field {
    path: Vec<&'static str>,
    expected: Expected,
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Returns a copy of `received` without the fields of the table that `signed` lacks and that
/// hold their default value. `namespace` is the request's namespace.
#[must_use]
pub(crate) fn drop_server_defaults(
    received: &Value,
    signed: &Value,
    kind: &str,
    namespace: Option<&str>,
) -> Value {
    let context = Context {
        signed,
        template_labels: received.pointer("/spec/template/metadata/labels"),
        namespace,
        name: text(received, "/metadata/name"),
        uid: text(received, "/metadata/uid"),
        generate_name: text(signed, "/metadata/generateName"),
    };
    let mut result = received.clone();
    for field in fields(kind) {
        drop_field(
            &mut result,
            Some(signed),
            &field.path,
            field.expected,
            &context,
        );
    }
    result
}

/// Removes the field at `path` under `received` when `signed` lacks it and its value is the
/// expected one.
fn drop_field(
    received: &mut Value,
    signed: Option<&Value>,
    path: &[&str],
    expected: Expected,
    context: &Context<'_>,
) {
    match path {
        [] => {}
        ["*", rest @ ..] => {
            let Some(items) = received.as_array_mut() else {
                return;
            };
            for (index, item) in items.iter_mut().enumerate() {
                let signed_item = signed.and_then(|s| s.get(index));
                drop_field(item, signed_item, rest, expected, context);
            }
        }
        [key] => {
            if signed.is_some_and(|s| s.get(*key).is_some()) {
                return;
            }
            let Some(map) = received.as_object_mut() else {
                return;
            };
            let value = expected(context, map);
            if value.is_some() && map.get(*key) == value.as_ref() {
                map.remove(*key);
            }
        }
        [key, rest @ ..] => {
            if let Some(child) = received.get_mut(*key) {
                let signed_child = signed.and_then(|s| s.get(*key));
                drop_field(child, signed_child, rest, expected, context);
            }
        }
    }
}

/// Builds the table for `kind`: metadata, the kind's own spec fields, then its pod template's.
fn fields(kind: &str) -> Vec<Field> {
    let mut table = vec![
        field(&["metadata", "namespace"], |c, _| {
            c.namespace.map(Value::from)
        }),
        field(&["metadata", "name"], |c, _| {
            let name = c.name?;
            name.starts_with(c.generate_name?)
                .then(|| Value::from(name))
        }),
    ];
    let (spec, pod): (&[&str], Vec<&str>) = match kind {
        "Pod" => (&[], vec!["spec"]),
        "CronJob" => (&["spec"], vec!["spec", "jobTemplate", "spec", "template"]),
        _ => (&["spec"], vec!["spec", "template"]),
    };
    table.extend(workload_fields(kind, spec));
    if kind == "Pod" {
        table.extend(bare_pod_fields());
        table.extend(pod_spec_fields(&pod));
    } else {
        // A template's `metadata` is serialised with `creationTimestamp: null`; a template
        // whose metadata held nothing else is left with an empty mapping, as if unwritten.
        let mut templates = vec![pod.clone()];
        if kind == "CronJob" {
            templates.push(vec!["spec", "jobTemplate"]);
        }
        for template in templates {
            let metadata: Vec<&str> = template.iter().copied().chain(["metadata"]).collect();
            table.push(under(&metadata, &["creationTimestamp"], |_, _| {
                Some(Value::Null)
            }));
            table.push(under(&metadata, &[], |_, _| Some(json!({}))));
        }
        let mut spec = pod.clone();
        spec.push("spec");
        table.extend(pod_spec_fields(&spec));
    }
    table
}

fn field(path: &[&'static str], expected: Expected) -> Field {
    Field {
        path: path.to_vec(),
        expected,
    }
}

/// Prefixes `path` with `prefix`.
fn under(prefix: &[&'static str], path: &[&'static str], expected: Expected) -> Field {
    Field {
        path: prefix.iter().chain(path).copied().collect(),
        expected,
    }
}

/// Lists the defaults of the workload's own spec, under `spec` (the path of `spec`).
fn workload_fields(kind: &str, spec: &[&'static str]) -> Vec<Field> {
    match kind {
        "Deployment" => vec![
            // The deployment controller updates the Deployment with the revision of its
            // newest ReplicaSet; the number changes no pod.
            field(&["metadata", "annotations", REVISION], |_, annotations| {
                let revision = annotations.get(REVISION)?.as_str()?;
                let is_number =
                    !revision.is_empty() && revision.bytes().all(|b| b.is_ascii_digit());
                is_number.then(|| Value::from(revision))
            }),
            under(spec, &["replicas"], |_, _| Some(json!(1))),
            under(spec, &["revisionHistoryLimit"], |_, _| Some(json!(10))),
            under(spec, &["progressDeadlineSeconds"], |_, _| Some(json!(600))),
            under(spec, &["strategy"], |_, _| {
                Some(json!({"type": "RollingUpdate", "rollingUpdate": {
                    "maxUnavailable": "25%", "maxSurge": "25%"}}))
            }),
            under(spec, &["strategy", "type"], |_, _| {
                Some(json!("RollingUpdate"))
            }),
            under(spec, &["strategy", "rollingUpdate"], |_, _| {
                Some(json!({"maxUnavailable": "25%", "maxSurge": "25%"}))
            }),
            under(
                spec,
                &["strategy", "rollingUpdate", "maxUnavailable"],
                |_, _| Some(json!("25%")),
            ),
            under(spec, &["strategy", "rollingUpdate", "maxSurge"], |_, _| {
                Some(json!("25%"))
            }),
        ],
        "StatefulSet" => vec![
            under(spec, &["replicas"], |_, _| Some(json!(1))),
            under(spec, &["revisionHistoryLimit"], |_, _| Some(json!(10))),
            under(spec, &["podManagementPolicy"], |_, _| {
                Some(json!("OrderedReady"))
            }),
            under(spec, &["updateStrategy"], |_, _| {
                Some(json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}))
            }),
            under(spec, &["persistentVolumeClaimRetentionPolicy"], |_, _| {
                Some(json!({"whenDeleted": "Retain", "whenScaled": "Retain"}))
            }),
        ],
        "DaemonSet" => vec![
            under(spec, &["revisionHistoryLimit"], |_, _| Some(json!(10))),
            under(spec, &["updateStrategy"], |_, _| {
                Some(json!({"type": "RollingUpdate", "rollingUpdate": {
                    "maxUnavailable": 1, "maxSurge": 0}}))
            }),
        ],
        "Job" => job_fields(spec),
        "CronJob" => vec![
            under(spec, &["concurrencyPolicy"], |_, _| Some(json!("Allow"))),
            under(spec, &["suspend"], |_, _| Some(json!(false))),
            under(spec, &["successfulJobsHistoryLimit"], |_, _| Some(json!(3))),
            under(spec, &["failedJobsHistoryLimit"], |_, _| Some(json!(1))),
        ],
        "ReplicaSet" => vec![under(spec, &["replicas"], |_, _| Some(json!(1)))],
        "ReplicationController" => vec![
            under(spec, &["replicas"], |_, _| Some(json!(1))),
            // Copied from the pod template's labels when unset.
            under(spec, &["selector"], |c, _| c.template_labels.cloned()),
            field(&["metadata", "labels"], |c, _| c.template_labels.cloned()),
        ],
        _ => Vec::new(),
    }
}

/// Lists a `Job`'s defaults, and the selector and pod labels its strategy generates from the Job's
/// name and uid (unless `manualSelector` is set, which then is a signed field).
fn job_fields(spec: &[&'static str]) -> Vec<Field> {
    let labels = ["template", "metadata", "labels"];
    let label = |name: &'static str| -> Vec<&'static str> {
        labels.iter().copied().chain([name]).collect()
    };
    let mut table = vec![
        // The Job's labels are copied from its pod template's when unset, before or after the
        // strategy adds its labels to the template, depending on whether the two maps alias.
        field(&["metadata", "labels"], |c, _| c.template_labels.cloned()),
        field(&["metadata", "labels"], |c, _| {
            let mut labels = c.template_labels?.as_object()?.clone();
            labels.retain(|key, _| !JOB_LABELS.contains(&key.as_str()));
            Some(Value::Object(labels))
        }),
        under(spec, &["backoffLimit"], |_, _| Some(json!(6))),
        // Set only when both `completions` and `parallelism` are unset.
        under(spec, &["completions"], |c, _| {
            c.signed
                .pointer("/spec/parallelism")
                .is_none()
                .then(|| json!(1))
        }),
        under(spec, &["parallelism"], |_, _| Some(json!(1))),
        under(spec, &["completionMode"], |_, _| Some(json!("NonIndexed"))),
        under(spec, &["suspend"], |_, _| Some(json!(false))),
        under(spec, &["podReplacementPolicy"], |_, _| {
            Some(json!("TerminatingOrFailed"))
        }),
        under(spec, &["selector"], |c, _| {
            Some(json!({"matchLabels": {"batch.kubernetes.io/controller-uid": c.uid?}}))
        }),
    ];
    // Labels the server added to a template that had none, before those added to others.
    table.push(under(spec, &labels, |c, _| {
        Some(json!({
            "batch.kubernetes.io/controller-uid": c.uid?,
            "controller-uid": c.uid?,
            "batch.kubernetes.io/job-name": c.name?,
            "job-name": c.name?,
        }))
    }));
    for name in &JOB_LABELS[..2] {
        table.push(under(spec, &label(name), |c, _| c.uid.map(Value::from)));
    }
    for name in &JOB_LABELS[2..] {
        table.push(under(spec, &label(name), |c, _| c.name.map(Value::from)));
    }
    table
}

/// Lists the defaults of a bare Pod beyond its pod spec's.
fn bare_pod_fields() -> Vec<Field> {
    vec![
        field(&["spec", "enableServiceLinks"], |_, _| Some(json!(true))),
        field(&["spec", "preemptionPolicy"], |_, _| {
            Some(json!("PreemptLowerPriority"))
        }),
        field(&["spec", "priority"], |_, _| Some(json!(0))),
        field(&["spec", "serviceAccountName"], |_, _| {
            Some(json!("default"))
        }),
        field(&["spec", "serviceAccount"], |_, spec| {
            spec.get("serviceAccountName").cloned()
        }),
    ]
}

/// Lists the defaults of a pod spec at `spec`, and of its containers.
fn pod_spec_fields(spec: &[&'static str]) -> Vec<Field> {
    let mut table = vec![
        under(spec, &["restartPolicy"], |_, _| Some(json!("Always"))),
        under(spec, &["terminationGracePeriodSeconds"], |_, _| {
            Some(json!(30))
        }),
        under(spec, &["dnsPolicy"], |_, _| Some(json!("ClusterFirst"))),
        under(spec, &["securityContext"], |_, _| Some(json!({}))),
        under(spec, &["schedulerName"], |_, _| {
            Some(json!("default-scheduler"))
        }),
        under(spec, &["volumes", "*", "hostPath", "type"], |_, _| {
            Some(json!(""))
        }),
    ];
    for source in ["configMap", "secret", "downwardAPI", "projected"] {
        let prefix: Vec<&'static str> = spec.iter().copied().chain(["volumes", "*"]).collect();
        table.push(under(&prefix, &[source, "defaultMode"], |_, _| {
            Some(json!(0o644))
        }));
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let container = |path: &[&'static str], expected: Expected| -> Field {
            let prefix: Vec<&'static str> = spec.iter().copied().chain([list, "*"]).collect();
            under(&prefix, path, expected)
        };
        table.extend([
            container(&["terminationMessagePath"], |_, _| {
                Some(json!("/dev/termination-log"))
            }),
            container(&["terminationMessagePolicy"], |_, _| Some(json!("File"))),
            container(&["imagePullPolicy"], |_, container| {
                let image = container.get("image")?.as_str()?;
                Some(json!(pull_policy(image)))
            }),
            container(&["resources"], |_, _| Some(json!({}))),
            container(&["ports", "*", "protocol"], |_, _| Some(json!("TCP"))),
            container(
                &["env", "*", "valueFrom", "fieldRef", "apiVersion"],
                |_, _| Some(json!("v1")),
            ),
        ]);
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            table.extend([
                container(&[probe, "timeoutSeconds"], |_, _| Some(json!(1))),
                container(&[probe, "periodSeconds"], |_, _| Some(json!(10))),
                container(&[probe, "successThreshold"], |_, _| Some(json!(1))),
                container(&[probe, "failureThreshold"], |_, _| Some(json!(3))),
                container(&[probe, "httpGet", "scheme"], |_, _| Some(json!("HTTP"))),
                container(&[probe, "httpGet", "path"], |_, _| Some(json!("/"))),
            ]);
        }
    }
    table
}

/// Returns the `imagePullPolicy` Kubernetes gives a container without one: `Always` for the tag
/// `latest` or no tag and no digest, else `IfNotPresent`.
fn pull_policy(image: &str) -> &'static str {
    let (name, has_digest) = match image.split_once('@') {
        Some((name, _)) => (name, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = last.split_once(':').map(|(_, tag)| tag);
    match tag {
        Some("latest") => "Always",
        None if !has_digest => "Always",
        _ => "IfNotPresent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "r.example/web:1.2"}]},
                },
            },
        })
    }

    /// Builds the signed Deployment as the API server passes it to a validating webhook.
    fn received_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "uid": "u-1"},
            "spec": {
                "replicas": 2,
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}, "creationTimestamp": null},
                    "spec": {
                        "containers": [{
                            "name": "web",
                            "image": "r.example/web:1.2",
                            "imagePullPolicy": "IfNotPresent",
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                        }],
                        "restartPolicy": "Always",
                        "terminationGracePeriodSeconds": 30,
                        "dnsPolicy": "ClusterFirst",
                        "securityContext": {},
                        "schedulerName": "default-scheduler",
                    },
                },
            },
        })
    }

    fn drop(received: &Value, signed: &Value) -> Value {
        drop_server_defaults(received, signed, "Deployment", Some("prod"))
    }

    #[test]
    fn defaulted_deployment_matches_signed_form() {
        let mut expected = signed_deployment();
        expected["metadata"]["uid"] = json!("u-1");
        assert_eq!(drop(&received_deployment(), &signed_deployment()), expected);
    }

    #[test]
    fn non_default_value_kept() {
        let mut received = received_deployment();
        received["spec"]["template"]["spec"]["dnsPolicy"] = json!("None");
        received["spec"]["revisionHistoryLimit"] = json!(0);
        let dropped = drop(&received, &signed_deployment());
        assert_eq!(dropped["spec"]["template"]["spec"]["dnsPolicy"], "None");
        assert_eq!(dropped["spec"]["revisionHistoryLimit"], 0);
    }

    #[test]
    fn signed_field_kept_even_at_default() {
        let mut signed = signed_deployment();
        signed["spec"]["revisionHistoryLimit"] = json!(10);
        let dropped = drop(&received_deployment(), &signed);
        assert_eq!(dropped["spec"]["revisionHistoryLimit"], 10);
    }

    #[test]
    fn deployment_revision_dropped() {
        let mut received = received_deployment();
        received["metadata"]["annotations"] = json!({REVISION: "3", "team": "a"});
        let dropped = drop(&received, &signed_deployment());
        assert_eq!(dropped["metadata"]["annotations"], json!({"team": "a"}));
        received["metadata"]["annotations"][REVISION] = json!("3; rm -rf");
        let dropped = drop(&received, &signed_deployment());
        assert_eq!(dropped["metadata"]["annotations"][REVISION], "3; rm -rf");
    }

    #[test]
    fn other_namespace_kept() {
        let dropped = drop_server_defaults(
            &received_deployment(),
            &signed_deployment(),
            "Deployment",
            Some("dev"),
        );
        assert_eq!(dropped["metadata"]["namespace"], "prod");
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("r.example:5000/nginx"), "Always");
        assert_eq!(pull_policy("r.example:5000/nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("nginx@sha256:ab"), "IfNotPresent");
        let mut received = received_deployment();
        received["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("Always");
        let dropped = drop(&received, &signed_deployment());
        assert_eq!(
            dropped["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "Always"
        );
    }

    #[test]
    fn job_selector_and_labels_dropped() {
        let signed = json!({"kind": "Job", "metadata": {"name": "migrate"}, "spec": {
            "template": {"spec": {"restartPolicy": "Never",
                                  "containers": [{"name": "m", "image": "r.example/m:1"}]}}}});
        let received = json!({"kind": "Job", "metadata": {"name": "migrate", "uid": "u-2"},
            "spec": {
                "backoffLimit": 6, "completions": 1, "parallelism": 1,
                "completionMode": "NonIndexed", "suspend": false,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-2"}},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {
                        "batch.kubernetes.io/controller-uid": "u-2", "controller-uid": "u-2",
                        "batch.kubernetes.io/job-name": "migrate", "job-name": "migrate"}},
                    "spec": {"restartPolicy": "Never",
                             "containers": [{"name": "m", "image": "r.example/m:1"}]}}}});
        let dropped = drop_server_defaults(&received, &signed, "Job", None);
        let mut expected = signed.clone();
        expected["metadata"]["uid"] = json!("u-2");
        assert_eq!(dropped, expected);
    }

    #[test]
    fn job_completions_kept_with_parallelism() {
        let signed = json!({"kind": "Job", "spec": {"parallelism": 5}});
        let received = json!({"kind": "Job", "spec": {"parallelism": 5, "completions": 1}});
        assert_eq!(
            drop_server_defaults(&received, &signed, "Job", None),
            received
        );
    }

    #[test]
    fn job_labels_copied_from_template_dropped() {
        let signed = json!({"kind": "Job", "metadata": {"name": "m"}, "spec": {"template": {
            "metadata": {"labels": {"app": "m"}}}}});
        for labels in [
            json!({"app": "m"}),
            json!({"app": "m", "job-name": "m", "batch.kubernetes.io/job-name": "m",
                   "controller-uid": "u", "batch.kubernetes.io/controller-uid": "u"}),
        ] {
            let received = json!({"kind": "Job", "metadata": {"name": "m", "uid": "u",
                "labels": labels}, "spec": {"template": {"metadata": {"labels": {
                "app": "m", "job-name": "m", "batch.kubernetes.io/job-name": "m",
                "controller-uid": "u", "batch.kubernetes.io/controller-uid": "u"}}}}});
            let dropped = drop_server_defaults(&received, &signed, "Job", None);
            assert_eq!(dropped["metadata"].get("labels"), None, "{labels}");
            assert_eq!(dropped["spec"], signed["spec"]);
        }
        let other = json!({"kind": "Job", "metadata": {"name": "m", "labels": {"app": "x"}},
            "spec": {"template": {"metadata": {"labels": {"app": "m"}}}}});
        assert_eq!(
            drop_server_defaults(&other, &signed, "Job", None)["metadata"]["labels"],
            json!({"app": "x"})
        );
    }

    #[test]
    fn generated_name_dropped() {
        let signed = json!({"kind": "Job", "metadata": {"generateName": "run-"}});
        let received =
            json!({"kind": "Job", "metadata": {"generateName": "run-", "name": "run-x7"}});
        assert_eq!(
            drop_server_defaults(&received, &signed, "Job", None),
            signed
        );
        let other = json!({"kind": "Job", "metadata": {"generateName": "run-", "name": "other"}});
        assert_eq!(drop_server_defaults(&other, &signed, "Job", None), other);
    }
}
