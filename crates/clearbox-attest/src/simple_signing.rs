//! cosign's signature payload for container images, a "simple signing" JSON document:
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"registry.example/app"},
//!   "image":{"docker-manifest-digest":"sha256:…"},"type":"cosign container image signature"},
//!  "optional":null}
//! ```
//!
//! The layout is the containers/image "atomic signature" format with cosign's type string.
//! `optional` is `null` when there are no annotations, because cosign marshals a nil Go map, and
//! otherwise an object with sorted keys, because Go sorts map keys. The key order of `critical`
//! follows the struct in sigstore's `pkg/signature/payload` package, which cosign uses.
//!
//! Parsing is strict, as the containers/image format description requires: unknown or duplicate
//! members in the top-level object, in `critical` or in its sub-objects reject the payload.
//! `optional` may hold any JSON values (cosign's `-a key=value` writes strings; other signers add
//! numbers such as `timestamp`); duplicate keys there are rejected too.
//!
//! Not done here: comparing the digest and reference with the image being verified. The caller
//! does that with the [`Verified`] payload, because only it knows which image it asked for.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tracing::debug;

use crate::Verified;
use crate::keys::{KeyError, PublicKey, Signature, SigningKey};

/// The value of `critical.type` in a cosign image signature payload.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

/// An error while building, parsing or verifying a simple signing payload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload is not JSON of the expected shape.
    #[error("invalid signature payload: {reason}")]
    InvalidJson {
        /// The JSON error, with its position.
        reason: String,
    },
    /// `critical.type` is not cosign's.
    #[error("signature payload type `{found}` is not `{SIGNATURE_TYPE}`")]
    UnknownType {
        /// The type found.
        found: String,
    },
    /// `critical.image.docker-manifest-digest` is not a SHA-256 digest.
    #[error("invalid manifest digest `{digest}` in signature payload: {reason}")]
    InvalidDigest {
        /// The digest found.
        digest: String,
        /// The reason it is invalid.
        reason: &'static str,
    },
    /// `critical.identity.docker-reference` is not a repository reference.
    #[error("invalid docker-reference `{reference}` in signature payload: {reason}")]
    InvalidReference {
        /// The reference found.
        reference: String,
        /// The reason it is invalid.
        reason: &'static str,
    },
    /// Signing failed, or the signature does not verify.
    #[error("signature payload: {0}")]
    Key(#[from] KeyError),
}

/// A cosign image signature payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    docker_reference: String,
    manifest_digest: String,
    optional: Option<BTreeMap<String, Value>>,
}

/// A payload and its signature, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPayload {
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// The signature over `payload`.
    pub signature: Signature,
}

impl SimpleSigning {
    /// A payload naming the image manifest `manifest_digest` (`sha256:<64 hex>`) in the
    /// repository `docker_reference` (cosign writes the repository without tag, such as
    /// `index.docker.io/library/alpine`).
    pub fn new(
        docker_reference: impl Into<String>,
        manifest_digest: impl Into<String>,
    ) -> Result<Self, PayloadError> {
        let payload = SimpleSigning {
            docker_reference: docker_reference.into(),
            manifest_digest: manifest_digest.into(),
            optional: None,
        };
        payload.validate()?;
        Ok(payload)
    }

    /// Adds a string annotation to `optional`, as `cosign sign -a key=value` does.
    #[must_use]
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.optional
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), Value::String(value.into()));
        self
    }

    /// The repository the signature claims (`critical.identity.docker-reference`).
    #[must_use]
    pub fn docker_reference(&self) -> &str {
        &self.docker_reference
    }

    /// The signed manifest digest (`critical.image.docker-manifest-digest`).
    #[must_use]
    pub fn manifest_digest(&self) -> &str {
        &self.manifest_digest
    }

    /// The `optional` annotations; `None` when the payload has `"optional":null` or none.
    #[must_use]
    pub fn annotations(&self) -> Option<&BTreeMap<String, Value>> {
        self.optional.as_ref()
    }

    /// The compact JSON encoding, with cosign's key order and `"optional":null` convention (see
    /// the module documentation).
    ///
    /// NOTE: an annotation containing `<`, `>` or `&` is written as is, while Go escapes these as
    /// `\u003c` and so on. Both are valid JSON with the same meaning, but the bytes differ.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let wire = Wire {
            critical: Critical {
                identity: Identity {
                    docker_reference: self.docker_reference.clone(),
                },
                image: Image {
                    docker_manifest_digest: self.manifest_digest.clone(),
                },
                signature_type: SIGNATURE_TYPE.to_owned(),
            },
            optional: self.optional.clone().map(UniqueMap),
        };
        // Serialising strings and JSON values into memory cannot fail.
        serde_json::to_vec(&wire)
            .unwrap_or_else(|error| unreachable!("payload serialisation failed: {error}"))
    }

    /// Parses a payload strictly. The result is not verified; use [`verify`] for payloads
    /// fetched from anywhere untrusted.
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|error| PayloadError::InvalidJson {
                reason: error.to_string(),
            })?;
        if wire.critical.signature_type != SIGNATURE_TYPE {
            return Err(PayloadError::UnknownType {
                found: wire.critical.signature_type,
            });
        }
        let payload = SimpleSigning {
            docker_reference: wire.critical.identity.docker_reference,
            manifest_digest: wire.critical.image.docker_manifest_digest,
            optional: wire.optional.map(|map| map.0),
        };
        payload.validate()?;
        Ok(payload)
    }

    /// Serialises the payload and signs the bytes with `key`.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedPayload, PayloadError> {
        let payload = self.to_json();
        let signature = key.sign(&payload)?;
        Ok(SignedPayload { payload, signature })
    }

    fn validate(&self) -> Result<(), PayloadError> {
        check_digest(&self.manifest_digest).map_err(|reason| PayloadError::InvalidDigest {
            digest: self.manifest_digest.clone(),
            reason,
        })?;
        check_reference(&self.docker_reference).map_err(|reason| PayloadError::InvalidReference {
            reference: self.docker_reference.clone(),
            reason,
        })
    }
}

