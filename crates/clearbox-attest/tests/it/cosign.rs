//! Interoperability with cosign 2.5 and skopeo 1.18: each side reads the other's keys and
//! verifies the other's signatures and attestations. Everything runs offline (`--tlog-upload=false`,
//! `--insecure-ignore-tlog`).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_attest::dsse::{self, Envelope};
use clearbox_attest::intoto::{self, PredicateType, Statement, StatementVersion, Subject};
use clearbox_attest::keys::{KeyError, Password, generate_key_pair};
use clearbox_attest::{PublicKey, SigningKey};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{run_failing, run_ok, tool, write};

const PASSWORD: &str = "correct horse";

/// `cosign generate-key-pair` in `dir` with `password`: (`cosign.key`, `cosign.pub`).
fn cosign_key_pair(cosign: &Path, dir: &Path, password: &str) -> (PathBuf, PathBuf) {
    run_ok(
        Command::new(cosign)
            .current_dir(dir)
            .env("COSIGN_PASSWORD", password)
            .args(["generate-key-pair", "--output-key-prefix", "cosign"]),
    );
    (dir.join("cosign.key"), dir.join("cosign.pub"))
}

/// The JSON inside the encrypted key's PEM body.
fn encrypted_key_json(path: &Path) -> (String, serde_json::Value) {
    let text = std::fs::read_to_string(path).unwrap();
    let label = text.lines().next().unwrap().to_owned();
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let json = serde_json::from_slice(&STANDARD.decode(body).unwrap()).unwrap();
    (label, json)
}

#[test]
fn cosign_key_read() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = cosign_key_pair(&cosign, dir.path(), PASSWORD);

    // The format cosign 2.5 writes, which our writer copies.
    let (label, json) = encrypted_key_json(&private);
    assert_eq!(label, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----");
    assert_eq!(json["kdf"]["params"], json!({"N": 65536, "r": 8, "p": 1}));
    assert_eq!(json["kdf"]["name"], "scrypt");
    assert_eq!(json["cipher"]["name"], "nacl/secretbox");
    assert_eq!(
        STANDARD
            .decode(json["kdf"]["salt"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert_eq!(
        STANDARD
            .decode(json["cipher"]["nonce"].as_str().unwrap())
            .unwrap()
            .len(),
        24
    );

    let key = SigningKey::from_file(&private, || Ok(Password::new(PASSWORD))).unwrap();
    let public_key = PublicKey::from_file(&public).unwrap();
    assert_eq!(key.public_key(), public_key);
    assert_eq!(
        public_key.to_pem(),
        std::fs::read_to_string(&public).unwrap()
    );
}

#[test]
fn cosign_key_with_empty_password() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = cosign_key_pair(&cosign, dir.path(), "");
    let key = SigningKey::from_file(&private, || Ok(Password::new(""))).unwrap();
    assert_eq!(key.public_key(), PublicKey::from_file(&public).unwrap());
}

#[test]
fn cosign_key_wrong_password() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = cosign_key_pair(&cosign, dir.path(), PASSWORD);
    let error = SigningKey::from_file(&private, || Ok(Password::new("wrong horse"))).unwrap_err();
    assert!(matches!(error, KeyError::WrongPassword { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "failed to decrypt `{}`: the password is wrong, or the file was altered; set \
             CLEARBOX_PASSWORD to the key's password, or unset it and COSIGN_PASSWORD to be \
             asked",
            private.display()
        )
    );
    assert!(!format!("{error:?}").contains("horse"));
}

#[test]
fn skopeo_key_read() {
    let Some(skopeo) = tool("skopeo") else { return };
    let dir = tempfile::tempdir().unwrap();
    let passphrase = write(dir.path(), "passphrase", PASSWORD);
    run_ok(
        Command::new(&skopeo)
            .current_dir(dir.path())
            .args([
                "generate-sigstore-key",
                "--output-prefix",
                "skopeo",
                "--passphrase-file",
            ])
            .arg(&passphrase),
    );
    let private = dir.path().join("skopeo.private");

    // skopeo 1.18 still writes the older label, with cosign 2.5's parameters.
    let (label, json) = encrypted_key_json(&private);
    assert_eq!(label, "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----");
    assert_eq!(json["kdf"]["params"], json!({"N": 65536, "r": 8, "p": 1}));

    let key = SigningKey::from_file(&private, || Ok(Password::new(PASSWORD))).unwrap();
    let public_key = PublicKey::from_file(&dir.path().join("skopeo.pub")).unwrap();
    assert_eq!(key.public_key(), public_key);
    let signature = key.sign(b"blob").unwrap();
    public_key.verify(b"blob", &signature.to_der()).unwrap();
}

#[test]
fn our_signature_verified_by_cosign() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("ours"), PASSWORD.as_bytes()).unwrap();
    let key =
        SigningKey::from_file(&pair.private_key_path, || Ok(Password::new(PASSWORD))).unwrap();
    let blob = write(dir.path(), "blob", "hello from clearbox\n");
    let signature = write(
        dir.path(),
        "blob.sig",
        key.sign(b"hello from clearbox\n").unwrap().to_base64(),
    );

    let verify = |blob: &Path| {
        let mut command = Command::new(&cosign);
        command
            .args(["verify-blob", "--insecure-ignore-tlog", "--key"])
            .arg(&pair.public_key_path)
            .arg("--signature")
            .arg(&signature)
            .arg(blob);
        command
    };
    let output = run_ok(&mut verify(&blob));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Verified OK"));

    // The same signature over other bytes must fail, or the check above proves nothing.
    let other = write(dir.path(), "other", "hello from someone else\n");
    let text = run_failing(&mut verify(&other));
    assert!(text.contains("invalid signature"), "{text}");
}

