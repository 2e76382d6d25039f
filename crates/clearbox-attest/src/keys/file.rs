//! Private key files: reading cosign's encrypted PEM (both labels), unencrypted PKCS#8
//! `PRIVATE KEY` and SEC1 `EC PRIVATE KEY`; writing a new cosign-format key pair.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use p256::ecdsa;
use p256::elliptic_curve::Generate as _;
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, PrivateKeyInfoRef};
use sec1::EcParameters;
use tracing::debug;
use zeroize::Zeroizing;

use super::encrypted::{self, COSIGN_LABEL, DecryptError, SIGSTORE_LABEL, ScryptParams};
use super::{KeyError, Password, PublicKey, algorithm, pem};

const PKCS8_LABEL: &str = "PRIVATE KEY";
const SEC1_LABEL: &str = "EC PRIVATE KEY";
const ENCRYPTED_PKCS8_LABEL: &str = "ENCRYPTED PRIVATE KEY";
const RSA_LABEL: &str = "RSA PRIVATE KEY";

/// Decodes a private key PEM document. `password` is called only for cosign's encrypted format.
pub(crate) fn decode_private_key(
    text: &str,
    origin: &str,
    password: impl FnOnce() -> Result<Password, KeyError>,
) -> Result<ecdsa::SigningKey, KeyError> {
    let blocks = pem::decode_all(text).map_err(|reason| KeyError::InvalidPem {
        origin: origin.to_owned(),
        reason,
    })?;
    let known = [SIGSTORE_LABEL, COSIGN_LABEL, PKCS8_LABEL, SEC1_LABEL];
    let Some(block) = blocks
        .iter()
        .find(|block| known.contains(&block.label.as_str()))
    else {
        return Err(unexpected_blocks(&blocks, origin));
    };
    debug!(origin, label = %block.label, "decoding private key");
    match block.label.as_str() {
        SIGSTORE_LABEL | COSIGN_LABEL => {
            let password = password()?;
            let der = decrypt(&block.der, &password, origin)?;
            decode_pkcs8(&der, origin)
        }
        PKCS8_LABEL => decode_pkcs8(&block.der, origin),
        _ => decode_sec1(&block.der, origin),
    }
}

fn unexpected_blocks(blocks: &[pem::PemBlock], origin: &str) -> KeyError {
    let labels: Vec<String> = blocks.iter().map(|block| block.label.clone()).collect();
    if labels.iter().any(|label| label == RSA_LABEL) {
        return KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: "RSA".to_owned(),
        };
    }
    if labels.iter().any(|label| label == ENCRYPTED_PKCS8_LABEL) {
        return KeyError::InvalidKey {
            origin: origin.to_owned(),
            reason: "password-encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) is not supported; \
                     decrypt it with `openssl pkey -in FILE -out PLAIN.pem`, or use a key from \
                     `clearbox key generate` or `cosign generate-key-pair`"
                .to_owned(),
        };
    }
    KeyError::UnexpectedPem {
        origin: origin.to_owned(),
        found: labels,
        expected: "private key block (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN \
                   PRIVATE KEY`, `PRIVATE KEY` or `EC PRIVATE KEY`)",
    }
}

fn decrypt(body: &[u8], password: &Password, origin: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    encrypted::decrypt(body, password.as_bytes()).map_err(|error| match error {
        DecryptError::WrongPassword => KeyError::WrongPassword {
            origin: origin.to_owned(),
            supplied_by: password.source(),
        },
        DecryptError::UnsupportedParams(params) => KeyError::InvalidKey {
            origin: origin.to_owned(),
            reason: format!(
                "unsupported scrypt parameters N={}, r={}, p={}; cosign and skopeo write \
                 N=65536, r=8, p=1",
                params.n, params.r, params.p
            ),
        },
        DecryptError::Malformed(reason) => KeyError::InvalidKey {
            origin: origin.to_owned(),
            reason,
        },
    })
}

fn decode_pkcs8(der: &[u8], origin: &str) -> Result<ecdsa::SigningKey, KeyError> {
    let invalid = |reason: String| KeyError::InvalidKey {
        origin: origin.to_owned(),
        reason,
    };
    let info = PrivateKeyInfoRef::from_der(der)
        .map_err(|error| invalid(format!("not a PKCS#8 private key: {error}")))?;
    algorithm::require_p256(&info.algorithm, origin)?;
    ecdsa::SigningKey::from_pkcs8_der(der)
        .map_err(|error| invalid(format!("not a valid P-256 private key: {error}")))
}

fn decode_sec1(der: &[u8], origin: &str) -> Result<ecdsa::SigningKey, KeyError> {
    let invalid = |reason: String| KeyError::InvalidKey {
        origin: origin.to_owned(),
        reason,
    };
    let structure = sec1::EcPrivateKey::from_der(der)
        .map_err(|error| invalid(format!("not a SEC1 EC private key: {error}")))?;
    // The curve is optional in SEC1; OpenSSL always writes it.
    if let Some(EcParameters::NamedCurve(curve)) = structure.parameters
        && curve != algorithm::P256
    {
        return Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: algorithm::name_of(curve, "ECDSA on the curve"),
        });
    }
    let secret = p256::SecretKey::from_slice(structure.private_key)
        .map_err(|_| invalid("the private scalar is not valid for P-256".to_owned()))?;
    Ok(ecdsa::SigningKey::from(secret))
}

