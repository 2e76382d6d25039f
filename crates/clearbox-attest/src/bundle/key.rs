//! Public keys that sign the parts of a bundle: Fulcio and timestamp-authority certificates,
//! Rekor and CT log keys, and keys that sign artifacts directly (managed keys).
//!
//! Supported: ECDSA on P-256 and P-384 with ASN.1 DER signatures, Ed25519, and RSA with
//! PKCS#1 v1.5 padding. Not supported: ECDSA on P-521, RSA-PSS and pre-hashed Ed25519
//! (Ed25519ph); keys of those kinds are rejected by name when a check needs them.

use std::fmt;

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::pkcs8::ObjectIdentifier;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use x509_cert::der::Decode as _;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::keys::pem;

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const CURVE_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const CURVE_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const CURVE_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A hash function a signature or digest names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The digest of `data`.
    #[must_use]
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The algorithm of an ASN.1 `AlgorithmIdentifier` OID (NIST hash OIDs, RFC 5754).
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(HashAlgorithm::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(HashAlgorithm::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// The algorithm of a protobuf `HashAlgorithm` name, as bundles and Rekor v2 write it.
    pub(crate) fn from_protobuf_name(name: &str) -> Option<Self> {
        match name {
            "SHA2_256" => Some(HashAlgorithm::Sha256),
            "SHA2_384" => Some(HashAlgorithm::Sha384),
            "SHA2_512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// The name in-toto subjects and Rekor v1 entries use, such as `sha256`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    fn rsa_scheme(self) -> rsa::pkcs1v15::Pkcs1v15Sign {
        match self {
            HashAlgorithm::Sha256 => rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha256>(),
            HashAlgorithm::Sha384 => rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha384>(),
            HashAlgorithm::Sha512 => rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha512>(),
        }
    }
}

/// A public key that verifies signatures in a bundle.
#[derive(Clone)]
pub struct VerifierKey {
    inner: Inner,
    spki_der: Vec<u8>,
}

#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    // Boxed: an RSA key is several times larger than the curve keys.
    Rsa(Box<rsa::PublicKey>),
}

impl VerifierKey {
    /// Parses a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|error| format!("not a DER SubjectPublicKeyInfo: {error}"))?;
        let bits = info
            .subject_public_key
            .as_bytes()
            .ok_or("the public key bit string has unused bits")?;
        let inner = match info.algorithm.oid {
            EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| "an EC key without a named curve")?;
                match curve {
                    CURVE_P256 => Inner::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                            .map_err(|_| "not a point on the P-256 curve")?,
                    ),
                    CURVE_P384 => Inner::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                            .map_err(|_| "not a point on the P-384 curve")?,
                    ),
                    CURVE_P521 => return Err("ECDSA P-521 keys are not supported".to_owned()),
                    other => return Err(format!("ECDSA on the curve {other} is not supported")),
                }
            }
            ED25519 => {
                let bytes: &[u8; 32] = bits
                    .try_into()
                    .map_err(|_| "an Ed25519 key is not 32 bytes")?;
                Inner::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(bytes)
                        .map_err(|_| "not a valid Ed25519 point")?,
                )
            }
            RSA_ENCRYPTION => Inner::Rsa(Box::new(
                rsa::PublicKey::from_pkcs1_der(bits)
                    .map_err(|error| format!("not an RSA public key: {error}"))?,
            )),
            other => return Err(format!("keys of algorithm {other} are not supported")),
        };
        Ok(VerifierKey {
            inner,
            spki_der: der.to_vec(),
        })
    }

    /// Parses a PKCS#1 `RSAPublicKey`, the form trusted roots use for `PKCS1_RSA_*` keys.
    pub(crate) fn from_pkcs1_rsa_der(der: &[u8]) -> Result<Self, String> {
        let key = rsa::PublicKey::from_pkcs1_der(der)
            .map_err(|error| format!("not a PKCS#1 RSA public key: {error}"))?;
        Ok(VerifierKey {
            inner: Inner::Rsa(Box::new(key)),
            spki_der: der.to_vec(),
        })
    }

    /// Parses the first `PUBLIC KEY` block of a PEM document.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let blocks = pem::decode_all(text)?;
        let block = blocks
            .iter()
            .find(|block| block.label == "PUBLIC KEY")
            .ok_or("no `PUBLIC KEY` PEM block")?;
        VerifierKey::from_spki_der(&block.der)
    }

    /// The encoding the key was read from: DER `SubjectPublicKeyInfo`, or PKCS#1 for RSA keys
    /// read with [`VerifierKey::from_pkcs1_rsa_der`].
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.spki_der
    }

    /// `sha256:<hex>` of [`VerifierKey::der`].
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.spki_der)))
    }

    /// The key type, such as `ECDSA P-256`.
    #[must_use]
    pub fn algorithm(&self) -> &'static str {
        match self.inner {
            Inner::P256(_) => "ECDSA P-256",
            Inner::P384(_) => "ECDSA P-384",
            Inner::Ed25519(_) => "Ed25519",
            Inner::Rsa(_) => "RSA",
        }
    }

    /// The hash this key signs with when nothing else names one: SHA-256 for P-256 and RSA,
    /// SHA-384 for P-384, as Sigstore's key details pair them.
    pub(crate) fn default_hash(&self) -> HashAlgorithm {
        match self.inner {
            Inner::P384(_) => HashAlgorithm::Sha384,
            _ => HashAlgorithm::Sha256,
        }
    }

    /// Whether the key is Ed25519, which signs messages rather than digests.
    pub(crate) fn is_ed25519(&self) -> bool {
        matches!(self.inner, Inner::Ed25519(_))
    }

    /// Verifies `signature` over `message`, hashed with `hash` for ECDSA and RSA. Ed25519 signs
    /// the message itself and ignores `hash`.
    pub(crate) fn verify(
        &self,
        message: &[u8],
        signature: &[u8],
        hash: HashAlgorithm,
    ) -> Result<(), String> {
        match &self.inner {
            Inner::Ed25519(key) => {
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| "not a 64-byte Ed25519 signature")?;
                key.verify_strict(message, &signature)
                    .map_err(|_| "the Ed25519 signature does not verify".to_owned())
            }
            _ => self.verify_digest(&hash.digest(message), signature, hash),
        }
    }

    /// Verifies `signature` over an already computed `digest` made with `hash`. Fails for
    /// Ed25519, which cannot sign a digest in place of the message.
    pub(crate) fn verify_digest(
        &self,
        digest: &[u8],
        signature: &[u8],
        hash: HashAlgorithm,
    ) -> Result<(), String> {
        let mismatch = || format!("the {} signature does not verify", self.algorithm());
        match &self.inner {
            Inner::P256(key) => {
                let signature = p256::ecdsa::DerSignature::from_bytes(signature)
                    .map_err(|_| "not a DER-encoded ECDSA signature")?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| mismatch())
            }
            Inner::P384(key) => {
                let signature = p384::ecdsa::DerSignature::from_bytes(signature)
                    .map_err(|_| "not a DER-encoded ECDSA signature")?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| mismatch())
            }
            Inner::Rsa(key) => key
                .verify(hash.rsa_scheme(), digest, signature)
                .map_err(|_| mismatch()),
            Inner::Ed25519(_) => Err(
                "an Ed25519 key signs the whole message; the artifact's bytes are needed"
                    .to_owned(),
            ),
        }
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VerifierKey({} {})",
            self.algorithm(),
            self.fingerprint()
        )
    }
}

