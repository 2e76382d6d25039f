//! Key files: what `generate_key_pair` writes, keys OpenSSL writes, and third-party keys from
//! in-toto-golang's test data.

use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;
use std::path::Path;
use std::process::Command;

use clearbox_attest::keys::{KeyError, Password, generate_key_pair};
use clearbox_attest::{PublicKey, SigningKey};

use crate::{attest_corpus, run_ok, write};

fn no_password() -> Result<Password, KeyError> {
    panic!("the password must not be requested for an unencrypted key")
}

/// `openssl genpkey` for an EC key on `curve`, PKCS#8 PEM; returns the path.
fn openssl_ec_key(dir: &Path, name: &str, curve: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    run_ok(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "EC", "-pkeyopt"])
            .arg(format!("ec_paramgen_curve:{curve}"))
            .arg("-out")
            .arg(&path),
    );
    path
}

/// `openssl pkey -pubout` of a private key; returns the path.
fn openssl_public(dir: &Path, private: &Path) -> std::path::PathBuf {
    let path = dir.join("openssl.pub");
    run_ok(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(private)
            .arg("-out")
            .arg(&path),
    );
    path
}

#[test]
fn generated_files_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("release.v1"), b"pw").unwrap();
    assert_eq!(pair.private_key_path, dir.path().join("release.v1.key"));
    assert_eq!(pair.public_key_path, dir.path().join("release.v1.pub"));

    let mode = std::fs::metadata(&pair.private_key_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let private_text = std::fs::read_to_string(&pair.private_key_path).unwrap();
    assert!(private_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(private_text.ends_with("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert_eq!(
        std::fs::read_to_string(&pair.public_key_path).unwrap(),
        pair.public_key.to_pem()
    );

    let key = SigningKey::from_file(&pair.private_key_path, || Ok(Password::new("pw"))).unwrap();
    assert_eq!(key.public_key(), pair.public_key);
    assert_eq!(
        PublicKey::from_file(&pair.public_key_path).unwrap(),
        pair.public_key
    );
}

#[test]
fn generate_refuses_existing_key() {
    let dir = tempfile::tempdir().unwrap();
    let existing = write(dir.path(), "cosign.key", "keep me");
    let error = generate_key_pair(&dir.path().join("cosign"), b"pw").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` already exists; remove it or choose another output prefix",
            existing.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert!(!dir.path().join("cosign.pub").exists());
}

#[test]
fn generate_refuses_existing_public_key() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cosign.pub", "keep me");
    let error = generate_key_pair(&dir.path().join("cosign"), b"pw").unwrap_err();
    assert!(matches!(error, KeyError::KeyFileExists { ref path } if path.ends_with("cosign.pub")));
    assert!(
        !dir.path().join("cosign.key").exists(),
        "no orphan private key"
    );
}

#[test]
fn generate_refuses_dangling_symlink() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("cosign.key"))
        .unwrap();
    let error = generate_key_pair(&dir.path().join("cosign"), b"pw").unwrap_err();
    assert!(matches!(error, KeyError::KeyFileExists { .. }), "{error:?}");
    assert!(!dir.path().join("elsewhere").exists());
}

#[test]
fn generate_into_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let error = generate_key_pair(&dir.path().join("missing/cosign"), b"pw").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "failed to write `{}`",
            dir.path().join("missing/cosign.key").display()
        )
    );
}

#[test]
fn encrypted_pem_round_trip() {
    let key = SigningKey::generate();
    let text = key.to_encrypted_pem(b"secret").unwrap();
    let decoded = SigningKey::from_pem(&text, || Ok(Password::new("secret"))).unwrap();
    assert_eq!(decoded.public_key(), key.public_key());
    let error = SigningKey::from_pem(&text, || Ok(Password::new("other")))
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("failed to decrypt the PEM input: the password is wrong")
    );
}

#[test]
fn openssl_pkcs8_key_signs_for_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let private = openssl_ec_key(dir.path(), "k.pem", "P-256");
    let public = openssl_public(dir.path(), &private);
    let key = SigningKey::from_file(&private, no_password).unwrap();
    assert_eq!(key.public_key(), PublicKey::from_file(&public).unwrap());

    let message = write(dir.path(), "message", "signed by clearbox");
    let signature = write(
        dir.path(),
        "sig.der",
        key.sign(b"signed by clearbox").unwrap().to_der(),
    );
    let output = run_ok(
        Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public)
            .arg("-signature")
            .arg(&signature)
            .arg(&message),
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Verified OK"
    );
}

#[test]
fn openssl_signature_verified_by_us() {
    let dir = tempfile::tempdir().unwrap();
    let private = openssl_ec_key(dir.path(), "k.pem", "P-256");
    let public = PublicKey::from_file(&openssl_public(dir.path(), &private)).unwrap();
    let message = write(dir.path(), "message", "signed by openssl");
    let signature_path = dir.path().join("sig.der");
    run_ok(
        Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&private)
            .arg("-out")
            .arg(&signature_path)
            .arg(&message),
    );
    let signature = std::fs::read(&signature_path).unwrap();
    public.verify(b"signed by openssl", &signature).unwrap();
    assert!(matches!(
        public.verify(b"signed by someone", &signature).unwrap_err(),
        KeyError::SignatureMismatch
    ));
}

#[test]
fn openssl_sec1_key_with_parameters_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ec.pem");
    // Writes an `EC PARAMETERS` block before the `EC PRIVATE KEY` block.
    run_ok(
        Command::new("openssl")
            .args(["ecparam", "-name", "prime256v1", "-genkey", "-out"])
            .arg(&path),
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN EC PARAMETERS-----"), "{text}");
    let key = SigningKey::from_file(&path, no_password).unwrap();
    let public = PublicKey::from_file(&openssl_public(dir.path(), &path)).unwrap();
    assert_eq!(key.public_key(), public);
}

#[test]
fn openssl_p384_key_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let private = openssl_ec_key(dir.path(), "p384.pem", "P-384");
    let error = SigningKey::from_file(&private, no_password).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` holds a key of type ECDSA P-384; only ECDSA P-256 keys are supported",
            private.display()
        )
    );
}

