//! Transparency log entries of Rekor v1 (`hashedrekord` 0.0.1, `dsse` 0.0.1, `intoto` 0.0.2)
//! and Rekor v2 (`hashedrekord` 0.0.2, `dsse` 0.0.2).
//!
//! Checks for each entry, in order:
//!
//! 1. the log ID names a log of the trusted root;
//! 2. the kind and version are supported, and the entry carries what its bundle version needs:
//!    an inclusion promise in v0.1, an inclusion proof with a checkpoint in v0.2 and later, and
//!    an inclusion proof with a checkpoint for every Rekor v2 entry (which has no promise);
//! 3. the canonicalized body records this bundle's artifact, signature and signer
//!    (see `entry_body`);
//! 4. the inclusion promise (signed entry timestamp), when present, verifies with the log key
//!    over the RFC 8785 form of `{body, integratedTime, logID, logIndex}`;
//! 5. the inclusion proof, when present, leads from the body's leaf hash to its root hash, and
//!    its checkpoint, when present, is signed by the log and states the same tree size and root;
//! 6. the integrated time is not after the current time and, when an inclusion promise signed
//!    it, lies in the log key's trusted interval. Entries without an integrated time have the
//!    log key's interval checked at the verified RFC 3161 times instead (by the caller).
//!
//! Every entry must pass; an entry from an unknown log fails rather than being skipped.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::canonical_json::to_canonical_json;
use super::checkpoint;
use super::entry_body::{self, BodyProblem, Claimed};
use super::error::Failure;
use super::evidence::{LogEntryEvidence, TimeEvidence};
use super::merkle;
use super::model::{BundleVersion, TlogEntry};
use super::time::Timestamp;
use super::trusted_root::{LogInstance, TrustedRoot};

/// What the entries established.
#[derive(Debug, Default)]
pub(crate) struct TlogOutcome<'a> {
    pub(crate) evidence: Vec<LogEntryEvidence>,
    /// Integrated times signed by a verified inclusion promise.
    pub(crate) signed_times: Vec<TimeEvidence>,
    /// Entries without an integrated time, whose log key must be checked at other times.
    pub(crate) untimed: Vec<(usize, &'a LogInstance)>,
    /// Data in the entries that no check uses, with the reason.
    pub(crate) notes: Vec<String>,
}

/// Verifies every entry, adding a failure for each check that does not pass.
pub(crate) fn verify_entries<'a>(
    entries: &[TlogEntry],
    version: BundleVersion,
    root: &'a TrustedRoot,
    claimed: &Claimed<'_>,
    now: Timestamp,
    failures: &mut Vec<Failure>,
) -> TlogOutcome<'a> {
    let mut outcome = TlogOutcome::default();
    for (index, entry) in entries.iter().enumerate() {
        let count = failures.len();
        if let Some(evidence) = verify_entry(
            index,
            entry,
            version,
            root,
            claimed,
            now,
            failures,
            &mut outcome,
        ) && failures.len() == count
        {
            outcome.evidence.push(evidence);
        }
    }
    outcome
}

#[allow(
    clippy::too_many_arguments,
    reason = "one entry's context; bundling it into a struct would only rename the arguments"
)]
fn verify_entry<'a>(
    index: usize,
    entry: &TlogEntry,
    version: BundleVersion,
    root: &'a TrustedRoot,
    claimed: &Claimed<'_>,
    now: Timestamp,
    failures: &mut Vec<Failure>,
    outcome: &mut TlogOutcome<'a>,
) -> Option<LogEntryEvidence> {
    // 1. The log.
    let Some(log) = root.tlog(&entry.log_id) else {
        failures.push(Failure::UnknownLog {
            entry: index,
            log_id: STANDARD.encode(&entry.log_id),
        });
        return None;
    };

    // 2. Kind and required proofs.
    let rekor_v2 =
        matches!(entry.kind.as_str(), "hashedrekord" | "dsse") && entry.version == "0.0.2";
    required_proofs(index, entry, version, rekor_v2, failures);

    // 3. Body.
    match entry_body::check(&entry.kind, &entry.version, &entry.body, claimed) {
        Ok(()) => {}
        Err(BodyProblem::Unsupported) => {
            failures.push(Failure::UnsupportedEntry {
                entry: index,
                kind: entry.kind.clone(),
                version: entry.version.clone(),
            });
            return None;
        }
        Err(BodyProblem::Malformed(reason) | BodyProblem::Mismatch(reason)) => {
            failures.push(Failure::BodyMismatch {
                entry: index,
                reason,
            });
        }
    }

    // 4. Inclusion promise.
    let mut signed_time = None;
    if let Some(promise) = &entry.inclusion_promise {
        match verify_promise(entry, promise, log) {
            Ok(time) => signed_time = Some(time),
            Err(reason) => failures.push(Failure::SetInvalid {
                entry: index,
                reason,
            }),
        }
    }

    // 5. Inclusion proof and checkpoint.
    let checkpoint_origin = verify_proof(index, entry, log, failures, outcome);

    // 6. Integrated time.
    if let Some(seconds) = entry.integrated_time {
        let time = Timestamp::from_unix(seconds);
        if time > now {
            failures.push(Failure::IntegratedTimeInFuture {
                entry: index,
                time,
                now,
            });
        }
    }
    if let Some(time) = signed_time {
        if log.valid_for.contains(time) {
            outcome.signed_times.push(TimeEvidence {
                source: format!("tlog entry {index} ({})", log.base_url),
                time,
            });
        } else {
            failures.push(Failure::LogKeyNotValid {
                entry: index,
                time,
                range: log.valid_for,
            });
        }
    } else if entry.integrated_time.is_none() {
        outcome.untimed.push((index, log));
    } else {
        outcome.notes.push(format!(
            "tlog entry {index}: its integrated time is not signed (no inclusion promise), so it is not used as a signing time"
        ));
    }

    Some(LogEntryEvidence {
        log: log.base_url.clone(),
        log_index: entry.log_index,
        kind: entry.kind.clone(),
        version: entry.version.clone(),
        integrated_time: signed_time,
        inclusion_promise: signed_time.is_some(),
        inclusion_proof: entry.inclusion_proof.is_some(),
        checkpoint: checkpoint_origin,
    })
}

