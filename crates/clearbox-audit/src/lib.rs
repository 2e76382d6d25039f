//! A tamper-evident audit trail: hash-chained records in a SQLite or PostgreSQL store, with
//! signed heads.
//!
//! A record states who did what to which image and with what outcome. It holds the time, the
//! actor (a user, or the uid of an admission request), the workload, the image reference and
//! digest, the decision and its reasons, and the digest of the policy in force. Its `hash` is the SHA-256 of
//! its JSON encoding without the `hash` field, and its `prev` is the hash of the record before
//! it (64 zeros for the first). Changing, removing or reordering a record therefore breaks the
//! chain at that record, and [`Store::verify`] names the first record that does not fit.
//!
//! The chain alone does not stop someone who rewrites every record from the changed one on. A
//! seal record does: it contains a signature, by a key the writer keeps, over the sequence number
//! and hash of the record before it. A verifier with the public key knows that every record up
//! to the last valid seal is as the key holder saw it; records after it are reported as not yet
//! sealed.
//!
//! The store (the `store` module) keeps each record's JSON text as written, in a table ordered
//! by `seq`. A segment ([`Store::export`]) is a run of records in JSON Lines after a header
//! naming the hash they follow; [`verify_segment`] checks it without the store.

mod store;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{SecondsFormat, Utc};
use clearbox_attest::{PublicKey, Signature};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use store::Store;

/// The `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The record kind of a seal.
pub const SEAL: &str = "seal";

/// Maximum length of a segment line read, in bytes. Records are a few hundred bytes; the limit
/// bounds the memory a damaged or hostile file can take.
const MAX_LINE_BYTES: usize = 1024 * 1024;

/// An event as the caller describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The kind of event: `sign`, `attest`, `evidence`, `admission`.
    pub kind: String,
    /// The acting party: a user name, or an admission request's uid.
    pub actor: String,
    /// The workload, as `NAMESPACE/KIND/NAME`, for admission decisions.
    pub workload: Option<String>,
    /// The image reference as given.
    pub image: Option<String>,
    /// The image's manifest digest.
    pub digest: Option<String>,
    /// The outcome, such as `signed`, `allowed`, `denied`, `failed`.
    pub decision: String,
    /// The reasons for the decision, one per entry.
    pub reasons: Vec<String>,
    /// The SHA-256 of the policy file in force, when there is one.
    pub policy_digest: Option<String>,
    /// For an admitted signed object: the policy key its signature verified with.
    pub signer: Option<String>,
    /// For an admitted signed object: the claims its signature carries, such as `approver`.
    pub claims: BTreeMap<String, String>,
}

/// One record of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// RFC 3339 UTC time of the append.
    pub time: String,
    /// See [`Event::kind`]; [`SEAL`] for a seal.
    pub kind: String,
    /// See [`Event::actor`].
    pub actor: String,
    /// See [`Event::workload`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// See [`Event::image`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// See [`Event::digest`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// See [`Event::decision`].
    pub decision: String,
    /// See [`Event::reasons`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// See [`Event::policy_digest`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
    /// See [`Event::signer`]. Left out when empty, so records written before it existed keep
    /// their JSON, and with it their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// See [`Event::claims`]; left out when empty, like `signer`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
    /// For a seal: the fingerprint of the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For a seal: the base64 DER ECDSA signature over [`seal_message`] of the record before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The hash of the record before, or [`GENESIS`].
    pub prev: String,
    /// The SHA-256 of this record's JSON without this field, in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

impl Record {
    /// Computes the record's hash: SHA-256 over its JSON encoding without `hash`.
    ///
    /// # Panics
    ///
    /// Never in practice: a record is plain data that always encodes as JSON.
    #[must_use]
    pub fn compute_hash(&self) -> String {
        let mut body = self.clone();
        body.hash = None;
        let bytes = serde_json::to_vec(&body).expect("a record encodes as JSON");
        hex::encode(Sha256::digest(bytes))
    }
}

