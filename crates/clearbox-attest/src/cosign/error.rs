//! Errors of the cosign operations, and the reasons a single signature or attestation is
//! rejected: one variant per numbered verification check.

use std::fmt;

use clearbox_oci::Digest;

use super::keyless::AnnotationError;
use super::store::{ReferrerSource, StoreError};
use crate::bundle::VerificationFailure;
use crate::dsse::DsseError;
use crate::intoto::StatementError;
use crate::keys::KeyError;
use crate::simple_signing::PayloadError;

/// An error of a cosign operation (sign, verify, attest, attach, download, discover).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CosignError {
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An artifact manifest to be extended or read is not a valid OCI manifest.
    #[error("invalid artifact manifest {digest} ({source_of}): {reason}")]
    InvalidManifest {
        /// The manifest's digest.
        digest: Digest,
        /// The place it was found.
        source_of: ReferrerSource,
        /// The problem.
        reason: String,
    },
    /// No repository name for the signature payload or statement subject.
    #[error(
        "{location} names no repository for the signature or statement to claim; pass \
         --identity REGISTRY/REPO, such as `--identity registry.example/team/app`"
    )]
    IdentityRequired {
        /// The store.
        location: String,
    },
    /// The identity to sign with or to require is not a Docker reference.
    #[error(transparent)]
    InvalidIdentity(#[from] super::identity::IdentityError),
    /// Building or signing the simple signing payload failed.
    #[error("failed to sign the image")]
    Payload(#[source] PayloadError),
    /// Building the in-toto statement failed.
    #[error("invalid attestation statement")]
    Statement(#[source] StatementError),
    /// Signing the DSSE envelope failed.
    #[error("failed to sign the attestation")]
    Envelope(#[source] DsseError),
    /// The image has no signature manifest, under the cosign tag or as a referrer.
    #[error("no signatures found for {image}; searched {}", searched.join(", "))]
    NoSignatures {
        /// The image, as `LOCATION@DIGEST`.
        image: String,
        /// The places searched.
        searched: Vec<String>,
    },
    /// Signatures exist, but none passes every check.
    #[error(
        "none of the {} signature(s) of {image} is valid: {}",
        rejected.len(),
        join_rejections(rejected)
    )]
    NoValidSignatures {
        /// The image, as `LOCATION@DIGEST`.
        image: String,
        /// Each signature with the check it failed.
        rejected: Vec<Rejected<SignatureCheckError>>,
    },
    /// The image has no attestation manifest, under the cosign tag or as a referrer.
    #[error("no attestations found for {image}; searched {}", searched.join(", "))]
    NoAttestations {
        /// The image, as `LOCATION@DIGEST`.
        image: String,
        /// The places searched.
        searched: Vec<String>,
    },
    /// Attestations exist, but none passes every check.
    #[error(
        "none of the {} attestation(s) of {image} is valid: {}",
        rejected.len(),
        join_rejections(rejected)
    )]
    NoValidAttestations {
        /// The image, as `LOCATION@DIGEST`.
        image: String,
        /// Each attestation with the check it failed.
        rejected: Vec<Rejected<AttestationCheckError>>,
    },
    /// The manifest under a cosign tag has the maximum number of layers, so another signature
    /// or attestation cannot be appended.
    #[error(
        "{location} has {limit} layers, the maximum for an artifact manifest, so no more can be \
         appended; remove the tag (for example with `cosign clean`) and sign again"
    )]
    TooManyLayers {
        /// The manifest, as `LOCATION:TAG`.
        location: String,
        /// The limit, [`MAX_ARTIFACT_LAYERS`](super::format::MAX_ARTIFACT_LAYERS).
        limit: usize,
    },
    /// An SBOM to attach is larger than the limit.
    #[error(
        "the SBOM is {size} bytes, more than the limit of {limit} bytes (64 MiB) for an \
         attached SBOM; attach a smaller document"
    )]
    SbomTooLarge {
        /// Its size in bytes.
        size: u64,
        /// The limit, [`MAX_SBOM_BYTES`](super::MAX_SBOM_BYTES).
        limit: u64,
    },
    /// The image has no SBOM attached.
    #[error("no SBOM is attached to {image}; searched {}", searched.join(", "))]
    NoSbom {
        /// The image, as `LOCATION@DIGEST`.
        image: String,
        /// The places searched.
        searched: Vec<String>,
    },
}

