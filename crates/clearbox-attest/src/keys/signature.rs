//! ECDSA P-256 signatures in the two encodings in use: ASN.1 DER (what cosign stores) and the
//! fixed-size `r‖s` concatenation (what PKCS#11 tokens return and the DSSE test vectors use).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa;

use super::KeyError;

/// Length of a raw `r‖s` P-256 signature: two 32-byte big-endian integers.
pub(crate) const RAW_LEN: usize = 64;

/// An ECDSA P-256 signature, stored ASN.1 DER-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    inner: ecdsa::Signature,
}

impl Signature {
    /// Parses a DER-encoded `ECDSA-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let inner = ecdsa::Signature::from_der(der).map_err(|_| KeyError::MalformedSignature {
            reason: format!(
                "{} bytes are not a DER-encoded P-256 ECDSA signature",
                der.len()
            ),
        })?;
        Ok(Signature { inner })
    }

    /// Parses a raw 64-byte `r‖s` signature.
    pub fn from_raw(raw: &[u8]) -> Result<Self, KeyError> {
        if raw.len() != RAW_LEN {
            return Err(KeyError::MalformedSignature {
                reason: format!(
                    "a raw P-256 signature has {RAW_LEN} bytes (r and s), found {}",
                    raw.len()
                ),
            });
        }
        let inner =
            ecdsa::Signature::from_slice(raw).map_err(|_| KeyError::MalformedSignature {
                reason: "r or s of the raw signature is zero or not below the group order"
                    .to_owned(),
            })?;
        Ok(Signature { inner })
    }

    /// Parses either encoding: DER first, then raw `r‖s` when the input has 64 bytes and is not
    /// DER.
    ///
    /// A 64-byte raw signature that happens to be valid DER as well is read as DER and then fails
    /// verification. For a random `r‖s` the chance of that is below 2^-40.
    pub fn from_der_or_raw(bytes: &[u8]) -> Result<Self, KeyError> {
        match Signature::from_der(bytes) {
            Ok(signature) => Ok(signature),
            Err(_) if bytes.len() == RAW_LEN => Signature::from_raw(bytes),
            Err(error) => Err(error),
        }
    }

    pub(crate) fn from_inner(inner: ecdsa::Signature) -> Self {
        Signature { inner }
    }

    pub(crate) fn inner(&self) -> &ecdsa::Signature {
        &self.inner
    }

    /// The DER encoding, as cosign stores it (before base64).
    #[must_use]
    pub fn to_der(&self) -> Vec<u8> {
        self.inner.to_der().as_bytes().to_vec()
    }

    /// The raw 64-byte `r‖s` encoding.
    #[must_use]
    pub fn to_raw(&self) -> [u8; RAW_LEN] {
        self.inner.to_bytes().into()
    }

    /// The DER encoding in standard base64 with padding: cosign's `.sig` file and the
    /// `dev.cosignproject.cosign/signature` annotation value.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.to_der())
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // r = 1, s = 2: the smallest valid scalars.
    const RAW_ONE_TWO: [u8; RAW_LEN] = {
        let mut raw = [0u8; RAW_LEN];
        raw[31] = 1;
        raw[63] = 2;
        raw
    };

    #[test]
    fn der_of_small_scalars() {
        let signature = Signature::from_raw(&RAW_ONE_TWO).unwrap();
        assert_eq!(
            signature.to_der(),
            [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]
        );
    }

    #[test]
    fn der_and_raw_round_trip() {
        let signature = Signature::from_raw(&RAW_ONE_TWO).unwrap();
        let from_der = Signature::from_der(&signature.to_der()).unwrap();
        assert_eq!(from_der.to_raw(), RAW_ONE_TWO);
        assert_eq!(Signature::from_der_or_raw(&RAW_ONE_TWO).unwrap(), signature);
    }

    #[test]
    fn raw_with_wrong_length_rejected() {
        let error = Signature::from_raw(&[1; 63]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed signature: a raw P-256 signature has 64 bytes (r and s), found 63"
        );
    }

    #[test]
    fn raw_zero_scalar_rejected() {
        let error = Signature::from_raw(&[0; RAW_LEN]).unwrap_err();
        assert!(matches!(error, KeyError::MalformedSignature { .. }));
    }

    #[test]
    fn garbage_is_not_der() {
        let error = Signature::from_der_or_raw(b"not a signature").unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed signature: 15 bytes are not a DER-encoded P-256 ECDSA signature"
        );
    }
}