/// The first line of an exported segment: the record the segment follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentHeader {
    /// The store it was exported from.
    pub store: String,
    /// The requested time range, RFC 3339.
    pub from: String,
    /// See `from`.
    pub to: String,
    /// The `seq` of the record before the segment (0 when the segment starts the chain).
    pub after_seq: u64,
    /// The hash of that record, or [`GENESIS`].
    pub after_hash: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SegmentLine {
    pub(crate) segment: SegmentHeader,
}

/// An audit store or segment that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing a file failed.
    #[error("`{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database behind the store failed.
    #[error("audit store `{location}`: {message}")]
    Database {
        /// The store.
        location: String,
        /// The database's error.
        message: String,
    },
    /// The last record, which a new one must follow, is damaged.
    #[error(
        "audit store `{location}`: its last record cannot be extended ({reason}); run `clearbox \
         audit verify` to find the damage"
    )]
    DamagedTail {
        /// The store.
        location: String,
        /// The fault found in it.
        reason: String,
    },
    /// Signing a seal failed.
    #[error("failed to sign the seal: {0}")]
    Sign(#[from] clearbox_attest::KeyError),
    /// Invalid arguments or a store of another kind.
    #[error("{0}")]
    Invalid(String),
}

/// Returns the message a seal signs: `clearbox-audit-seal:v1:<seq>:<hash>` of the record
/// before it.
#[must_use]
pub fn seal_message(seq: u64, hash: &str) -> Vec<u8> {
    format!("clearbox-audit-seal:v1:{seq}:{hash}").into_bytes()
}

/// An image's SBOM kept in the store, for rescans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSbom {
    /// The image's manifest digest.
    pub digest: String,
    /// The reference it was last stored under.
    pub reference: String,
    /// RFC 3339 time it was last stored.
    pub stored_at: String,
    /// The CycloneDX JSON document.
    pub sbom: String,
}

/// A finding a rescan has reported, by image digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownFinding {
    /// The image's manifest digest.
    pub digest: String,
    /// The advisory id.
    pub advisory: String,
    /// The package URL.
    pub package: String,
    /// The advisory's other ids.
    pub aliases: Vec<String>,
    /// RFC 3339 time of the rescan that first reported it.
    pub first_seen: String,
}

/// Returns the shard of `digest` among `count`: its last 8 hex digits modulo `count`.
fn shard_of(digest: &str, count: u64) -> u64 {
    let tail = &digest[digest.len().saturating_sub(8)..];
    u64::from_str_radix(tail, 16).unwrap_or(0) % count.max(1)
}

pub(crate) fn record_of(event: &Event, seq: u64, prev: &str) -> Record {
    Record {
        seq,
        time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        workload: event.workload.clone(),
        image: event.image.clone(),
        digest: event.digest.clone(),
        decision: event.decision.clone(),
        reasons: event.reasons.clone(),
        policy_digest: event.policy_digest.clone(),
        signer: event.signer.clone(),
        claims: event.claims.clone(),
        key: None,
        signature: None,
        prev: prev.to_owned(),
        hash: None,
    }
}

/// Checks an exported segment (JSON Lines) without the store it came from.
pub fn verify_segment(path: &Path, key: Option<&PublicKey>) -> Result<Verification, AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_owned(),
        source,
    };
    let file = open_regular_file(path).map_err(io)?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut line_number = 0u64;
    let mut chain: Option<Chain<'_>> = None;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let Some(chain) = chain.as_mut() else {
            let header: SegmentLine = serde_json::from_slice(text).map_err(|e| {
                AuditError::Invalid(format!(
                    "`{}` line 1 is not a segment header ({e}); segments come from `clearbox \
                     audit export`",
                    path.display()
                ))
            })?;
            chain = Some(Chain::new(
                key,
                true,
                header.segment.after_seq + 1,
                header.segment.after_hash,
            ));
            continue;
        };
        if line.len() > MAX_LINE_BYTES {
            chain.fail(
                &format!("line {line_number}"),
                None,
                format!("longer than {MAX_LINE_BYTES} bytes"),
            );
            break;
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !chain.push(&format!("line {line_number}"), None, text) {
            break;
        }
    }
    let chain = chain.ok_or_else(|| {
        AuditError::Invalid(format!(
            "`{}` is empty; segments come from `clearbox audit export`",
            path.display()
        ))
    })?;
    Ok(chain.finish(path.display().to_string()))
}

