//! The Sigstore bundle JSON (the `Bundle` message of sigstore/protobuf-specs
//! `sigstore_bundle.proto`, in protobuf's JSON mapping), read into validated types.
//!
//! Media types read:
//!
//! | media type | version |
//! |---|---|
//! | `application/vnd.dev.sigstore.bundle+json;version=0.1` | v0.1 |
//! | `application/vnd.dev.sigstore.bundle+json;version=0.2` | v0.2 |
//! | `application/vnd.dev.sigstore.bundle+json;version=0.3` | v0.3 |
//! | `application/vnd.dev.sigstore.bundle.v0.3+json` | v0.3 |
//!
//! Protobuf's JSON mapping writes `bytes` as base64 (standard or URL-safe, padding optional)
//! and `int64` as a decimal string or a number; both are accepted. Unknown fields are ignored.
//! Structural rules are checked here: exactly one content (message signature or DSSE envelope)
//! and one kind of verification material, a non-empty certificate chain, a `certificate`
//! rather than a chain in v0.3, at least one log entry, exactly one DSSE signature, and no
//! negative indexes or sizes. Which log-entry proofs each version requires is checked by the
//! verifier, so that it is reported beside the other checks.

use serde::Deserialize;
use serde_json::Value;

use super::key::HashAlgorithm;
use crate::dsse::{Envelope, decode_base64};

/// An error in a bundle's structure or encoding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleFormatError {
    /// The bundle is not JSON of the bundle shape.
    #[error("the bundle is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The media type names no bundle version this crate reads.
    #[error(
        "unsupported bundle media type `{found}`; expected version 0.1, 0.2 or 0.3 of \
         `application/vnd.dev.sigstore.bundle+json`"
    )]
    UnsupportedMediaType {
        /// The media type found.
        found: String,
    },
    /// A required field is absent.
    #[error("the bundle has no `{field}`")]
    MissingField {
        /// The field's JSON path.
        field: String,
    },
    /// Fields that exclude each other are both present.
    #[error("the bundle has both `{first}` and `{second}`; it must have exactly one")]
    ConflictingFields {
        /// One field.
        first: &'static str,
        /// The other field.
        second: &'static str,
    },
    /// A `bytes` field is not base64.
    #[error("`{field}` is not valid base64: {reason}")]
    InvalidBase64 {
        /// The field's JSON path.
        field: String,
        /// The decoder's message.
        reason: String,
    },
    /// An integer field is not a non-negative 64-bit integer.
    #[error("`{field}` is not a non-negative integer: {found}")]
    InvalidInteger {
        /// The field's JSON path.
        field: String,
        /// The value found.
        found: String,
    },
    /// The certificate chain is empty.
    #[error("the bundle's certificate chain is empty")]
    EmptyCertificateChain,
    /// A v0.3 bundle carries a certificate chain.
    #[error(
        "a v0.3 bundle must carry its signing certificate in `certificate`, not in `x509CertificateChain`"
    )]
    ChainInV03,
    /// The bundle has no transparency log entry.
    #[error("the bundle has no transparency log entry")]
    NoTlogEntries,
    /// The DSSE envelope does not have exactly one signature.
    #[error("the DSSE envelope has {count} signatures; a bundle's envelope has exactly one")]
    DsseSignatureCount {
        /// Number of signatures found.
        count: usize,
    },
    /// The message digest names an unknown hash algorithm.
    #[error("unsupported message digest algorithm `{found}`")]
    UnsupportedDigestAlgorithm {
        /// The algorithm found.
        found: String,
    },
}

/// The format version a bundle's media type names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    /// v0.1: log entries need an inclusion promise.
    V0_1,
    /// v0.2: log entries need an inclusion proof with a checkpoint.
    V0_2,
    /// v0.3: as v0.2, with a single `certificate` in place of a chain.
    V0_3,
}

