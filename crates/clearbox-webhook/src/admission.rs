//! The decision on one admission request.
//!
//! Checks, in order; the request is allowed only when the object and every image pass every
//! rule:
//! 1. the object: a `DELETE` is allowed. A missing object, one whose `kind` differs from the
//!    request's, or one that cannot be read is denied;
//! 2. `signed_objects`, when an entry covers the object's namespace and kind, on the object as
//!    received (`crate::signed_object`). A kind without a pod template runs no image, so its
//!    decision ends here. Otherwise a container without an image, and more than 256 images,
//!    are denied;
//! 3. `annotations`, on the object's `metadata.annotations`, as `check k8s --policy` does;
//! 4. per image, `trusted_registries`, `deny_latest_tag` and `require_digest` on the reference
//!    alone. An image that fails one is denied without contacting its registry;
//! 5. per image, `signers` and the attestation rules: from the cache for a known digest, else
//!    verified on a blocking thread, every image at once, until the request's deadline. An
//!    image whose verification did not complete (deadline, unreachable registry, internal
//!    error) is denied with the reason.
//!
//! Exceptions of the policy apply as everywhere else, to the workload and image they name.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use clearbox_oci::RegistryReference;
use clearbox_oci::registry::RegistryOptions;
use clearbox_policy::policy::{
    Evaluation, ImageSubject, Outcome, Rule, Target, Verdict, evaluate_annotations,
    evaluate_reference,
};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::debug;

use crate::cache::VerificationCache;
use crate::metrics::{Counter, Metrics};
use crate::review::AdmissionRequest;
use crate::signed_object::{ObjectResult, SignedBy, check_object};
use crate::state::LoadedPolicy;
use crate::verify::{Verified, VerifyJob, cached_by_reference, is_error};
use crate::workload::{AdmittedWorkload, ContainerImage, read_workload};

/// The rules decided from the image's signature store.
const STORE_RULES: [Rule; 3] = [Rule::Signers, Rule::SlsaProvenance, Rule::Vulnerability];

/// The inputs of one admission besides the request.
#[derive(Debug, Clone)]
pub(crate) struct Admission {
    pub(crate) loaded: Arc<LoadedPolicy>,
    pub(crate) registry: Arc<RegistryOptions>,
    pub(crate) cache: Arc<VerificationCache>,
    pub(crate) metrics: Arc<Metrics>,
    /// When verification must have finished.
    pub(crate) deadline: Instant,
    /// The time allowed, for messages.
    pub(crate) timeout: Duration,
}

/// The decision on one image.
#[derive(Debug, Clone)]
pub struct ImageDecision {
    /// `containers/NAME` and the like.
    pub container: String,
    /// The image as written in the object.
    pub image: String,
    /// The manifest digest, when the reference names it or verification resolved it.
    pub digest: Option<String>,
    /// Every rule's result for the image.
    pub evaluation: Evaluation,
}

/// The decision on one admission request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Whether the object is admitted.
    pub allowed: bool,
    /// `status.message`: for a denial, each unmet rule with its image and its fix.
    pub message: String,
    /// `NAMESPACE/KIND/NAME`, when the object was read.
    pub workload: Option<String>,
    /// The decision on each image.
    pub images: Vec<ImageDecision>,
    /// Results about the object rather than an image: its signature, annotations, unreadable
    /// containers.
    pub notes: Vec<String>,
    /// The object's verified signature, when `signed_objects` required one and it verified.
    pub signed_by: Option<SignedBy>,
}

impl Decision {
    fn without_images(allowed: bool, workload: Option<String>, note: String) -> Self {
        Decision {
            allowed,
            message: note.clone(),
            workload,
            images: Vec::new(),
            notes: vec![note],
            signed_by: None,
        }
    }

    /// Turns the decision into a denial for `reason`, keeping what was found.
    pub(crate) fn deny(&mut self, reason: &str) {
        self.allowed = false;
        reason.clone_into(&mut self.message);
        self.notes.push(reason.to_owned());
    }
}

/// Most container images one request may name. A Pod has at most a few dozen; a bound keeps
/// one request from holding the audit store and the registry for long.
const MAX_IMAGES: usize = 256;

