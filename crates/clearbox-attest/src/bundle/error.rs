//! The checks of bundle verification and the typed reasons each can fail for.

use std::fmt;

use serde::Serialize;

use super::model::BundleFormatError;
use super::time::{TimeRange, Timestamp};

/// A check of bundle verification, named in reports in kebab case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Check {
    /// The bundle parses, has a known media type and a valid structure.
    BundleFormat,
    /// The verification material fits the policy: a key for key bundles, an identity for
    /// certificate bundles.
    VerificationMaterial,
    /// The signing certificate is a leaf for code signing without unknown critical extensions.
    SigningCertificate,
    /// The signing certificate chains to a certificate authority of the trusted root.
    CertificateChain,
    /// An SCT embedded in the certificate verifies with a CT log of the trusted root.
    CertificateTransparency,
    /// The certificate's subject alternative name is the expected identity.
    Identity,
    /// The certificate's OIDC issuer extension is the expected issuer.
    OidcIssuer,
    /// The bundle's message digest is the artifact's digest.
    ArtifactDigest,
    /// The signature verifies over the artifact or the DSSE envelope.
    Signature,
    /// The DSSE envelope contains an in-toto statement with the artifact as a subject.
    DsseSubject,
    /// Each log entry comes from a log of the trusted root, has a supported kind and carries
    /// the proofs its bundle version requires.
    TlogEntry,
    /// Each log entry's body records this bundle's content, signature and signer.
    TlogBody,
    /// Each inclusion promise (signed entry timestamp) verifies with the log key.
    SignedEntryTimestamp,
    /// Each inclusion proof leads from the entry to the stated root hash.
    InclusionProof,
    /// Each checkpoint is signed by the log and states the proof's tree size and root.
    Checkpoint,
    /// Each integrated time is not in the future and inside the log key's trusted interval.
    IntegratedTime,
    /// Each RFC 3161 timestamp verifies with a timestamp authority of the trusted root.
    SignedTimestamp,
    /// At least one verified time exists, and the certificate was valid at each of them.
    SigningTime,
}