/// A parsed, structurally valid bundle. Nothing in it is verified.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub(crate) media_type: String,
    pub(crate) version: BundleVersion,
    pub(crate) material: Material,
    pub(crate) content: Content,
    pub(crate) tlog_entries: Vec<TlogEntry>,
    pub(crate) timestamps: Vec<Vec<u8>>,
    /// The bytes the RFC 3161 timestamps cover, when not [`Bundle::signature`]: cosign's
    /// legacy attestation layers timestamp the whole envelope.
    pub(crate) timestamped: Option<Vec<u8>>,
}

/// What identifies the signer.
#[derive(Debug, Clone)]
pub(crate) enum Material {
    /// A signing certificate, plus any further certificates of a v0.1 or v0.2 chain.
    Certificate { leaf: Vec<u8>, rest: Vec<Vec<u8>> },
    /// A key the verifier must supply; the hint only names it.
    PublicKey { hint: Option<String> },
}

/// What was signed.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A signature over the artifact, with the digest the signer stated.
    Message {
        digest: Option<(HashAlgorithm, Vec<u8>)>,
        signature: Vec<u8>,
    },
    /// A DSSE envelope with one signature.
    Dsse {
        envelope: Envelope,
        payload: Vec<u8>,
        signature: Vec<u8>,
    },
}

/// A transparency log entry.
#[derive(Debug, Clone)]
pub(crate) struct TlogEntry {
    pub(crate) log_index: u64,
    pub(crate) log_id: Vec<u8>,
    pub(crate) kind: String,
    pub(crate) version: String,
    /// `None` when absent or zero, as Rekor v2 entries have it.
    pub(crate) integrated_time: Option<i64>,
    pub(crate) inclusion_promise: Option<Vec<u8>>,
    pub(crate) inclusion_proof: Option<InclusionProof>,
    pub(crate) body: Vec<u8>,
}

/// A Merkle inclusion proof and the checkpoint that signs its root.
#[derive(Debug, Clone)]
pub(crate) struct InclusionProof {
    pub(crate) log_index: u64,
    pub(crate) root_hash: Vec<u8>,
    pub(crate) tree_size: u64,
    pub(crate) hashes: Vec<Vec<u8>>,
    pub(crate) checkpoint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: Option<String>,
    verification_material: Option<RawMaterial>,
    message_signature: Option<RawMessageSignature>,
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    public_key: Option<RawKeyId>,
    x509_certificate_chain: Option<RawChain>,
    certificate: Option<RawBytes>,
    #[serde(default)]
    tlog_entries: Vec<RawEntry>,
    timestamp_verification_data: Option<RawTimestampData>,
}