/// Decides `request`.
pub(crate) async fn decide(admission: &Admission, request: &AdmissionRequest) -> Decision {
    // 1. The object and its images.
    if request.operation == "DELETE" {
        return Decision::without_images(true, None, "a DELETE request runs no image".to_owned());
    }
    let Some(object) = request.object.as_ref() else {
        return Decision::without_images(
            false,
            None,
            format!(
                "a {} request carries no object, so its images are unknown",
                request.operation
            ),
        );
    };
    // The API server keeps the two equal; a request where they differ is not one it sent.
    let object_kind = object.get("kind").and_then(serde_json::Value::as_str);
    if object_kind != Some(request.kind.as_str()) {
        return Decision::without_images(
            false,
            None,
            format!(
                "the request is for a {} but its object's kind is {}",
                request.kind,
                object_kind.map_or("missing".to_owned(), |k| format!("`{k}`"))
            ),
        );
    }
    let workload = match read_workload(request, object) {
        Ok(workload) => workload,
        Err(reason) => {
            return Decision::without_images(
                false,
                None,
                format!("the object cannot be read, so its images are unknown: {reason}"),
            );
        }
    };
    // 2. The object's signature.
    let policy = &admission.loaded.policy;
    let mut object_evaluation = Evaluation::new(policy, today());
    let resource_target = Target {
        resource: Some(workload.resource.clone()),
        ..Target::default()
    };
    let signed_by = record_signature(
        admission,
        request,
        object,
        &resource_target,
        &mut object_evaluation,
    );
    if !workload.has_pod_template {
        if object_evaluation.results.is_empty() {
            return Decision::without_images(
                true,
                Some(workload.workload),
                format!(
                    "a {} has no pod template, so it runs no image",
                    request.kind
                ),
            );
        }
        return compose(policy, &workload, &object_evaluation, Vec::new(), signed_by);
    }
    if !workload.problems.is_empty() {
        let note = format!(
            "`{}` is denied because an image cannot be read: {}",
            workload.workload,
            workload.problems.join("; ")
        );
        return Decision::without_images(false, Some(workload.workload), note);
    }

    // 3. The object's annotations.
    evaluate_annotations(
        policy,
        &resource_target,
        workload.annotations.as_ref().map_err(String::as_str),
        &mut object_evaluation,
    );

    // 4. and 5. The images.
    if workload.images.len() > MAX_IMAGES {
        let note = format!(
            "`{}` names {} images, more than the {MAX_IMAGES} a request may hold",
            workload.workload,
            workload.images.len()
        );
        return Decision::without_images(false, Some(workload.workload), note);
    }
    let images = decide_images(admission, &workload).await;
    compose(policy, &workload, &object_evaluation, images, signed_by)
}

/// Step 2: records `signed_objects` for the object when an entry covers it, and returns the
/// verified signature.
fn record_signature(
    admission: &Admission,
    request: &AdmissionRequest,
    object: &serde_json::Value,
    target: &Target,
    evaluation: &mut Evaluation,
) -> Option<SignedBy> {
    let resource = target.resource.as_deref().unwrap_or_default();
    let ObjectResult {
        outcome,
        message,
        signed_by,
    } = check_object(&admission.loaded, request, object, resource)?;
    let policy = &admission.loaded.policy;
    evaluation.record(policy, Rule::SignedObjects, target, outcome, message);
    signed_by
}

/// Returns the date in UTC, which exceptions are compared with.
fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Evaluates every image of `workload`: the reference rules, then the store rules of those
/// that passed them, concurrently.
async fn decide_images(admission: &Admission, workload: &AdmittedWorkload) -> Vec<ImageDecision> {
    let policy = &admission.loaded.policy;
    let needs_store = STORE_RULES.iter().any(|rule| policy.sets(*rule));
    let mut decisions = Vec::new();
    let mut pending: Vec<(usize, RegistryReference)> = Vec::new();
    for container in &workload.images {
        let (decision, reference) = check_reference(admission, workload, container);
        if let Some(reference) = reference.filter(|_| needs_store) {
            pending.push((decisions.len(), reference));
        }
        decisions.push(decision);
    }
    let verified = verify_all(admission, &pending).await;
    for ((index, _), result) in pending.iter().zip(verified) {
        record_store_results(admission, &mut decisions[*index], result);
    }
    decisions
}

