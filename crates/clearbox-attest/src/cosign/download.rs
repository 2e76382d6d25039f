//! Reading signatures and attestations back unverified, in the shapes cosign 2.5's
//! `download signature` and `download attestation` print.
//!
//! - `download signature` prints one JSON object per signature and line:
//!   `{"Base64Signature":…,"Payload":<base64 of the payload>,"Cert":null,"Chain":null,
//!   "Bundle":null,"RFC3161Timestamp":null}` (Go's encoding of cosign's `SignedPayload`).
//! - `download attestation` prints each DSSE envelope layer exactly as stored, one per line.
//!
//! cosign fetches the layers concurrently and prints attestations in no fixed order (seen with
//! two layers, run after run); the functions here return manifest order.
//!
//! Only the blob digests are checked; use [`verify_signatures`](super::verify_signatures) or
//! [`verify_attestations`](super::verify_attestations) for anything to be trusted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::error::{ArtifactLocation, CosignError};
use super::format::{
    ArtifactDescriptor, ArtifactKind, DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION,
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use super::referrers::{FoundManifest, artifact_manifests};
use super::store::{ArtifactStore, MAX_PAYLOAD_BYTES};
use crate::dsse::Envelope;
use crate::intoto::{PredicateType, Statement};

/// A signature read back unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedSignature {
    /// The `dev.cosignproject.cosign/signature` annotation as stored (base64).
    pub base64_signature: String,
    /// The payload bytes; their digest was checked.
    pub payload: Vec<u8>,
    /// The signature's location.
    pub location: ArtifactLocation,
}

/// cosign's `SignedPayload` as `download signature` prints it, in Go's field order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CosignSignedPayload {
    base64_signature: String,
    payload: String,
    cert: Option<String>,
    chain: Option<Vec<String>>,
    bundle: Option<serde_json::Value>,
    #[serde(rename = "RFC3161Timestamp")]
    rfc3161_timestamp: Option<serde_json::Value>,
}

impl DownloadedSignature {
    /// Encodes the signature as the line `cosign download signature` prints, without the
    /// newline.
    #[must_use]
    pub fn to_cosign_json(&self) -> String {
        let line = CosignSignedPayload {
            base64_signature: self.base64_signature.clone(),
            payload: STANDARD.encode(&self.payload),
            cert: None,
            chain: None,
            bundle: None,
            rfc3161_timestamp: None,
        };
        // Serialising strings into memory cannot fail.
        serde_json::to_string(&line)
            .unwrap_or_else(|error| unreachable!("signature serialisation failed: {error}"))
    }
}

/// An attestation read back unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedAttestation {
    /// The DSSE envelope exactly as stored; its digest was checked.
    pub envelope: Vec<u8>,
    /// The attestation's location.
    pub location: ArtifactLocation,
}

/// Reads every signature of the store's image, in the order found: the layers under
/// `sha256-<hex>.sig`, then those of signature referrers. Returns an empty list when there is
/// none.
pub fn download_signatures(
    store: &dyn ArtifactStore,
) -> Result<Vec<DownloadedSignature>, CosignError> {
    let (manifests, _) = artifact_manifests(store, ArtifactKind::Signatures)?;
    let mut signatures = Vec::new();
    for found in manifests {
        for (location, layer) in layers(found)? {
            if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
                continue;
            }
            let payload = store.blob(&layer.digest, MAX_PAYLOAD_BYTES)?;
            signatures.push(DownloadedSignature {
                base64_signature: layer
                    .annotations
                    .get(SIGNATURE_ANNOTATION)
                    .cloned()
                    .unwrap_or_default(),
                payload,
                location,
            });
        }
    }
    Ok(signatures)
}

/// Reads every attestation of the store's image, in the order found. With `predicate_type`,
/// keeps those whose statement has that type, as `cosign download attestation
/// --predicate-type` does; an envelope that cannot be decoded is then left out. Returns an
/// empty list when there is none.
pub fn download_attestations(
    store: &dyn ArtifactStore,
    predicate_type: Option<&PredicateType>,
) -> Result<Vec<DownloadedAttestation>, CosignError> {
    let (manifests, _) = artifact_manifests(store, ArtifactKind::Attestations)?;
    let mut attestations = Vec::new();
    for found in manifests {
        for (location, layer) in layers(found)? {
            if layer.media_type != DSSE_MEDIA_TYPE {
                continue;
            }
            if let Some(wanted) = predicate_type
                && layer
                    .annotations
                    .get(PREDICATE_TYPE_ANNOTATION)
                    .is_some_and(|annotated| annotated != wanted.uri())
            {
                continue;
            }
            let envelope = store.blob(&layer.digest, MAX_PAYLOAD_BYTES)?;
            if let Some(wanted) = predicate_type
                && statement_type(&envelope).as_deref() != Some(wanted.uri())
            {
                continue;
            }
            attestations.push(DownloadedAttestation { envelope, location });
        }
    }
    Ok(attestations)
}

/// Decodes the predicate type of the statement in an envelope, unverified.
fn statement_type(envelope: &[u8]) -> Option<String> {
    let envelope = Envelope::from_json(envelope).ok()?;
    let body = STANDARD.decode(&envelope.payload).ok()?;
    Some(
        Statement::from_json(&body)
            .ok()?
            .predicate_type()
            .to_owned(),
    )
}

/// Lists the layers of a found manifest with their locations.
fn layers(
    found: FoundManifest,
) -> Result<Vec<(ArtifactLocation, ArtifactDescriptor)>, CosignError> {
    let manifest = found
        .parsed
        .map_err(|reason| CosignError::InvalidManifest {
            digest: found.stored.digest.clone(),
            source_of: found.source.clone(),
            reason,
        })?;
    Ok(manifest
        .layers
        .into_iter()
        .enumerate()
        .map(|(index, layer)| {
            let location = ArtifactLocation {
                manifest: found.stored.digest.clone(),
                layer: Some(index),
                source: found.source.clone(),
            };
            (location, layer)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosign::ReferrerSource;
    use clearbox_oci::Digest;

    #[test]
    fn signature_line_matches_cosign() {
        let signature = DownloadedSignature {
            base64_signature: "MEUC".to_owned(),
            payload: b"{}".to_vec(),
            location: ArtifactLocation {
                manifest: Digest::of(b""),
                layer: Some(0),
                source: ReferrerSource::LayoutIndex,
            },
        };
        assert_eq!(
            signature.to_cosign_json(),
            r#"{"Base64Signature":"MEUC","Payload":"e30=","Cert":null,"Chain":null,"Bundle":null,"RFC3161Timestamp":null}"#
        );
    }
}
