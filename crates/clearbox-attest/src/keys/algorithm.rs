//! Recognising the key algorithm in PKCS#8 and `SubjectPublicKeyInfo` structures, so that a key of
//! an unsupported type is rejected by name instead of with a parse error.

use p256::pkcs8::ObjectIdentifier;
use p256::pkcs8::spki::AlgorithmIdentifierRef;

use super::KeyError;

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Names of algorithm and curve identifiers that cosign users meet.
const NAMES: [(&str, &str); 9] = [
    ("1.3.132.0.34", "ECDSA P-384"),
    ("1.3.132.0.35", "ECDSA P-521"),
    ("1.3.132.0.10", "ECDSA secp256k1"),
    ("1.2.840.113549.1.1.1", "RSA"),
    ("1.2.840.113549.1.1.10", "RSA-PSS"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.2.840.10040.4.1", "DSA"),
    ("1.2.840.10045.3.1.7", "ECDSA P-256"),
];

/// DER encoding of the P-256 curve OID as PKCS#11 stores it in `CKA_EC_PARAMS`.
pub(crate) const P256_EC_PARAMS: [u8; 10] =
    [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Checks that `algorithm` is `id-ecPublicKey` on the P-256 curve.
pub(crate) fn require_p256(
    algorithm: &AlgorithmIdentifierRef<'_>,
    origin: &str,
) -> Result<(), KeyError> {
    if algorithm.oid == EC_PUBLIC_KEY {
        let curve = algorithm.parameters_oid().ok();
        if curve == Some(P256) {
            return Ok(());
        }
        return Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: curve.map_or_else(
                || "ECDSA key without a named curve".to_owned(),
                |oid| name_of(oid, "ECDSA on the curve"),
            ),
        });
    }
    Err(KeyError::UnsupportedAlgorithm {
        origin: origin.to_owned(),
        algorithm: name_of(algorithm.oid, "unknown algorithm"),
    })
}

/// The common name of `oid`, or `<kind> with OID <oid>` when it has none here.
pub(crate) fn name_of(oid: ObjectIdentifier, kind: &str) -> String {
    let dotted = oid.to_string();
    NAMES
        .iter()
        .find(|(known, _)| *known == dotted)
        .map_or_else(
            || format!("{kind} with OID {dotted}"),
            |(_, name)| (*name).to_owned(),
        )
}