impl Check {
    /// The kebab-case name used in reports, such as `tlog-body`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Check::BundleFormat => "bundle-format",
            Check::VerificationMaterial => "verification-material",
            Check::SigningCertificate => "signing-certificate",
            Check::CertificateChain => "certificate-chain",
            Check::CertificateTransparency => "certificate-transparency",
            Check::Identity => "identity",
            Check::OidcIssuer => "oidc-issuer",
            Check::ArtifactDigest => "artifact-digest",
            Check::Signature => "signature",
            Check::DsseSubject => "dsse-subject",
            Check::TlogEntry => "tlog-entry",
            Check::TlogBody => "tlog-body",
            Check::SignedEntryTimestamp => "signed-entry-timestamp",
            Check::InclusionProof => "inclusion-proof",
            Check::Checkpoint => "checkpoint",
            Check::IntegratedTime => "integrated-time",
            Check::SignedTimestamp => "signed-timestamp",
            Check::SigningTime => "signing-time",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The reason a check failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The bundle is malformed.
    #[error(transparent)]
    Format(#[from] BundleFormatError),
    /// A key bundle was verified with an identity policy.
    #[error(
        "the bundle is signed with a public key{}, but no key was given to verify it with",
        hint.as_deref().map_or_else(String::new, |hint| format!(" (hint `{hint}`)"))
    )]
    KeyRequired {
        /// The bundle's name for the key, when it has one.
        hint: Option<String>,
    },
    /// A certificate bundle was verified with a key policy.
    #[error(
        "the bundle carries a signing certificate; verify it with a certificate identity and OIDC issuer, not a key"
    )]
    IdentityRequired,
    /// The signing certificate does not parse.
    #[error("the signing certificate is invalid: {0}")]
    InvalidCertificate(String),
    /// The signing certificate is not a code-signing leaf.
    #[error("the signing certificate {0}")]
    CertificateProfile(String),
    /// The bundle's chain includes a root certificate.
    #[error(
        "the bundle's certificate chain includes the self-signed certificate `{subject}`; roots come from the trusted root only"
    )]
    RootInBundleChain {
        /// The root's subject.
        subject: String,
    },
    /// The certificate does not chain to the trusted root.
    #[error("the signing certificate does not chain to the trusted root: {0}")]
    UntrustedCertificate(String),
    /// No embedded SCT verifies.
    #[error("no embedded SCT verifies: {0}")]
    Sct(String),
    /// The SAN is not the expected identity.
    #[error(
        "the certificate identity is {}, expected {expected}",
        describe_list(found)
    )]
    IdentityMismatch {
        /// The identity the policy requires, as `ValueMatcher` writes it: the value in backticks,
        /// or "a value matching" and the pattern.
        expected: String,
        /// The identities in the certificate.
        found: Vec<String>,
    },
    /// The OIDC issuer is not the expected one.
    #[error("the certificate's OIDC issuer is {}, expected {expected}", found.as_deref().map_or_else(|| "absent".to_owned(), |found| format!("`{found}`")))]
    IssuerMismatch {
        /// The issuer the policy requires, written as for `IdentityMismatch`.
        expected: String,
        /// The issuer in the certificate.
        found: Option<String>,
    },
    /// The bundle's message digest differs from the artifact's.
    #[error("the bundle's message digest {bundle} is not the artifact's {artifact}")]
    MessageDigestMismatch {
        /// The digest in the bundle, `algorithm:hex`.
        bundle: String,
        /// The artifact's digest, `algorithm:hex`.
        artifact: String,
    },
    /// The artifact's digest cannot be computed for a check.
    #[error("{0}")]
    ArtifactUnavailable(String),
    /// The signature does not verify.
    #[error("the signature over {what} does not verify: {reason}")]
    SignatureInvalid {
        /// The signed content.
        what: &'static str,
        /// The verifier's message.
        reason: String,
    },
    /// The DSSE payload is not an in-toto statement.
    #[error(
        "the DSSE payload type is `{found}`, not `application/vnd.in-toto+json`, so no subject names the artifact"
    )]
    NotInToto {
        /// The payload type found.
        found: String,
    },
    /// The in-toto statement does not parse.
    #[error("the in-toto statement is invalid: {0}")]
    InvalidStatement(String),
    /// No subject has the artifact's digest.
    #[error("no subject of the in-toto statement has the artifact's digest sha256:{digest}")]
    SubjectMismatch {
        /// The artifact's SHA-256, hex.
        digest: String,
    },
    /// The predicate type is not the required one.
    #[error("the statement's predicate type is `{found}`, expected `{expected}`")]
    PredicateTypeMismatch {
        /// The required type.
        expected: String,
        /// The type found.
        found: String,
    },
    /// The entry's log is not in the trusted root.
    #[error("tlog entry {entry}: the log with ID {log_id} is not in the trusted root")]
    UnknownLog {
        /// Position of the entry, from 0.
        entry: usize,
        /// The log ID, base64.
        log_id: String,
    },
    /// The entry kind is not supported.
    #[error("tlog entry {entry}: entries of kind {kind} {version} are not supported")]
    UnsupportedEntry {
        /// Position of the entry.
        entry: usize,
        /// The entry kind.
        kind: String,
        /// The entry version.
        version: String,
    },
    /// A proof the bundle version requires is missing.
    #[error("tlog entry {entry}: {what}")]
    MissingProof {
        /// Position of the entry.
        entry: usize,
        /// The missing item and the reason it is required.
        what: String,
    },
    /// The entry body does not record this bundle.
    #[error("tlog entry {entry}: {reason}")]
    BodyMismatch {
        /// Position of the entry.
        entry: usize,
        /// The difference.
        reason: String,
    },
    /// The signed entry timestamp does not verify.
    #[error("tlog entry {entry}: the signed entry timestamp does not verify: {reason}")]
    SetInvalid {
        /// Position of the entry.
        entry: usize,
        /// The verifier's message.
        reason: String,
    },
    /// The inclusion proof does not lead to the root hash.
    #[error("tlog entry {entry}: the inclusion proof is invalid: {reason}")]
    InclusionProofInvalid {
        /// Position of the entry.
        entry: usize,
        /// The problem found.
        reason: String,
    },
    /// The checkpoint does not verify or does not match the proof.
    #[error("tlog entry {entry}: the checkpoint is invalid: {reason}")]
    CheckpointInvalid {
        /// Position of the entry.
        entry: usize,
        /// The problem found.
        reason: String,
    },
    /// The integrated time is after the current time.
    #[error("tlog entry {entry}: the integrated time {time} is in the future (now {now})")]
    IntegratedTimeInFuture {
        /// Position of the entry.
        entry: usize,
        /// The integrated time.
        time: Timestamp,
        /// The current time.
        now: Timestamp,
    },
    /// The log key was not trusted at the time of the entry.
    #[error("tlog entry {entry}: {time} is outside the trusted period of the log key ({range})")]
    LogKeyNotValid {
        /// Position of the entry.
        entry: usize,
        /// The time checked.
        time: Timestamp,
        /// The key's trusted interval.
        range: TimeRange,
    },
    /// An RFC 3161 timestamp does not verify.
    #[error("timestamp {index}: {reason}")]
    TimestampInvalid {
        /// Position of the timestamp, from 0.
        index: usize,
        /// The problem found.
        reason: String,
    },
    /// No time source verified.
    #[error(
        "no verified time: the signature needs a signed entry timestamp (Rekor) or an RFC 3161 timestamp to show when the certificate was used"
    )]
    NoVerifiedTime,
    /// The certificate was not valid at a verified time.
    #[error("the signing certificate was not valid at {time} ({source_name}): {reason}")]
    OutsideCertificateValidity {
        /// The time source, such as `tlog entry 0`.
        source_name: String,
        /// The verified time.
        time: Timestamp,
        /// The validity interval that does not cover it.
        reason: String,
    },
}

