//! ECDSA P-256 public keys in PKIX `PUBLIC KEY` PEM, the format cosign's `.pub` files use.

use std::path::Path;

use p256::ecdsa::VerifyingKey;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _, SubjectPublicKeyInfoRef};
use sha2::{Digest as _, Sha256};

use super::{KeyError, Signature, algorithm, pem, read_file};

const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// An ECDSA P-256 public key.
///
/// Other key types cosign supports (P-384, P-521, RSA, Ed25519) are rejected by name when
/// loaded; see the crate documentation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    pub(crate) fn from_verifying_key(key: VerifyingKey) -> Self {
        PublicKey { key }
    }

    /// Parses a PKIX `PUBLIC KEY` PEM document, as `cosign generate-key-pair` and
    /// `openssl pkey -pubout` write it.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        PublicKey::from_pem_in(text, "the PEM input")
    }

    /// Parses a DER-encoded `SubjectPublicKeyInfo`.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        PublicKey::from_der_in(der, "the DER input")
    }

    /// Parses a SEC1-encoded point (`04‖x‖y` uncompressed or `02/03‖x` compressed).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_sec1_bytes(bytes).map_err(|_| KeyError::InvalidKey {
            origin: "the SEC1 point".to_owned(),
            reason: "not a point on the P-256 curve".to_owned(),
        })?;
        Ok(PublicKey { key })
    }

    /// Reads a PEM public key file.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = read_file(path)?;
        PublicKey::from_pem_in(&text, &format!("`{}`", path.display()))
    }

    pub(crate) fn from_pem_in(text: &str, origin: &str) -> Result<Self, KeyError> {
        let blocks = pem::decode_all(text).map_err(|reason| KeyError::InvalidPem {
            origin: origin.to_owned(),
            reason,
        })?;
        let Some(block) = blocks.iter().find(|block| block.label == PUBLIC_KEY_LABEL) else {
            return Err(KeyError::UnexpectedPem {
                origin: origin.to_owned(),
                found: blocks.iter().map(|block| block.label.clone()).collect(),
                expected: "`PUBLIC KEY` block",
            });
        };
        PublicKey::from_der_in(&block.der, origin)
    }

    fn from_der_in(der: &[u8], origin: &str) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::InvalidKey {
            origin: origin.to_owned(),
            reason,
        };
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|error| invalid(format!("not a SubjectPublicKeyInfo: {error}")))?;
        algorithm::require_p256(&info.algorithm, origin)?;
        let key = VerifyingKey::from_public_key_der(der)
            .map_err(|error| invalid(format!("not a P-256 public key: {error}")))?;
        Ok(PublicKey { key })
    }

    /// The PKIX `PUBLIC KEY` PEM encoding, byte for byte what cosign writes to its `.pub` file.
    #[must_use]
    pub fn to_pem(&self) -> String {
        pem::encode(PUBLIC_KEY_LABEL, &self.to_der())
    }

    /// The DER-encoded `SubjectPublicKeyInfo`.
    #[must_use]
    pub fn to_der(&self) -> Vec<u8> {
        // Encoding a valid P-256 key into a SubjectPublicKeyInfo has no failure case.
        self.key
            .to_public_key_der()
            .unwrap_or_else(|error| unreachable!("P-256 SPKI encoding failed: {error}"))
            .into_vec()
    }

    /// The uncompressed SEC1 point `04‖x‖y`.
    #[must_use]
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        self.key.to_sec1_bytes().into_vec()
    }

    /// `sha256:<hex>` of the DER `SubjectPublicKeyInfo`: a stable name for the key in logs and
    /// evidence.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(self.to_der())))
    }

    /// Checks `signature` over `message` (hashed with SHA-256, as cosign does).
    ///
    /// `signature` is ASN.1 DER, as cosign stores it; a 64-byte raw `r‖s` signature is accepted
    /// too (see [`Signature::from_der_or_raw`]). High-S signatures are accepted, as Go's
    /// `crypto/ecdsa` and cosign accept them.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let signature = Signature::from_der_or_raw(signature)?;
        self.verify_signature(message, &signature)
    }

    /// Checks a parsed signature over `message`.
    pub fn verify_signature(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        self.key
            .verify(message, signature.inner())
            .map_err(|_| KeyError::SignatureMismatch)
    }

    /// Checks a signature over an already computed SHA-256 digest.
    pub(crate) fn verify_prehash(
        &self,
        digest: &[u8],
        signature: &Signature,
    ) -> Result<(), KeyError> {
        self.key
            .verify_prehash(digest, signature.inner())
            .map_err(|_| KeyError::SignatureMismatch)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey(P-256 {})", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real keys: `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384`, `-algorithm
    // ED25519` and `-algorithm RSA`, each piped through `openssl pkey -pubout`.
    const P384_PUB: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEKH+KpLvuswgv7vsIJG59NpYskKpf8vh8
y3rsUFv6tEkuVGbtPiXClbUnE+Xbp1VkZkXK7vTf4BQ08xeXy9W9MErfutZnPd++
zFJIercKQgVvwQQSzzaQv0Nfn+oxJis5
-----END PUBLIC KEY-----
";
    const ED25519_PUB: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA9QOahHwp2uR2SSKd/4yB0PUJVMMzFUiUvoBWzYB1QwI=
-----END PUBLIC KEY-----
";
    const RSA_PUB: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDefMVZCZA5RaDhtZTHmciUAwK9
N14I4R6ZRSelpmvfG40bJVoyNXD4sHI/E+4Cb+LZJyFWM0VnJuPlcRmjEXvzTCw1
s+etfT3VzAbMmQt8l2eQYgGp6HfszVxAVZQXISGeCnA6oW85e0r5MQ7Fq76tiIVt
cwapKiob++iXj0QepQIDAQAB
-----END PUBLIC KEY-----
";

    #[test]
    fn p384_rejected_by_name() {
        let error = PublicKey::from_pem(P384_PUB).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the PEM input holds a key of type ECDSA P-384; only ECDSA P-256 keys are supported"
        );
    }

    #[test]
    fn ed25519_rejected_by_name() {
        let error = PublicKey::from_pem(ED25519_PUB).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the PEM input holds a key of type Ed25519; only ECDSA P-256 keys are supported"
        );
    }

    #[test]
    fn rsa_rejected_by_name() {
        let error = PublicKey::from_pem(RSA_PUB).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the PEM input holds a key of type RSA; only ECDSA P-256 keys are supported"
        );
    }

    #[test]
    fn private_key_pem_is_not_a_public_key() {
        let text = pem::encode("PRIVATE KEY", &[1, 2, 3]);
        let error = PublicKey::from_pem(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the PEM input has no `PUBLIC KEY` block (found: `PRIVATE KEY`)"
        );
    }

    #[test]
    fn truncated_der_rejected() {
        let error = PublicKey::from_der(&[0x30, 0x59, 0x30]).unwrap_err();
        assert!(matches!(error, KeyError::InvalidKey { .. }), "{error:?}");
    }

    #[test]
    fn sec1_off_curve_rejected() {
        let mut point = [0u8; 65];
        point[0] = 4;
        point[64] = 1;
        assert!(PublicKey::from_sec1_bytes(&point).is_err());
    }
}
