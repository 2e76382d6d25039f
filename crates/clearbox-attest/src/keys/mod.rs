//! Signing and verification keys: ECDSA P-256 in files (cosign's encrypted format, PKCS#8,
//! SEC1) or on PKCS#11 tokens, and the `--key` argument that names either.
//!
//! Every signature hashes the message with SHA-256 and is returned ASN.1 DER-encoded, which is
//! what cosign stores (base64-encoded) and verifies. File keys sign deterministically (RFC 6979),
//! so the same key and message give the same signature; token keys sign however the token does.

mod algorithm;
mod encrypted;
mod file;
mod password;
pub(crate) mod pem;
pub mod pkcs11;
mod public;
mod signature;

use std::path::{Path, PathBuf};

use p256::ecdsa;
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::Generate as _;
use zeroize::Zeroizing;

pub use file::{GeneratedKeyPair, generate_key_pair};
pub use password::{COSIGN_PASSWORD_ENV, PASSWORD_ENV, Password, PasswordPurpose, PasswordSource};
pub use pkcs11::Pkcs11Uri;
pub use public::PublicKey;
pub use signature::Signature;

use encrypted::ScryptParams;
use pkcs11::TokenKey;

/// An error while loading, generating or using a key, or checking a signature.
///
/// Messages name the file or the PKCS#11 URI (with any PIN replaced by `***`) and never contain
/// a password or PIN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key file could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A key file could not be written.
    #[error("failed to write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A key file to be written exists already.
    #[error("`{}` already exists; remove it or choose another output prefix", path.display())]
    KeyFileExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The input is not valid PEM.
    #[error("{origin} is not a valid PEM file: {reason}")]
    InvalidPem {
        /// The file (in backticks) or input.
        origin: String,
        /// The reason it is invalid.
        reason: String,
    },
    /// The PEM input has no block of the expected type.
    #[error("{origin} has no {expected} ({})", describe_labels(found))]
    UnexpectedPem {
        /// The file (in backticks) or input.
        origin: String,
        /// The labels of the blocks that are there.
        found: Vec<String>,
        /// The block that was expected.
        expected: &'static str,
    },
    /// The key is of a type other than ECDSA P-256.
    #[error("{origin} holds a key of type {algorithm}; only ECDSA P-256 keys are supported")]
    UnsupportedAlgorithm {
        /// The file (in backticks), input or URI.
        origin: String,
        /// The key type found.
        algorithm: String,
    },
    /// The key structure is malformed.
    #[error("invalid key in {origin}: {reason}")]
    InvalidKey {
        /// The file (in backticks) or input.
        origin: String,
        /// The reason it is invalid.
        reason: String,
    },
    /// The password did not decrypt the key.
    #[error(
        "failed to decrypt {origin}: {supplied_by}, or the file was altered; set \
         CLEARBOX_PASSWORD to the key's password, or unset it and COSIGN_PASSWORD to be asked"
    )]
    WrongPassword {
        /// The file (in backticks) or input.
        origin: String,
        /// The origin of the password.
        supplied_by: PasswordSource,
    },
    /// No password could be obtained for an encrypted key.
    #[error(
        "no password for the encrypted key: {reason}; set CLEARBOX_PASSWORD or COSIGN_PASSWORD"
    )]
    NoPassword {
        /// The reason the terminal prompt failed.
        reason: String,
    },
    /// The password and its confirmation differ.
    #[error("the two passwords differ")]
    PasswordMismatch,
    /// Key generation or encoding failed.
    #[error("failed to generate the key: {reason}")]
    Generate {
        /// What failed.
        reason: String,
    },
    /// The key reference uses a key-management scheme this build does not support.
    #[error(
        "`{reference}`: `{scheme}://` keys are not supported; use a key file or a `pkcs11:` URI"
    )]
    UnsupportedKeyScheme {
        /// The whole reference.
        reference: String,
        /// The scheme, such as `awskms`.
        scheme: String,
    },
    /// A PKCS#11 key cannot leave its token.
    #[error("the key `{uri}` is on a PKCS#11 token and cannot be exported")]
    NotExportable {
        /// The key's URI, PIN redacted.
        uri: String,
    },
    /// The PKCS#11 URI is malformed or does not name a key.
    #[error("invalid PKCS#11 URI `{uri}`: {reason}")]
    InvalidPkcs11Uri {
        /// The URI, PIN redacted.
        uri: String,
        /// The reason it is invalid.
        reason: String,
    },
    /// The URI names no module and no environment variable does.
    #[error(
        "no PKCS#11 module for `{uri}`: add `module-path=/path/to/module.so` to the URI's query \
         or set CLEARBOX_PKCS11_MODULE_PATH"
    )]
    MissingModulePath {
        /// The URI, PIN redacted.
        uri: String,
    },
    /// The module file does not exist.
    #[error("PKCS#11 module `{}` for `{uri}` does not exist; install it or correct `module-path`", module.display())]
    ModuleNotFound {
        /// The URI, PIN redacted.
        uri: String,
        /// The module path.
        module: PathBuf,
    },
    /// The module could not be loaded or initialised.
    #[error("failed to load PKCS#11 module `{}`", module.display())]
    ModuleLoad {
        /// The module path.
        module: PathBuf,
        /// The underlying error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// No token matches the URI.
    #[error("no token matches `{uri}` ({})", describe_tokens(available))]
    TokenNotFound {
        /// The URI, PIN redacted.
        uri: String,
        /// Labels of the tokens that are present.
        available: Vec<String>,
    },
    /// No key object matches the URI.
    #[error(
        "no {kind} object on the token matches `{uri}`; check `object=` (the key's label) and `id=`"
    )]
    ObjectNotFound {
        /// The URI, PIN redacted.
        uri: String,
        /// `private key` or `public key`.
        kind: &'static str,
    },
    /// The token rejected the PIN.
    #[error("wrong PIN for `{uri}`; check `pin-value` or the `pin-source` file")]
    WrongPin {
        /// The URI, PIN redacted.
        uri: String,
    },
    /// The user PIN is locked after too many wrong attempts.
    #[error("the user PIN of the token for `{uri}` is locked; unlock it with the token's SO PIN")]
    PinLocked {
        /// The URI, PIN redacted.
        uri: String,
    },
    /// The URI has no PIN and none could be typed.
    #[error("no PIN for `{uri}` ({reason}); add `pin-value=` or `pin-source=` to the URI's query")]
    NoPin {
        /// The URI, PIN redacted.
        uri: String,
        /// The reason the terminal prompt failed.
        reason: String,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} failed for `{uri}`")]
    Pkcs11 {
        /// The URI, PIN redacted.
        uri: String,
        /// The PKCS#11 function.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// The token or its objects are not usable as named.
    #[error("PKCS#11 key `{uri}`: {reason}")]
    Pkcs11Token {
        /// The URI, PIN redacted.
        uri: String,
        /// The reason it is invalid.
        reason: String,
    },
    /// The signature bytes are not an ECDSA P-256 signature.
    #[error("malformed signature: {reason}")]
    MalformedSignature {
        /// The reason it is invalid.
        reason: String,
    },
    /// The signature does not verify with the public key.
    #[error("the signature does not verify with the public key")]
    SignatureMismatch,
}