impl Failure {
    /// The check this failure belongs to.
    #[must_use]
    pub fn check(&self) -> Check {
        match self {
            Failure::Format(_) => Check::BundleFormat,
            Failure::KeyRequired { .. } | Failure::IdentityRequired => Check::VerificationMaterial,
            Failure::InvalidCertificate(_) | Failure::CertificateProfile(_) => {
                Check::SigningCertificate
            }
            Failure::RootInBundleChain { .. } | Failure::UntrustedCertificate(_) => {
                Check::CertificateChain
            }
            Failure::Sct(_) => Check::CertificateTransparency,
            Failure::IdentityMismatch { .. } => Check::Identity,
            Failure::IssuerMismatch { .. } => Check::OidcIssuer,
            Failure::MessageDigestMismatch { .. } | Failure::ArtifactUnavailable(_) => {
                Check::ArtifactDigest
            }
            Failure::SignatureInvalid { .. } => Check::Signature,
            Failure::NotInToto { .. }
            | Failure::InvalidStatement(_)
            | Failure::SubjectMismatch { .. }
            | Failure::PredicateTypeMismatch { .. } => Check::DsseSubject,
            Failure::UnknownLog { .. }
            | Failure::UnsupportedEntry { .. }
            | Failure::MissingProof { .. } => Check::TlogEntry,
            Failure::BodyMismatch { .. } => Check::TlogBody,
            Failure::SetInvalid { .. } => Check::SignedEntryTimestamp,
            Failure::InclusionProofInvalid { .. } => Check::InclusionProof,
            Failure::CheckpointInvalid { .. } => Check::Checkpoint,
            Failure::IntegratedTimeInFuture { .. } | Failure::LogKeyNotValid { .. } => {
                Check::IntegratedTime
            }
            Failure::TimestampInvalid { .. } => Check::SignedTimestamp,
            Failure::NoVerifiedTime | Failure::OutsideCertificateValidity { .. } => {
                Check::SigningTime
            }
        }
    }
}

/// A bundle that failed verification, with every failed check.
#[derive(Debug)]
pub struct VerificationFailure {
    pub(crate) failures: Vec<Failure>,
    /// Every check that ran, failed or not, in order.
    pub(crate) checks: Vec<Check>,
    pub(crate) not_checked: Vec<String>,
}