/// Opens a regular file for reading, refusing FIFOs and devices without blocking on them.
fn open_regular_file(path: &Path) -> std::io::Result<std::fs::File> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    std::fs::File::open(path)
}

/// The first record that does not fit the chain, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The position: `row N` of a store, `line N` of a segment.
    pub position: String,
    /// The record's `seq`, when it parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The fault found.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "{} (record {seq}): {}", self.position, self.reason),
            None => write!(f, "{}: {}", self.position, self.reason),
        }
    }
}

/// The result of checking a store or segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The store or file checked.
    pub location: String,
    /// Whether it is an exported segment.
    pub segment: bool,
    /// Records read before the first problem, seals included.
    pub records: u64,
    /// Seals whose signature verified with the given key.
    pub seals_verified: u64,
    /// Seals not checked, because no key was given.
    pub seals_unchecked: u64,
    /// Seals that name another key than the one given; they are not checked and seal nothing
    /// for its holder.
    #[serde(skip_serializing_if = "is_zero")]
    pub seals_other_key: u64,
    /// The `seq` of the last seal that verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed_through: Option<u64>,
    /// Records after the last verified seal (all records when there is none).
    pub unsealed: u64,
    /// The first record that breaks the chain; `None` when the chain is intact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

// serde's `skip_serializing_if` passes the field by reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Verification {
    /// Returns whether the chain is intact. With a key, seals that fail to verify break it too.
    #[must_use]
    pub fn intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// The state of a chain check.
pub(crate) struct Chain<'a> {
    key: Option<&'a PublicKey>,
    expected_seq: u64,
    prev: String,
    result: Verification,
}

impl<'a> Chain<'a> {
    pub(crate) fn new(
        key: Option<&'a PublicKey>,
        segment: bool,
        expected_seq: u64,
        prev: String,
    ) -> Self {
        Chain {
            key,
            expected_seq,
            prev,
            result: Verification {
                location: String::new(),
                segment,
                records: 0,
                seals_verified: 0,
                seals_unchecked: 0,
                seals_other_key: 0,
                sealed_through: None,
                unsealed: 0,
                problem: None,
            },
        }
    }

    fn fail(&mut self, position: &str, seq: Option<u64>, reason: String) {
        self.result.problem = Some(Problem {
            position: position.to_owned(),
            seq,
            reason,
        });
    }

