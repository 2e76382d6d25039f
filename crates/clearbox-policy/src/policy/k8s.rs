//! The policy applied to Kubernetes manifests: for every workload (the kinds `check k8s`
//! reads), each container's image gets `trusted_registries`, `deny_latest_tag` and
//! `require_digest`, and the object's `metadata.annotations` get `annotations`.
//!
//! Signatures and attestations are not read from manifests; those rules are listed as not
//! evaluated, and so is `signed_objects`, which `clearbox verify-manifest` and the admission
//! webhook check.

use std::collections::BTreeMap;

use clearbox_oci::RegistryReference;

use super::evaluation::{Evaluation, Outcome, Target};
use super::image::{ImageSubject, evaluate_annotations, evaluate_reference};
use super::model::{Policy, Rule};
use crate::k8s::field::Typed;
use crate::k8s::manifest::{ManifestFile, objects};
use crate::k8s::workload::{Extracted, PodSpec, extract};

/// The reason signature and attestation rules are not evaluated on manifests.
const NOT_FROM_MANIFESTS: &str = "manifests carry no signatures or attestations; evaluate the \
                                  images with `clearbox verify --policy`";

/// The reason `signed_objects` is not evaluated on manifest files.
const NOT_SIGNED_HERE: &str = "object signatures are verified by the admission webhook and by \
                               `clearbox verify-manifest FILE --key KEY`";

/// Evaluates `policy` on every workload of `files`, with exceptions compared to `today`.
#[must_use]
pub fn evaluate_manifests(
    policy: &Policy,
    files: &[ManifestFile],
    today: chrono::NaiveDate,
) -> Evaluation {
    let mut evaluation = Evaluation::new(policy, today);
    for rule in [Rule::Signers, Rule::SlsaProvenance, Rule::Vulnerability] {
        evaluation.skip(policy, rule, NOT_FROM_MANIFESTS);
    }
    evaluation.skip(policy, Rule::SignedObjects, NOT_SIGNED_HERE);
    for file in files {
        for object in objects(file) {
            let Extracted::Workload(workload) = extract(object, &file.path) else {
                continue;
            };
            let resource = workload.resource.display_name();
            let resource_target = Target {
                resource: Some(resource.clone()),
                ..Target::default()
            };
            let annotations = string_map(&workload.object.at(&["metadata", "annotations"]));
            evaluate_annotations(
                policy,
                &resource_target,
                annotations.as_ref().map_err(String::as_str),
                &mut evaluation,
            );
            let pod = PodSpec::new(&workload);
            // A container list that cannot be read hides images from every reference rule.
            for problem in &pod.problems {
                let target = Target {
                    resource: Some(format!("{resource} field {}", problem.field)),
                    ..Target::default()
                };
                let message = format!(
                    "`{}` cannot be read, so its images are unknown",
                    problem.field
                );
                record_reference_rules(
                    policy,
                    &target,
                    Outcome::CouldNotCheck,
                    &message,
                    &mut evaluation,
                );
            }
            for container in &pod.containers {
                evaluate_container_image(
                    policy,
                    &resource,
                    &container.name,
                    container.image,
                    &mut evaluation,
                );
            }
        }
    }
    evaluation
}

fn evaluate_container_image(
    policy: &Policy,
    resource: &str,
    container: &str,
    image: Option<&str>,
    evaluation: &mut Evaluation,
) {
    let resource = format!("{resource} container {container}");
    let parsed = image.map(|text| (text, text.parse::<RegistryReference>()));
    match parsed {
        Some((_, Ok(reference))) => {
            let subject = ImageSubject::from_registry(reference, Some(resource));
            evaluate_reference(policy, &subject, evaluation);
        }
        Some((text, Err(error))) => {
            let target = Target {
                image: Some(text.to_owned()),
                resource: Some(resource),
                ..Target::default()
            };
            let message = format!("the image is no valid reference: {error}");
            record_reference_rules(policy, &target, Outcome::Failed, &message, evaluation);
        }
        None => {
            let target = Target {
                resource: Some(resource),
                ..Target::default()
            };
            let message = "the container names no image";
            record_reference_rules(policy, &target, Outcome::CouldNotCheck, message, evaluation);
        }
    }
}

/// Records `outcome` with `message` for each reference rule the policy sets (trusted
/// registries, latest tag, digest), for an image that cannot be evaluated against them.
fn record_reference_rules(
    policy: &Policy,
    target: &Target,
    outcome: Outcome,
    message: &str,
    evaluation: &mut Evaluation,
) {
    for rule in [
        Rule::TrustedRegistries,
        Rule::DenyLatestTag,
        Rule::RequireDigest,
    ] {
        if policy.sets(rule) {
            evaluation.record(policy, rule, target, outcome, message.to_owned());
        }
    }
}

/// Returns the string values of a mapping field, or why it is not one.
fn string_map(field: &crate::k8s::field::Field<'_>) -> Result<BTreeMap<String, String>, String> {
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
