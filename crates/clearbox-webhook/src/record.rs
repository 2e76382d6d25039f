//! The audit record of each decision: one record per image (one for the object when it has no
//! image), appended to the audit store before the response is sent. A record that cannot be
//! written turns the decision into a denial, so that nothing is admitted unrecorded.

use std::sync::{Arc, Mutex, PoisonError};

use clearbox_audit::{Event, Store};

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

/// Appends `events` on a blocking thread. An error names the store and the cause.
pub(crate) async fn append(store: &Arc<Mutex<Store>>, events: Vec<Event>) -> Result<(), String> {
    let store = Arc::clone(store);
    let task = tokio::task::spawn_blocking(move || {
        // An append is one SQLite transaction, so a panic during an earlier one left the
        // store whole.
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        for event in &events {
            store
                .append(event)
                .map_err(|e| format!("audit store `{}`: {e}", store.location()))?;
        }
        Ok(())
    });
    match task.await {
        Ok(result) => result,
        Err(error) => Err(format!(
            "internal error while writing the audit record: {error}"
        )),
    }
}