    /// Checks the next record; `row` is the store's `seq` column. Returns false at a problem.
    pub(crate) fn push(&mut self, position: &str, row: Option<u64>, text: &[u8]) -> bool {
        let record: Record = match serde_json::from_slice(text) {
            Ok(record) => record,
            Err(e) => {
                self.fail(position, None, format!("not an audit record: {e}"));
                return false;
            }
        };
        let seq = Some(record.seq);
        if chrono::DateTime::parse_from_rfc3339(&record.time).is_err() {
            self.fail(
                position,
                seq,
                format!("its time `{}` is not an RFC 3339 time", record.time),
            );
            return false;
        }
        if record.kind.trim().is_empty() || record.actor.trim().is_empty() {
            self.fail(position, seq, "its kind or actor is empty".to_owned());
            return false;
        }
        if record.hash.as_deref() != Some(record.compute_hash().as_str()) {
            self.fail(
                position,
                seq,
                "modified: its content does not match its hash".to_owned(),
            );
            return false;
        }
        if record.prev != self.prev
            || record.seq != self.expected_seq
            || row.is_some_and(|r| r != record.seq)
        {
            let reason = if record.seq > self.expected_seq {
                format!(
                    "record {} is missing here: records were removed or reordered",
                    self.expected_seq
                )
            } else {
                format!(
                    "does not follow the record before it (expected record {}): records were \
                     removed, reordered or inserted",
                    self.expected_seq
                )
            };
            self.fail(position, seq, reason);
            return false;
        }
        let result = &mut self.result;
        let mut sealing = record.kind == SEAL && self.key.is_some();
        if record.kind == SEAL {
            match self.key {
                None => result.seals_unchecked += 1,
                // Several keys may seal one store, such as one per webhook replica. A seal by
                // another key proves nothing for this one. Changing a seal's `key` changes its
                // hash, so only a seal after the last one by this key can be changed that way,
                // and removing that one is possible anyway.
                Some(key) if record.key.as_deref() != Some(key.fingerprint().as_str()) => {
                    result.seals_other_key += 1;
                    sealing = false;
                }
                Some(key) => match check_seal(&record, key) {
                    Ok(()) => {
                        result.seals_verified += 1;
                        result.sealed_through = Some(record.seq);
                        result.unsealed = 0;
                    }
                    Err(reason) => {
                        self.fail(position, seq, reason);
                        return false;
                    }
                },
            }
        }
        let result = &mut self.result;
        result.records += 1;
        if !sealing {
            result.unsealed += 1;
        }
        self.prev = record.hash.unwrap_or_default();
        self.expected_seq = record.seq + 1;
        true
    }

    pub(crate) fn finish(mut self, location: String) -> Verification {
        self.result.location = location;
        self.result
    }
}

