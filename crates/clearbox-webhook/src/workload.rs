//! The images of an admitted object: every container, init container and ephemeral container of
//! a Pod or of the pod template of a workload kind.
//!
//! The object is read with the same code as `clearbox check k8s`
//! (`clearbox_policy::k8s::workload`), so both agree on which kinds hold a pod template (`Pod`,
//! `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `ReplicationController`, `Job`, and
//! `CronJob`'s `jobTemplate`) and on where the containers are. JSON is valid YAML, so the object's JSON text
//! goes through the manifest parser unchanged.

use std::collections::BTreeMap;
use std::path::Path;

use clearbox_policy::k8s::field::Typed;
use clearbox_policy::k8s::manifest::{objects, parse_manifest};
use clearbox_policy::k8s::workload::{Extracted, PodSpec, extract};
use serde_json::Value;

use crate::review::AdmissionRequest;

/// The name the object's text is parsed under, which appears in parse errors.
const SOURCE: &str = "request.object";

/// One container's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    /// `containers/NAME`, `initContainers/NAME` or `ephemeralContainers/NAME`.
    pub container: String,
    /// The `image` field as written.
    pub image: String,
}

/// The names, images and annotations of one admitted object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedWorkload {
    /// `NAMESPACE/KIND/NAME` for the audit record (`KIND/NAME` when cluster-scoped).
    pub workload: String,
    /// `KIND/NAMESPACE/NAME`, the resource name that policy exceptions match, as `check k8s`
    /// writes it.
    pub resource: String,
    /// Whether the kind has a pod template. Other kinds run no image, so nothing is checked.
    pub has_pod_template: bool,
    /// Every container image, in the order containers, init containers, ephemeral containers.
    pub images: Vec<ContainerImage>,
    /// The object's `metadata.annotations`, or why they are unreadable.
    pub annotations: Result<BTreeMap<String, String>, String>,
    /// Shape errors that leave an image unknown, such as a container without an image.
    pub problems: Vec<String>,
}

/// Reads the images of `request.object`. An object whose text cannot be read is an error; a
/// shape error inside a pod template is listed in [`AdmittedWorkload::problems`].
pub fn read_workload(
    request: &AdmissionRequest,
    object: &Value,
) -> Result<AdmittedWorkload, String> {
    // 1. The object's text, with the request's kind when the object omits its own.
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.entry("kind")
            .or_insert_with(|| Value::String(request.kind.clone()));
    }
    let text = serde_json::to_string(&object).map_err(|e| format!("{SOURCE}: {e}"))?;
    let file = parse_manifest(Path::new(SOURCE), &text).map_err(|e| e.to_string())?;
    let found = objects(&file);
    let [node] = found.as_slice() else {
        return Err(format!(
            "{SOURCE} is not one Kubernetes object with a `kind`"
        ));
    };

    // 2. The names: the request's, else the object's own.
    let metadata = |key: &str| {
        object
            .pointer(&format!("/metadata/{key}"))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let namespace = request.namespace.clone().or_else(|| metadata("namespace"));
    let name = request
        .name
        .clone()
        .or_else(|| metadata("name"))
        .or_else(|| metadata("generateName"))
        .unwrap_or_else(|| "(unnamed)".to_owned());
    let kind = &request.kind;
    let (workload, resource) = match &namespace {
        Some(ns) => (format!("{ns}/{kind}/{name}"), format!("{kind}/{ns}/{name}")),
        None => (format!("{kind}/{name}"), format!("{kind}/{name}")),
    };
    let mut admitted = AdmittedWorkload {
        workload,
        resource,
        has_pod_template: false,
        images: Vec::new(),
        annotations: Ok(BTreeMap::new()),
        problems: Vec::new(),
    };

    // 3. The pod template's containers.
    let Extracted::Workload(found) = extract(node, Path::new(SOURCE)) else {
        return Ok(admitted);
    };
    admitted.has_pod_template = true;
    admitted.annotations = string_map(&found.object.at(&["metadata", "annotations"]));
    let pod = PodSpec::new(&found);
    for problem in &pod.problems {
        admitted
            .problems
            .push(format!("`{}` {}", problem.field, problem.message));
    }
    for container in &pod.containers {
        let label = format!("{}/{}", container.kind.field_name(), container.name);
        match container.image {
            Some(image) if !image.is_empty() => admitted.images.push(ContainerImage {
                container: label,
                image: image.to_owned(),
            }),
            _ => admitted.problems.push(format!(
                "container `{label}` has no image; set `image` to a reference"
            )),
        }
    }
    Ok(admitted)
}

