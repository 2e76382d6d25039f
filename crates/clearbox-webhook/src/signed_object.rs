//! The `signed_objects` rule on one admitted object: an object of a covered kind in a covered
//! namespace must carry a manifest signature (`clearbox sign-manifest`) that verifies with one of
//! the entry's keys, over the object as received, and that signs every required claim.
//!
//! Checks, in order:
//! 1. the first `signed_objects` entry whose namespaces and kinds cover the request applies; no
//!    entry, nothing is required;
//! 2. an object that a controller made from a covered owner is exempt (see [`controller_made`]);
//! 3. the object has the signature annotation, else it is denied as unsigned;
//! 4. per key of the entry: the envelope's signature verifies over the signed payload. The
//!    server defaults that the signed form lacks are then dropped from the received object
//!    (`crate::defaults`). The result is verified with
//!    `clearbox_policy::k8s::signature::verify_manifest`, which strips the fields the API
//!    server sets (`status`, `metadata.managedFields`, `metadata.uid`, ...). When the object
//!    differs from the signed form, it names the first field that differs;
//! 5. the verified claims include every required claim with a non-empty value.
//!
//! Results are not cached: a signature belongs to one object, not to an image digest, and the
//! check is one ECDSA verification and a comparison of two JSON trees.

use std::collections::BTreeMap;
use std::path::Path;

use clearbox_attest::dsse::{self, Envelope};
use clearbox_policy::k8s::signature::{
    ANNOTATION, PAYLOAD_TYPE, SignedPayload, VerifyOutcome, verify_manifest,
};
use clearbox_policy::policy::{LoadedKey, Outcome, SignedObjectsRule};
use serde_json::Value;
use tracing::debug;

use crate::defaults::drop_server_defaults;
use crate::review::AdmissionRequest;
use crate::state::LoadedPolicy;

/// The name the object is verified under, which appears in parse errors.
const SOURCE: &str = "request.object";

/// The user name of `kube-controller-manager` when its controllers share one identity.
const CONTROLLER_MANAGER: &str = "system:kube-controller-manager";

/// Each workload controller: the API version and kind of the owner it reads, the kind of the
/// objects it creates, and its service account in `kube-system` when `kube-controller-manager`
/// runs with `--use-service-account-credentials`.
const CONTROLLERS: [Controller; 7] = [
    Controller::new(
        "apps/v1",
        "Deployment",
        "ReplicaSet",
        "deployment-controller",
    ),
    Controller::new("apps/v1", "ReplicaSet", "Pod", "replicaset-controller"),
    Controller::new("apps/v1", "StatefulSet", "Pod", "statefulset-controller"),
    Controller::new("apps/v1", "DaemonSet", "Pod", "daemon-set-controller"),
    Controller::new("batch/v1", "Job", "Pod", "job-controller"),
    Controller::new("batch/v1", "CronJob", "Job", "cronjob-controller"),
    Controller::new(
        "v1",
        "ReplicationController",
        "Pod",
        "replication-controller",
    ),
];

/// One row of [`CONTROLLERS`].
struct Controller {
    owner_api_version: &'static str,
    owner_kind: &'static str,
    creates: &'static str,
    service_account: &'static str,
}

impl Controller {
    const fn new(
        owner_api_version: &'static str,
        owner_kind: &'static str,
        creates: &'static str,
        service_account: &'static str,
    ) -> Controller {
        Controller {
            owner_api_version,
            owner_kind,
            creates,
            service_account,
        }
    }
}

/// A verified object signature, recorded with the admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    /// The key that verified the signature, as the policy names it.
    pub signer: String,
    /// The signed claims, such as `approver` and `ticket`.
    pub claims: BTreeMap<String, String>,
    /// `sha256:<hex>` of the object's canonical form.
    pub digest: String,
}

/// The result of the `signed_objects` rule for one object.
#[derive(Debug, Clone)]
pub(crate) struct ObjectResult {
    /// Passed or failed.
    pub(crate) outcome: Outcome,
    /// The finding, naming the entry.
    pub(crate) message: String,
    /// The verified signature, when it passed on a signature.
    pub(crate) signed_by: Option<SignedBy>,
}