/// Adds a failure for each proof the bundle version or log version requires but the entry
/// lacks.
fn required_proofs(
    index: usize,
    entry: &TlogEntry,
    version: BundleVersion,
    rekor_v2: bool,
    failures: &mut Vec<Failure>,
) {
    let missing = |what: &str| Failure::MissingProof {
        entry: index,
        what: what.to_owned(),
    };
    let proof = entry.inclusion_proof.as_ref();
    if rekor_v2 || version >= BundleVersion::V0_2 {
        match proof {
            None => failures.push(missing(if rekor_v2 {
                "a Rekor v2 entry needs an inclusion proof; offline verification cannot fetch one"
            } else {
                "a v0.2 or later bundle needs an inclusion proof"
            })),
            Some(proof) if proof.checkpoint.is_none() => {
                failures.push(missing(
                    "the inclusion proof has no checkpoint to sign its root hash",
                ));
            }
            Some(_) => {}
        }
    } else if entry.inclusion_promise.is_none() {
        failures.push(missing(
            "a v0.1 bundle needs an inclusion promise (signed entry timestamp)",
        ));
    }
}

/// Verifies a signed entry timestamp and returns the integrated time it signs.
fn verify_promise(
    entry: &TlogEntry,
    promise: &[u8],
    log: &LogInstance,
) -> Result<Timestamp, String> {
    let seconds = entry
        .integrated_time
        .ok_or("the entry has an inclusion promise but no integrated time")?;
    let payload = json!({
        "body": STANDARD.encode(&entry.body),
        "integratedTime": seconds,
        "logID": hex::encode(&entry.log_id),
        "logIndex": entry.log_index,
    });
    let key = log
        .key()
        .map_err(|error| format!("the log key of `{}` is unusable: {error}", log.base_url))?;
    key.verify(&to_canonical_json(&payload), promise, log.hash(&key))?;
    Ok(Timestamp::from_unix(seconds))
}

/// Verifies the inclusion proof and its checkpoint, returning the checkpoint origin when both
/// verified.
fn verify_proof(
    index: usize,
    entry: &TlogEntry,
    log: &LogInstance,
    failures: &mut Vec<Failure>,
    outcome: &mut TlogOutcome<'_>,
) -> Option<String> {
    let proof = entry.inclusion_proof.as_ref()?;
    let leaf = merkle::leaf_hash(&entry.body);
    let computed = merkle::root_from_proof(proof.log_index, proof.tree_size, leaf, &proof.hashes);
    let proof_ok = match computed {
        Ok(root) if root.as_slice() == proof.root_hash => true,
        Ok(root) => {
            failures.push(Failure::InclusionProofInvalid {
                entry: index,
                reason: format!(
                    "it leads to the root {}, not to the stated root {}",
                    hex::encode(root),
                    hex::encode(&proof.root_hash)
                ),
            });
            false
        }
        Err(reason) => {
            failures.push(Failure::InclusionProofInvalid {
                entry: index,
                reason,
            });
            false
        }
    };

    // Only a v0.1 entry gets here without a checkpoint (`required_proofs`), and it has an
    // inclusion promise that vouches for the inclusion instead.
    let Some(envelope) = &proof.checkpoint else {
        outcome.notes.push(format!(
            "tlog entry {index}: the inclusion proof has no checkpoint, so its root hash is not signed; the inclusion promise vouches for the entry instead"
        ));
        return None;
    };
    let verified = match checkpoint::verify(envelope, log) {
        Ok(verified) => verified,
        Err(reason) => {
            failures.push(Failure::CheckpointInvalid {
                entry: index,
                reason,
            });
            return None;
        }
    };
    let checkpoint = &verified.checkpoint;
    if checkpoint.tree_size != proof.tree_size || checkpoint.root_hash != proof.root_hash {
        failures.push(Failure::CheckpointInvalid {
            entry: index,
            reason: format!(
                "it signs the tree of size {} with root {}, the proof states size {} with root {}",
                checkpoint.tree_size,
                hex::encode(&checkpoint.root_hash),
                proof.tree_size,
                hex::encode(&proof.root_hash)
            ),
        });
        return None;
    }
    if verified.other_signatures > 0 {
        outcome.notes.push(format!(
            "tlog entry {index}: {} checkpoint signature(s) by other parties (witnesses) were ignored; their keys are not in the trusted root",
            verified.other_signatures
        ));
    }
    proof_ok.then(|| checkpoint.origin.clone())
}