impl VerificationFailure {
    /// A failure of `check` alone, before any other check ran.
    pub(crate) fn single(failure: Failure) -> Self {
        VerificationFailure {
            checks: vec![failure.check()],
            failures: vec![failure],
            not_checked: Vec::new(),
        }
    }

    /// The failures, in the order the checks ran. Never empty.
    #[must_use]
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The checks that ran and passed, in order.
    #[must_use]
    pub fn passed_checks(&self) -> Vec<Check> {
        let failed = self.failed_checks();
        self.checks
            .iter()
            .copied()
            .filter(|check| !failed.contains(check))
            .collect()
    }

    /// The checks that could not be made, and why.
    #[must_use]
    pub fn not_checked(&self) -> &[String] {
        &self.not_checked
    }

    /// The distinct checks that failed, in the order they ran.
    #[must_use]
    pub fn failed_checks(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = Vec::new();
        for failure in &self.failures {
            if !checks.contains(&failure.check()) {
                checks.push(failure.check());
            }
        }
        checks
    }
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bundle verification failed")?;
        for failure in &self.failures {
            write!(f, "; [{}] {failure}", failure.check())?;
        }
        Ok(())
    }
}

impl std::error::Error for VerificationFailure {}

fn describe_list(items: &[String]) -> String {
    if items.is_empty() {
        "absent".to_owned()
    } else {
        items
            .iter()
            .map(|item| format!("`{item}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every variant's message, so a wording change shows up in review.
    #[test]
    fn every_failure_message() {
        let time = Timestamp::from_unix(1_689_177_396);
        let cases: Vec<(Failure, &str)> = vec![
            (
                Failure::KeyRequired { hint: None },
                "the bundle is signed with a public key, but no key was given to verify it with",
            ),
            (
                Failure::KeyRequired {
                    hint: Some("abc".into()),
                },
                "the bundle is signed with a public key (hint `abc`), but no key was given to verify it with",
            ),
            (
                Failure::IdentityMismatch {
                    expected: "`a@example.com`".into(),
                    found: vec!["b@example.com".into()],
                },
                "the certificate identity is `b@example.com`, expected `a@example.com`",
            ),
            (
                Failure::IssuerMismatch {
                    expected: "`https://issuer`".into(),
                    found: None,
                },
                "the certificate's OIDC issuer is absent, expected `https://issuer`",
            ),
            (
                Failure::IntegratedTimeInFuture {
                    entry: 0,
                    time,
                    now: Timestamp::from_unix(0),
                },
                "tlog entry 0: the integrated time 2023-07-12T15:56:36Z is in the future (now 1970-01-01T00:00:00Z)",
            ),
            (
                Failure::LogKeyNotValid {
                    entry: 1,
                    time,
                    range: TimeRange {
                        start: Timestamp::from_unix(0),
                        end: None,
                    },
                },
                "tlog entry 1: 2023-07-12T15:56:36Z is outside the trusted period of the log key (1970-01-01T00:00:00Z onwards)",
            ),
            (
                Failure::NoVerifiedTime,
                "no verified time: the signature needs a signed entry timestamp (Rekor) or an RFC 3161 timestamp to show when the certificate was used",
            ),
        ];
        for (failure, message) in cases {
            assert_eq!(failure.to_string(), message);
        }
    }

    #[test]
    fn failed_checks_deduplicated_in_order() {
        let failure = VerificationFailure {
            failures: vec![
                Failure::NoVerifiedTime,
                Failure::KeyRequired { hint: None },
                Failure::NoVerifiedTime,
            ],
            checks: vec![
                Check::VerificationMaterial,
                Check::TlogEntry,
                Check::SigningTime,
            ],
            not_checked: Vec::new(),
        };
        assert_eq!(
            failure.failed_checks(),
            [Check::SigningTime, Check::VerificationMaterial]
        );
        assert_eq!(failure.passed_checks(), [Check::TlogEntry]);
        assert!(
            failure
                .to_string()
                .starts_with("bundle verification failed; [signing-time]")
        );
    }
}
