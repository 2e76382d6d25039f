//! Keys on a `SoftHSM` 2 token through PKCS#11. Each test body runs in a child process with its own
//! token (see `clearbox_testdata::softhsm`). Key pairs are generated on the token with `cryptoki`
//! or imported with `softhsm2-util`.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_attest::keys::{KeyError, Password};
use clearbox_attest::{PublicKey, SigningKey};
use clearbox_testdata::softhsm::{self, SoftHsm, USER_PIN};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use crate::{is_child, rerun_in_child, run_ok, tool, write};

const LABEL: &str = "clearbox";
/// DER-encoded OIDs of the curves, as `CKA_EC_PARAMS` takes them.
pub(crate) const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

fn no_password() -> Result<Password, KeyError> {
    panic!("a PKCS#11 key needs no file password")
}

/// Generates an EC key pair on the token with `CKM_EC_KEY_PAIR_GEN`, labelled `object` with id
/// `id`, on the curve `curve`.
pub(crate) fn generate_on_token(hsm: &SoftHsm, object: &str, id: &[u8], curve: &[u8]) {
    let pkcs11 = Pkcs11::new(hsm.module()).unwrap();
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(error) => panic!("C_Initialize failed: {error}"),
    }
    let slot = pkcs11
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| pkcs11.get_token_info(*slot).unwrap().label().trim_end() == hsm.label())
        .expect("the token is present");
    let session = pkcs11.open_rw_session(slot).unwrap();
    match session.login(UserType::User, Some(&AuthPin::from(USER_PIN))) {
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(error) => panic!("C_Login failed: {error}"),
    }
    let label = Attribute::Label(object.as_bytes().to_vec());
    let id = Attribute::Id(id.to_vec());
    let public = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::EcParams(curve.to_vec()),
        Attribute::Verify(true),
        label.clone(),
        id.clone(),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        label,
        id,
    ];
    session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
        .unwrap();
}

fn uri_with_query(hsm: &SoftHsm, path: &str, query: &str) -> String {
    format!(
        "pkcs11:token={};{path}?module-path={}{query}",
        hsm.label(),
        hsm.module().display()
    )
}

/// Checks `signature` (DER) over `message` with `openssl dgst -sha256 -verify`.
fn openssl_verifies(dir: &Path, public: &PublicKey, message: &[u8], signature: &[u8]) {
    let public_path = write(dir, "hsm.pub", public.to_pem());
    let message_path = write(dir, "message", message);
    let signature_path = write(dir, "sig.der", signature);
    let output = run_ok(
        Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public_path)
            .arg("-signature")
            .arg(&signature_path)
            .arg(&message_path),
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Verified OK"
    );
}

#[test]
fn hsm_key_signs() {
    softhsm::run_isolated("softhsm::hsm_key_signs", LABEL, |hsm| {
        generate_on_token(hsm, "signing", &[0x01], P256);
        let key = SigningKey::load(&hsm.uri("signing"), no_password).unwrap();
        assert!(key.origin().contains("pin-value=***"), "{}", key.origin());
        let signature = key.sign(b"signed on the token").unwrap();

        // The public key read without logging in is the one the key reports.
        let public = PublicKey::load(&hsm.uri_without_pin("signing")).unwrap();
        assert_eq!(key.public_key(), public);
        public
            .verify(b"signed on the token", &signature.to_der())
            .unwrap();
        openssl_verifies(
            hsm.scratch_dir(),
            &public,
            b"signed on the token",
            &signature.to_der(),
        );

        // The same key by id alone.
        let by_id = SigningKey::load(
            &uri_with_query(hsm, "id=%01", &format!("&pin-value={USER_PIN}")),
            no_password,
        )
        .unwrap();
        assert_eq!(by_id.public_key(), public);

        // One key shared between threads.
        std::thread::scope(|scope| {
            for index in 0..4u8 {
                let key = &key;
                scope.spawn(move || {
                    let message = [index; 16];
                    public
                        .verify(&message, &key.sign(&message).unwrap().to_der())
                        .unwrap();
                });
            }
        });

        // The key cannot leave the token.
        let error = key.to_encrypted_pem(b"pw").unwrap_err();
        assert!(matches!(error, KeyError::NotExportable { .. }), "{error:?}");
    });
}

#[test]
fn hsm_signature_verified_by_cosign() {
    softhsm::run_isolated("softhsm::hsm_signature_verified_by_cosign", LABEL, |hsm| {
        let Some(cosign) = tool("cosign") else { return };
        generate_on_token(hsm, "signing", &[0x02], P256);
        let key = SigningKey::load(&hsm.uri("signing"), no_password).unwrap();
        let dir = hsm.scratch_dir();
        let public = write(dir, "cosign-check.pub", key.public_key().to_pem());
        let blob = write(dir, "blob", "hsm blob");
        let signature = write(dir, "blob.sig", key.sign(b"hsm blob").unwrap().to_base64());
        let output = run_ok(
            Command::new(cosign)
                .args(["verify-blob", "--insecure-ignore-tlog", "--key"])
                .arg(&public)
                .arg("--signature")
                .arg(&signature)
                .arg(&blob),
        );
        assert!(String::from_utf8_lossy(&output.stderr).contains("Verified OK"));
    });
}