/// Decides the `signed_objects` rule for `object`, named `resource` (`KIND/NAMESPACE/NAME`);
/// `None` when no entry covers it.
pub(crate) fn check_object(
    loaded: &LoadedPolicy,
    request: &AdmissionRequest,
    object: &Value,
    resource: &str,
) -> Option<ObjectResult> {
    // 1. The entry.
    let namespace = request.namespace.as_deref().or_else(|| {
        object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
    });
    let policy = &loaded.policy;
    let rule = policy.signed_objects_rule(namespace, &request.kind)?;
    let index = policy
        .signed_objects
        .iter()
        .position(|r| std::ptr::eq(r, rule))?;
    let entry = rule.describe();
    let Some(keys) = loaded.verifiers.object_keys.get(index) else {
        // The loader loads one key list per entry; a policy without them cannot verify.
        return Some(failed(format!(
            "{entry} applies, but its keys were not loaded, so `{resource}` cannot be verified"
        )));
    };

    // 2. Objects a controller made.
    if let Some(reason) = controller_made(rule, request, object) {
        debug!(%resource, %reason, "object signature not required");
        return Some(ObjectResult {
            outcome: Outcome::Passed,
            message: format!("{entry} does not apply: {reason}"),
            signed_by: None,
        });
    }

    // 3. and 4. The signature.
    let signed_by = match verify(object, &request.kind, namespace, keys) {
        Ok(signed_by) => signed_by,
        Err(reason) => return Some(failed(format!("{entry}: `{resource}` {reason}"))),
    };

    // 5. The claims.
    let missing: Vec<&str> = rule
        .required_claims
        .iter()
        .filter(|claim| {
            signed_by
                .claims
                .get(*claim)
                .is_none_or(|v| v.trim().is_empty())
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Some(failed(format!(
            "{entry}: the signature of `{resource}` by key `{}` lacks the required claim(s) \
             `{}`; sign it again with `--claim {}=VALUE`",
            signed_by.signer,
            missing.join("`, `"),
            missing[0]
        )));
    }
    let claims: Vec<String> = signed_by
        .claims
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    Some(ObjectResult {
        outcome: Outcome::Passed,
        message: format!(
            "{entry}: `{resource}` is signed by key `{}` ({}){}",
            signed_by.signer,
            signed_by.digest,
            if claims.is_empty() {
                String::new()
            } else {
                format!("; {}", claims.join(", "))
            }
        ),
        signed_by: Some(signed_by),
    })
}

fn failed(message: String) -> ObjectResult {
    ObjectResult {
        outcome: Outcome::Failed,
        message,
        signed_by: None,
    }
}

/// Returns why `object` needs no signature of its own: a controller made it from an owner whose
/// kind `rule` covers, and the request comes from that controller.
///
/// Both are required because the client that creates an object writes its `ownerReferences`,
/// so a person could name any owner. The API server sets `userInfo`, so a request from the
/// controller's own identity shows that the controller made the object from its owner, whose
/// signature was checked when the owner was admitted.
fn controller_made(
    rule: &SignedObjectsRule,
    request: &AdmissionRequest,
    object: &Value,
) -> Option<String> {
    let owner = object
        .pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|owner| owner.get("controller").and_then(Value::as_bool) == Some(true))?;
    let owner_kind = owner.get("kind")?.as_str()?;
    let owner_api_version = owner.get("apiVersion")?.as_str()?;
    let owner_name = owner.get("name").and_then(Value::as_str).unwrap_or("");
    // While the policy is in force, an owner of a covered kind is admitted only with a
    // signature or as a controller's object, so the chain up to a signed object is unbroken.
    if !rule.covers_kind(owner_kind) {
        return None;
    }
    // Only the controller of that owner, and only for the kind it creates: a Deployment's
    // controller makes ReplicaSets, never Pods, and `evil.example/v1` ReplicaSets are not
    // the built-in kind.
    let controller = CONTROLLERS.iter().find(|c| {
        c.owner_kind == owner_kind
            && c.owner_api_version == owner_api_version
            && c.creates == request.kind
    })?;
    let service_account = format!(
        "system:serviceaccount:kube-system:{}",
        controller.service_account
    );
    let user = request.user.as_deref()?;
    (user == CONTROLLER_MANAGER || user == service_account).then(|| {
        format!(
            "`{user}` made it from its owner `{owner_kind}/{owner_name}`, whose kind the entry \
             covers"
        )
    })
}