/// Encodes `key` in cosign's encrypted format with the `ENCRYPTED SIGSTORE PRIVATE KEY` label.
pub(crate) fn encrypted_pem(
    key: &ecdsa::SigningKey,
    password: &[u8],
    params: ScryptParams,
) -> Result<Zeroizing<String>, KeyError> {
    let der = key.to_pkcs8_der().map_err(|error| KeyError::Generate {
        reason: format!("PKCS#8 encoding failed: {error}"),
    })?;
    let body = encrypted::encrypt(der.as_bytes(), password, params)
        .map_err(|reason| KeyError::Generate { reason })?;
    Ok(Zeroizing::new(pem::encode(SIGSTORE_LABEL, &body)))
}

/// The files [`generate_key_pair`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedKeyPair {
    /// `PREFIX.key`: the encrypted private key, mode 0600.
    pub private_key_path: PathBuf,
    /// `PREFIX.pub`: the PKIX public key PEM.
    pub public_key_path: PathBuf,
    /// The new public key.
    pub public_key: PublicKey,
}

/// Generates an ECDSA P-256 key pair and writes it as cosign does: `PREFIX.key` in the
/// `ENCRYPTED SIGSTORE PRIVATE KEY` format (scrypt N=65536, r=8, p=1), created with mode 0600,
/// and `PREFIX.pub` as a PKIX `PUBLIC KEY` PEM.
///
/// Never overwrites: fails with [`KeyError::KeyFileExists`] when either file exists, and creates
/// both exclusively so a file created concurrently is not replaced either. An empty password is
/// allowed, as in cosign.
pub fn generate_key_pair(prefix: &Path, password: &[u8]) -> Result<GeneratedKeyPair, KeyError> {
    let private_key_path = with_suffix(prefix, ".key");
    let public_key_path = with_suffix(prefix, ".pub");

    // Check both names first, so an existing `.pub` does not leave a new `.key` behind.
    for path in [&private_key_path, &public_key_path] {
        if fs::symlink_metadata(path).is_ok() {
            return Err(KeyError::KeyFileExists { path: path.clone() });
        }
    }

    // Generate and encode before creating any file.
    let key = ecdsa::SigningKey::generate();
    let public_key = PublicKey::from_verifying_key(*key.verifying_key());
    let private_pem = encrypted_pem(&key, password, ScryptParams::STANDARD)?;

    write_new(&private_key_path, private_pem.as_bytes(), 0o600)?;
    if let Err(error) = write_new(&public_key_path, public_key.to_pem().as_bytes(), 0o644) {
        // The `.key` was created by this call a moment ago; without its `.pub` it is an orphan.
        let _ = fs::remove_file(&private_key_path);
        return Err(error);
    }
    debug!(
        private_key = %private_key_path.display(),
        public_key = %public_key_path.display(),
        fingerprint = %public_key.fingerprint(),
        "wrote key pair"
    );
    Ok(GeneratedKeyPair {
        private_key_path,
        public_key_path,
        public_key,
    })
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates `path` exclusively with `mode` (before the umask) and writes `contents` durably.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let io_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::KeyFileExists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Write {
                path: path.to_owned(),
                source,
            }
        }
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io_error)?;
    file.write_all(contents).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_password() -> Result<Password, KeyError> {
        panic!("the password must not be requested for an unencrypted key")
    }

    #[test]
    fn suffix_keeps_dots_in_prefix() {
        assert_eq!(
            with_suffix(Path::new("dir/release.v1"), ".key"),
            Path::new("dir/release.v1.key")
        );
    }

    #[test]
    fn pkcs8_round_trip_without_password() {
        let key = ecdsa::SigningKey::generate();
        let text = pem::encode(PKCS8_LABEL, key.to_pkcs8_der().unwrap().as_bytes());
        let decoded = decode_private_key(&text, "`k`", no_password).unwrap();
        assert_eq!(decoded, key);
    }

    #[test]
    fn rsa_label_named() {
        let text = pem::encode(RSA_LABEL, &[1]);
        let error = decode_private_key(&text, "`k`", no_password).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`k` holds a key of type RSA; only ECDSA P-256 keys are supported"
        );
    }

    #[test]
    fn encrypted_pkcs8_named() {
        let text = pem::encode(ENCRYPTED_PKCS8_LABEL, &[1]);
        let error = decode_private_key(&text, "`k`", no_password).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`openssl pkey -in FILE -out PLAIN.pem`"),
            "{error}"
        );
    }

    #[test]
    fn public_key_is_not_a_private_key() {
        let text = pem::encode("PUBLIC KEY", &[1]);
        let error = decode_private_key(&text, "`k`", no_password).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`k` has no private key block (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN \
             PRIVATE KEY`, `PRIVATE KEY` or `EC PRIVATE KEY`) (found: `PUBLIC KEY`)"
        );
    }

    #[test]
    fn password_error_passes_through() {
        let key = ecdsa::SigningKey::generate();
        let text = encrypted_pem(
            &key,
            b"pw",
            ScryptParams {
                n: 32768,
                r: 8,
                p: 1,
            },
        )
        .unwrap();
        let error =
            decode_private_key(&text, "`k`", || Err(KeyError::PasswordMismatch)).unwrap_err();
        assert!(matches!(error, KeyError::PasswordMismatch));
    }
}