/// Step 4 for one image. Returns the reference when the image may be verified.
fn check_reference(
    admission: &Admission,
    workload: &AdmittedWorkload,
    container: &ContainerImage,
) -> (ImageDecision, Option<RegistryReference>) {
    let policy = &admission.loaded.policy;
    let resource = format!("{} container {}", workload.resource, container.container);
    let mut evaluation = Evaluation::new(policy, today());
    let parsed = container.image.parse::<RegistryReference>();
    let reference = match parsed {
        Ok(reference) => reference,
        Err(error) => {
            let target = Target {
                image: Some(container.image.clone()),
                resource: Some(resource),
                ..Target::default()
            };
            for rule in policy.rules() {
                evaluation.record(
                    policy,
                    rule,
                    &target,
                    Outcome::Failed,
                    format!("the image is no valid reference: {error}"),
                );
            }
            let decision = ImageDecision {
                container: container.container.clone(),
                image: container.image.clone(),
                digest: None,
                evaluation,
            };
            return (decision, None);
        }
    };
    let subject = ImageSubject::from_registry(reference.clone(), Some(resource));
    evaluate_reference(policy, &subject, &mut evaluation);
    let reference_met = evaluation.verdict() == Verdict::Passed;
    if !reference_met {
        for rule in STORE_RULES {
            evaluation.skip(
                policy,
                rule,
                "not verified: the image fails a rule on its reference, so its registry was not \
                 contacted",
            );
        }
    }
    let decision = ImageDecision {
        container: container.container.clone(),
        image: container.image.clone(),
        digest: reference.digest.as_ref().map(ToString::to_string),
        evaluation,
    };
    (decision, reference_met.then_some(reference))
}

/// Step 5: verifies each reference, from the cache or on a blocking thread, and waits until
/// the deadline. A verification still running then is left to finish (its result still
/// fills the cache) and counts as not completed.
async fn verify_all(
    admission: &Admission,
    pending: &[(usize, RegistryReference)],
) -> Vec<Result<Verified, String>> {
    let mut results: Vec<Option<Result<Verified, String>>> = vec![None; pending.len()];
    let mut tasks = JoinSet::new();
    let mut task_slots = HashMap::new();
    for (slot, (_, reference)) in pending.iter().enumerate() {
        if let Some(hit) = cached_by_reference(reference, &admission.loaded, &admission.cache) {
            results[slot] = Some(Ok(hit));
            continue;
        }
        let job = VerifyJob {
            reference: reference.clone(),
            loaded: Arc::clone(&admission.loaded),
            registry: Arc::clone(&admission.registry),
            cache: Arc::clone(&admission.cache),
        };
        let handle = tasks.spawn_blocking(move || (slot, job.run()));
        task_slots.insert(handle.id(), slot);
    }
    loop {
        match tokio::time::timeout_at(admission.deadline, tasks.join_next()).await {
            Ok(Some(Ok((slot, result)))) => results[slot] = Some(result),
            Ok(Some(Err(error))) => {
                if let Some(slot) = task_slots.get(&error.id()) {
                    results[*slot] = Some(Err(format!("internal error: {error}")));
                }
            }
            Ok(None) => break,
            Err(_elapsed) => {
                tasks.detach_all();
                break;
            }
        }
    }
    let timeout = admission.timeout.as_secs_f64();
    results
        .into_iter()
        .map(|result| {
            result.unwrap_or_else(|| {
                Err(format!(
                    "verification did not finish within the deadline of {timeout} s"
                ))
            })
        })
        .collect()
}