fn describe_labels(labels: &[String]) -> String {
    if labels.is_empty() {
        "found no PEM block".to_owned()
    } else {
        format!("found: {}", backticked(labels))
    }
}

fn describe_tokens(labels: &[String]) -> String {
    if labels.is_empty() {
        "the module reports no token; initialise one first".to_owned()
    } else {
        format!("tokens present: {}", backticked(labels))
    }
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maximum size of a key file or PIN file: 64 KiB. An encrypted cosign key is about 650 bytes
/// and a PEM of an RSA-4096 key about 3.2 KiB.
pub(crate) const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// Reads a key file as text. Files that are not regular (a FIFO, `/dev/zero`) and files larger
/// than [`MAX_KEY_FILE_BYTES`] are rejected before they are read.
fn read_file(path: &Path) -> Result<String, KeyError> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_KEY_FILE_BYTES).map_err(|source| {
        KeyError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    String::from_utf8(bytes).map_err(|_| KeyError::InvalidPem {
        origin: format!("`{}`", path.display()),
        reason: "the file is not text".to_owned(),
    })
}

/// The key a `--key` argument names: a key file, or a key on a PKCS#11 token.
#[derive(Debug, Clone)]
pub enum KeyReference {
    /// A PEM file: a private key for signing, a `PUBLIC KEY` for verifying.
    File(PathBuf),
    /// A `pkcs11:` URI, boxed because it is ten times the size of a path.
    Pkcs11(Box<Pkcs11Uri>),
}

impl KeyReference {
    /// Parses a `--key` argument: a `pkcs11:` URI, or else a file path. Other key-management
    /// URIs that cosign accepts (`awskms://`, `gcpkms://`, `azurekms://`, `hashivault://`,
    /// `k8s://`, `gitlab://`, `env://`) are rejected by name.
    pub fn parse(argument: &str) -> Result<Self, KeyError> {
        if argument.starts_with(pkcs11::PKCS11_SCHEME) {
            return Pkcs11Uri::parse(argument).map(|uri| KeyReference::Pkcs11(Box::new(uri)));
        }
        if let Some((scheme, _)) = argument.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        {
            return Err(KeyError::UnsupportedKeyScheme {
                reference: argument.to_owned(),
                scheme: scheme.to_owned(),
            });
        }
        Ok(KeyReference::File(PathBuf::from(argument)))
    }
}

/// An ECDSA P-256 private key that signs SHA-256 digests: in memory (from a file or newly
/// generated) or on a PKCS#11 token.
pub struct SigningKey {
    backend: Backend,
}

enum Backend {
    Memory {
        key: ecdsa::SigningKey,
        origin: String,
    },
    Token(TokenKey),
}

impl SigningKey {
    /// Generates a new key from the operating system's random number generator.
    #[must_use]
    pub fn generate() -> Self {
        SigningKey::in_memory(ecdsa::SigningKey::generate(), "a generated key".to_owned())
    }

    fn in_memory(key: ecdsa::SigningKey, origin: String) -> Self {
        SigningKey {
            backend: Backend::Memory { key, origin },
        }
    }

    /// Decodes a private key PEM document: cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` or
    /// `ENCRYPTED COSIGN PRIVATE KEY`, PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`.
    /// `password` is called only when the key is encrypted.
    pub fn from_pem(
        text: &str,
        password: impl FnOnce() -> Result<Password, KeyError>,
    ) -> Result<Self, KeyError> {
        let origin = "the PEM input".to_owned();
        let key = file::decode_private_key(text, &origin, password)?;
        Ok(SigningKey::in_memory(key, origin))
    }

    /// Reads a private key file; see [`SigningKey::from_pem`] for the formats.
    pub fn from_file(
        path: &Path,
        password: impl FnOnce() -> Result<Password, KeyError>,
    ) -> Result<Self, KeyError> {
        let text = read_file(path)?;
        let origin = format!("`{}`", path.display());
        let key = file::decode_private_key(&text, &origin, password)?;
        Ok(SigningKey::in_memory(key, origin))
    }

    /// Opens the private key a PKCS#11 URI names and logs in to its token. The module comes from
    /// the URI's `module-path`, else `CLEARBOX_PKCS11_MODULE_PATH`, else
    /// `COSIGN_PKCS11_MODULE_PATH`; the PIN from `pin-value` or `pin-source`, else the terminal.
    pub fn from_pkcs11(uri: &Pkcs11Uri) -> Result<Self, KeyError> {
        Ok(SigningKey {
            backend: Backend::Token(TokenKey::open(uri)?),
        })
    }

    /// Loads the key a `--key` argument names (see [`KeyReference::parse`]).
    pub fn load(
        argument: &str,
        password: impl FnOnce() -> Result<Password, KeyError>,
    ) -> Result<Self, KeyError> {
        match KeyReference::parse(argument)? {
            KeyReference::File(path) => SigningKey::from_file(&path, password),
            KeyReference::Pkcs11(uri) => SigningKey::from_pkcs11(&uri),
        }
    }

    /// Signs SHA-256(`message`); the result is what cosign stores (before base64).
    pub fn sign(&self, message: &[u8]) -> Result<Signature, KeyError> {
        match &self.backend {
            Backend::Memory { key, .. } => {
                let signature: ecdsa::Signature = key.sign(message);
                Ok(Signature::from_inner(signature))
            }
            Backend::Token(key) => key.sign(message),
        }
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        match &self.backend {
            Backend::Memory { key, .. } => PublicKey::from_verifying_key(*key.verifying_key()),
            Backend::Token(key) => key.public_key(),
        }
    }

    /// Encodes the key in cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt
    /// N=65536, r=8, p=1). Fails for a key on a token.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        match &self.backend {
            Backend::Memory { key, .. } => {
                file::encrypted_pem(key, password, ScryptParams::STANDARD)
            }
            Backend::Token(key) => Err(KeyError::NotExportable {
                uri: key.uri().to_owned(),
            }),
        }
    }

    /// Where the key came from, for messages: a file path in backticks, `the PEM input`, `a
    /// generated key`, or the PKCS#11 URI in backticks with the PIN redacted.
    #[must_use]
    pub fn origin(&self) -> String {
        match &self.backend {
            Backend::Memory { origin, .. } => origin.clone(),
            Backend::Token(key) => format!("`{}`", key.uri()),
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, {})",
            self.origin(),
            self.public_key().fingerprint()
        )
    }
}