/// Returns the string values of a mapping field, or why it is not one.
fn string_map(
    field: &clearbox_policy::k8s::field::Field<'_>,
) -> Result<BTreeMap<String, String>, String> {
    match field.entries() {
        Typed::Absent => Ok(BTreeMap::new()),
        Typed::Invalid => Err(format!("`{}` is not a mapping", field.path())),
        Typed::Value(entries) => Ok(entries
            .into_iter()
            .filter_map(|(key, value)| {
                value
                    .as_str()
                    .value()
                    .map(|text| (key.to_owned(), text.to_owned()))
            })
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(kind: &str, object: &Value) -> (AdmissionRequest, Value) {
        let request = AdmissionRequest {
            uid: "u1".to_owned(),
            kind: kind.to_owned(),
            namespace: Some("prod".to_owned()),
            name: None,
            operation: "CREATE".to_owned(),
            object: Some(object.clone()),
            user: None,
        };
        (request, object.clone())
    }

    fn images(admitted: &AdmittedWorkload) -> Vec<(&str, &str)> {
        admitted
            .images
            .iter()
            .map(|i| (i.container.as_str(), i.image.as_str()))
            .collect()
    }

    #[test]
    fn pod_lists_every_container_kind() {
        let (request, object) = request(
            "Pod",
            &json!({
                "kind": "Pod",
                "metadata": {"name": "web", "annotations": {"team": "a"}},
                "spec": {
                    "containers": [{"name": "app", "image": "r.example/app:1"}],
                    "initContainers": [{"name": "init", "image": "r.example/init:1"}],
                    "ephemeralContainers": [{"name": "debug", "image": "r.example/dbg:1"}],
                },
            }),
        );
        let admitted = read_workload(&request, &object).unwrap();
        assert_eq!(admitted.workload, "prod/Pod/web");
        assert_eq!(admitted.resource, "Pod/prod/web");
        assert_eq!(
            images(&admitted),
            [
                ("containers/app", "r.example/app:1"),
                ("initContainers/init", "r.example/init:1"),
                ("ephemeralContainers/debug", "r.example/dbg:1"),
            ]
        );
        assert_eq!(admitted.annotations.unwrap()["team"], "a");
        assert!(admitted.problems.is_empty());
    }

    #[test]
    fn cronjob_reads_job_template() {
        let (request, object) = request(
            "CronJob",
            &json!({
                "metadata": {"name": "nightly"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                    "containers": [{"name": "run", "image": "r.example/job@sha256:abc"}],
                }}}}},
            }),
        );
        let admitted = read_workload(&request, &object).unwrap();
        assert!(admitted.has_pod_template);
        assert_eq!(
            images(&admitted),
            [("containers/run", "r.example/job@sha256:abc")]
        );
    }

    #[test]
    fn deployment_container_without_image_is_problem() {
        let (request, object) = request(
            "Deployment",
            &json!({
                "kind": "Deployment",
                "metadata": {"name": "api"},
                "spec": {"template": {"spec": {"containers": [{"name": "app"}]}}},
            }),
        );
        let admitted = read_workload(&request, &object).unwrap();
        assert!(admitted.images.is_empty());
        assert_eq!(
            admitted.problems,
            ["container `containers/app` has no image; set `image` to a reference"]
        );
    }

    #[test]
    fn other_kind_has_no_template() {
        let (request, object) = request(
            "ConfigMap",
            &json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}),
        );
        let admitted = read_workload(&request, &object).unwrap();
        assert!(!admitted.has_pod_template);
        assert!(admitted.images.is_empty());
    }
}
