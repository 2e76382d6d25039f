//! Image signatures made with a key on a `SoftHSM` token, verified by cosign 2.5 with the
//! exported public key. The test body runs in a child process with its own token (see
//! `clearbox_testdata::softhsm`).

use clearbox_attest::cosign::{self, ArtifactStore, SignOptions, VerifyOptions};
use clearbox_attest::keys::{KeyError, Password};
use clearbox_attest::{PublicKey, SigningKey};
use clearbox_testdata::registry::RegistryConfig;
use clearbox_testdata::softhsm;
use serde_json::Value;

use crate::fixtures::Registry;
use crate::softhsm::{P256, generate_on_token};
use crate::{run_ok, tool, write};

const TAG: &str = "clearbox/example:v1";

fn no_password() -> Result<Password, KeyError> {
    panic!("a PKCS#11 key needs no file password")
}

#[test]
fn hsm_key_signs_image() {
    softhsm::run_isolated("hsm_artifacts::hsm_key_signs_image", "clearbox", |hsm| {
        let Some(cosign) = tool("cosign") else { return };
        let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
            return;
        };
        generate_on_token(hsm, "image-signing", &[0x07], P256);
        let key = SigningKey::load(&hsm.uri("image-signing"), no_password).unwrap();
        let public = PublicKey::load(&hsm.uri_without_pin("image-signing")).unwrap();
        let public_path = write(hsm.scratch_dir(), "hsm.pub", public.to_pem());
        let store = registry.store(TAG);

        // The token signs; cosign verifies with the exported public key.
        let outcome = cosign::sign(&store, &key, &SignOptions::default()).unwrap();
        assert!(outcome.attach.added);
        let mut command = registry.cosign(&cosign, &["verify", "--insecure-ignore-tlog", "--key"]);
        command.arg(&public_path).arg(registry.image());
        let payloads: Value = serde_json::from_slice(&run_ok(&mut command).stdout).unwrap();
        assert_eq!(
            payloads[0]["critical"]["image"]["docker-manifest-digest"],
            store.subject().digest.to_string()
        );

        // A second signature of the same payload differs in bytes (the token's nonce is
        // random) but is the same signature by cosign's rule, so nothing is added.
        let again = cosign::sign(&store, &key, &SignOptions::default()).unwrap();
        assert_ne!(again.signed.signature, outcome.signed.signature);
        assert!(!again.attach.added);
        let verification =
            cosign::verify_signatures(&store, &public, &VerifyOptions::default()).unwrap();
        assert_eq!(verification.verified.len(), 1);
    });
}