/// The key and hash an X.509 or CMS signature algorithm OID names, as
/// `(expected key type, hash)`; `None` for algorithms not supported here.
pub(crate) fn signature_algorithm(oid: &ObjectIdentifier) -> Option<(&'static str, HashAlgorithm)> {
    let pair = match oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" => ("ECDSA", HashAlgorithm::Sha256),
        "1.2.840.10045.4.3.3" => ("ECDSA", HashAlgorithm::Sha384),
        "1.2.840.10045.4.3.4" => ("ECDSA", HashAlgorithm::Sha512),
        "1.2.840.113549.1.1.11" => ("RSA", HashAlgorithm::Sha256),
        "1.2.840.113549.1.1.12" => ("RSA", HashAlgorithm::Sha384),
        "1.2.840.113549.1.1.13" => ("RSA", HashAlgorithm::Sha512),
        // Ed25519 hashes internally; the hash here is not used.
        "1.3.101.112" => ("Ed25519", HashAlgorithm::Sha512),
        _ => return None,
    };
    Some(pair)
}

/// Verifies a signature made with the algorithm `algorithm` (an X.509 `signatureAlgorithm` or a
/// CMS `signatureAlgorithm`) over `message`.
pub(crate) fn verify_with_algorithm(
    key: &VerifierKey,
    algorithm: &ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let (kind, hash) = signature_algorithm(algorithm)
        .ok_or_else(|| format!("unsupported signature algorithm {algorithm}"))?;
    if !key.algorithm().starts_with(kind) {
        return Err(format!(
            "the signature algorithm {algorithm} does not fit a {} key",
            key.algorithm()
        ));
    }
    key.verify(message, signature, hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::EncodePublicKey as _;

    fn p256_pair() -> (p256::ecdsa::SigningKey, VerifierKey) {
        let signing = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        let der = signing.verifying_key().to_public_key_der().unwrap();
        (signing, VerifierKey::from_spki_der(der.as_bytes()).unwrap())
    }

    #[test]
    fn p256_signature_verifies_and_tampering_fails() {
        let (signing, key) = p256_pair();
        let signature: p256::ecdsa::DerSignature = signing.sign(b"message");
        assert_eq!(key.algorithm(), "ECDSA P-256");
        key.verify(b"message", signature.as_bytes(), HashAlgorithm::Sha256)
            .unwrap();
        assert!(
            key.verify(b"messagE", signature.as_bytes(), HashAlgorithm::Sha256)
                .is_err()
        );
        assert!(
            key.verify(b"message", signature.as_bytes(), HashAlgorithm::Sha384)
                .is_err()
        );
    }

    #[test]
    fn ed25519_key_from_pem() {
        // `openssl genpkey -algorithm ED25519 | openssl pkey -pubout`.
        let key = VerifierKey::from_pem(
            "-----BEGIN PUBLIC KEY-----\n\
             MCowBQYDK2VwAyEA9QOahHwp2uR2SSKd/4yB0PUJVMMzFUiUvoBWzYB1QwI=\n\
             -----END PUBLIC KEY-----\n",
        )
        .unwrap();
        assert_eq!(key.algorithm(), "Ed25519");
        assert!(
            key.verify_digest(&[0; 32], &[0; 64], HashAlgorithm::Sha256)
                .is_err()
        );
    }

    #[test]
    fn algorithm_must_fit_key() {
        let (signing, key) = p256_pair();
        let signature: p256::ecdsa::DerSignature = signing.sign(b"tbs");
        let ecdsa_sha256 = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
        let rsa_sha256 = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
        verify_with_algorithm(&key, &ecdsa_sha256, b"tbs", signature.as_bytes()).unwrap();
        let error =
            verify_with_algorithm(&key, &rsa_sha256, b"tbs", signature.as_bytes()).unwrap_err();
        assert!(error.contains("does not fit"), "{error}");
    }

    #[test]
    fn unknown_algorithm_rejected_by_name() {
        let error = VerifierKey::from_spki_der(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
        assert!(error.contains("SubjectPublicKeyInfo"), "{error}");
    }
}
