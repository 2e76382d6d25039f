//! `manifest.json.sig`: an ECDSA P-256 signature over the exact bytes of `manifest.json`, which
//! in turn lists the SHA-256 of every other file, so one signature covers the whole package.
//!
//! The file has the form `cosign sign-blob --output-signature` writes: the ASN.1 DER signature
//! over SHA-256 of the bytes, in standard base64 with padding and no line break. So cosign
//! checks it as well:
//! `cosign verify-blob --key PUB --signature manifest.json.sig --insecure-ignore-tlog manifest.json`.
//!
//! Not supported: keyless (Fulcio certificate) signatures and transparency log entries; the
//! signature is checked against a public key only.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_attest::keys::{KeyError, Signature};
use clearbox_attest::{PublicKey, SigningKey};
use serde::Serialize;
use tracing::debug;

/// Name of the signature file inside the package. The manifest cannot list it, because the
/// signature covers the manifest.
pub const SIGNATURE_FILE: &str = "manifest.json.sig";

/// The largest signature file read. A base64 DER P-256 signature has at most 96 characters.
const MAX_SIGNATURE_BYTES: u64 = 4096;

/// The outcome of checking `manifest.json.sig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SignatureCheck {
    /// No key was given and the package has no signature file.
    #[default]
    Unsigned,
    /// The package has a signature file but no key was given, so it was not checked.
    NotChecked,
    /// The signature verifies over `manifest.json` with the key.
    Verified {
        /// `sha256:<hex>` of the key's DER `SubjectPublicKeyInfo`.
        key: String,
    },
    /// A key was given but the package has no signature file.
    Missing,
    /// The signature file is not a base64 ECDSA signature, or not a regular file.
    Invalid {
        /// The reason it is invalid.
        reason: String,
    },
    /// The signature does not verify over `manifest.json` with the key: the manifest changed
    /// after signing, or another key signed it.
    Mismatch {
        /// `sha256:<hex>` of the key that was tried.
        key: String,
    },
}

impl SignatureCheck {
    /// Returns whether the signature check failed. [`SignatureCheck::Unsigned`] and
    /// [`SignatureCheck::NotChecked`] are not failures: nothing was required.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            SignatureCheck::Missing
                | SignatureCheck::Invalid { .. }
                | SignatureCheck::Mismatch { .. }
        )
    }
}

/// Signs the manifest bytes and returns the content of [`SIGNATURE_FILE`].
pub(crate) fn sign_manifest(key: &SigningKey, manifest: &[u8]) -> Result<Vec<u8>, KeyError> {
    Ok(key.sign(manifest)?.to_base64().into_bytes())
}

/// Checks the signature file in `dir` over `manifest` (the bytes of `manifest.json` that were
/// read and parsed, so both checks see the same manifest).
///
/// 1. Without a key, only the presence of the file is reported.
/// 2. With a key, the file must exist and be a regular file of at most 4096 bytes.
/// 3. Its content, without surrounding whitespace, must be standard base64.
/// 4. The decoded bytes must be a DER (or raw `r‖s`) P-256 ECDSA signature.
/// 5. The signature must verify over SHA-256 of `manifest` with the key.
pub(crate) fn check_signature(
    dir: &Path,
    manifest: &[u8],
    key: Option<&PublicKey>,
) -> Result<SignatureCheck, crate::EvidenceError> {
    let path = dir.join(SIGNATURE_FILE);
    let present = std::fs::symlink_metadata(&path).is_ok();

    // 1. Presence only.
    let Some(key) = key else {
        return Ok(if present {
            SignatureCheck::NotChecked
        } else {
            SignatureCheck::Unsigned
        });
    };
    if !present {
        return Ok(SignatureCheck::Missing);
    }

    // 2. A small regular file.
    let bytes = match crate::manifest::read_regular(&path, MAX_SIGNATURE_BYTES)? {
        Ok(bytes) => bytes,
        Err(reason) => return Ok(SignatureCheck::Invalid { reason }),
    };

    // 3. Base64.
    let Ok(der) = STANDARD.decode(bytes.trim_ascii()) else {
        return Ok(SignatureCheck::Invalid {
            reason: "not standard base64".to_owned(),
        });
    };

    // 4. An ECDSA signature.
    let signature = match Signature::from_der_or_raw(&der) {
        Ok(signature) => signature,
        Err(error) => {
            return Ok(SignatureCheck::Invalid {
                reason: error.to_string(),
            });
        }
    };

    // 5. Over the manifest, with the key.
    let fingerprint = key.fingerprint();
    if key.verify_signature(manifest, &signature).is_err() {
        return Ok(SignatureCheck::Mismatch { key: fingerprint });
    }
    debug!(key = %fingerprint, "manifest signature verified");
    Ok(SignatureCheck::Verified { key: fingerprint })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_dir(manifest: &[u8], key: &SigningKey) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let signature = sign_manifest(key, manifest).unwrap();
        std::fs::write(dir.path().join(SIGNATURE_FILE), signature).unwrap();
        dir
    }

    fn check(dir: &Path, manifest: &[u8], key: Option<&PublicKey>) -> SignatureCheck {
        check_signature(dir, manifest, key).unwrap()
    }

    #[test]
    fn signature_verifies_with_its_key() {
        let key = SigningKey::generate();
        let public = key.public_key();
        let dir = signed_dir(b"{}\n", &key);
        let expected = SignatureCheck::Verified {
            key: public.fingerprint(),
        };
        assert_eq!(check(dir.path(), b"{}\n", Some(&public)), expected);
    }

    #[test]
    fn signature_file_is_base64_without_newline() {
        let key = SigningKey::generate();
        let text = String::from_utf8(sign_manifest(&key, b"{}").unwrap()).unwrap();
        assert!(!text.ends_with('\n'), "{text}");
        assert!(STANDARD.decode(&text).is_ok(), "{text}");
    }

    #[test]
    fn changed_manifest_or_other_key_mismatches() {
        let key = SigningKey::generate();
        let dir = signed_dir(b"{}\n", &key);
        let public = key.public_key();
        let changed = check(dir.path(), b"{ }\n", Some(&public));
        assert_eq!(
            changed,
            SignatureCheck::Mismatch {
                key: public.fingerprint()
            }
        );
        let other = SigningKey::generate().public_key();
        assert!(check(dir.path(), b"{}\n", Some(&other)).is_failure());
    }

    #[test]
    fn missing_and_unchecked_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let public = SigningKey::generate().public_key();
        assert_eq!(check(dir.path(), b"{}", None), SignatureCheck::Unsigned);
        assert_eq!(
            check(dir.path(), b"{}", Some(&public)),
            SignatureCheck::Missing
        );
        std::fs::write(dir.path().join(SIGNATURE_FILE), "AAAA").unwrap();
        assert_eq!(check(dir.path(), b"{}", None), SignatureCheck::NotChecked);
    }

    #[test]
    fn malformed_signature_files_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let public = SigningKey::generate().public_key();
        let path = dir.path().join(SIGNATURE_FILE);
        for content in ["not base64!", "AAAA", ""] {
            std::fs::write(&path, content).unwrap();
            let result = check(dir.path(), b"{}", Some(&public));
            assert!(
                matches!(result, SignatureCheck::Invalid { .. }),
                "{content:?}: {result:?}"
            );
        }
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let result = check(dir.path(), b"{}", Some(&public));
        assert_eq!(
            result,
            SignatureCheck::Invalid {
                reason: "not a regular file".to_owned()
            }
        );
    }
}