#[test]
fn hsm_imported_openssl_key() {
    softhsm::run_isolated("softhsm::hsm_imported_openssl_key", LABEL, |hsm| {
        let dir = hsm.scratch_dir();
        let pem = dir.join("imported.pem");
        run_ok(
            Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                ])
                .arg(&pem),
        );
        hsm.import_key(&pem, "imported", "0a0b").unwrap();
        let file_key = SigningKey::from_file(&pem, no_password).unwrap();

        let uri = uri_with_query(hsm, "id=%0a%0b", &format!("&pin-value={USER_PIN}"));
        let token_key = SigningKey::load(&uri, no_password).unwrap();
        assert_eq!(token_key.public_key(), file_key.public_key());
        let signature = token_key.sign(b"imported").unwrap();
        file_key
            .public_key()
            .verify(b"imported", &signature.to_der())
            .unwrap();
    });
}

#[test]
fn hsm_wrong_pin() {
    softhsm::run_isolated("softhsm::hsm_wrong_pin", LABEL, |hsm| {
        generate_on_token(hsm, "signing", &[0x01], P256);
        let uri = format!("{}&pin-value=9999", hsm.uri_without_pin("signing"));
        let error = SigningKey::load(&uri, no_password).unwrap_err();
        assert!(matches!(error, KeyError::WrongPin { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!(
                "wrong PIN for `{}&pin-value=***`; check `pin-value` or the `pin-source` file",
                hsm.uri_without_pin("signing")
            )
        );
        assert!(!format!("{error:?}").contains("9999"));
    });
}

#[test]
fn hsm_missing_object() {
    softhsm::run_isolated("softhsm::hsm_missing_object", LABEL, |hsm| {
        generate_on_token(hsm, "signing", &[0x01], P256);
        let error = SigningKey::load(&hsm.uri("absent"), no_password).unwrap_err();
        assert!(
            matches!(
                error,
                KeyError::ObjectNotFound {
                    kind: "private key",
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "no private key object on the token matches `{}&pin-value=***`; check `object=` \
                 (the key's label) and `id=`",
                hsm.uri_without_pin("absent")
            )
        );
        let error = PublicKey::load(&hsm.uri_without_pin("absent")).unwrap_err();
        assert!(
            matches!(
                error,
                KeyError::ObjectNotFound {
                    kind: "public key",
                    ..
                }
            ),
            "{error:?}"
        );
    });
}

#[test]
fn hsm_missing_token() {
    softhsm::run_isolated("softhsm::hsm_missing_token", LABEL, |hsm| {
        let uri = format!(
            "pkcs11:token=nonexistent;object=signing?module-path={}&pin-value={USER_PIN}",
            hsm.module().display()
        );
        let error = SigningKey::load(&uri, no_password).unwrap_err();
        assert!(matches!(error, KeyError::TokenNotFound { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with("no token matches `pkcs11:token=nonexistent;"),
            "{message}"
        );
        assert!(
            message.ends_with("(tokens present: `clearbox`)"),
            "{message}"
        );
    });
}

#[test]
fn hsm_wrong_curve_rejected() {
    softhsm::run_isolated("softhsm::hsm_wrong_curve_rejected", LABEL, |hsm| {
        generate_on_token(hsm, "p384", &[0x03], P384);
        let error = SigningKey::load(&hsm.uri("p384"), no_password).unwrap_err();
        assert!(
            matches!(error, KeyError::UnsupportedAlgorithm { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("holds a key of type ECDSA with CKA_EC_PARAMS 06052b81040022"),
            "{error}"
        );
    });
}

#[test]
fn hsm_ambiguous_label_rejected() {
    softhsm::run_isolated("softhsm::hsm_ambiguous_label_rejected", LABEL, |hsm| {
        generate_on_token(hsm, "twice", &[0x01], P256);
        generate_on_token(hsm, "twice", &[0x02], P256);
        let error = SigningKey::load(&hsm.uri("twice"), no_password).unwrap_err();
        assert!(
            error.to_string().ends_with(
                ": 2 private key objects match; name the key by both `object=` and `id=`"
            ),
            "{error}"
        );
        let single = uri_with_query(
            hsm,
            "object=twice;id=%02",
            &format!("&pin-value={USER_PIN}"),
        );
        assert!(SigningKey::load(&single, no_password).is_ok());
    });
}

#[test]
fn hsm_pin_source_file() {
    softhsm::run_isolated("softhsm::hsm_pin_source_file", LABEL, |hsm| {
        generate_on_token(hsm, "signing", &[0x01], P256);
        let pin_file = write(hsm.scratch_dir(), "pin", format!("{USER_PIN}\n"));
        let uri = uri_with_query(
            hsm,
            "object=signing",
            &format!("&pin-source=file:{}", pin_file.display()),
        );
        let key = SigningKey::load(&uri, no_password).unwrap();
        key.public_key()
            .verify(b"m", &key.sign(b"m").unwrap().to_der())
            .unwrap();

        let missing = hsm.scratch_dir().join("no-such-pin");
        let uri = uri_with_query(
            hsm,
            "object=signing",
            &format!("&pin-source={}", missing.display()),
        );
        let error = SigningKey::load(&uri, no_password).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("failed to read `{}`", missing.display())
        );
    });
}

#[test]
fn hsm_public_type_cannot_sign() {
    softhsm::run_isolated("softhsm::hsm_public_type_cannot_sign", LABEL, |hsm| {
        let uri = uri_with_query(hsm, "object=signing;type=public", "");
        let error = SigningKey::load(&uri, no_password).unwrap_err();
        assert!(
            error.to_string().ends_with(
                ": `type=public` names a public key; signing needs `type=private` or no `type`"
            ),
            "{error}"
        );
    });
}

#[test]
fn hsm_module_from_environment() {
    if let Some(hsm) = SoftHsm::in_child() {
        generate_on_token(&hsm, "signing", &[0x01], P256);
        let uri = format!(
            "pkcs11:token={};object=signing?pin-value={USER_PIN}",
            hsm.label()
        );
        let key = SigningKey::load(&uri, no_password).unwrap();
        key.public_key()
            .verify(b"m", &key.sign(b"m").unwrap().to_der())
            .unwrap();
        return;
    }
    let Some(hsm) = SoftHsm::start(LABEL) else {
        return;
    };
    rerun_in_child("softhsm::hsm_module_from_environment", false, |command| {
        command
            .envs(hsm.child_env())
            .env("CLEARBOX_PKCS11_MODULE_PATH", hsm.module())
            .env_remove("COSIGN_PKCS11_MODULE_PATH");
    });
}

#[test]
fn hsm_no_pin_without_terminal() {
    if let Some(hsm) = SoftHsm::in_child() {
        generate_on_token(&hsm, "signing", &[0x01], P256);
        let error = SigningKey::load(&hsm.uri_without_pin("signing"), no_password).unwrap_err();
        assert!(matches!(error, KeyError::NoPin { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .ends_with("; add `pin-value=` or `pin-source=` to the URI's query"),
            "{error}"
        );
        return;
    }
    let Some(hsm) = SoftHsm::start(LABEL) else {
        return;
    };
    rerun_in_child("softhsm::hsm_no_pin_without_terminal", true, |command| {
        command.envs(hsm.child_env());
    });
}

#[test]
fn missing_module_file() {
    let uri = "pkcs11:token=t;object=k?module-path=/nonexistent/libpkcs11.so&pin-value=1";
    let error = SigningKey::load(uri, no_password).unwrap_err();
    assert_eq!(
        error.to_string(),
        "PKCS#11 module `/nonexistent/libpkcs11.so` for \
         `pkcs11:token=t;object=k?module-path=/nonexistent/libpkcs11.so&pin-value=***` does not \
         exist; install it or correct `module-path`"
    );
}

#[test]
fn missing_module_path() {
    if !is_child() {
        rerun_in_child("softhsm::missing_module_path", false, |command| {
            command
                .env_remove("CLEARBOX_PKCS11_MODULE_PATH")
                .env_remove("COSIGN_PKCS11_MODULE_PATH");
        });
        return;
    }
    let error = SigningKey::load("pkcs11:token=t;object=k?pin-value=1", no_password).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no PKCS#11 module for `pkcs11:token=t;object=k?pin-value=***`: add \
         `module-path=/path/to/module.so` to the URI's query or set CLEARBOX_PKCS11_MODULE_PATH"
    );
}

#[test]
fn module_that_is_not_pkcs11() {
    // A shared library without `C_GetFunctionList`: the C library itself.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ]
    .into_iter()
    .find(|path| Path::new(path).is_file());
    let Some(libc) = libc else {
        // TODO: find the C library on other architectures; the check only needs any non-PKCS#11
        // shared library.
        return;
    };
    let error = SigningKey::load(
        &format!("pkcs11:token=t;object=k?module-path={libc}&pin-value=1"),
        no_password,
    )
    .unwrap_err();
    assert!(matches!(error, KeyError::ModuleLoad { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("failed to load PKCS#11 module `{libc}`")
    );
}

#[test]
fn base64_of_hsm_signature_is_der() {
    softhsm::run_isolated("softhsm::base64_of_hsm_signature_is_der", LABEL, |hsm| {
        generate_on_token(hsm, "signing", &[0x01], P256);
        let key = SigningKey::load(&hsm.uri("signing"), no_password).unwrap();
        let der = STANDARD
            .decode(key.sign(b"m").unwrap().to_base64())
            .unwrap();
        assert_eq!(der[0], 0x30, "a DER SEQUENCE");
        assert_eq!(usize::from(der[1]) + 2, der.len());
    });
}