#[test]
fn cosign_signs_with_our_key_file() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("ours"), PASSWORD.as_bytes()).unwrap();
    let blob = write(dir.path(), "blob", "payload");
    let signature_path = dir.path().join("blob.sig");

    // cosign decrypts our encrypted key with the same password.
    run_ok(
        Command::new(&cosign)
            .env("COSIGN_PASSWORD", PASSWORD)
            .args(["sign-blob", "--tlog-upload=false", "--yes", "--key"])
            .arg(&pair.private_key_path)
            .arg("--output-signature")
            .arg(&signature_path)
            .arg(&blob),
    );
    let signature = STANDARD
        .decode(std::fs::read_to_string(&signature_path).unwrap().trim())
        .unwrap();
    pair.public_key.verify(b"payload", &signature).unwrap();
}

#[test]
fn cosign_signature_verified_by_us() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = cosign_key_pair(&cosign, dir.path(), PASSWORD);
    let blob = write(dir.path(), "blob", "signed by cosign");
    let signature_path = dir.path().join("blob.sig");
    run_ok(
        Command::new(&cosign)
            .env("COSIGN_PASSWORD", PASSWORD)
            .args(["sign-blob", "--tlog-upload=false", "--yes", "--key"])
            .arg(&private)
            .arg("--output-signature")
            .arg(&signature_path)
            .arg(&blob),
    );
    let signature = STANDARD
        .decode(std::fs::read_to_string(&signature_path).unwrap().trim())
        .unwrap();
    let key = PublicKey::load(public.to_str().unwrap()).unwrap();
    key.verify(b"signed by cosign", &signature).unwrap();
    let error = key.verify(b"signed by someone", &signature).unwrap_err();
    assert!(matches!(error, KeyError::SignatureMismatch), "{error:?}");
}

