//! Pod specs inside workload objects, and the containers of a pod spec.
//!
//! | kind | pod template |
//! |---|---|
//! | `Pod` | `metadata`, `spec` |
//! | `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `ReplicationController`, `Job` | `spec.template` |
//! | `CronJob` | `spec.jobTemplate.spec.template` |
//!
//! Kinds are matched by name whatever the API group and version (`extensions/v1beta1`
//! Deployments have the same template). Every other kind is skipped. A pod spec whose shape the
//! Kubernetes API would reject (no `containers`, a container that is not a mapping) is reported as
//! a [`Problem`] instead of being guessed at.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::field::{Field, Typed};
use super::yaml::{Location, Node};

/// The object a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceRef {
    /// `kind`, such as `Deployment`.
    pub kind: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// `metadata.name`, else `metadata.generateName`, else `(unnamed)`.
    pub name: String,
    /// The file it was read from.
    #[serde(serialize_with = "super::results::serialize_path")]
    pub file: PathBuf,
    /// The line where the object starts.
    pub line: u32,
}

impl ResourceRef {
    /// `kind/namespace/name`, or `kind/name` without a namespace.
    #[must_use]
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{}/{namespace}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Where a kind keeps its pod template, as a path of keys from the object root.
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// A workload object with its pod template.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    /// The object.
    pub resource: ResourceRef,
    /// The object root, for object-level fields such as `metadata.namespace`.
    pub object: Field<'a>,
    /// The pod template's (or the Pod's) `metadata`, which contains the annotations.
    pub metadata: Field<'a>,
    /// The pod spec.
    pub spec: Field<'a>,
}

/// An object sorted by whether the checks apply to it.
#[derive(Debug)]
pub enum Extracted<'a> {
    /// A kind with a pod template.
    Workload(Box<Workload<'a>>),
    /// Any other kind.
    Skipped(ResourceRef),
}

/// Finds the pod template of an object.
#[must_use]
pub fn extract<'a>(object: &'a Node, file: &Path) -> Extracted<'a> {
    let root = Field::root(object, "");
    let kind = root.get("kind").as_str().value().unwrap_or_default();
    let metadata = root.get("metadata");
    let name = [metadata.get("name"), metadata.get("generateName")]
        .iter()
        .find_map(|field| field.as_str().value())
        .unwrap_or("(unnamed)");
    let resource = ResourceRef {
        kind: kind.to_owned(),
        namespace: metadata
            .get("namespace")
            .as_str()
            .value()
            .map(str::to_owned),
        name: name.to_owned(),
        file: file.to_owned(),
        line: object.location.line,
    };
    let Some(path) = template_path(kind) else {
        return Extracted::Skipped(resource);
    };
    let template = root.at(path);
    Extracted::Workload(Box::new(Workload {
        resource,
        metadata: template.get("metadata"),
        spec: template.get("spec"),
        object: root,
    }))
}

/// The pod spec list a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    /// `containers`.
    Regular,
    /// `initContainers`.
    Init,
    /// `ephemeralContainers`.
    Ephemeral,
}

impl ContainerKind {
    /// The pod spec field that lists containers of this kind.
    #[must_use]
    pub fn field_name(self) -> &'static str {
        match self {
            ContainerKind::Regular => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// One container of a pod spec.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// The list it is in.
    pub kind: ContainerKind,
    /// The container's field, such as `spec.containers[0]`.
    pub field: Field<'a>,
    /// `name`, or the field path when the name is missing.
    pub name: String,
    /// `image`, when it is a string.
    pub image: Option<&'a str>,
}

impl<'a> Container<'a> {
    /// The container's `securityContext`.
    #[must_use]
    pub fn security_context(&self) -> Field<'a> {
        self.field.get("securityContext")
    }
}

/// The shape a field must have.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Mapping,
    List,
}

/// Pod spec fields the checks read, with their shape.
const POD_SHAPES: &[(&[&str], Shape)] = &[
    (&["os"], Shape::Mapping),
    (&["securityContext"], Shape::Mapping),
    (&["securityContext", "seccompProfile"], Shape::Mapping),
    (&["securityContext", "seLinuxOptions"], Shape::Mapping),
    (&["securityContext", "appArmorProfile"], Shape::Mapping),
    (&["securityContext", "windowsOptions"], Shape::Mapping),
    (&["securityContext", "sysctls"], Shape::List),
    (&["volumes"], Shape::List),
];