/// The location of one signature, attestation or SBOM: a layer of an artifact manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactLocation {
    /// The artifact manifest.
    pub manifest: Digest,
    /// The layer, from 0; `None` when the manifest itself is unusable.
    pub layer: Option<usize>,
    /// The place the manifest was found.
    pub source: ReferrerSource,
}

impl fmt::Display for ArtifactLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.layer {
            Some(layer) => write!(f, "layer {layer} of {} ({})", self.manifest, self.source),
            None => write!(f, "{} ({})", self.manifest, self.source),
        }
    }
}

/// An artifact that failed a check, with the reason.
#[derive(Debug)]
pub struct Rejected<E> {
    /// The artifact's location.
    pub location: ArtifactLocation,
    /// The check it failed.
    pub error: E,
}

impl<E: std::error::Error> Rejected<E> {
    /// Returns the check that failed with every underlying cause, such as `the signature does
    /// not verify over the payload with the public key …: the signature does not verify with
    /// the public key`.
    #[must_use]
    pub fn reason(&self) -> String {
        with_causes(&self.error)
    }
}

/// Formats `error` followed by each of its sources, separated by `: `. A source whose text the
/// message already contains (a `Display` that embeds its source) is not repeated.
#[must_use]
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn join_rejections<E: std::error::Error>(rejected: &[Rejected<E>]) -> String {
    rejected
        .iter()
        .map(|r| format!("{}: {}", r.location, r.reason()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The reason one signature was rejected. The variants follow the checks of
/// [`verify_signatures`](super::verify_signatures), in order.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureCheckError {
    /// The artifact manifest is not a valid OCI manifest.
    #[error("invalid signature manifest: {reason}")]
    InvalidManifest {
        /// The problem.
        reason: String,
    },
    /// The layer is not a simple signing payload.
    #[error("layer media type `{found}` is not a cosign signature payload")]
    UnexpectedMediaType {
        /// The media type found.
        found: String,
    },
    /// The payload blob could not be read.
    #[error("the payload blob cannot be read")]
    PayloadUnreadable(#[source] StoreError),
    /// The payload blob does not hash to the layer's digest.
    #[error(
        "the payload does not match its descriptor: expected {expected}, content hashes to \
         {actual}"
    )]
    PayloadDigestMismatch {
        /// The digest in the manifest.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },
    /// The payload blob has another size than the layer's descriptor.
    #[error("the payload is {actual} bytes but its descriptor says {expected}")]
    PayloadSizeMismatch {
        /// The size in the manifest.
        expected: u64,
        /// The size read.
        actual: u64,
    },
    /// The layer has no `dev.cosignproject.cosign/signature` annotation, or an empty one.
    #[error("the layer has no signature (annotation `dev.cosignproject.cosign/signature`)")]
    MissingSignature,
    /// The signature annotation is not base64.
    #[error("the signature annotation is not valid base64: {reason}")]
    InvalidSignatureEncoding {
        /// The decoder's message.
        reason: String,
    },
    /// The signature does not verify over the payload bytes with the key, or is not an ECDSA
    /// P-256 signature.
    #[error("the signature does not verify over the payload with the public key {fingerprint}")]
    SignatureMismatch {
        /// The key's fingerprint.
        fingerprint: String,
        /// The key error (mismatch or malformed signature).
        #[source]
        source: KeyError,
    },
    /// The layer carries no signing certificate, so it is not for keyless verification.
    #[error(
        "the layer has no signing certificate (annotation `dev.sigstore.cosign/certificate`); verify key-based signatures with --key"
    )]
    NoCertificate,
    /// A keyless annotation does not have the form cosign writes.
    #[error(transparent)]
    InvalidKeylessAnnotation(#[from] AnnotationError),
    /// The certificate, log entry, timestamp or signature checks of keyless verification failed.
    #[error("{}", describe_failures(.0))]
    KeylessChecks(VerificationFailure),
    /// Keyless verification passed, but some checks could not be made.
    #[error("keyless verification could not make every check: {}", .0.join("; "))]
    KeylessChecksNotMade(Vec<String>),
    /// A Sigstore bundle referrer that verified is not an image signature.
    #[error("the Sigstore bundle is not an image signature: {reason}")]
    NotASignatureBundle {
        /// The kind it is instead.
        reason: String,
    },
    /// A claim the caller requires is not part of a bundle signature's statement.
    #[error(
        "{claim} is required, but a Sigstore bundle signature's statement names only the image digest"
    )]
    ClaimNotInBundle {
        /// The required claim.
        claim: String,
    },
    /// The signed payload is not a valid simple signing document.
    #[error("the signed payload is invalid")]
    InvalidPayload(#[source] PayloadError),
    /// The payload names another image.
    #[error("the signature is for {claimed}, not for this image {expected}")]
    ManifestDigestMismatch {
        /// `docker-manifest-digest` in the payload.
        claimed: String,
        /// The image's digest.
        expected: Digest,
    },
    /// The payload claims another repository than the one required.
    #[error("the signature claims `{claimed}`, not the required identity `{expected}`")]
    IdentityMismatch {
        /// `docker-reference` in the payload, exactly as stored.
        claimed: String,
        /// The required identity, as given.
        expected: String,
    },
    /// A required annotation is missing or has another value.
    #[error("annotation `{key}` {}", describe_annotation_mismatch(expected, found.as_deref(), *found_json_type))]
    AnnotationMismatch {
        /// The annotation.
        key: String,
        /// The required value, a string.
        expected: String,
        /// The value in the payload, if any: the text of a string, else the JSON text.
        found: Option<String>,
        /// The JSON type of a found value that is not a string (`number`, `boolean`, `null`,
        /// `array`, `object`); `None` for a string or a missing value.
        found_json_type: Option<&'static str>,
    },
}

