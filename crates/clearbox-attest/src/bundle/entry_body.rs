//! The canonicalized body of a transparency log entry, compared with what the bundle claims
//! was logged. Without this comparison a valid entry for some other signature could vouch for
//! the bundle.
//!
//! | kind / version | log | what must match |
//! |---|---|---|
//! | `hashedrekord` 0.0.1 | Rekor v1 | artifact digest (hex), signature, signer PEM (certificate or key) |
//! | `hashedrekord` 0.0.2 | Rekor v2 | artifact digest, or `H(PAE(type, payload))` for a DSSE bundle; signature; signer DER |
//! | `dsse` 0.0.1 | Rekor v1 | payload hash, the one signature and its signer PEM |
//! | `dsse` 0.0.2 | Rekor v2 | payload hash, the one signature and its signer DER |
//! | `intoto` 0.0.2 | Rekor v1 | payload type, payload when logged, payload hash, the one signature and its signer PEM |
//!
//! Not recomputed: the `envelopeHash` of `dsse` 0.0.1 and the `hash` of `intoto` 0.0.2, which
//! Rekor computes over its own serialization of the envelope. The payload and signature they
//! cover are compared directly.

use serde_json::Value;

use super::key::HashAlgorithm;
use super::model::Content;
use crate::dsse::{decode_base64, pae};
use crate::keys::pem;

/// What signed the bundle, as the entry must record it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signer<'a> {
    /// The DER signing certificate.
    Certificate(&'a [u8]),
    /// The DER `SubjectPublicKeyInfo` of the key the verifier supplied.
    Key(&'a [u8]),
    /// A key bundle verified without a key: nothing to compare against.
    Unknown,
}

/// Digests of the artifact the bundle is verified against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArtifactDigests<'a> {
    pub(crate) sha256: [u8; 32],
    pub(crate) bytes: Option<&'a [u8]>,
}

impl ArtifactDigests<'_> {
    /// The digest with `algorithm`, when it can be computed: SHA-256 always, the others only
    /// from the artifact's bytes.
    pub(crate) fn digest(&self, algorithm: HashAlgorithm) -> Option<Vec<u8>> {
        match (algorithm, self.bytes) {
            (HashAlgorithm::Sha256, _) => Some(self.sha256.to_vec()),
            (_, Some(bytes)) => Some(algorithm.digest(bytes)),
            (_, None) => None,
        }
    }
}

/// What the bundle claims, for comparison with the entry body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Claimed<'a> {
    pub(crate) content: &'a Content,
    pub(crate) signer: Signer<'a>,
    pub(crate) artifact: ArtifactDigests<'a>,
}

/// Why an entry body does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyProblem {
    /// The entry kind and version are not one of the table above.
    Unsupported,
    /// The body is not the JSON its kind prescribes.
    Malformed(String),
    /// A field differs from the bundle.
    Mismatch(String),
}

/// Checks that the body of an entry of `kind` and `version` records `claimed`.
pub(crate) fn check(
    kind: &str,
    version: &str,
    body: &[u8],
    claimed: &Claimed<'_>,
) -> Result<(), BodyProblem> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|error| BodyProblem::Malformed(format!("the body is not JSON: {error}")))?;
    let body_kind = text(&json, &["kind"])?;
    let body_version = text(&json, &["apiVersion"])?;
    if body_kind != kind || body_version != version {
        return Err(BodyProblem::Mismatch(format!(
            "the entry declares {kind} {version} but its body is {body_kind} {body_version}"
        )));
    }
    let spec = field(&json, &["spec"])?;
    match (kind, version) {
        ("hashedrekord", "0.0.1") => hashedrekord_v001(spec, claimed),
        ("hashedrekord", "0.0.2") => {
            hashedrekord_v002(field(spec, &["hashedRekordV002"])?, claimed)
        }
        ("dsse", "0.0.1") => dsse_v001(spec, claimed),
        ("dsse", "0.0.2") => dsse_v002(field(spec, &["dsseV002"])?, claimed),
        ("intoto", "0.0.2") => intoto_v002(field(spec, &["content"])?, claimed),
        _ => Err(BodyProblem::Unsupported),
    }
}

