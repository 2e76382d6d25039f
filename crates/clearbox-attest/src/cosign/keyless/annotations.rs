//! cosign's legacy keyless layout: the layer annotations that carry a signature's Fulcio
//! certificate, Rekor signed entry timestamp and RFC 3161 timestamp, read into a [`Bundle`] so
//! that the bundle verifier checks them.
//!
//! The annotations, as cosign 2.x writes them on `.sig` and `.att` layers
//! (<https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md>):
//!
//! | annotation | content |
//! |---|---|
//! | `dev.sigstore.cosign/certificate` | the signing certificate, PEM |
//! | `dev.sigstore.cosign/chain` | its CA chain, PEM, root last |
//! | `dev.sigstore.cosign/bundle` | `{"SignedEntryTimestamp": base64, "Payload": {"body": base64, "integratedTime": n, "logIndex": n, "logID": hex}}` |
//! | `dev.sigstore.cosign/rfc3161timestamp` | `{"SignedRFC3161Timestamp": base64}`, a DER `TimeStampResp` |
//!
//! The chain annotation is never used: the certificate path is built from the trusted root
//! only, as for bundles. The Rekor entry becomes a log entry with an inclusion promise and no
//! inclusion proof, which the verifier accepts in a v0.1 bundle. A signature layer's timestamp
//! covers the raw signature; an attestation layer's covers the whole envelope as stored,
//! because its signature annotation is empty.

use serde::Deserialize;

use crate::bundle::{Bundle, BundleVersion, Content, Material, TlogEntry};
use crate::dsse::{Envelope, decode_base64};
use crate::keys::pem;

/// Layer annotation with the PEM signing certificate.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation with the PEM CA chain of the certificate. Not used for verification.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation with the Rekor signed entry timestamp and the entry it signs.
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation with an RFC 3161 timestamp response.
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// The name the verification result gives a legacy signature layer as its "media type".
const SIGNATURE_LAYOUT: &str = "cosign legacy signature layer (dev.sigstore.cosign annotations)";
/// The same for an attestation layer.
const ATTESTATION_LAYOUT: &str =
    "cosign legacy attestation layer (dev.sigstore.cosign annotations)";

#[derive(Deserialize)]
struct RekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: RekorPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: u64,
    #[serde(rename = "logID")]
    log_id: String,
}

#[derive(Deserialize)]
struct RekorBody {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
}

#[derive(Deserialize)]
struct TimestampAnnotation {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed_timestamp: String,
}

/// Annotations that do not have the form cosign writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the annotation `{annotation}` is invalid: {reason}")]
pub struct AnnotationError {
    /// The annotation's key.
    pub annotation: &'static str,
    /// The problem found.
    pub reason: String,
}

/// Returns true when the layer carries a signing certificate, so it is for keyless
/// verification.
pub(crate) fn has_certificate(annotations: &std::collections::BTreeMap<String, String>) -> bool {
    annotations.contains_key(CERTIFICATE_ANNOTATION)
}

/// The annotations of one layer, decoded.
struct LayerMaterial {
    leaf: Vec<u8>,
    tlog_entries: Vec<TlogEntry>,
    timestamps: Vec<Vec<u8>>,
}

/// Builds the bundle of a signature layer: `signature` over the payload, which is the artifact.
pub(crate) fn signature_bundle(
    annotations: &std::collections::BTreeMap<String, String>,
    signature: Vec<u8>,
) -> Result<Bundle, AnnotationError> {
    let material = read(annotations)?;
    Ok(bundle(
        SIGNATURE_LAYOUT,
        material,
        Content::Message {
            digest: None,
            signature,
        },
        None,
    ))
}

/// Builds the bundle of an attestation layer holding `envelope_bytes`, with one signature.
pub(crate) fn attestation_bundle(
    annotations: &std::collections::BTreeMap<String, String>,
    envelope: Envelope,
    envelope_bytes: &[u8],
) -> Result<Bundle, AnnotationError> {
    let material = read(annotations)?;
    let content = dsse_content(envelope)?;
    Ok(bundle(
        ATTESTATION_LAYOUT,
        material,
        content,
        Some(envelope_bytes.to_vec()),
    ))
}

fn bundle(
    layout: &str,
    material: LayerMaterial,
    content: Content,
    timestamped: Option<Vec<u8>>,
) -> Bundle {
    Bundle {
        media_type: layout.to_owned(),
        // v0.1 is the version whose log entries need an inclusion promise (the signed entry
        // timestamp) and no inclusion proof, which is what the Rekor annotation holds.
        version: BundleVersion::V0_1,
        material: Material::Certificate {
            leaf: material.leaf,
            rest: Vec::new(),
        },
        content,
        tlog_entries: material.tlog_entries,
        timestamps: material.timestamps,
        timestamped,
    }
}

