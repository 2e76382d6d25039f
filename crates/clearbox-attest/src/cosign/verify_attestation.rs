//! Verifying an image's attestations with a public key.
//!
//! Checks, for each attestation layer found (the variants of [`AttestationCheckError`] follow
//! the same order):
//!
//! 1. an attestation manifest exists, under `sha256-<hex>.att` or as a referrer of type
//!    `application/vnd.dev.cosign.artifact.att.v1+json`, and parses;
//! 2. the layer is a DSSE envelope, and its blob hashes to the layer's digest and has its size;
//! 3. the envelope is DSSE JSON and its `payloadType` is `application/vnd.in-toto+json`;
//! 4. a signature of the envelope verifies over `PAE(payloadType, payload)` with the key
//!    (nothing inside the payload is read before this passes);
//! 5. the payload is an in-toto statement (v1 or v0.1);
//! 6. a subject of the statement has the image's digest as its `sha256`;
//! 7. the predicate type is the required one, when one is required;
//! 8. the layer's unsigned `predicateType` annotation, when present, agrees with the statement.
//!
//! The image passes when at least one attestation passes every check. Attestations that fail,
//! including valid ones of another predicate type, are returned with the check they failed.

use clearbox_oci::Digest;

use super::error::{ArtifactLocation, AttestationCheckError, CosignError, Rejected};
use super::format::{ArtifactDescriptor, ArtifactKind, DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION};
use super::referrers::{artifact_manifests, check_layers};
use super::store::{ArtifactStore, MAX_PAYLOAD_BYTES, StoreError};
use super::verify::SIGNATURE_CHECKS_NOT_MADE;
use crate::Verified;
use crate::dsse::{self, DsseError, Envelope};
use crate::intoto::{PAYLOAD_TYPE, PredicateType, Statement};
use crate::keys::PublicKey;

/// Requirements beyond a valid envelope by the key about this image's digest.
#[derive(Debug, Clone, Default)]
pub struct AttestationVerifyOptions {
    /// The predicate type an attestation must have, as cosign's `verify-attestation --type`
    /// requires. Default: any.
    pub predicate_type: Option<PredicateType>,
}

/// An attestation that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    /// The verified statement.
    pub statement: Verified<Statement>,
    /// The envelope exactly as stored, for output.
    pub envelope: Vec<u8>,
    /// The attestation's location.
    pub location: ArtifactLocation,
}

/// The result of [`verify_attestations`]: at least one verified attestation.
#[derive(Debug)]
pub struct AttestationVerification {
    /// The image's digest.
    pub image: Digest,
    /// The attestations that passed every check; never empty.
    pub verified: Vec<VerifiedAttestation>,
    /// The attestations that failed a check.
    pub rejected: Vec<Rejected<AttestationCheckError>>,
    /// The checks not made; see [`SIGNATURE_CHECKS_NOT_MADE`].
    pub not_checked: Vec<&'static str>,
}

/// Verifies the store's image's attestations with `key`; see the module documentation for the
/// checks. Fails with [`CosignError::NoAttestations`] when there is none and with
/// [`CosignError::NoValidAttestations`] (listing each one's failure) when none passes.
pub fn verify_attestations(
    store: &dyn ArtifactStore,
    key: &PublicKey,
    options: &AttestationVerifyOptions,
) -> Result<AttestationVerification, CosignError> {
    let image = store.subject().digest.clone();
    let image_name = format!("{}@{image}", store.location());

    // 1. Attestation manifests.
    let (manifests, searched) = artifact_manifests(store, ArtifactKind::Attestations)?;

    let (passed, rejected) = check_layers(
        manifests,
        |reason| AttestationCheckError::InvalidManifest { reason },
        |layer| check_attestation(store, layer, key, &image, options),
    );
    let verified: Vec<VerifiedAttestation> = passed
        .into_iter()
        .map(|((statement, envelope), location)| VerifiedAttestation {
            statement,
            envelope,
            location,
        })
        .collect();

    // No manifest, or manifests without layers: nothing to check.
    let rejected = crate::cosign::error::require_valid_attestations(
        verified.len(),
        &image_name,
        searched,
        rejected,
    )?;
    Ok(AttestationVerification {
        image,
        verified,
        rejected,
        not_checked: SIGNATURE_CHECKS_NOT_MADE.to_vec(),
    })
}