fn hashedrekord_v001(spec: &Value, claimed: &Claimed<'_>) -> Result<(), BodyProblem> {
    let Content::Message { signature, .. } = claimed.content else {
        return Err(mismatch(
            "a hashedrekord entry records a message signature, not a DSSE envelope",
        ));
    };
    let algorithm = text(spec, &["data", "hash", "algorithm"])?;
    let algorithm = rekor_v1_hash(algorithm)?;
    let logged = text(spec, &["data", "hash", "value"])?;
    let artifact = artifact_digest(claimed, algorithm)?;
    if !logged.eq_ignore_ascii_case(&hex::encode(&artifact)) {
        return Err(mismatch(&format!(
            "the entry records the artifact digest {}:{logged}, the artifact's is {}",
            algorithm.name(),
            hex::encode(&artifact)
        )));
    }
    compare_signature(&base64_field(spec, &["signature", "content"])?, signature)?;
    compare_pem(
        &base64_field(spec, &["signature", "publicKey", "content"])?,
        claimed.signer,
    )
}

fn hashedrekord_v002(spec: &Value, claimed: &Claimed<'_>) -> Result<(), BodyProblem> {
    let algorithm = HashAlgorithm::from_protobuf_name(text(spec, &["data", "algorithm"])?)
        .ok_or_else(|| BodyProblem::Malformed("unknown digest algorithm".to_owned()))?;
    let logged = base64_field(spec, &["data", "digest"])?;
    let (expected, what) = match claimed.content {
        Content::Message { .. } => (artifact_digest(claimed, algorithm)?, "artifact digest"),
        Content::Dsse {
            envelope, payload, ..
        } => (
            algorithm.digest(&pae(&envelope.payload_type, payload)),
            "digest of the DSSE envelope's PAE",
        ),
    };
    if logged != expected {
        return Err(mismatch(&format!(
            "the entry records {}, the bundle's {what} is {}",
            hex::encode(&logged),
            hex::encode(&expected)
        )));
    }
    let signature = field(spec, &["signature"])?;
    compare_signature(
        &base64_field(signature, &["content"])?,
        claimed_signature(claimed),
    )?;
    compare_verifier(field(signature, &["verifier"])?, claimed.signer)
}

fn dsse_v001(spec: &Value, claimed: &Claimed<'_>) -> Result<(), BodyProblem> {
    let Content::Dsse {
        payload, signature, ..
    } = claimed.content
    else {
        return Err(mismatch(
            "a dsse entry records a DSSE envelope, not a message signature",
        ));
    };
    let algorithm = rekor_v1_hash(text(spec, &["payloadHash", "algorithm"])?)?;
    let logged = text(spec, &["payloadHash", "value"])?;
    let actual = hex::encode(algorithm.digest(payload));
    if !logged.eq_ignore_ascii_case(&actual) {
        return Err(mismatch(&format!(
            "the entry records the payload hash {logged}, the envelope's payload hashes to {actual}"
        )));
    }
    let signatures = one_signature(spec)?;
    compare_signature(&base64_field(signatures, &["signature"])?, signature)?;
    compare_pem(&base64_field(signatures, &["verifier"])?, claimed.signer)
}

fn dsse_v002(spec: &Value, claimed: &Claimed<'_>) -> Result<(), BodyProblem> {
    let Content::Dsse {
        payload, signature, ..
    } = claimed.content
    else {
        return Err(mismatch(
            "a dsse entry records a DSSE envelope, not a message signature",
        ));
    };
    let algorithm =
        HashAlgorithm::from_protobuf_name(text(spec, &["payloadHash", "algorithm"])?)
            .ok_or_else(|| BodyProblem::Malformed("unknown payload hash algorithm".to_owned()))?;
    if base64_field(spec, &["payloadHash", "digest"])? != algorithm.digest(payload) {
        return Err(mismatch("the entry records a different payload hash"));
    }
    let logged = one_signature(spec)?;
    compare_signature(&base64_field(logged, &["content"])?, signature)?;
    compare_verifier(field(logged, &["verifier"])?, claimed.signer)
}