/// Container fields the checks read, with their shape.
const CONTAINER_SHAPES: &[(&[&str], Shape)] = &[
    (&["securityContext"], Shape::Mapping),
    (&["securityContext", "capabilities"], Shape::Mapping),
    (&["securityContext", "capabilities", "add"], Shape::List),
    (&["securityContext", "capabilities", "drop"], Shape::List),
    (&["securityContext", "seccompProfile"], Shape::Mapping),
    (&["securityContext", "seLinuxOptions"], Shape::Mapping),
    (&["securityContext", "appArmorProfile"], Shape::Mapping),
    (&["securityContext", "windowsOptions"], Shape::Mapping),
    (&["ports"], Shape::List),
    (&["env"], Shape::List),
    (&["envFrom"], Shape::List),
    (&["resources"], Shape::Mapping),
    (&["resources", "requests"], Shape::Mapping),
    (&["resources", "limits"], Shape::Mapping),
    (&["lifecycle"], Shape::Mapping),
    (&["livenessProbe"], Shape::Mapping),
    (&["readinessProbe"], Shape::Mapping),
    (&["startupProbe"], Shape::Mapping),
];

/// A field of the pod spec's shape that the Kubernetes API would reject.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The field path.
    pub field: String,
    /// Location of the field, or of its closest present parent.
    pub location: Location,
    /// The problem, such as `must be a list`.
    pub message: String,
}

/// A pod spec with its containers read out.
#[derive(Debug, Clone)]
pub struct PodSpec<'a> {
    /// The pod template's `metadata`.
    pub metadata: Field<'a>,
    /// The pod spec.
    pub spec: Field<'a>,
    /// Every container, init container and ephemeral container, in that order.
    pub containers: Vec<Container<'a>>,
    /// Shape errors found while reading the containers.
    pub problems: Vec<Problem>,
}

impl<'a> PodSpec<'a> {
    /// Reads the containers of a workload's pod spec.
    #[must_use]
    pub fn new(workload: &Workload<'a>) -> Self {
        let mut pod = PodSpec {
            metadata: workload.metadata.clone(),
            spec: workload.spec.clone(),
            containers: Vec::new(),
            problems: Vec::new(),
        };
        if !matches!(workload.spec.entries(), Typed::Value(_)) {
            pod.problem(
                &workload.spec,
                "the pod spec is missing or is not a mapping",
            );
            return pod;
        }
        for kind in [
            ContainerKind::Regular,
            ContainerKind::Init,
            ContainerKind::Ephemeral,
        ] {
            pod.read_containers(kind);
        }
        pod.check_types();
        pod
    }

    /// Records every field the checks read whose value has the wrong shape, so that a check
    /// never passes because it could not look inside a string where a mapping belongs.
    fn check_types(&mut self) {
        let metadata = self.metadata.clone();
        let spec = self.spec.clone();
        self.expect_shapes(&metadata, &[(&["annotations"], Shape::Mapping)]);
        self.expect_shapes(&spec, POD_SHAPES);
        for container in self.containers.clone() {
            self.expect_shapes(&container.field, CONTAINER_SHAPES);
        }
    }

    fn expect_shapes(&mut self, base: &Field<'_>, shapes: &[(&[&str], Shape)]) {
        for (path, shape) in shapes {
            let field = base.at(path);
            let fits = match shape {
                Shape::Mapping => !matches!(field.entries(), Typed::Invalid),
                Shape::List => !matches!(field.items(), Typed::Invalid),
            };
            if !fits {
                let message = match shape {
                    Shape::Mapping => "must be a mapping",
                    Shape::List => "must be a list",
                };
                self.problem(&field, message);
            }
        }
    }