fn check_seal(record: &Record, key: &PublicKey) -> Result<(), String> {
    let signature = record
        .signature
        .as_deref()
        .ok_or("a seal without a signature")?;
    let der = STANDARD
        .decode(signature)
        .map_err(|e| format!("the seal's signature is not base64: {e}"))?;
    let signature = Signature::from_der(&der)
        .map_err(|e| format!("the seal's signature is not an ECDSA signature: {e}"))?;
    key.verify_signature(&seal_message(record.seq - 1, &record.prev), &signature)
        .map_err(|_| {
            format!(
                "the seal's signature does not verify with key {} (the seal names key {})",
                key.fingerprint(),
                record.key.as_deref().unwrap_or("none")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clearbox_attest::SigningKey;
    use std::path::PathBuf;

    fn event(decision: &str) -> Event {
        Event {
            kind: "sign".to_owned(),
            actor: "alice".to_owned(),
            image: Some("registry.example/app:1".to_owned()),
            digest: Some(format!("sha256:{}", "ab".repeat(32))),
            decision: decision.to_owned(),
            ..Event::default()
        }
    }

    fn store_with(dir: &Path, count: usize) -> (PathBuf, Store) {
        let path = dir.join("state/audit.db");
        let mut store = Store::open(&format!("sqlite://{}", path.display())).unwrap();
        for index in 0..count {
            store.append(&event(&format!("signed-{index}"))).unwrap();
        }
        (path, store)
    }

    fn problem(store: &mut Store) -> String {
        store.verify(None).unwrap().problem.unwrap().to_string()
    }

    fn texts(store: &mut Store) -> Vec<String> {
        store
            .record_rows()
            .unwrap()
            .into_iter()
            .map(|(_, text)| text)
            .collect()
    }

    fn set(store: &mut Store, seq: u64, text: &str) {
        store
            .execute_raw(&format!(
                "UPDATE audit_record SET record = '{}' WHERE seq = {seq}",
                text.replace('\'', "''")
            ))
            .unwrap();
    }

    #[test]
    fn store_records_chain_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut store) = store_with(dir.path(), 3);
        let records: Vec<Record> = texts(&mut store)
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect();
        assert_eq!(records[0].prev, GENESIS);
        assert_eq!(records[1].prev, records[0].hash.clone().unwrap());
        assert_eq!(records[2].seq, 3);
        let result = store.verify(None).unwrap();
        assert!(result.intact(), "{result:?}");
        assert_eq!((result.records, result.unsealed), (3, 3));
    }

    #[test]
    fn record_without_claims_keeps_old_form() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut store) = store_with(dir.path(), 1);
        let text = texts(&mut store).remove(0);
        assert!(!text.contains("\"signer\""), "{text}");
        assert!(!text.contains("\"claims\""), "{text}");
        // The hash covers the JSON as records were written before `signer` and `claims`.
        let record: Record = serde_json::from_str(&text).unwrap();
        let hash = record.hash.clone().unwrap();
        let body = text.replace(&format!(",\"hash\":\"{hash}\""), "");
        assert_eq!(hex::encode(Sha256::digest(body.as_bytes())), hash);
    }

    #[test]
    fn record_claims_covered_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut store) = store_with(dir.path(), 0);
        store
            .append(&Event {
                kind: "admission".to_owned(),
                signer: Some("keys/manifests.pub".to_owned()),
                claims: BTreeMap::from([("approver".to_owned(), "alice".to_owned())]),
                ..event("allowed")
            })
            .unwrap();
        let text = texts(&mut store).remove(0);
        let record: Record = serde_json::from_str(&text).unwrap();
        assert_eq!(record.claims["approver"], "alice");
        assert_eq!(record.signer.as_deref(), Some("keys/manifests.pub"));
        assert!(store.verify(None).unwrap().intact());
        set(&mut store, 1, &text.replace("alice", "mallory"));
        assert_eq!(
            problem(&mut store),
            "row 1 (record 1): modified: its content does not match its hash"
        );
    }

    #[test]
    fn store_tampering_names_the_first_bad_record() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut store) = store_with(dir.path(), 4);
        let original = texts(&mut store);

        set(&mut store, 2, &original[1].replace("signed-1", "denied"));
        assert_eq!(
            problem(&mut store),
            "row 2 (record 2): modified: its content does not match its hash"
        );
        set(&mut store, 2, &original[1]);

        // Two records swapped between rows.
        set(&mut store, 2, &original[2]);
        set(&mut store, 3, &original[1]);
        assert!(
            problem(&mut store).starts_with("row 2 (record 3): "),
            "{}",
            problem(&mut store)
        );
        set(&mut store, 2, &original[1]);
        set(&mut store, 3, &original[2]);
        assert!(store.verify(None).unwrap().intact());

        store
            .execute_raw("DELETE FROM audit_record WHERE seq = 2")
            .unwrap();
        assert_eq!(
            problem(&mut store),
            "row 3 (record 3): record 2 is missing here: records were removed or reordered"
        );

        set(&mut store, 4, "{\"seq\": 4");
        let error = store.append(&event("x")).unwrap_err().to_string();
        assert!(
            error.contains("its last record cannot be extended"),
            "{error}"
        );
    }

    #[test]
    fn store_seals_cover_the_records_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut store) = store_with(dir.path(), 2);
        let key = SigningKey::generate();
        assert_eq!(store.seal(&key, "clearbox").unwrap().seq, 3);
        store.append(&event("after")).unwrap();

        let result = store.verify(Some(&key.public_key())).unwrap();
        assert!(result.intact(), "{result:?}");
        assert_eq!(result.seals_verified, 1);
        assert_eq!(result.sealed_through, Some(3));
        assert_eq!(result.unsealed, 1);

        // For another key, the seal is someone else's: not checked, and nothing is sealed.
        let other = SigningKey::generate().public_key();
        let result = store.verify(Some(&other)).unwrap();
        assert!(result.intact(), "{result:?}");
        assert_eq!(result.seals_other_key, 1);
        assert_eq!(result.sealed_through, None);
        assert_eq!(result.unsealed, 4);

        // Rewriting a sealed record and every hash after it still breaks at the seal.
        let mut prev = GENESIS.to_owned();
        for (index, text) in texts(&mut store).iter().enumerate() {
            let mut record: Record = serde_json::from_str(text).unwrap();
            if index == 0 {
                record.decision = "denied".to_owned();
            }
            record.prev = prev.clone();
            record.hash = Some(record.compute_hash());
            prev = record.hash.clone().unwrap();
            set(
                &mut store,
                record.seq,
                &serde_json::to_string(&record).unwrap(),
            );
        }
        assert!(
            store.verify(None).unwrap().intact(),
            "the chain alone holds"
        );
        let result = store.verify(Some(&key.public_key())).unwrap();
        assert_eq!(result.problem.unwrap().seq, Some(3));

        // A seal by another key relabelled with this key's fingerprint fails at that seal.
        let (_, mut relabelled) = store_with(&dir.path().join("relabelled"), 2);
        relabelled.seal(&SigningKey::generate(), "x").unwrap();
        let texts = texts(&mut relabelled);
        let mut seal: Record = serde_json::from_str(&texts[2]).unwrap();
        seal.key = Some(key.public_key().fingerprint());
        seal.hash = Some(seal.compute_hash());
        set(&mut relabelled, 3, &serde_json::to_string(&seal).unwrap());
        let problem = relabelled
            .verify(Some(&key.public_key()))
            .unwrap()
            .problem
            .unwrap();
        assert_eq!(problem.seq, Some(3));
        assert!(problem.reason.contains("does not verify"), "{problem}");

        let (_, mut empty) = store_with(&dir.path().join("empty"), 0);
        assert!(empty.seal(&key, "x").is_err());
    }

    #[test]
    fn segments_verify_from_their_anchor() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut store) = store_with(dir.path(), 2);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Record times have milliseconds, so the range starts a millisecond early.
        let from = Utc::now() - chrono::TimeDelta::milliseconds(1);
        store.append(&event("in-range")).unwrap();
        let to = Utc::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        store.append(&event("later")).unwrap();
        let key = SigningKey::generate();
        store.seal(&key, "clearbox").unwrap();

        let mut bytes = Vec::new();
        let written = store.export(from, to, &mut bytes).unwrap();
        assert_eq!(written, 3, "the record in range, then up to the seal");
        let segment = dir.path().join("segment.jsonl");
        std::fs::write(&segment, &bytes).unwrap();
        let result = verify_segment(&segment, Some(&key.public_key())).unwrap();
        assert!(result.intact(), "{result:?}");
        assert!(result.segment);
        assert_eq!(result.sealed_through, Some(5));

        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("in-range", "edited");
        std::fs::write(&segment, text).unwrap();
        let problem = verify_segment(&segment, None).unwrap().problem.unwrap();
        assert_eq!(
            problem.to_string(),
            "line 2 (record 3): modified: its content does not match its hash"
        );
    }

    #[test]
    fn store_concurrent_writers_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut store = Store::open(&url).unwrap();
                    for _ in 0..10 {
                        store.append(&event("signed")).unwrap();
                    }
                });
            }
        });
        let result = Store::open(&url).unwrap().verify(None).unwrap();
        assert!(result.intact(), "{result:?}");
        assert_eq!(result.records, 40);
    }

    #[test]
    fn store_urls() {
        let dir = tempfile::tempdir().unwrap();
        // Port 1 on loopback: nothing listens there. The password is not shown.
        let error = Store::open("postgres://audit:secret@127.0.0.1:1/audit")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("audit store `postgres://audit:***@127.0.0.1:1/audit`: "),
            "{error}"
        );
        assert!(!error.contains("secret"), "{error}");
        let error = Store::open("postgres://audit@127.0.0.1:1/audit")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("audit store `postgres://audit@127.0.0.1:1/audit`: "),
            "{error}"
        );
        let error = Store::open("mysql://x").unwrap_err().to_string();
        assert!(error.contains("unknown scheme `mysql`"), "{error}");
        let foreign = dir.path().join("other.db");
        rusqlite::Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let error = Store::open(foreign.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(error.contains("another program"), "{error}");
        let text = dir.path().join("text.db");
        std::fs::write(&text, "not a database, but long enough to have a header").unwrap();
        let error = Store::open(text.to_str().unwrap()).unwrap_err().to_string();
        assert!(error.contains("is not a SQLite database"), "{error}");
    }
}