fn intoto_v002(content: &Value, claimed: &Claimed<'_>) -> Result<(), BodyProblem> {
    let Content::Dsse {
        envelope,
        payload,
        signature,
    } = claimed.content
    else {
        return Err(mismatch(
            "an intoto entry records a DSSE envelope, not a message signature",
        ));
    };

    // Payload. Many Rekor entries leave it out of the body (slsa-github-generator's do), and
    // the payload hash binds it either way. Rekor stores the envelope's base64 fields
    // base64-encoded once more.
    let logged = field(content, &["envelope"])?;
    if text(logged, &["payloadType"])? != envelope.payload_type {
        return Err(mismatch("the entry records a different payload type"));
    }
    if logged.get("payload").is_some() && twice_decoded(logged, &["payload"])? != *payload {
        return Err(mismatch("the entry records a different payload"));
    }
    let algorithm = rekor_v1_hash(text(content, &["payloadHash", "algorithm"])?)?;
    let hash = text(content, &["payloadHash", "value"])?;
    if !hash.eq_ignore_ascii_case(&hex::encode(algorithm.digest(payload))) {
        return Err(mismatch("the entry records a different payload hash"));
    }

    // Signature and signer.
    let logged_signature = one_signature(logged)?;
    compare_signature(&twice_decoded(logged_signature, &["sig"])?, signature)?;
    compare_pem(
        &base64_field(logged_signature, &["publicKey"])?,
        claimed.signer,
    )
}

fn claimed_signature<'a>(claimed: &Claimed<'a>) -> &'a [u8] {
    match claimed.content {
        Content::Message { signature, .. } | Content::Dsse { signature, .. } => signature,
    }
}

fn artifact_digest(
    claimed: &Claimed<'_>,
    algorithm: HashAlgorithm,
) -> Result<Vec<u8>, BodyProblem> {
    claimed.artifact.digest(algorithm).ok_or_else(|| {
        mismatch(&format!(
            "the entry records a {} digest; only the artifact's SHA-256 digest is known",
            algorithm.name()
        ))
    })
}

fn compare_signature(logged: &[u8], bundle: &[u8]) -> Result<(), BodyProblem> {
    if logged == bundle {
        Ok(())
    } else {
        Err(mismatch("the entry records a different signature"))
    }
}

/// Compares a PEM certificate or public key from a Rekor v1 body with the signer.
fn compare_pem(pem_bytes: &[u8], signer: Signer<'_>) -> Result<(), BodyProblem> {
    let text = std::str::from_utf8(pem_bytes)
        .map_err(|_| BodyProblem::Malformed("the logged signer is not PEM text".to_owned()))?;
    let blocks = pem::decode_all(text).map_err(|reason| {
        BodyProblem::Malformed(format!("the logged signer is not PEM: {reason}"))
    })?;
    let [block] = blocks.as_slice() else {
        return Err(BodyProblem::Malformed(format!(
            "the logged signer has {} PEM blocks, not one",
            blocks.len()
        )));
    };
    let matches = match (block.label.as_str(), signer) {
        ("CERTIFICATE", Signer::Certificate(der)) | ("PUBLIC KEY", Signer::Key(der)) => {
            block.der.as_slice() == der
        }
        (_, Signer::Unknown) => true,
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(mismatch(&format!(
            "the entry records a different signer (a `{}` PEM block)",
            block.label
        )))
    }
}

/// Compares a Rekor v2 `verifier` (`x509Certificate` or `publicKey` raw bytes) with the signer.
fn compare_verifier(verifier: &Value, signer: Signer<'_>) -> Result<(), BodyProblem> {
    let logged = if verifier.get("x509Certificate").is_some() {
        (
            true,
            base64_field(verifier, &["x509Certificate", "rawBytes"])?,
        )
    } else {
        (false, base64_field(verifier, &["publicKey", "rawBytes"])?)
    };
    let matches = match (logged, signer) {
        ((true, der), Signer::Certificate(expected)) | ((false, der), Signer::Key(expected)) => {
            der == expected
        }
        (_, Signer::Unknown) => true,
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(mismatch("the entry records a different signer"))
    }
}

