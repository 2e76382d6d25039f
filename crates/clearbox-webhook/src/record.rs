//! The audit record of each decision: one record per image (one for the object when it has no
//! image), appended to the audit store before the response is sent. When the object's
//! signature verified, every record carries its signer and its claims (`approver`, `ticket`).
//! A record that cannot be written turns the decision into a denial, so that nothing is
//! admitted unrecorded.

use clearbox_audit::Event;

use crate::admission::Decision;
use crate::review::AdmissionRequest;

/// The record kind of admission decisions.
pub const KIND: &str = "admission";

/// Builds the events that record `decision`.
#[must_use]
pub fn events(request: &AdmissionRequest, decision: &Decision, policy_digest: &str) -> Vec<Event> {
    let outcome = if decision.allowed {
        "allowed"
    } else {
        "denied"
    };
    let base = Event {
        kind: KIND.to_owned(),
        actor: request.uid.clone(),
        workload: decision.workload.clone(),
        decision: outcome.to_owned(),
        policy_digest: Some(policy_digest.to_owned()),
        signer: decision.signed_by.as_ref().map(|s| s.signer.clone()),
        claims: decision
            .signed_by
            .as_ref()
            .map(|s| s.claims.clone())
            .unwrap_or_default(),
        ..Event::default()
    };
    if decision.images.is_empty() {
        let mut reasons = decision.notes.clone();
        if reasons.is_empty() {
            reasons.push(decision.message.clone());
        }
        return vec![Event { reasons, ..base }];
    }
    decision
        .images
        .iter()
        .map(|image| {
            let mut reasons = image.evaluation.lines();
            reasons.extend(decision.notes.iter().cloned());
            Event {
                image: Some(image.image.clone()),
                digest: image.digest.clone(),
                reasons,
                ..base.clone()
            }
        })
        .collect()
}