impl PublicKey {
    /// Loads the public key a `--key` argument names: a PEM `PUBLIC KEY` file, or the public key
    /// object on a PKCS#11 token.
    pub fn load(argument: &str) -> Result<Self, KeyError> {
        match KeyReference::parse(argument)? {
            KeyReference::File(path) => PublicKey::from_file(&path),
            KeyReference::Pkcs11(uri) => pkcs11::read_public_key(&uri),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_kinds() {
        assert!(matches!(
            KeyReference::parse("cosign.key").unwrap(),
            KeyReference::File(_)
        ));
        assert!(matches!(
            KeyReference::parse("pkcs11:token=t;object=k").unwrap(),
            KeyReference::Pkcs11(_)
        ));
    }

    #[test]
    fn kms_reference_rejected() {
        let error = KeyReference::parse("awskms:///alias/release").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`awskms:///alias/release`: `awskms://` keys are not supported; use a key file or a \
             `pkcs11:` URI"
        );
    }

    #[test]
    fn sign_is_deterministic_and_verifies() {
        let key = SigningKey::generate();
        let first = key.sign(b"message").unwrap();
        assert_eq!(first, key.sign(b"message").unwrap());
        key.public_key()
            .verify(b"message", &first.to_der())
            .unwrap();
        key.public_key()
            .verify(b"message", &first.to_raw())
            .unwrap();
    }

    #[test]
    fn high_and_low_s_both_verify() {
        let key = SigningKey::generate();
        let signature = key.sign(b"message").unwrap();
        let low = signature.inner().normalize_s();
        let (r, s) = low.split_scalars();
        let high = ecdsa::Signature::from_scalars(r, -s).unwrap();
        assert_ne!(high, low);
        for variant in [low, high] {
            key.public_key()
                .verify(b"message", &Signature::from_inner(variant).to_der())
                .unwrap();
        }
    }

    #[test]
    fn other_message_rejected() {
        let key = SigningKey::generate();
        let signature = key.sign(b"message").unwrap();
        let error = key
            .public_key()
            .verify(b"massage", &signature.to_der())
            .unwrap_err();
        assert!(matches!(error, KeyError::SignatureMismatch));
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = SigningKey::generate();
        let text = format!("{key:?}");
        assert!(
            text.starts_with("SigningKey(a generated key, sha256:"),
            "{text}"
        );
    }
}