    fn read_containers(&mut self, kind: ContainerKind) {
        let list = self.spec.get(kind.field_name());
        let items = match list.items() {
            Typed::Value(items) => items,
            Typed::Absent if kind == ContainerKind::Regular => {
                self.problem(&list, "a pod spec needs at least one container");
                return;
            }
            Typed::Absent => return,
            Typed::Invalid => {
                self.problem(&list, "must be a list of containers");
                return;
            }
        };
        if items.is_empty() && kind == ContainerKind::Regular {
            self.problem(&list, "a pod spec needs at least one container");
        }
        for field in items {
            if !matches!(field.entries(), Typed::Value(_)) {
                self.problem(&field, "a container must be a mapping");
                continue;
            }
            let name = field
                .get("name")
                .as_str()
                .value()
                .map_or_else(|| field.path().to_owned(), str::to_owned);
            let image = field.get("image").as_str().value();
            self.containers.push(Container {
                kind,
                field,
                name,
                image,
            });
        }
    }

    fn problem(&mut self, field: &Field<'_>, message: &str) {
        self.problems.push(Problem {
            field: field.path().to_owned(),
            location: field.location(),
            message: message.to_owned(),
        });
    }

    /// True when `spec.os.name` is `windows`.
    #[must_use]
    pub fn is_windows(&self) -> bool {
        self.spec.at(&["os", "name"]).as_str().value() == Some("windows")
    }

    /// The pod's `securityContext`.
    #[must_use]
    pub fn security_context(&self) -> Field<'a> {
        self.spec.get("securityContext")
    }

    /// A security setting as it applies to `container`: the container's `securityContext` field
    /// when present, else the pod's, as the kubelet resolves it.
    #[must_use]
    pub fn effective(&self, container: &Container<'a>, keys: &[&str]) -> Field<'a> {
        let own = container.security_context().at(keys);
        if own.is_present() {
            own
        } else {
            let pod = self.security_context().at(keys);
            if pod.is_present() { pod } else { own }
        }
    }

    /// The pod template's annotation `key`.
    #[must_use]
    pub fn annotation(&self, key: &str) -> Field<'a> {
        self.metadata.at(&["annotations", key])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::yaml::parse_documents;

    fn workload(text: &str) -> (Node, ResourceRef, Vec<String>, Vec<String>) {
        let node = parse_documents(text).unwrap().remove(0);
        let (resource, paths, problems) = match extract(&node, Path::new("w.yaml")) {
            Extracted::Workload(workload) => {
                let pod = PodSpec::new(&workload);
                (
                    workload.resource.clone(),
                    pod.containers
                        .iter()
                        .map(|c| c.field.path().to_owned())
                        .collect(),
                    pod.problems.iter().map(|p| p.field.clone()).collect(),
                )
            }
            Extracted::Skipped(resource) => (resource, Vec::new(), Vec::new()),
        };
        (node, resource, paths, problems)
    }

    #[test]
    fn cronjob_template_is_found() {
        let (_, resource, paths, problems) = workload(
            "kind: CronJob\nmetadata: {name: c, namespace: n}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a, image: b}]\n          initContainers: [{name: i, image: b}]\n",
        );
        assert_eq!(resource.display_name(), "CronJob/n/c");
        assert_eq!(
            paths,
            [
                "spec.jobTemplate.spec.template.spec.containers[0]",
                "spec.jobTemplate.spec.template.spec.initContainers[0]"
            ]
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn other_kinds_are_skipped() {
        let (_, resource, paths, _) = workload("kind: Service\nmetadata: {name: s}\n");
        assert_eq!(resource.kind, "Service");
        assert!(paths.is_empty());
    }

    #[test]
    fn containers_as_mapping_is_a_problem() {
        let (_, _, paths, problems) =
            workload("kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    name: a\n");
        assert!(paths.is_empty());
        assert_eq!(problems, ["spec.containers"]);
    }

    #[test]
    fn string_security_context_is_a_problem() {
        let (_, _, _, problems) = workload(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    securityContext: x\n",
        );
        assert_eq!(problems, ["spec.containers[0].securityContext"]);
    }

    #[test]
    fn missing_template_is_a_problem() {
        let (_, _, _, problems) = workload("kind: Deployment\nmetadata: {name: d}\nspec: {}\n");
        assert_eq!(problems, ["spec.template.spec"]);
    }
}