/// Records the store rules' results, with the workload's exceptions applied.
fn record_store_results(
    admission: &Admission,
    decision: &mut ImageDecision,
    result: Result<Verified, String>,
) {
    let policy = &admission.loaded.policy;
    let metrics = &admission.metrics;
    if is_error(&result) {
        metrics.increment(Counter::VerificationError);
    }
    let target = decision
        .evaluation
        .results
        .first()
        .map(|r| r.target.clone())
        .unwrap_or_default();
    match result {
        Ok(verified) => {
            metrics.increment(if verified.cached {
                Counter::CacheHit
            } else {
                Counter::CacheMiss
            });
            debug!(image = %decision.image, digest = %verified.digest, cached = verified.cached, "verified");
            decision.digest = Some(verified.digest);
            for result in verified.results {
                decision.evaluation.record(
                    policy,
                    result.rule,
                    &target,
                    result.outcome,
                    result.message,
                );
            }
        }
        Err(reason) => {
            metrics.increment(Counter::CacheMiss);
            for rule in STORE_RULES.into_iter().filter(|rule| policy.sets(*rule)) {
                decision.evaluation.record(
                    policy,
                    rule,
                    &target,
                    Outcome::CouldNotCheck,
                    reason.clone(),
                );
            }
        }
    }
}

/// Builds the decision and its `status.message` from every result.
fn compose(
    policy: &clearbox_policy::policy::Policy,
    workload: &AdmittedWorkload,
    object_evaluation: &Evaluation,
    images: Vec<ImageDecision>,
    signed_by: Option<SignedBy>,
) -> Decision {
    let mut unmet = Vec::new();
    for result in unmet_results(object_evaluation) {
        unmet.push(format!(
            "`{}`: {} {}: {}; fix: {}",
            workload.workload,
            result.rule,
            result.outcome.name(),
            result.message,
            fix(result.rule, result.outcome)
        ));
    }
    for image in &images {
        for result in unmet_results(&image.evaluation) {
            unmet.push(format!(
                "{} image `{}`: {} {}: {}; fix: {}",
                image.container,
                image.image,
                result.rule,
                result.outcome.name(),
                result.message,
                fix(result.rule, result.outcome)
            ));
        }
    }
    let allowed = unmet.is_empty();
    let mut message = String::new();
    if allowed {
        let _ = write!(
            message,
            "`{}` is allowed by the policy `{}` ({}): {} image(s) passed",
            workload.workload,
            policy.file.display(),
            policy.digest,
            images.len()
        );
    } else {
        let _ = write!(
            message,
            "`{}` is denied by the policy `{}` ({}): {}",
            workload.workload,
            policy.file.display(),
            policy.digest,
            unmet.join(" | ")
        );
    }
    Decision {
        allowed,
        message,
        workload: Some(workload.workload.clone()),
        images,
        notes: object_evaluation.lines(),
        signed_by,
    }
}

fn unmet_results(
    evaluation: &Evaluation,
) -> impl Iterator<Item = &clearbox_policy::policy::RuleResult> {
    evaluation
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::CouldNotCheck))
}

/// Returns the fix for an unmet rule.
fn fix(rule: Rule, outcome: Outcome) -> &'static str {
    if outcome == Outcome::CouldNotCheck {
        return "the webhook denies what it cannot verify; make the registry reachable from the \
                webhook and retry";
    }
    match rule {
        Rule::TrustedRegistries => {
            "use an image from a registry in the policy's `trusted_registries`, or add its \
             registry there"
        }
        Rule::DenyLatestTag => "name the image by a release tag or by digest",
        Rule::RequireDigest => "name the image by digest (REPO@sha256:...)",
        Rule::Signers => {
            "sign the image with a signer the policy names (`clearbox sign IMAGE --key KEY`)"
        }
        Rule::SlsaProvenance => {
            "attach SLSA provenance that meets `attestations.slsaprovenance` (`clearbox \
             provenance --attest`)"
        }
        Rule::Vulnerability => {
            "attach a recent vulnerability attestation that meets `attestations.vulnerability`"
        }
        Rule::Annotations => "add the required annotations to the object's metadata",
        Rule::SignedObjects => {
            "sign the manifest with one of the entry's keys, `clearbox sign-manifest FILE --key \
             KEY --claim NAME=VALUE` (one --claim per required claim), and apply the signed file \
             unchanged"
        }
        _ => "change the image or the policy so that the rule is met",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn could_not_check_fix_names_reachability() {
        assert!(fix(Rule::Signers, Outcome::CouldNotCheck).contains("reachable"));
        assert!(fix(Rule::Signers, Outcome::Failed).contains("clearbox sign"));
    }
}