/// Verifies `signature` (DER, or raw `r‖s`) over the exact `payload` bytes with `key`, then
/// parses the payload.
///
/// Checks, in order:
/// 1. the signature verifies over the payload bytes (nothing is parsed before this passes, as the
///    containers/image format description requires);
/// 2. the payload is strict JSON of the expected shape with cosign's type;
/// 3. the digest and reference are well-formed.
pub fn verify(
    payload: &[u8],
    signature: &[u8],
    key: &PublicKey,
) -> Result<Verified<SimpleSigning>, PayloadError> {
    // 1. Signature over the bytes.
    key.verify(payload, signature)?;
    debug!(fingerprint = %key.fingerprint(), "simple signing: signature verified");

    // 2-3. Shape, type, digest, reference.
    let parsed = SimpleSigning::parse(payload)?;
    debug!(digest = %parsed.manifest_digest, "simple signing: payload parsed");
    Ok(Verified::new(parsed))
}

fn check_digest(digest: &str) -> Result<(), &'static str> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Err("only `sha256:` digests are supported");
    };
    if hex.len() != 64 {
        return Err("a sha256 digest has 64 hexadecimal digits");
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("digits must be lowercase hexadecimal");
    }
    Ok(())
}

fn check_reference(reference: &str) -> Result<(), &'static str> {
    if reference.is_empty() {
        return Err("it is empty");
    }
    if reference
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("it contains whitespace or control characters");
    }
    if reference.contains('@') {
        return Err("the digest belongs in `docker-manifest-digest`, not in the reference");
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    critical: Critical,
    #[serde(default)]
    optional: Option<UniqueMap>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    signature_type: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// A JSON object whose keys are unique; a repeated key is an error rather than last-one-wins.
#[derive(Serialize)]
#[serde(transparent)]
struct UniqueMap(BTreeMap<String, Value>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueMapVisitor;

        impl<'de> Visitor<'de> for UniqueMapVisitor {
            type Value = UniqueMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of annotations")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueMap, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&key) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate annotation `{key}`"
                        )));
                    }
                    map.insert(key, value);
                }
                Ok(UniqueMap(map))
            }
        }

        deserializer.deserialize_map(UniqueMapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    fn payload_with(critical_extra: &str, top_extra: &str) -> String {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"example.com/app"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"{critical_extra}}},"optional":null{top_extra}}}"#
        )
    }

    fn json_error(text: &str) -> String {
        match SimpleSigning::parse(text.as_bytes()) {
            Err(PayloadError::InvalidJson { reason }) => reason,
            other => panic!("expected InvalidJson, got {other:?}"),
        }
    }

    #[test]
    fn no_annotations_writes_null() {
        let payload = SimpleSigning::new("example.com/app", DIGEST).unwrap();
        assert_eq!(
            String::from_utf8(payload.to_json()).unwrap(),
            payload_with("", "")
        );
    }

    #[test]
    fn annotations_sorted() {
        let payload = SimpleSigning::new("example.com/app", DIGEST)
            .unwrap()
            .with_annotation("z", "last")
            .with_annotation("a", "first");
        let text = String::from_utf8(payload.to_json()).unwrap();
        assert!(
            text.ends_with(r#""optional":{"a":"first","z":"last"}}"#),
            "{text}"
        );
    }

    #[test]
    fn round_trip() {
        let payload = SimpleSigning::new("example.com/app", DIGEST)
            .unwrap()
            .with_annotation("team", "ml");
        assert_eq!(SimpleSigning::parse(&payload.to_json()).unwrap(), payload);
    }

    #[test]
    fn optional_absent_or_object_accepted() {
        let absent = payload_with("", "").replace(r#","optional":null"#, "");
        assert_eq!(
            SimpleSigning::parse(absent.as_bytes())
                .unwrap()
                .annotations(),
            None
        );
        let numbers = payload_with("", "").replace("null", r#"{"timestamp":1458239713}"#);
        let parsed = SimpleSigning::parse(numbers.as_bytes()).unwrap();
        assert_eq!(parsed.annotations().unwrap()["timestamp"], 1_458_239_713);
    }

    #[test]
    fn unknown_type_rejected() {
        let text = payload_with("", "").replace(SIGNATURE_TYPE, "atomic container signature");
        let error = SimpleSigning::parse(text.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "signature payload type `atomic container signature` is not `cosign container image \
             signature`"
        );
    }

    #[test]
    fn unknown_critical_member_rejected() {
        let reason = json_error(&payload_with(r#","expires":1"#, ""));
        assert!(reason.starts_with("unknown field `expires`"), "{reason}");
    }

    #[test]
    fn unknown_top_level_member_rejected() {
        let reason = json_error(&payload_with("", r#","extra":{}"#));
        assert!(reason.starts_with("unknown field `extra`"), "{reason}");
    }

    #[test]
    fn unknown_image_member_rejected() {
        let text = payload_with("", "").replace(
            r#""docker-manifest-digest""#,
            r#""docker-manifest-size":1,"docker-manifest-digest""#,
        );
        assert!(json_error(&text).starts_with("unknown field `docker-manifest-size`"));
    }

    #[test]
    fn duplicate_critical_rejected() {
        let single = payload_with("", "");
        let critical = &single[1..single.find(r#","optional""#).unwrap()];
        let text = single.replacen(r#"{"critical""#, &format!(r#"{{{critical},"critical""#), 1);
        assert!(
            json_error(&text).starts_with("duplicate field `critical`"),
            "{}",
            json_error(&text)
        );
    }

    #[test]
    fn duplicate_annotation_rejected() {
        let text = payload_with("", "").replace("null", r#"{"a":"1","a":"2"}"#);
        assert!(
            json_error(&text).starts_with("duplicate annotation `a`"),
            "{}",
            json_error(&text)
        );
    }

    #[test]
    fn missing_type_rejected() {
        let text =
            payload_with("", "").replace(r#","type":"cosign container image signature""#, "");
        assert!(
            json_error(&text).starts_with("missing field `type`"),
            "{}",
            json_error(&text)
        );
    }

    #[test]
    fn optional_must_be_object() {
        let text = payload_with("", "").replace("null", "[]");
        assert!(
            json_error(&text).starts_with("invalid type: sequence"),
            "{}",
            json_error(&text)
        );
    }

    #[test]
    fn bad_digests_rejected() {
        for (digest, reason) in [
            ("sha512:00", "only `sha256:` digests are supported"),
            ("sha256:abc", "a sha256 digest has 64 hexadecimal digits"),
            (
                "sha256:D34DB33FD34DB33FD34DB33FD34DB33FD34DB33FD34DB33FD34DB33FD34DB33F",
                "digits must be lowercase hexadecimal",
            ),
        ] {
            let text = payload_with("", "").replace(DIGEST, digest);
            match SimpleSigning::parse(text.as_bytes()) {
                Err(PayloadError::InvalidDigest { reason: found, .. }) => {
                    assert_eq!(found, reason, "{digest}");
                }
                other => panic!("expected InvalidDigest for {digest}, got {other:?}"),
            }
        }
    }

    #[test]
    fn bad_references_rejected() {
        for reference in ["", "example.com/app@sha256:00", "example.com/a pp"] {
            let error = SimpleSigning::new(reference, DIGEST).unwrap_err();
            assert!(
                matches!(error, PayloadError::InvalidReference { .. }),
                "{reference}"
            );
        }
    }

    #[test]
    fn verify_checks_signature_before_parsing() {
        let key = SigningKey::generate();
        let garbage = b"not json at all";
        let signature = SigningKey::generate().sign(garbage).unwrap();
        let error = verify(garbage, &signature.to_der(), &key.public_key()).unwrap_err();
        assert!(
            matches!(error, PayloadError::Key(KeyError::SignatureMismatch)),
            "{error:?}"
        );
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::generate();
        let payload = SimpleSigning::new("example.com/app", DIGEST).unwrap();
        let signed = payload.sign(&key).unwrap();
        let verified = verify(
            &signed.payload,
            &signed.signature.to_der(),
            &key.public_key(),
        )
        .unwrap();
        assert_eq!(*verified.get(), payload);
    }
}