fn dsse_content(envelope: Envelope) -> Result<Content, AnnotationError> {
    let invalid = |reason: String| AnnotationError {
        annotation: super::super::format::SIGNATURE_ANNOTATION,
        reason,
    };
    let [signature] = envelope.signatures.as_slice() else {
        return Err(invalid(format!(
            "the envelope has {} signatures; a keyless attestation has one, by its certificate",
            envelope.signatures.len()
        )));
    };
    let signature = decode_base64(&signature.sig)
        .map_err(|reason| invalid(format!("the envelope signature is not base64: {reason}")))?;
    let payload = decode_base64(&envelope.payload)
        .map_err(|reason| invalid(format!("the envelope payload is not base64: {reason}")))?;
    Ok(Content::Dsse {
        envelope,
        payload,
        signature,
    })
}

fn read(
    annotations: &std::collections::BTreeMap<String, String>,
) -> Result<LayerMaterial, AnnotationError> {
    let leaf = certificate(annotations)?;
    let tlog_entries = annotations
        .get(REKOR_BUNDLE_ANNOTATION)
        .map(|text| rekor_entry(text))
        .transpose()?
        .into_iter()
        .collect();
    let timestamps = annotations
        .get(TIMESTAMP_ANNOTATION)
        .map(|text| timestamp(text))
        .transpose()?
        .into_iter()
        .collect();
    Ok(LayerMaterial {
        leaf,
        tlog_entries,
        timestamps,
    })
}

/// Decodes the one certificate of the certificate annotation to DER.
fn certificate(
    annotations: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<u8>, AnnotationError> {
    let invalid = |reason: String| AnnotationError {
        annotation: CERTIFICATE_ANNOTATION,
        reason,
    };
    let text = annotations
        .get(CERTIFICATE_ANNOTATION)
        .ok_or_else(|| invalid("missing".to_owned()))?;
    let blocks = pem::decode_all(text).map_err(|reason| invalid(format!("not PEM: {reason}")))?;
    match blocks.as_slice() {
        [block] if block.label == "CERTIFICATE" => Ok(block.der.to_vec()),
        [block] => Err(invalid(format!(
            "it holds a `{}` PEM block, not a `CERTIFICATE`",
            block.label
        ))),
        _ => Err(invalid(format!(
            "it holds {} PEM blocks, not one certificate",
            blocks.len()
        ))),
    }
}

fn rekor_entry(text: &str) -> Result<TlogEntry, AnnotationError> {
    let invalid = |reason: String| AnnotationError {
        annotation: REKOR_BUNDLE_ANNOTATION,
        reason,
    };
    let raw: RekorBundle = serde_json::from_str(text)
        .map_err(|error| invalid(format!("not the JSON cosign writes: {error}")))?;
    let promise = decode_base64(&raw.signed_entry_timestamp)
        .map_err(|reason| invalid(format!("`SignedEntryTimestamp` is not base64: {reason}")))?;
    let body = decode_base64(&raw.payload.body)
        .map_err(|reason| invalid(format!("`Payload.body` is not base64: {reason}")))?;
    let log_id = hex::decode(&raw.payload.log_id)
        .map_err(|error| invalid(format!("`Payload.logID` is not hex: {error}")))?;

    // The kind and version are inside the body; the bundle verifier checks that they agree.
    let kind: RekorBody = serde_json::from_slice(&body).map_err(|error| {
        invalid(format!(
            "`Payload.body` is not a Rekor entry with `kind` and `apiVersion`: {error}"
        ))
    })?;
    Ok(TlogEntry {
        log_index: raw.payload.log_index,
        log_id,
        kind: kind.kind,
        version: kind.api_version,
        integrated_time: Some(raw.payload.integrated_time),
        inclusion_promise: Some(promise),
        inclusion_proof: None,
        body,
    })
}

fn timestamp(text: &str) -> Result<Vec<u8>, AnnotationError> {
    let invalid = |reason: String| AnnotationError {
        annotation: TIMESTAMP_ANNOTATION,
        reason,
    };
    let raw: TimestampAnnotation = serde_json::from_str(text)
        .map_err(|error| invalid(format!("not the JSON cosign writes: {error}")))?;
    decode_base64(&raw.signed_timestamp)
        .map_err(|reason| invalid(format!("`SignedRFC3161Timestamp` is not base64: {reason}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn rekor_annotation_read_as_entry() {
        let body = r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#;
        let text = format!(
            r#"{{"SignedEntryTimestamp":"AQI=","Payload":{{"body":"{}","integratedTime":1700000000,"logIndex":7,"logID":"0a0b"}}}}"#,
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body)
        );
        let entry = rekor_entry(&text).unwrap();
        assert_eq!(entry.kind, "hashedrekord");
        assert_eq!(entry.version, "0.0.1");
        assert_eq!(entry.log_id, [10, 11]);
        assert_eq!(entry.log_index, 7);
        assert_eq!(entry.integrated_time, Some(1_700_000_000));
        assert_eq!(entry.inclusion_promise.as_deref(), Some(&[1u8, 2][..]));
    }

    #[test]
    fn missing_certificate_named() {
        let error = certificate(&BTreeMap::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the annotation `dev.sigstore.cosign/certificate` is invalid: missing"
        );
    }

    #[test]
    fn malformed_rekor_annotation_named() {
        let error = rekor_entry("{}").unwrap_err();
        assert_eq!(error.annotation, REKOR_BUNDLE_ANNOTATION);
    }
}