/// The one element of `signatures`: bundles carry one signature, so the entry must too.
fn one_signature(spec: &Value) -> Result<&Value, BodyProblem> {
    let signatures = field(spec, &["signatures"])?
        .as_array()
        .ok_or_else(|| BodyProblem::Malformed("`signatures` is not an array".to_owned()))?;
    match signatures.as_slice() {
        [only] => Ok(only),
        _ => Err(mismatch(&format!(
            "the entry records {} signatures; the bundle's envelope has one",
            signatures.len()
        ))),
    }
}

fn rekor_v1_hash(name: &str) -> Result<HashAlgorithm, BodyProblem> {
    match name {
        "sha256" => Ok(HashAlgorithm::Sha256),
        "sha384" => Ok(HashAlgorithm::Sha384),
        "sha512" => Ok(HashAlgorithm::Sha512),
        other => Err(BodyProblem::Malformed(format!(
            "unknown hash algorithm `{other}`"
        ))),
    }
}

fn field<'a>(value: &'a Value, path: &[&str]) -> Result<&'a Value, BodyProblem> {
    path.iter()
        .try_fold(value, |value, name| value.get(name))
        .ok_or_else(|| BodyProblem::Malformed(format!("the body has no `{}`", path.join("."))))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Result<&'a str, BodyProblem> {
    field(value, path)?
        .as_str()
        .ok_or_else(|| BodyProblem::Malformed(format!("`{}` is not a string", path.join("."))))
}

fn base64_field(value: &Value, path: &[&str]) -> Result<Vec<u8>, BodyProblem> {
    decode_base64(text(value, path)?).map_err(|reason| {
        BodyProblem::Malformed(format!(
            "`{}` is not valid base64: {reason}",
            path.join(".")
        ))
    })
}

fn twice_decoded(value: &Value, path: &[&str]) -> Result<Vec<u8>, BodyProblem> {
    let once = base64_field(value, path)?;
    let inner = std::str::from_utf8(&once).map_err(|_| {
        BodyProblem::Malformed(format!("`{}` does not hold base64 text", path.join(".")))
    })?;
    decode_base64(inner).map_err(|reason| {
        BodyProblem::Malformed(format!(
            "`{}` does not hold base64: {reason}",
            path.join(".")
        ))
    })
}

fn mismatch(detail: &str) -> BodyProblem {
    BodyProblem::Mismatch(detail.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn message(signature: &[u8]) -> Content {
        Content::Message {
            digest: None,
            signature: signature.to_vec(),
        }
    }

    fn body(digest_hex: &str, signature: &[u8], key_der: &[u8]) -> Vec<u8> {
        let pem = pem::encode("PUBLIC KEY", key_der);
        serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
                "signature": {
                    "content": STANDARD.encode(signature),
                    "publicKey": {"content": STANDARD.encode(pem)}
                }
            }
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn hashedrekord_v001_matches_and_mismatches() {
        let content = message(b"sig");
        let claimed = Claimed {
            content: &content,
            signer: Signer::Key(b"key"),
            artifact: ArtifactDigests {
                sha256: [0xab; 32],
                bytes: None,
            },
        };
        let good = body(&"ab".repeat(32), b"sig", b"key");
        check("hashedrekord", "0.0.1", &good, &claimed).unwrap();

        let other_digest = body(&"cd".repeat(32), b"sig", b"key");
        assert!(matches!(
            check("hashedrekord", "0.0.1", &other_digest, &claimed),
            Err(BodyProblem::Mismatch(_))
        ));
        let other_key = body(&"ab".repeat(32), b"sig", b"other key");
        assert!(matches!(
            check("hashedrekord", "0.0.1", &other_key, &claimed),
            Err(BodyProblem::Mismatch(_))
        ));
        assert!(matches!(
            check("hashedrekord", "0.0.2", &good, &claimed),
            Err(BodyProblem::Mismatch(_))
        ));
        assert_eq!(
            check(
                "rekord",
                "0.0.1",
                br#"{"kind":"rekord","apiVersion":"0.0.1","spec":{}}"#,
                &claimed
            ),
            Err(BodyProblem::Unsupported)
        );
    }
}