/// Lists each failed check of keyless verification with its reason, such as `[identity] the
/// certificate identity is …`.
fn describe_failures(failure: &VerificationFailure) -> String {
    let reasons: Vec<String> = failure
        .failures()
        .iter()
        .map(|failed| format!("[{}] {failed}", failed.check()))
        .collect();
    format!("keyless verification failed: {}", reasons.join("; "))
}

/// Describes a required annotation's stored value against the required string.
fn describe_annotation_mismatch(
    expected: &str,
    found: Option<&str>,
    found_json_type: Option<&'static str>,
) -> String {
    match (found, found_json_type) {
        (None, _) => format!("is missing, required `{expected}`"),
        (Some(found), None) => format!("is `{found}`, required `{expected}`"),
        (Some(found), Some(json_type)) => format!(
            "is the JSON {json_type} `{found}`, required the string `{expected}`; -a matches \
             string values only"
        ),
    }
}

/// The reason one attestation was rejected. The variants follow the checks of
/// [`verify_attestations`](super::verify_attestations), in order.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationCheckError {
    /// The artifact manifest is not a valid OCI manifest.
    #[error("invalid attestation manifest: {reason}")]
    InvalidManifest {
        /// The problem.
        reason: String,
    },
    /// The layer is not a DSSE envelope.
    #[error("layer media type `{found}` is not a DSSE envelope")]
    UnexpectedMediaType {
        /// The media type found.
        found: String,
    },
    /// The envelope blob could not be read.
    #[error("the envelope blob cannot be read")]
    EnvelopeUnreadable(#[source] StoreError),
    /// The envelope blob does not hash to the layer's digest.
    #[error(
        "the envelope does not match its descriptor: expected {expected}, content hashes to \
         {actual}"
    )]
    EnvelopeDigestMismatch {
        /// The digest in the manifest.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },
    /// The envelope blob has another size than the layer's descriptor.
    #[error("the envelope is {actual} bytes but its descriptor says {expected}")]
    EnvelopeSizeMismatch {
        /// The size in the manifest.
        expected: u64,
        /// The size read.
        actual: u64,
    },
    /// The envelope is not DSSE JSON.
    #[error("the layer is not a valid DSSE envelope")]
    InvalidEnvelope(#[source] DsseError),
    /// The envelope's payload type is not `application/vnd.in-toto+json`.
    #[error("the envelope's payload type is `{found}`, not `application/vnd.in-toto+json`")]
    PayloadTypeMismatch {
        /// The payload type found.
        found: String,
    },
    /// No signature of the envelope verifies over the PAE with the key, or the envelope's
    /// signatures or payload are not base64.
    #[error("the envelope's signature does not verify")]
    SignatureMismatch(#[source] DsseError),
    /// The layer carries no signing certificate, so it is not for keyless verification.
    #[error(
        "the layer has no signing certificate (annotation `dev.sigstore.cosign/certificate`); verify key-based attestations with --key"
    )]
    NoCertificate,
    /// A keyless annotation does not have the form cosign writes.
    #[error(transparent)]
    InvalidKeylessAnnotation(#[from] AnnotationError),
    /// The certificate, log entry, timestamp or signature checks of keyless verification failed.
    #[error("{}", describe_failures(.0))]
    KeylessChecks(VerificationFailure),
    /// Keyless verification passed, but some checks could not be made.
    #[error("keyless verification could not make every check: {}", .0.join("; "))]
    KeylessChecksNotMade(Vec<String>),
    /// The signed statement is not a valid in-toto statement.
    #[error("the signed statement is invalid")]
    InvalidStatement(#[source] StatementError),
    /// No subject of the statement has the image's digest.
    #[error(
        "the statement is about {}, not about this image {expected}",
        if found.is_empty() { "no sha256 digest".to_owned() } else { found.join(", ") }
    )]
    SubjectMismatch {
        /// The image's digest.
        expected: Digest,
        /// The subjects' sha256 digests.
        found: Vec<String>,
    },
    /// The statement's predicate type is not the required one.
    #[error("the predicate type is `{found}`, required `{expected}`")]
    PredicateTypeMismatch {
        /// The required predicate type.
        expected: String,
        /// The statement's predicate type.
        found: String,
    },
    /// The layer's unsigned `predicateType` annotation disagrees with the signed statement.
    #[error(
        "the layer annotation says predicate type `{annotation}` but the signed statement says \
         `{statement}`"
    )]
    PredicateTypeAnnotationMismatch {
        /// The annotation.
        annotation: String,
        /// The statement's predicate type.
        statement: String,
    },
}