/// Verifies the signature of `object` with each key until one verifies. Returns the signer, or
/// the reason none verified: unsigned, changed since signing, or signed with another key.
fn verify(
    object: &Value,
    kind: &str,
    namespace: Option<&str>,
    keys: &[LoadedKey],
) -> Result<SignedBy, String> {
    // 3. The annotation.
    let Some(annotation) = object
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(ANNOTATION))
    else {
        return Err(format!("has no `{ANNOTATION}` annotation"));
    };
    let envelope = annotation
        .as_str()
        .and_then(|text| Envelope::from_json(text.as_bytes()).ok());

    // 4. Each key.
    let mut rejections = Vec::new();
    for loaded in keys {
        let name = &loaded.signer.written;
        let received = match envelope.as_ref().and_then(|e| signed_form(e, loaded)) {
            Some(signed) => drop_server_defaults(object, &signed, kind, namespace),
            None => object.clone(),
        };
        match verify_with(&received, loaded) {
            VerifyOutcome::Verified { claims, digest } => {
                debug!(key = %name, %digest, "object signature verified");
                return Ok(SignedBy {
                    signer: name.clone(),
                    claims,
                    digest,
                });
            }
            VerifyOutcome::Changed { changes } => {
                // The signature verified with this key, so the difference is the reason to deny.
                let first = &changes[0];
                let path = if first.path.is_empty() {
                    "the object".to_owned()
                } else {
                    format!("`{}`", first.path)
                };
                let more = match changes.len() - 1 {
                    0 => String::new(),
                    1 => " (and 1 more field)".to_owned(),
                    n => format!(" (and {n} more fields)"),
                };
                return Err(format!(
                    "differs from what key `{name}` signed: {path} {} since signing{more}",
                    first.kind.name()
                ));
            }
            VerifyOutcome::Invalid { reason } => rejections.push(format!("key `{name}`: {reason}")),
            other => rejections.push(format!("key `{name}`: {other:?}")),
        }
    }
    Err(format!(
        "has a signature that no key of the entry verifies ({})",
        rejections.join("; ")
    ))
}

/// Returns the canonical object of the payload when the envelope's signature verifies with
/// `key`. The server defaults are compared with this form only once it is known to be signed.
fn signed_form(envelope: &Envelope, key: &LoadedKey) -> Option<Value> {
    let payload = dsse::verify(envelope, &key.key, Some(PAYLOAD_TYPE)).ok()?;
    let payload: SignedPayload = serde_json::from_slice(payload.body()).ok()?;
    Some(payload.canonical)
}