/// Runs checks 2 to 8 on one layer; returns the statement and the envelope bytes.
fn check_attestation(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
    key: &PublicKey,
    image: &Digest,
    options: &AttestationVerifyOptions,
) -> Result<(Verified<Statement>, Vec<u8>), AttestationCheckError> {
    // 2. A DSSE envelope whose blob matches the descriptor.
    let bytes = read_envelope(store, layer)?;

    // 3-4. The in-toto payload type, then the signature over the PAE.
    let envelope = Envelope::from_json(&bytes).map_err(AttestationCheckError::InvalidEnvelope)?;
    let payload =
        dsse::verify(&envelope, key, Some(PAYLOAD_TYPE)).map_err(|error| match error {
            DsseError::PayloadTypeMismatch { found, .. } => {
                AttestationCheckError::PayloadTypeMismatch { found }
            }
            other => AttestationCheckError::SignatureMismatch(other),
        })?;

    // 5. The statement.
    let statement =
        Statement::from_verified(payload).map_err(AttestationCheckError::InvalidStatement)?;

    // 6-8. What the statement claims.
    check_statement(&statement, layer, image, options)?;
    Ok((statement, bytes))
}

/// Check 2: reads the layer's DSSE envelope, which must match its descriptor.
pub(super) fn read_envelope(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
) -> Result<Vec<u8>, AttestationCheckError> {
    if layer.media_type != DSSE_MEDIA_TYPE {
        return Err(AttestationCheckError::UnexpectedMediaType {
            found: layer.media_type.clone(),
        });
    }
    let bytes = store
        .blob(&layer.digest, MAX_PAYLOAD_BYTES)
        .map_err(|error| match error {
            StoreError::DigestMismatch {
                expected, actual, ..
            } => AttestationCheckError::EnvelopeDigestMismatch { expected, actual },
            other => AttestationCheckError::EnvelopeUnreadable(other),
        })?;
    if bytes.len() as u64 != layer.size {
        return Err(AttestationCheckError::EnvelopeSizeMismatch {
            expected: layer.size,
            actual: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Checks 6 to 8 on a verified statement: the subject, the predicate type and the layer's
/// `predicateType` annotation.
pub(super) fn check_statement(
    statement: &Statement,
    layer: &ArtifactDescriptor,
    image: &Digest,
    options: &AttestationVerifyOptions,
) -> Result<(), AttestationCheckError> {
    // 6. About this image.
    if statement.subject_with_sha256(&image.to_string()).is_none() {
        return Err(AttestationCheckError::SubjectMismatch {
            expected: image.clone(),
            found: statement
                .subjects()
                .iter()
                .filter_map(|s| s.digest.get("sha256").map(|hex| format!("sha256:{hex}")))
                .collect(),
        });
    }

    // 7. The required predicate type.
    if let Some(required) = &options.predicate_type
        && statement.predicate_type() != required.uri()
    {
        return Err(AttestationCheckError::PredicateTypeMismatch {
            expected: required.uri().to_owned(),
            found: statement.predicate_type().to_owned(),
        });
    }

    // 8. The unsigned annotation agrees with the signed statement.
    if let Some(annotation) = layer.annotations.get(PREDICATE_TYPE_ANNOTATION)
        && annotation != statement.predicate_type()
    {
        return Err(AttestationCheckError::PredicateTypeAnnotationMismatch {
            annotation: annotation.clone(),
            statement: statement.predicate_type().to_owned(),
        });
    }
    Ok(())
}
