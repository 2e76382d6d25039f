//! DSSE v1 (Dead Simple Signing Envelope), the envelope cosign stores attestations in:
//! <https://github.com/secure-systems-lab/dsse/blob/master/protocol.md> and `envelope.md`.
//!
//! A signature covers the pre-authentication encoding (PAE) of the payload type and payload,
//! never the bare payload, so a signature cannot be replayed under another payload type:
//!
//! ```text
//! PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//! ```
//!
//! where `LEN` is the byte length as ASCII decimal without leading zeros and `SP` one space.
//!
//! The envelope is `{"payloadType", "payload", "signatures": [{"keyid", "sig"}]}` with `payload`
//! and `sig` in base64. As the envelope specification requires, decoding accepts the standard and
//! the URL-safe alphabet, with or without padding, and ignores unknown fields. Encoding writes
//! standard base64 with padding and `"keyid":""`, as cosign does.
//!
//! Verification succeeds when any one signature verifies with the given key; `keyid` is an
//! unauthenticated hint and is not used to select the key.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::Verified;
use crate::keys::{KeyError, PublicKey, Signature, SigningKey};

/// An error while signing, parsing or verifying a DSSE envelope.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DsseError {
    /// The envelope is not JSON of the DSSE shape.
    #[error("invalid DSSE envelope: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The envelope has a payload type other than the one expected.
    #[error("DSSE payload type is `{found}`, expected `{expected}`")]
    PayloadTypeMismatch {
        /// The type the caller requires.
        expected: String,
        /// The type in the envelope.
        found: String,
    },
    /// The envelope carries no signature.
    #[error("the DSSE envelope has no signatures")]
    NoSignatures,
    /// The payload is not base64.
    #[error("the DSSE payload is not valid base64: {reason}")]
    InvalidPayloadEncoding {
        /// The decoder's message.
        reason: String,
    },
    /// A signature is not base64.
    #[error("DSSE signature {index} is not valid base64: {reason}")]
    InvalidSignatureEncoding {
        /// Position in `signatures`, from 0.
        index: usize,
        /// The decoder's message.
        reason: String,
    },
    /// No signature verifies over the PAE with the key.
    #[error(
        "none of the envelope's {count} signature(s) verifies with the public key {fingerprint}"
    )]
    SignatureMismatch {
        /// Number of signatures tried.
        count: usize,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// Signing failed.
    #[error("failed to sign the DSSE envelope")]
    Sign(#[source] KeyError),
}

/// A DSSE JSON envelope. Field order on output is `payloadType`, `payload`, `signatures`, as
/// cosign writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// How to interpret the payload, such as `application/vnd.in-toto+json`.
    pub payload_type: String,
    /// The base64-encoded payload.
    pub payload: String,
    /// The signatures over `PAE(payload_type, payload)`.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// An unauthenticated hint naming the key; empty when unset, as the specification requires.
    #[serde(default)]
    pub keyid: String,
    /// The base64-encoded signature (ASN.1 DER for ECDSA as cosign writes it; raw `r‖s` is
    /// accepted too).
    pub sig: String,
}

/// A payload whose envelope signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    declared_type: String,
    body: Vec<u8>,
    signature_index: usize,
}

impl Payload {
    /// The envelope's payload type.
    #[must_use]
    pub fn payload_type(&self) -> &str {
        &self.declared_type
    }

    /// The decoded payload bytes.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Which signature of the envelope verified, counting from 0.
    #[must_use]
    pub fn signature_index(&self) -> usize {
        self.signature_index
    }
}

/// What [`verify`] returns.
pub type VerifiedPayload = Verified<Payload>;

/// The pre-authentication encoding of `payload` under `payload_type`: the bytes that are signed.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    encoded.extend_from_slice(b"DSSEv1 ");
    encoded.extend_from_slice(payload_type.len().to_string().as_bytes());
    encoded.push(b' ');
    encoded.extend_from_slice(payload_type.as_bytes());
    encoded.push(b' ');
    encoded.extend_from_slice(payload.len().to_string().as_bytes());
    encoded.push(b' ');
    encoded.extend_from_slice(payload);
    encoded
}

/// Signs `payload` under `payload_type` and wraps it in an envelope with one signature.
pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Result<Envelope, DsseError> {
    let signature = key
        .sign(&pae(payload_type, payload))
        .map_err(DsseError::Sign)?;
    Ok(Envelope {
        payload_type: payload_type.to_owned(),
        payload: STANDARD.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: signature.to_base64(),
        }],
    })
}

