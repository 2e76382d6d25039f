//! DSSE: the specification's test vector, tampered envelopes, and real envelopes from
//! slsa-github-generator and in-toto-golang.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_attest::dsse::{self, DsseError, Envelope, EnvelopeSignature, pae};
use clearbox_attest::intoto::{self, PredicateType, Statement, StatementVersion, Subject};
use clearbox_attest::keys::{KeyError, Password};
use clearbox_attest::{PublicKey, Signature, SigningKey};
use serde_json::{Value, json};

use crate::attest_corpus;

/// A big-endian 32-byte integer from its decimal digits.
fn decimal_to_32_bytes(decimal: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for digit in decimal.bytes() {
        let mut carry = u32::from(digit - b'0');
        for byte in bytes.iter_mut().rev() {
            let value = u32::from(*byte) * 10 + carry;
            *byte = (value & 0xff) as u8;
            carry = value >> 8;
        }
        assert_eq!(carry, 0, "the number does not fit in 32 bytes");
    }
    bytes
}

/// A SEC1 `EC PRIVATE KEY` PEM for the P-256 scalar `d`.
fn sec1_pem(d: &[u8; 32]) -> String {
    // SEQUENCE { INTEGER 1, OCTET STRING d, [0] { OID prime256v1 } }
    let mut der = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    der.extend_from_slice(d);
    der.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    format!(
        "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
        STANDARD.encode(der)
    )
}

fn no_password() -> Result<Password, KeyError> {
    panic!("the password must not be requested for an unencrypted key")
}

/// The vector transcribed from the DSSE specification's `protocol.md`.
#[test]
fn protocol_vector() {
    let Some(path) = attest_corpus("dsse/protocol-test-vector.json") else {
        return;
    };
    let vector: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let payload_type = vector["payload_type"].as_str().unwrap();
    let body = vector["serialized_body"].as_str().unwrap().as_bytes();

    // PAE, byte for byte.
    assert_eq!(
        pae(payload_type, body),
        vector["pae"].as_str().unwrap().as_bytes()
    );

    // The key from its decimal components.
    let key = SigningKey::from_pem(
        &sec1_pem(&decimal_to_32_bytes(vector["key"]["d"].as_str().unwrap())),
        no_password,
    )
    .unwrap();
    let mut point = vec![0x04];
    point.extend_from_slice(&decimal_to_32_bytes(vector["key"]["x"].as_str().unwrap()));
    point.extend_from_slice(&decimal_to_32_bytes(vector["key"]["y"].as_str().unwrap()));
    let public = PublicKey::from_sec1_bytes(&point).unwrap();
    assert_eq!(key.public_key(), public);

    // RFC 6979 signing over SHA-256(PAE) reproduces the vector's raw r‖s signature exactly.
    let envelope = dsse::sign(payload_type, body, &key).unwrap();
    assert_eq!(
        envelope.payload,
        vector["envelope"]["payload"].as_str().unwrap()
    );
    let ours = Signature::from_der(&STANDARD.decode(&envelope.signatures[0].sig).unwrap()).unwrap();
    assert_eq!(
        STANDARD.encode(ours.to_raw()),
        vector["envelope"]["signatures"][0]["sig"].as_str().unwrap()
    );

    // The vector's envelope (raw r‖s signature, no keyid) verifies.
    let theirs = Envelope::from_json(vector["envelope"].to_string().as_bytes()).unwrap();
    let verified = dsse::verify(&theirs, &public, Some(payload_type)).unwrap();
    assert_eq!(verified.body(), b"hello world");
    assert_eq!(verified.payload_type(), payload_type);
}

/// A signed in-toto envelope and the key that signed it.
fn signed_envelope() -> (Envelope, SigningKey) {
    let key = SigningKey::generate();
    let statement = Statement::new(
        vec![Subject::sha256("app", &"ab".repeat(32))],
        &PredicateType::CycloneDx,
        json!({"bomFormat": "CycloneDX"}),
    )
    .unwrap();
    (statement.sign(&key).unwrap(), key)
}

fn verify_error(envelope: &Envelope, key: &PublicKey, expected: Option<&str>) -> DsseError {
    dsse::verify(envelope, key, expected).unwrap_err()
}

#[test]
fn untampered_envelope_verifies() {
    let (envelope, key) = signed_envelope();
    let statement = Statement::from_verified(
        dsse::verify(&envelope, &key.public_key(), Some(intoto::PAYLOAD_TYPE)).unwrap(),
    )
    .unwrap();
    assert_eq!(statement.version(), StatementVersion::V1);
    assert_eq!(statement.predicate_type(), "https://cyclonedx.org/bom");
}

