//! `policy-evaluation.json`: the policy file given with `--policy` evaluated on the image, with
//! every rule's result, the exceptions that waived results, the expired exceptions, and the
//! policy's digest. Without a policy the file states that no evaluation ran.

use clearbox_oci::Image;
use clearbox_policy::policy::{
    Evaluation, ImageSubject, Outcome, Policy, Rule, Verifiers, evaluate_annotations,
    evaluate_reference, evaluate_store, image_annotations,
};
use serde_json::{Value, json};

/// The file name in the package.
pub(crate) const FILE: &str = "policy-evaluation.json";

/// The file's content and how the package lists it.
pub(crate) struct PolicyEvidence {
    pub(crate) document: Value,
    pub(crate) produced: bool,
    pub(crate) note: String,
    pub(crate) summary: String,
}

/// Evaluates `policy` (with its signer keys and trusted root, already loaded) on `image`.
pub(crate) fn evaluate(image: &Image, policy: Option<&(Policy, Verifiers)>) -> PolicyEvidence {
    let Some((policy, verifiers)) = policy else {
        let reason = "no --policy was given, so no policy was evaluated";
        return PolicyEvidence {
            document: json!({"status": "not-run", "reason": reason}),
            produced: false,
            note: reason.to_owned(),
            summary: "Policy: not evaluated (no --policy).".to_owned(),
        };
    };
    let now = chrono::Utc::now();
    let mut evaluation = Evaluation::new(policy, now.date_naive());
    let subject = ImageSubject::from_reference(&image.reference);
    evaluate_reference(policy, &subject, &mut evaluation);
    evaluate_annotations(
        policy,
        &subject.target,
        Ok(&image_annotations(image)),
        &mut evaluation,
    );
    match clearbox_attest::cosign::open_store_for_image(image) {
        Ok(store) => evaluate_store(
            policy,
            verifiers,
            store.as_ref(),
            &subject.target,
            now,
            &mut evaluation,
        ),
        Err(error) => {
            for rule in [Rule::Signers, Rule::SlsaProvenance, Rule::Vulnerability] {
                if policy.sets(rule) {
                    evaluation.record(
                        policy,
                        rule,
                        &subject.target,
                        Outcome::CouldNotCheck,
                        format!(
                            "the image's signatures and attestations could not be read: {error}"
                        ),
                    );
                }
            }
        }
    }

    let mut document = json!({
        "status": "evaluated",
        "image": image.reference.to_string(),
        "manifest_digest": image.manifest_digest.as_ref().map(ToString::to_string),
    });
    if let (Value::Object(target), Value::Object(fields)) =
        (&mut document, evaluation.to_json(policy))
    {
        target.extend(fields);
    }
    let verdict = evaluation.verdict();
    let unmet: Vec<&str> = evaluation
        .unmet_rules()
        .into_iter()
        .map(Rule::name)
        .collect();
    let summary = if unmet.is_empty() {
        format!(
            "Policy `{}` ({}): {}.",
            policy.file.display(),
            policy.digest,
            verdict.name()
        )
    } else {
        format!(
            "Policy `{}` ({}): {} ({}).",
            policy.file.display(),
            policy.digest,
            verdict.name(),
            unmet.join(", ")
        )
    };
    PolicyEvidence {
        document,
        produced: true,
        note: String::new(),
        summary,
    }
}