/// Verifies an envelope with `key`.
///
/// Checks, in order:
/// 1. the payload type is `expected_payload_type`, when the caller gives one;
/// 2. the envelope has at least one signature;
/// 3. the payload and every signature are valid base64;
/// 4. at least one signature verifies over `PAE(payloadType, payload)` with `key`.
pub fn verify(
    envelope: &Envelope,
    key: &PublicKey,
    expected_payload_type: Option<&str>,
) -> Result<VerifiedPayload, DsseError> {
    // 1. Payload type.
    if let Some(expected) = expected_payload_type
        && envelope.payload_type != expected
    {
        return Err(DsseError::PayloadTypeMismatch {
            expected: expected.to_owned(),
            found: envelope.payload_type.clone(),
        });
    }

    // 2. At least one signature.
    if envelope.signatures.is_empty() {
        return Err(DsseError::NoSignatures);
    }

    // 3. Decoding.
    let body = decode_base64(&envelope.payload)
        .map_err(|reason| DsseError::InvalidPayloadEncoding { reason })?;
    let signatures = envelope
        .signatures
        .iter()
        .enumerate()
        .map(|(index, signature)| {
            decode_base64(&signature.sig)
                .map_err(|reason| DsseError::InvalidSignatureEncoding { index, reason })
        })
        .collect::<Result<Vec<_>, _>>()?;

    // 4. A signature over the PAE.
    let message = pae(&envelope.payload_type, &body);
    let Some(index) = signatures.iter().position(|bytes| {
        Signature::from_der_or_raw(bytes)
            .and_then(|signature| key.verify_signature(&message, &signature))
            .is_ok()
    }) else {
        return Err(DsseError::SignatureMismatch {
            count: signatures.len(),
            fingerprint: key.fingerprint(),
        });
    };
    debug!(
        payload_type = %envelope.payload_type,
        signature = index,
        fingerprint = %key.fingerprint(),
        "DSSE: signature over PAE verified"
    );
    Ok(Verified::new(Payload {
        declared_type: envelope.payload_type.clone(),
        body,
        signature_index: index,
    }))
}

impl Envelope {
    /// Parses an envelope from JSON; unknown fields are ignored, as the specification requires.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DsseError> {
        serde_json::from_slice(bytes).map_err(DsseError::InvalidJson)
    }

    /// The compact JSON encoding.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising strings into memory cannot fail.
        serde_json::to_vec(self)
            .unwrap_or_else(|error| unreachable!("envelope serialisation failed: {error}"))
    }
}

/// Decodes standard or URL-safe base64, padded or not.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
    const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

    STANDARD_ANY_PADDING.decode(text).or_else(|standard_error| {
        URL_SAFE_ANY_PADDING
            .decode(text)
            .map_err(|_| standard_error.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_of_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn pae_of_empty_fields() {
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn pae_counts_bytes_not_characters() {
        // `ÿ` is two bytes in UTF-8, so the type has 5 bytes.
        assert_eq!(pae("tÿpe", &[0xff]), b"DSSEv1 5 t\xc3\xbfpe 1 \xff");
    }

    #[test]
    fn base64_variants_accepted() {
        for text in ["+/8=", "+/8", "-_8=", "-_8"] {
            assert_eq!(decode_base64(text).unwrap(), [0xfb, 0xff], "{text}");
        }
    }

    #[test]
    fn base64_garbage_rejected() {
        assert!(decode_base64("not base64!").is_err());
    }

    #[test]
    fn envelope_field_order() {
        let envelope = Envelope {
            payload_type: "t".to_owned(),
            payload: "cA==".to_owned(),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: "cw==".to_owned(),
            }],
        };
        assert_eq!(
            String::from_utf8(envelope.to_json()).unwrap(),
            r#"{"payloadType":"t","payload":"cA==","signatures":[{"keyid":"","sig":"cw=="}]}"#
        );
    }

    #[test]
    fn missing_keyid_and_unknown_fields_accepted() {
        let envelope = Envelope::from_json(
            br#"{"payload":"cA==","payloadType":"t","signatures":[{"sig":"cw==","extra":1}],"x":2}"#,
        )
        .unwrap();
        assert_eq!(envelope.signatures[0].keyid, "");
    }

    #[test]
    fn missing_signatures_field_rejected() {
        let error = Envelope::from_json(br#"{"payload":"cA==","payloadType":"t"}"#).unwrap_err();
        assert!(
            error.to_string().contains("missing field `signatures`"),
            "{error}"
        );
    }
}
