//! What a successful verification established, in the form the command line prints as JSON.

use serde::Serialize;

use super::error::Check;
use super::time::Timestamp;

/// The result of verifying a bundle: what was signed, by whom, and what vouches for when.
#[derive(Debug, Clone, Serialize)]
pub struct BundleVerification {
    /// The bundle's media type.
    pub media_type: String,
    /// `message-signature` or `dsse-envelope`.
    pub content: &'static str,
    /// The artifact's SHA-256, lowercase hex.
    pub artifact_sha256: String,
    /// Who signed.
    pub signer: SignerEvidence,
    /// The in-toto statement of a DSSE bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementEvidence>,
    /// The verified transparency log entries.
    pub tlog_entries: Vec<LogEntryEvidence>,
    /// The verified RFC 3161 timestamps.
    pub timestamps: Vec<TimestampEvidence>,
    /// The verified times the signing certificate was checked at.
    pub signing_times: Vec<TimeEvidence>,
    /// The checks that ran and passed, in order.
    pub checks: Vec<Check>,
    /// Checks that apply to the bundle but could not be made, and why. A caller that needs
    /// every check must treat a non-empty list as not verified.
    pub not_checked: Vec<String>,
    /// Data in the bundle that no check uses, by design, such as witness cosignatures on a
    /// checkpoint when the trusted root lists no witnesses.
    pub notes: Vec<String>,
}

/// The signer a verification established.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignerEvidence {
    /// A Fulcio certificate.
    Certificate {
        /// The identities in its subject alternative name.
        identities: Vec<String>,
        /// Its OIDC issuer.
        oidc_issuer: String,
        /// The trusted-root authority it chains to.
        certificate_authority: String,
        /// `sha256:<hex>` of the DER certificate.
        fingerprint: String,
        /// Start of its validity.
        not_before: Timestamp,
        /// End of its validity.
        not_after: Timestamp,
        /// The CT logs whose SCTs verified, with their times.
        scts: Vec<TimeEvidence>,
    },
    /// A key the verifier supplied.
    PublicKey {
        /// The key type, such as `ECDSA P-256`.
        algorithm: &'static str,
        /// `sha256:<hex>` of the key's DER encoding.
        fingerprint: String,
        /// The bundle's name for the key, when it has one. The bundle does not sign it, so it
        /// proves nothing.
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
}

/// The statement of a verified DSSE bundle.
#[derive(Debug, Clone, Serialize)]
pub struct StatementEvidence {
    /// The predicate type URI.
    pub predicate_type: String,
    /// The name of the subject whose digest is the artifact's.
    pub subject: String,
}

/// A verified log entry.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntryEvidence {
    /// The log's base URL.
    pub log: String,
    /// The entry's index in the log.
    pub log_index: u64,
    /// The entry kind, such as `hashedrekord`.
    pub kind: String,
    /// The entry kind's version, such as `0.0.1`.
    pub version: String,
    /// The integrated time, when an inclusion promise signed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<Timestamp>,
    /// Whether an inclusion promise (signed entry timestamp) verified.
    pub inclusion_promise: bool,
    /// Whether an inclusion proof verified.
    pub inclusion_proof: bool,
    /// The checkpoint origin, when a signed checkpoint verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// A verified RFC 3161 timestamp.
#[derive(Debug, Clone, Serialize)]
pub struct TimestampEvidence {
    /// The timestamp authority of the trusted root.
    pub authority: String,
    /// The time it states.
    pub time: Timestamp,
}

/// A verified time and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct TimeEvidence {
    /// The source, such as `tlog entry 0` or a CT log URL.
    pub source: String,
    /// The time.
    pub time: Timestamp,
}