#[test]
fn changed_payload_rejected() {
    let (mut envelope, key) = signed_envelope();
    let mut body = STANDARD.decode(&envelope.payload).unwrap();
    let position = body.iter().position(|&b| b == b'C').unwrap();
    body[position] = b'c';
    envelope.payload = STANDARD.encode(body);
    let error = verify_error(&envelope, &key.public_key(), None);
    assert!(
        matches!(error, DsseError::SignatureMismatch { count: 1, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "none of the envelope's 1 signature(s) verifies with the public key {}",
            key.public_key().fingerprint()
        )
    );
}

#[test]
fn flipped_signature_byte_rejected() {
    let (mut envelope, key) = signed_envelope();
    let mut signature = STANDARD.decode(&envelope.signatures[0].sig).unwrap();
    // The last byte belongs to `s`, so the DER stays well-formed and only the value changes.
    *signature.last_mut().unwrap() ^= 0x01;
    envelope.signatures[0].sig = STANDARD.encode(signature);
    let error = verify_error(&envelope, &key.public_key(), None);
    assert!(
        matches!(error, DsseError::SignatureMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn swapped_payload_type_rejected() {
    let (mut envelope, key) = signed_envelope();
    envelope.payload_type = "application/vnd.example+json".to_owned();

    // With an expected type the mismatch is reported as such.
    let error = verify_error(&envelope, &key.public_key(), Some(intoto::PAYLOAD_TYPE));
    assert_eq!(
        error.to_string(),
        "DSSE payload type is `application/vnd.example+json`, expected \
         `application/vnd.in-toto+json`"
    );

    // Without one, the signature still fails because the type is part of the PAE.
    let error = verify_error(&envelope, &key.public_key(), None);
    assert!(
        matches!(error, DsseError::SignatureMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn wrong_key_rejected() {
    let (envelope, _) = signed_envelope();
    let other = SigningKey::generate().public_key();
    let error = verify_error(&envelope, &other, Some(intoto::PAYLOAD_TYPE));
    assert!(
        matches!(error, DsseError::SignatureMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn signature_over_bare_payload_rejected() {
    let key = SigningKey::generate();
    let body = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let envelope = Envelope {
        payload_type: intoto::PAYLOAD_TYPE.to_owned(),
        payload: STANDARD.encode(body),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: key.sign(body).unwrap().to_base64(),
        }],
    };
    let error = verify_error(&envelope, &key.public_key(), None);
    assert!(
        matches!(error, DsseError::SignatureMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn no_signatures_rejected() {
    let (mut envelope, key) = signed_envelope();
    envelope.signatures.clear();
    let error = verify_error(&envelope, &key.public_key(), None);
    assert_eq!(error.to_string(), "the DSSE envelope has no signatures");
}

#[test]
fn bad_payload_base64_rejected() {
    let (mut envelope, key) = signed_envelope();
    envelope.payload.insert(4, '!');
    let error = verify_error(&envelope, &key.public_key(), None);
    assert!(
        matches!(error, DsseError::InvalidPayloadEncoding { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("the DSSE payload is not valid base64: "),
        "{error}"
    );
}

#[test]
fn bad_signature_base64_rejected() {
    let (mut envelope, key) = signed_envelope();
    envelope.signatures.push(EnvelopeSignature {
        keyid: "second".to_owned(),
        sig: "@@@".to_owned(),
    });
    let error = verify_error(&envelope, &key.public_key(), None);
    assert!(
        matches!(error, DsseError::InvalidSignatureEncoding { index: 1, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("DSSE signature 1 is not valid base64: "),
        "{error}"
    );
}

#[test]
fn second_signature_may_be_the_valid_one() {
    let (mut envelope, key) = signed_envelope();
    let other = SigningKey::generate();
    let payload = STANDARD.decode(&envelope.payload).unwrap();
    let foreign = other.sign(&pae(&envelope.payload_type, &payload)).unwrap();
    envelope.signatures.insert(
        0,
        EnvelopeSignature {
            keyid: "other".to_owned(),
            sig: foreign.to_base64(),
        },
    );
    let verified = dsse::verify(&envelope, &key.public_key(), None).unwrap();
    assert_eq!(verified.signature_index(), 1);
}

#[test]
fn url_safe_unpadded_encoding_accepted() {
    let (mut envelope, key) = signed_envelope();
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    envelope.payload = url_safe.encode(STANDARD.decode(&envelope.payload).unwrap());
    envelope.signatures[0].sig =
        url_safe.encode(STANDARD.decode(&envelope.signatures[0].sig).unwrap());
    dsse::verify(&envelope, &key.public_key(), None).unwrap();
}

#[test]
fn non_in_toto_payload_rejected() {
    let key = SigningKey::generate();
    let envelope = dsse::sign("application/vnd.example+json", b"{}", &key).unwrap();
    let payload = dsse::verify(&envelope, &key.public_key(), None).unwrap();
    let error = Statement::from_verified(payload).unwrap_err();
    assert_eq!(
        error.to_string(),
        "DSSE payload type `application/vnd.example+json` is not `application/vnd.in-toto+json`"
    );
}

/// slsa-github-generator's provenance envelopes (keyless, so only parsed here): v0.1 statements
/// with SLSA v0.2 predicates.
#[test]
fn slsa_github_generator_envelope_read() {
    let Some(path) = attest_corpus(
        "slsa-verifier/cli-testdata/gha_go/v0.0.2/binary-linux-amd64-push-v14.2.intoto.jsonl",
    ) else {
        return;
    };
    let envelope = Envelope::from_json(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(envelope.payload_type, intoto::PAYLOAD_TYPE);
    assert_eq!(envelope.signatures.len(), 1);
    let statement = Statement::from_json(&STANDARD.decode(&envelope.payload).unwrap()).unwrap();
    assert_eq!(statement.version(), StatementVersion::V0_1);
    assert_eq!(
        PredicateType::from_uri(statement.predicate_type()),
        PredicateType::SlsaProvenanceV02
    );
    assert_eq!(statement.subjects()[0].name, "binary-linux-amd64");
    assert!(
        statement
            .subject_with_sha256("901f6fde2e902b3b3dcfda5d97fadc95876a2ff9f197ad10cee894669ac0c4cd")
            .is_some()
    );
    assert_eq!(
        statement.predicate()["builder"]["id"],
        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/heads/main"
    );
}