/// Verifies one object with `verify_manifest`, which reads JSON as the YAML it is.
///
/// NOTE: `verify_manifest` rejects text with a `<<` merge key by a textual scan, so a string
/// value containing ` <<:` (a space, `<<`, then `:`) makes the object fail as invalid.
fn verify_with(object: &Value, key: &LoadedKey) -> VerifyOutcome {
    let text = object.to_string();
    match verify_manifest(Path::new(SOURCE), &text, &key.key) {
        Ok(mut verdicts) if verdicts.len() == 1 => verdicts.remove(0).outcome,
        Ok(verdicts) => VerifyOutcome::Invalid {
            reason: format!(
                "the object reads as {} objects (a top-level `items` list), not one",
                verdicts.len()
            ),
        },
        Err(error) => VerifyOutcome::Invalid {
            reason: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use clearbox_policy::policy::{DEFAULT_SIGNED_KINDS, Glob};
    use serde_json::json;

    use super::*;

    fn rule(kinds: &[&str]) -> SignedObjectsRule {
        SignedObjectsRule {
            namespaces: vec![Glob::new("prod").unwrap()],
            kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
            keys: Vec::new(),
            required_claims: Vec::new(),
            line: 4,
        }
    }

    fn request(kind: &str, user: &str) -> AdmissionRequest {
        AdmissionRequest {
            uid: "u".to_owned(),
            kind: kind.to_owned(),
            namespace: Some("prod".to_owned()),
            name: None,
            operation: "CREATE".to_owned(),
            object: None,
            user: Some(user.to_owned()),
        }
    }

    fn owned_by(kind: &str, controller: bool) -> Value {
        let api_version = match kind {
            "Job" | "CronJob" => "batch/v1",
            _ => "apps/v1",
        };
        json!({"metadata": {"ownerReferences": [
            {"apiVersion": api_version, "kind": kind, "name": "owner", "controller": controller}]}})
    }

    #[test]
    fn controller_owner_kind_and_group_checked() {
        let manager = |kind: &str| request(kind, CONTROLLER_MANAGER);
        let all = rule(&DEFAULT_SIGNED_KINDS);
        // A Deployment's controller makes ReplicaSets, not Pods.
        assert!(
            controller_made(&all, &manager("ReplicaSet"), &owned_by("Deployment", true)).is_some()
        );
        assert!(controller_made(&all, &manager("Pod"), &owned_by("Deployment", true)).is_none());
        let deployment_controller = request(
            "Pod",
            "system:serviceaccount:kube-system:deployment-controller",
        );
        assert!(
            controller_made(&all, &deployment_controller, &owned_by("Deployment", true)).is_none()
        );
        // A Job's or a ReplicaSet's controller makes Pods, not ReplicaSets.
        assert!(controller_made(&all, &manager("ReplicaSet"), &owned_by("Job", true)).is_none());
        assert!(
            controller_made(&all, &manager("ReplicaSet"), &owned_by("ReplicaSet", true)).is_none()
        );
        // A ReplicaSet of another API group is not the built-in kind.
        let custom = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "evil.example/v1", "kind": "ReplicaSet", "name": "owner", "controller": true}]}});
        assert!(controller_made(&all, &manager("Pod"), &custom).is_none());
        assert!(controller_made(&all, &manager("Pod"), &owned_by("ReplicaSet", true)).is_some());
    }

    const JOB_CONTROLLER: &str = "system:serviceaccount:kube-system:job-controller";

    #[test]
    fn job_pod_exempt_from_job_controller() {
        let exempt = controller_made(
            &rule(&DEFAULT_SIGNED_KINDS),
            &request("Pod", JOB_CONTROLLER),
            &owned_by("Job", true),
        );
        assert!(exempt.unwrap().contains("`Job/owner`"));
    }

    #[test]
    fn cronjob_job_exempt_when_only_cronjob_covered() {
        let request = request(
            "Job",
            "system:serviceaccount:kube-system:cronjob-controller",
        );
        let object = owned_by("CronJob", true);
        assert!(controller_made(&rule(&["CronJob", "Job"]), &request, &object).is_some());
        // A Job is covered wherever CronJob is, so a Job written by hand needed a signature.
        let pod = owned_by("Job", true);
        let pod_request = self::request("Pod", JOB_CONTROLLER);
        assert!(controller_made(&rule(&["CronJob", "Pod"]), &pod_request, &pod).is_some());
        assert!(rule(&["CronJob"]).covers("prod", "Job"));
    }

    #[test]
    fn uncovered_owner_or_other_user_not_exempt() {
        let object = owned_by("ReplicaSet", true);
        let controller = request(
            "Pod",
            "system:serviceaccount:kube-system:replicaset-controller",
        );
        assert!(controller_made(&rule(&["Pod"]), &controller, &object).is_none());
        let other = request("Pod", JOB_CONTROLLER);
        assert!(controller_made(&rule(&DEFAULT_SIGNED_KINDS), &other, &object).is_none());
        let manager = request("Pod", CONTROLLER_MANAGER);
        assert!(controller_made(&rule(&DEFAULT_SIGNED_KINDS), &manager, &object).is_some());
        let not_controller = owned_by("ReplicaSet", false);
        assert!(controller_made(&rule(&DEFAULT_SIGNED_KINDS), &manager, &not_controller).is_none());
    }
}