/// Predicates that cosign's `attest-blob` accepts for each `--type`: the SLSA and link types
/// check that their required fields are present.
fn predicate_for(name: &str) -> serde_json::Value {
    match name {
        "slsaprovenance" | "slsaprovenance02" => json!({
            "builder": {"id": "https://example.com/builder"},
            "buildType": "https://example.com/build-type"
        }),
        "slsaprovenance1" => json!({
            "buildDefinition": {"buildType": "https://example.com/build-type", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://example.com/builder"}}
        }),
        "link" => json!({
            "_type": "link", "name": "build", "materials": {}, "products": {},
            "byproducts": {}, "command": [], "environment": {}
        }),
        _ => json!({"scanner": {"uri": "https://example.com/scanner"}}),
    }
}

/// `cosign attest-blob` output for `blob` with `--type name`.
fn cosign_attestation(cosign: &Path, dir: &Path, key: &Path, name: &str, blob: &Path) -> Envelope {
    let predicate = write(dir, "predicate.json", predicate_for(name).to_string());
    let output = dir.join("attestation.json");
    run_ok(
        Command::new(cosign)
            .env("COSIGN_PASSWORD", PASSWORD)
            .args([
                "attest-blob",
                "--tlog-upload=false",
                "--yes",
                "--type",
                name,
                "--key",
            ])
            .arg(key)
            .arg("--predicate")
            .arg(&predicate)
            .arg("--output-signature")
            .arg(&output)
            .arg(blob),
    );
    Envelope::from_json(&std::fs::read(&output).unwrap()).unwrap()
}

#[test]
fn cosign_attestation_verified_by_us() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = cosign_key_pair(&cosign, dir.path(), PASSWORD);
    let blob = write(dir.path(), "blob", "artifact");
    let envelope = cosign_attestation(&cosign, dir.path(), &private, "slsaprovenance1", &blob);

    let key = PublicKey::from_file(&public).unwrap();
    let payload = dsse::verify(&envelope, &key, Some(intoto::PAYLOAD_TYPE)).unwrap();
    let statement = Statement::from_verified(payload).unwrap();
    assert_eq!(statement.version(), StatementVersion::V0_1);
    assert_eq!(statement.predicate_type(), "https://slsa.dev/provenance/v1");
    let digest = hex_sha256(b"artifact");
    let subject = statement.subject_with_sha256(&digest).unwrap();
    assert_eq!(subject.name, "blob");

    // An envelope from another key must not verify.
    let other = SigningKey::generate().public_key();
    let error = dsse::verify(&envelope, &other, Some(intoto::PAYLOAD_TYPE)).unwrap_err();
    assert!(
        matches!(error, dsse::DsseError::SignatureMismatch { count: 1, .. }),
        "{error:?}"
    );
}

#[test]
fn our_attestation_verified_by_cosign() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("ours"), PASSWORD.as_bytes()).unwrap();
    let key =
        SigningKey::from_file(&pair.private_key_path, || Ok(Password::new(PASSWORD))).unwrap();
    let blob = write(dir.path(), "blob", "artifact");
    let statement = Statement::new(
        vec![Subject::sha256("blob", &hex_sha256(b"artifact"))],
        &PredicateType::SlsaProvenanceV1,
        predicate_for("slsaprovenance1"),
    )
    .unwrap();
    let envelope = write(
        dir.path(),
        "attestation.json",
        statement.sign(&key).unwrap().to_json(),
    );

    let verify = |predicate_type: &str, blob: &Path| {
        let mut command = Command::new(&cosign);
        command
            .args([
                "verify-blob-attestation",
                "--insecure-ignore-tlog",
                "--type",
                predicate_type,
            ])
            .arg("--key")
            .arg(&pair.public_key_path)
            .arg("--signature")
            .arg(&envelope)
            .arg(blob);
        command
    };
    let output = run_ok(&mut verify("slsaprovenance1", &blob));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Verified OK"));

    // cosign checks the subject digest and the predicate type too.
    let other = write(dir.path(), "other", "other artifact");
    run_failing(&mut verify("slsaprovenance1", &other));
    run_failing(&mut verify("spdxjson", &blob));
}

#[test]
fn predicate_types_match_cosign() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = cosign_key_pair(&cosign, dir.path(), PASSWORD);
    let key = PublicKey::from_file(&public).unwrap();
    let blob = write(dir.path(), "blob", "artifact");
    for name in PredicateType::cosign_names() {
        let envelope = cosign_attestation(&cosign, dir.path(), &private, name, &blob);
        let payload = dsse::verify(&envelope, &key, Some(intoto::PAYLOAD_TYPE)).unwrap();
        let statement = Statement::from_verified(payload).unwrap();
        let ours = PredicateType::from_cosign_type(name).unwrap();
        assert_eq!(statement.predicate_type(), ours.uri(), "--type {name}");
        assert_eq!(
            PredicateType::from_uri(statement.predicate_type()),
            ours,
            "--type {name}"
        );
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