#[test]
fn openssl_sec1_p384_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ec384.pem");
    run_ok(
        Command::new("openssl")
            .args(["ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out"])
            .arg(&path),
    );
    let error = SigningKey::from_file(&path, no_password).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("holds a key of type ECDSA P-384; only ECDSA P-256 keys are supported"),
        "{error}"
    );
}

/// in-toto-golang's test keys, all of types we reject: `erin` is secp256k1 in SEC1 form, the
/// others PKCS#8 or PKIX.
#[test]
fn in_toto_golang_keys_rejected_by_name() {
    let Some(erin) = attest_corpus("in-toto-golang/test-data/erin") else {
        return;
    };
    let dir = erin.parent().unwrap();
    for (file, algorithm) in [
        ("erin", "ECDSA secp256k1"),
        ("frank", "ECDSA P-521"),
        ("grace", "ECDSA P-384"),
        ("carol", "Ed25519"),
        ("heidi", "ECDSA on the curve with OID 1.3.132.0.33"),
    ] {
        let error = SigningKey::from_file(&dir.join(file), no_password).unwrap_err();
        assert!(
            matches!(&error, KeyError::UnsupportedAlgorithm { algorithm: found, .. } if found == algorithm),
            "{file}: {error}"
        );
    }
    for (file, algorithm) in [
        ("alice.pub", "RSA"),
        ("dan.pub", "RSA"),
        ("carol.pub", "Ed25519"),
        ("erin.pub", "ECDSA secp256k1"),
    ] {
        let error = PublicKey::from_file(&dir.join(file)).unwrap_err();
        assert!(
            matches!(&error, KeyError::UnsupportedAlgorithm { algorithm: found, .. } if found == algorithm),
            "{file}: {error}"
        );
    }
}

#[test]
fn missing_key_file() {
    let error = SigningKey::load("/nonexistent/cosign.key", no_password).unwrap_err();
    assert_eq!(
        error.to_string(),
        "failed to read `/nonexistent/cosign.key`"
    );
    let error = PublicKey::load("/nonexistent/cosign.pub").unwrap_err();
    assert!(matches!(error, KeyError::Read { .. }));
}

#[test]
fn binary_file_is_not_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "key.der", [0x30, 0x82, 0xff, 0xfe]);
    let error = SigningKey::from_file(&path, no_password).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` is not a valid PEM file: the file is not text",
            path.display()
        )
    );
}

#[test]
fn empty_file_has_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.key", "");
    let error = SigningKey::from_file(&path, no_password).unwrap_err();
    assert!(
        error.to_string().ends_with("(found no PEM block)"),
        "{error}"
    );
}

#[test]
fn private_key_file_is_not_a_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("k"), b"").unwrap();
    let error = PublicKey::load(pair.private_key_path.to_str().unwrap()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` has no `PUBLIC KEY` block (found: `ENCRYPTED SIGSTORE PRIVATE KEY`)",
            pair.private_key_path.display()
        )
    );
}

#[test]
fn tampered_kdf_parameters_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_key_pair(&dir.path().join("k"), b"pw").unwrap();
    let text = std::fs::read_to_string(&pair.private_key_path).unwrap();
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let engine = base64::engine::general_purpose::STANDARD;
    let json = String::from_utf8(engine.decode(body).unwrap()).unwrap();
    let tampered = json.replace(r#""N":65536"#, r#""N":1073741824"#);
    let pem = format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        engine.encode(tampered)
    );
    let path = write(dir.path(), "tampered.key", pem);
    let error = SigningKey::from_file(&path, || Ok(Password::new("pw"))).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "invalid key in `{}`: unsupported scrypt parameters N=1073741824, r=8, p=1; cosign \
             and skopeo write N=65536, r=8, p=1",
            path.display()
        )
    );
}
