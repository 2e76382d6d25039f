//! Verifying an image's cosign signatures with a public key.
//!
//! Checks, for each signature layer found (the variants of [`SignatureCheckError`] follow the
//! same order):
//!
//! 1. a signature manifest exists, under `sha256-<hex>.sig` or as a referrer of type
//!    `application/vnd.dev.cosign.artifact.sig.v1+json`, and parses;
//! 2. the layer is a simple signing payload, and the payload blob hashes to the layer's
//!    digest and has its size;
//! 3. the `dev.cosignproject.cosign/signature` annotation is base64 and verifies over the exact
//!    payload bytes with the key (nothing is parsed before this passes);
//! 4. the payload is a valid simple signing document of cosign's type;
//! 5. its `docker-manifest-digest` is the image's digest;
//! 6. its `docker-reference` is the required identity, when one is required: the same
//!    repository (Docker Hub names normalised), and the same tag and digest when the required
//!    identity has them;
//! 7. its `optional` object has every required annotation with the required value.
//!
//! The image passes when at least one signature passes every check, as in cosign. Signatures
//! that fail are returned with the check they failed. Transparency-log entries, certificates and
//! timestamps are never checked, and the result lists them as not checked.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_oci::Digest;
use serde_json::Value;

use super::error::{ArtifactLocation, CosignError, Rejected, SignatureCheckError};
use super::format::{
    ArtifactDescriptor, ArtifactKind, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use super::identity::Identity;
use super::referrers::{artifact_manifests, check_layers};
use super::store::{ArtifactStore, MAX_PAYLOAD_BYTES, StoreError};
use crate::Verified;
use crate::keys::PublicKey;
use crate::simple_signing::{self, PayloadError, SimpleSigning};

/// Checks that [`verify_signatures`] and [`verify_attestations`](super::verify_attestations)
/// never make, listed in every result.
pub const SIGNATURE_CHECKS_NOT_MADE: [&str; 2] = [
    "transparency log (Rekor) inclusion, since the signatures are key-based",
    "signing certificate and timestamp, since the signatures are key-based",
];

/// Requirements beyond a valid signature by the key over this image's digest.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The identity the signature must claim, such as `registry.example/team/app`. Without tag
    /// or digest only the claimed repository must match. With one, the claimed tag and digest
    /// must match too (see [`Identity`]). Default: not checked, as cosign does not check it.
    pub identity: Option<String>,
    /// Annotations the payload's `optional` object must have, with these string values, as
    /// cosign's `verify -a key=value` requires. Default: none.
    pub annotations: BTreeMap<String, String>,
}

/// A signature that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// The verified payload.
    pub payload: Verified<SimpleSigning>,
    /// The payload exactly as stored, the bytes the signature covers.
    pub payload_bytes: Vec<u8>,
    /// The signature's location.
    pub location: ArtifactLocation,
}

/// The result of [`verify_signatures`]: at least one verified signature.
#[derive(Debug)]
pub struct SignatureVerification {
    /// The image's digest.
    pub image: Digest,
    /// The signatures that passed every check; never empty.
    pub verified: Vec<VerifiedSignature>,
    /// The signatures that failed a check.
    pub rejected: Vec<Rejected<SignatureCheckError>>,
    /// Whether the identity was checked (only when [`VerifyOptions::identity`] is set).
    pub identity_checked: bool,
    /// The checks not made; see [`SIGNATURE_CHECKS_NOT_MADE`].
    pub not_checked: Vec<&'static str>,
}

/// Verifies the store's image's signatures with `key`; see the module documentation for the
/// checks. Fails with [`CosignError::NoSignatures`] when there is none and with
/// [`CosignError::NoValidSignatures`] (listing each signature's failure) when none passes.
pub fn verify_signatures(
    store: &dyn ArtifactStore,
    key: &PublicKey,
    options: &VerifyOptions,
) -> Result<SignatureVerification, CosignError> {
    let image = store.subject().digest.clone();
    let image_name = format!("{}@{image}", store.location());
    let required_identity = options
        .identity
        .as_deref()
        .map(Identity::parse)
        .transpose()?;

    // 1. Signature manifests.
    let (manifests, searched) = artifact_manifests(store, ArtifactKind::Signatures)?;

    let (passed, rejected) = check_layers(
        manifests,
        |reason| SignatureCheckError::InvalidManifest { reason },
        |layer| {
            check_signature(
                store,
                layer,
                key,
                &image,
                required_identity.as_ref(),
                options,
            )
        },
    );
    let verified: Vec<VerifiedSignature> = passed
        .into_iter()
        .map(|((payload, payload_bytes), location)| VerifiedSignature {
            payload,
            payload_bytes,
            location,
        })
        .collect();

    // No manifest, or manifests without layers: nothing to check.
    let rejected = crate::cosign::error::require_valid_signatures(
        verified.len(),
        &image_name,
        searched,
        rejected,
    )?;
    Ok(SignatureVerification {
        image,
        verified,
        rejected,
        identity_checked: options.identity.is_some(),
        not_checked: SIGNATURE_CHECKS_NOT_MADE.to_vec(),
    })
}