/// Fails a signature verification that found nothing to check, or checked signatures of which
/// none passed; `passed` is how many did.
pub(crate) fn require_valid_signatures(
    passed: usize,
    image: &str,
    searched: Vec<String>,
    rejected: Vec<Rejected<SignatureCheckError>>,
) -> Result<Vec<Rejected<SignatureCheckError>>, CosignError> {
    let image = image.to_owned();
    match (passed, rejected.is_empty()) {
        (0, true) => Err(CosignError::NoSignatures { image, searched }),
        (0, false) => Err(CosignError::NoValidSignatures { image, rejected }),
        _ => Ok(rejected),
    }
}

/// Fails an attestation verification that found nothing to check, or checked attestations of
/// which none passed; `passed` is how many did.
pub(crate) fn require_valid_attestations(
    passed: usize,
    image: &str,
    searched: Vec<String>,
    rejected: Vec<Rejected<AttestationCheckError>>,
) -> Result<Vec<Rejected<AttestationCheckError>>, CosignError> {
    let image = image.to_owned();
    match (passed, rejected.is_empty()) {
        (0, true) => Err(CosignError::NoAttestations { image, searched }),
        (0, false) => Err(CosignError::NoValidAttestations { image, rejected }),
        _ => Ok(rejected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_causes_appends_sources() {
        let error = SignatureCheckError::SignatureMismatch {
            fingerprint: "abc".to_owned(),
            source: KeyError::SignatureMismatch,
        };
        assert_eq!(
            with_causes(&error),
            "the signature does not verify over the payload with the public key abc: the \
             signature does not verify with the public key"
        );
    }

    #[test]
    fn with_causes_skips_embedded_source() {
        let source = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let error = StatementError::InvalidJson(source);
        assert_eq!(with_causes(&error), error.to_string());
    }
}