#[derive(Deserialize)]
struct RawKeyId {
    hint: Option<String>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    #[serde(default)]
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageSignature {
    message_digest: Option<RawDigest>,
    #[serde(default)]
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    log_index: Option<Value>,
    log_id: Option<RawLogId>,
    kind_version: Option<RawKindVersion>,
    integrated_time: Option<Value>,
    inclusion_promise: Option<RawPromise>,
    inclusion_proof: Option<RawProof>,
    canonicalized_body: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    log_index: Option<Value>,
    root_hash: Option<String>,
    tree_size: Option<Value>,
    #[serde(default)]
    hashes: Vec<String>,
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    #[serde(default)]
    envelope: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestampData {
    #[serde(default)]
    rfc3161_timestamps: Vec<RawSignedTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSignedTimestamp {
    #[serde(default)]
    signed_timestamp: String,
}

impl Bundle {
    /// Parses and structurally validates a bundle.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleFormatError> {
        let raw: RawBundle =
            serde_json::from_slice(bytes).map_err(BundleFormatError::InvalidJson)?;

        // Media type and version.
        let media_type = raw.media_type.ok_or_else(|| missing("mediaType"))?;
        let version = version_of(&media_type)?;

        // Verification material.
        let material_raw = raw
            .verification_material
            .ok_or_else(|| missing("verificationMaterial"))?;
        let material = material(&material_raw, version)?;

        // Content: exactly one of the two.
        let content = match (raw.message_signature, raw.dsse_envelope) {
            (Some(_), Some(_)) => {
                return Err(BundleFormatError::ConflictingFields {
                    first: "messageSignature",
                    second: "dsseEnvelope",
                });
            }
            (Some(message), None) => message_content(message)?,
            (None, Some(envelope)) => dsse_content(envelope)?,
            (None, None) => return Err(missing("messageSignature` or `dsseEnvelope")),
        };

        // Log entries and timestamps.
        if material_raw.tlog_entries.is_empty() {
            return Err(BundleFormatError::NoTlogEntries);
        }
        let tlog_entries = material_raw
            .tlog_entries
            .into_iter()
            .enumerate()
            .map(|(index, entry)| tlog_entry(entry, index))
            .collect::<Result<Vec<_>, _>>()?;
        let timestamps = material_raw
            .timestamp_verification_data
            .map(|data| data.rfc3161_timestamps)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, timestamp)| {
                bytes_field(
                    &timestamp.signed_timestamp,
                    &format!(
                        "verificationMaterial.timestampVerificationData.rfc3161Timestamps[{index}].signedTimestamp"
                    ),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Bundle {
            media_type,
            version,
            material,
            content,
            tlog_entries,
            timestamps,
            timestamped: None,
        })
    }

    /// The bundle's media type.
    #[must_use]
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The format version.
    #[must_use]
    pub fn version(&self) -> BundleVersion {
        self.version
    }

    /// The signature bytes that log entries and timestamps refer to: the message signature,
    /// or the DSSE envelope's one signature.
    pub(crate) fn signature(&self) -> &[u8] {
        match &self.content {
            Content::Message { signature, .. } | Content::Dsse { signature, .. } => signature,
        }
    }

    /// The bytes whose hash an RFC 3161 timestamp's message imprint must be.
    pub(crate) fn timestamped_bytes(&self) -> &[u8] {
        self.timestamped
            .as_deref()
            .unwrap_or_else(|| self.signature())
    }
}

fn version_of(media_type: &str) -> Result<BundleVersion, BundleFormatError> {
    match media_type {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Ok(BundleVersion::V0_1),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Ok(BundleVersion::V0_2),
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
        | "application/vnd.dev.sigstore.bundle.v0.3+json" => Ok(BundleVersion::V0_3),
        _ => Err(BundleFormatError::UnsupportedMediaType {
            found: media_type.to_owned(),
        }),
    }
}

fn material(raw: &RawMaterial, version: BundleVersion) -> Result<Material, BundleFormatError> {
    let present = [
        raw.public_key.as_ref().map(|_| "publicKey"),
        raw.x509_certificate_chain
            .as_ref()
            .map(|_| "x509CertificateChain"),
        raw.certificate.as_ref().map(|_| "certificate"),
    ];
    let mut names = present.iter().flatten();
    if let (Some(first), Some(second)) = (names.next(), names.next()) {
        return Err(BundleFormatError::ConflictingFields { first, second });
    }
    if let Some(key) = &raw.public_key {
        return Ok(Material::PublicKey {
            hint: key.hint.clone(),
        });
    }
    if let Some(certificate) = &raw.certificate {
        let leaf = bytes_field(
            &certificate.raw_bytes,
            "verificationMaterial.certificate.rawBytes",
        )?;
        return Ok(Material::Certificate {
            leaf,
            rest: Vec::new(),
        });
    }
    let Some(chain) = &raw.x509_certificate_chain else {
        return Err(missing(
            "verificationMaterial.publicKey`, `certificate` or `x509CertificateChain",
        ));
    };
    if version == BundleVersion::V0_3 {
        return Err(BundleFormatError::ChainInV03);
    }
    let mut certificates = chain
        .certificates
        .iter()
        .enumerate()
        .map(|(index, certificate)| {
            bytes_field(
                &certificate.raw_bytes,
                &format!(
                    "verificationMaterial.x509CertificateChain.certificates[{index}].rawBytes"
                ),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err(BundleFormatError::EmptyCertificateChain);
    }
    let leaf = certificates.remove(0);
    Ok(Material::Certificate {
        leaf,
        rest: certificates,
    })
}

fn message_content(raw: RawMessageSignature) -> Result<Content, BundleFormatError> {
    let signature = bytes_field(&raw.signature, "messageSignature.signature")?;
    let digest = raw
        .message_digest
        .map(|digest| {
            let algorithm = HashAlgorithm::from_protobuf_name(&digest.algorithm).ok_or(
                BundleFormatError::UnsupportedDigestAlgorithm {
                    found: digest.algorithm.clone(),
                },
            )?;
            Ok((
                algorithm,
                bytes_field(&digest.digest, "messageSignature.messageDigest.digest")?,
            ))
        })
        .transpose()?;
    Ok(Content::Message { digest, signature })
}

fn dsse_content(envelope: Envelope) -> Result<Content, BundleFormatError> {
    if envelope.signatures.len() != 1 {
        return Err(BundleFormatError::DsseSignatureCount {
            count: envelope.signatures.len(),
        });
    }
    let payload = bytes_field(&envelope.payload, "dsseEnvelope.payload")?;
    let signature = bytes_field(
        &envelope.signatures[0].sig,
        "dsseEnvelope.signatures[0].sig",
    )?;
    Ok(Content::Dsse {
        envelope,
        payload,
        signature,
    })
}

fn tlog_entry(raw: RawEntry, index: usize) -> Result<TlogEntry, BundleFormatError> {
    let field = |name: &str| format!("verificationMaterial.tlogEntries[{index}].{name}");
    let kind_version = raw
        .kind_version
        .ok_or_else(|| missing(&field("kindVersion")))?;
    let log_id = raw.log_id.ok_or_else(|| missing(&field("logId")))?;
    let body = raw
        .canonicalized_body
        .ok_or_else(|| missing(&field("canonicalizedBody")))?;
    let integrated_time = match &raw.integrated_time {
        Some(value) => integer(value, &field("integratedTime"))?,
        None => 0,
    };
    let inclusion_proof = raw
        .inclusion_proof
        .map(|proof| {
            let proof_field = |name: &str| field(&format!("inclusionProof.{name}"));
            let hashes = proof
                .hashes
                .iter()
                .enumerate()
                .map(|(position, hash)| {
                    bytes_field(hash, &proof_field(&format!("hashes[{position}]")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, BundleFormatError>(InclusionProof {
                log_index: required_integer(proof.log_index.as_ref(), &proof_field("logIndex"))?,
                root_hash: bytes_field(
                    proof.root_hash.as_deref().unwrap_or_default(),
                    &proof_field("rootHash"),
                )?,
                tree_size: required_integer(proof.tree_size.as_ref(), &proof_field("treeSize"))?,
                hashes,
                checkpoint: proof
                    .checkpoint
                    .map(|checkpoint| checkpoint.envelope)
                    .filter(|envelope| !envelope.is_empty()),
            })
        })
        .transpose()?;
    Ok(TlogEntry {
        log_index: required_integer(raw.log_index.as_ref(), &field("logIndex"))?,
        log_id: bytes_field(&log_id.key_id, &field("logId.keyId"))?,
        kind: kind_version.kind,
        version: kind_version.version,
        // `integer` bounds values to `0..=i64::MAX`, so the conversion cannot fail.
        integrated_time: i64::try_from(integrated_time)
            .ok()
            .filter(|time| *time != 0),
        inclusion_promise: raw
            .inclusion_promise
            .map(|promise| {
                bytes_field(
                    &promise.signed_entry_timestamp,
                    &field("inclusionPromise.signedEntryTimestamp"),
                )
            })
            .transpose()?,
        inclusion_proof,
        body: bytes_field(&body, &field("canonicalizedBody"))?,
    })
}

fn missing(field: &str) -> BundleFormatError {
    BundleFormatError::MissingField {
        field: field.to_owned(),
    }
}

/// Decodes a protobuf JSON `bytes` field. Line breaks are skipped, as Go's protojson does (its
/// `encoding/base64` ignores `\r` and `\n`): bundles edited with the `base64` tool, which wraps
/// at 76 columns, have them.
fn bytes_field(text: &str, field: &str) -> Result<Vec<u8>, BundleFormatError> {
    let unwrapped: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    decode_base64(&unwrapped).map_err(|reason| BundleFormatError::InvalidBase64 {
        field: field.to_owned(),
        reason,
    })
}

/// Reads a protobuf JSON `int64`, written as a decimal string or a number, requiring it to be
/// between 0 and `i64::MAX`.
fn integer(value: &Value, field: &str) -> Result<u64, BundleFormatError> {
    let parsed = match value {
        Value::String(text) => text.parse::<i64>().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    };
    parsed
        .and_then(|number| u64::try_from(number).ok())
        .ok_or_else(|| BundleFormatError::InvalidInteger {
            field: field.to_owned(),
            found: value.to_string(),
        })
}

fn required_integer(value: Option<&Value>, field: &str) -> Result<u64, BundleFormatError> {
    // Protobuf JSON omits zero values, so an absent integer is 0.
    value.map_or(Ok(0), |value| integer(value, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(json: &str) -> Result<Bundle, BundleFormatError> {
        Bundle::from_json(json.as_bytes())
    }

    const MINIMAL: &str = r#"{
      "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
      "verificationMaterial": {
        "publicKey": {"hint": "abc"},
        "tlogEntries": [{
          "logIndex": "7", "logId": {"keyId": "AAAA"},
          "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
          "integratedTime": 1700000000,
          "canonicalizedBody": "e30="
        }]
      },
      "messageSignature": {
        "messageDigest": {"algorithm": "SHA2_256", "digest": "AAAA"},
        "signature": "AAAA"
      }
    }"#;

    #[test]
    fn minimal_bundle_parsed() {
        let parsed = bundle(MINIMAL).unwrap();
        assert_eq!(parsed.version(), BundleVersion::V0_3);
        assert_eq!(parsed.tlog_entries[0].log_index, 7);
        assert_eq!(parsed.tlog_entries[0].integrated_time, Some(1_700_000_000));
        assert_eq!(parsed.tlog_entries[0].body, b"{}");
        assert!(matches!(parsed.material, Material::PublicKey { .. }));
    }

    #[test]
    fn media_types_mapped_to_versions() {
        for (media_type, version) in [
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.1",
                BundleVersion::V0_1,
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.2",
                BundleVersion::V0_2,
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.3",
                BundleVersion::V0_3,
            ),
        ] {
            assert_eq!(version_of(media_type).unwrap(), version);
        }
        assert!(version_of("application/vnd.dev.sigstore.bundle+json;version=99.9").is_err());
    }

    #[test]
    fn negative_log_index_rejected() {
        let error =
            bundle(&MINIMAL.replace(r#""logIndex": "7""#, r#""logIndex": "-1""#)).unwrap_err();
        assert!(
            matches!(error, BundleFormatError::InvalidInteger { ref field, .. } if field.ends_with("logIndex")),
            "{error}"
        );
    }

    #[test]
    fn both_contents_rejected() {
        let text = MINIMAL.replace(
            r#""messageSignature""#,
            r#""dsseEnvelope": {"payload": "", "payloadType": "t", "signatures": []}, "messageSignature""#,
        );
        assert!(matches!(
            bundle(&text).unwrap_err(),
            BundleFormatError::ConflictingFields { .. }
        ));
    }

    #[test]
    fn invalid_base64_names_field() {
        let error = bundle(&MINIMAL.replace(r#""signature": "AAAA""#, r#""signature": "A!A""#))
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`messageSignature.signature` is not valid base64"),
            "{error}"
        );
    }

    #[test]
    fn wrapped_base64_decodes() {
        let parsed =
            bundle(&MINIMAL.replace(r#""signature": "AAAA""#, r#""signature": "AA\nAA\r\n""#))
                .unwrap();
        assert_eq!(parsed.signature(), [0, 0, 0]);
    }

    #[test]
    fn no_tlog_entries_rejected() {
        let start = MINIMAL.find(r#""tlogEntries""#).unwrap();
        let end = MINIMAL
            .find(
                r"]
      },",
            )
            .unwrap();
        let text = format!("{}\"tlogEntries\": [{}", &MINIMAL[..start], &MINIMAL[end..]);
        assert!(matches!(
            bundle(&text).unwrap_err(),
            BundleFormatError::NoTlogEntries
        ));
    }
}