/// Runs checks 2 to 7 on one layer; returns the payload and its stored bytes.
fn check_signature(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
    key: &PublicKey,
    image: &Digest,
    required_identity: Option<&Identity>,
    options: &VerifyOptions,
) -> Result<(Verified<SimpleSigning>, Vec<u8>), SignatureCheckError> {
    // 2. A simple signing payload whose blob matches the descriptor.
    let payload = read_payload(store, layer)?;

    // 3-4. The signature over the exact bytes, then the payload's shape.
    let signature = layer_signature(layer)?;
    let verified =
        simple_signing::verify(&payload, &signature, key).map_err(|error| match error {
            PayloadError::Key(source) => SignatureCheckError::SignatureMismatch {
                fingerprint: key.fingerprint(),
                source,
            },
            other => SignatureCheckError::InvalidPayload(other),
        })?;

    // 5-7. What the payload claims.
    check_claims(&verified, image, required_identity, options)?;
    Ok((verified, payload))
}

/// Check 2: reads the layer's simple signing payload, which must match its descriptor.
pub(super) fn read_payload(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
) -> Result<Vec<u8>, SignatureCheckError> {
    if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
        return Err(SignatureCheckError::UnexpectedMediaType {
            found: layer.media_type.clone(),
        });
    }
    let payload = store
        .blob(&layer.digest, MAX_PAYLOAD_BYTES)
        .map_err(|error| match error {
            StoreError::DigestMismatch {
                expected, actual, ..
            } => SignatureCheckError::PayloadDigestMismatch { expected, actual },
            other => SignatureCheckError::PayloadUnreadable(other),
        })?;
    if payload.len() as u64 != layer.size {
        return Err(SignatureCheckError::PayloadSizeMismatch {
            expected: layer.size,
            actual: payload.len() as u64,
        });
    }
    Ok(payload)
}

/// Returns the decoded `dev.cosignproject.cosign/signature` annotation.
pub(super) fn layer_signature(layer: &ArtifactDescriptor) -> Result<Vec<u8>, SignatureCheckError> {
    let signature = layer
        .annotations
        .get(SIGNATURE_ANNOTATION)
        .filter(|text| !text.is_empty())
        .ok_or(SignatureCheckError::MissingSignature)?;
    STANDARD
        .decode(signature)
        .map_err(|e| SignatureCheckError::InvalidSignatureEncoding {
            reason: e.to_string(),
        })
}

/// Checks 5 to 7 on a verified payload: the image digest, the identity and the annotations.
pub(super) fn check_claims(
    verified: &SimpleSigning,
    image: &Digest,
    required_identity: Option<&Identity>,
    options: &VerifyOptions,
) -> Result<(), SignatureCheckError> {
    // 5. This image's digest.
    if verified.manifest_digest() != image.to_string() {
        return Err(SignatureCheckError::ManifestDigestMismatch {
            claimed: verified.manifest_digest().to_owned(),
            expected: image.clone(),
        });
    }

    // 6. The identity, when required.
    if let (Some(required), Some(expected)) = (required_identity, &options.identity) {
        let claimed = verified.docker_reference();
        let satisfied = Identity::parse(claimed).is_ok_and(|c| required.is_satisfied_by(&c));
        if !satisfied {
            return Err(SignatureCheckError::IdentityMismatch {
                claimed: claimed.to_owned(),
                expected: expected.clone(),
            });
        }
    }

    // 7. Required annotations.
    for (name, expected) in &options.annotations {
        let found = verified
            .annotations()
            .and_then(|annotations| annotations.get(name));
        if found.and_then(Value::as_str) != Some(expected.as_str()) {
            return Err(SignatureCheckError::AnnotationMismatch {
                key: name.clone(),
                expected: expected.clone(),
                found: found.map(|value| match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                }),
                found_json_type: found.and_then(json_type_of_non_string),
            });
        }
    }
    Ok(())
}

/// Returns the JSON type name of a value that is not a string.
fn json_type_of_non_string(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(_) => None,
        Value::Number(_) => Some("number"),
        Value::Bool(_) => Some("boolean"),
        Value::Null => Some("null"),
        Value::Array(_) => Some("array"),
        Value::Object(_) => Some("object"),
    }
}
