//! cosign's password-encrypted private key: the PEM body is a JSON document naming the scrypt key
//! derivation and the `nacl/secretbox` (XSalsa20-Poly1305) cipher around a PKCS#8 DER key.
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},"ciphertext":"<base64>"}
//! ```
//!
//! The format is go-securesystemslib's `encrypted` package, which cosign and skopeo call. cosign
//! 2.5 (`generate-key-pair`) writes the `ENCRYPTED SIGSTORE PRIVATE KEY` label and skopeo 1.18
//! (`generate-sigstore-key`) the older `ENCRYPTED COSIGN PRIVATE KEY`; both write N=65536, r=8,
//! p=1 with a 32-byte salt and a 24-byte nonce (checked on keys both tools generated). The
//! decoder accepts only the three scrypt parameter sets that go-securesystemslib accepts, so a
//! tampered file cannot make us derive a key with gigabytes of memory.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// PEM label cosign 2.x writes.
pub(crate) const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label older cosign releases and skopeo 1.18 write.
pub(crate) const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// scrypt cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScryptParams {
    #[serde(rename = "N")]
    pub(crate) n: u64,
    pub(crate) r: u32,
    pub(crate) p: u32,
}

impl ScryptParams {
    /// The parameters cosign 2.5 and skopeo 1.18 write, which go-securesystemslib calls
    /// "standard". Deriving a key takes 64 MiB of memory and about 0.16 s (measured on a 2-core
    /// `x86_64` machine with scrypt built at `opt-level = 3`, as the workspace profile sets).
    pub(crate) const STANDARD: ScryptParams = ScryptParams {
        n: 65536,
        r: 8,
        p: 1,
    };

    /// Every parameter set go-securesystemslib decrypts: "legacy" (older cosign), "standard"
    /// and "OWASP".
    const ACCEPTED: [ScryptParams; 3] = [
        ScryptParams {
            n: 32768,
            r: 8,
            p: 1,
        },
        ScryptParams::STANDARD,
        ScryptParams {
            n: 131_072,
            r: 8,
            p: 1,
        },
    ];
}

/// The reason an encrypted key could not be decrypted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecryptError {
    /// The JSON is malformed or a field is missing or mis-encoded.
    Malformed(String),
    /// The scrypt parameters are not one of the accepted sets.
    UnsupportedParams(ScryptParams),
    /// The authentication tag did not match: wrong password or altered ciphertext.
    WrongPassword,
}

#[derive(Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Encrypts `plaintext` (a PKCS#8 DER key) under `password`; returns the JSON document.
pub(crate) fn encrypt(
    plaintext: &[u8],
    password: &[u8],
    params: ScryptParams,
) -> Result<Vec<u8>, String> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut salt).map_err(|error| format!("no random salt: {error}"))?;
    getrandom::fill(&mut nonce).map_err(|error| format!("no random nonce: {error}"))?;
    let key = derive_key(password, &salt, params)?;
    let ciphertext = XSalsa20Poly1305::new(Key::from_slice(key.as_slice()))
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .map_err(|_| "secretbox encryption failed".to_owned())?;
    let document = EncryptedKey {
        kdf: Kdf {
            name: KDF_NAME.to_owned(),
            params,
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: CIPHER_NAME.to_owned(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(ciphertext),
    };
    serde_json::to_vec(&document).map_err(|error| error.to_string())
}

/// Decrypts the JSON document `body` with `password`; returns the PKCS#8 DER key.
pub(crate) fn decrypt(body: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let malformed = |reason: String| DecryptError::Malformed(reason);

    // 1. The document names scrypt and secretbox, with accepted scrypt parameters.
    let document: EncryptedKey = serde_json::from_slice(body)
        .map_err(|error| malformed(format!("the encrypted key is not valid JSON: {error}")))?;
    if document.kdf.name != KDF_NAME {
        return Err(malformed(format!(
            "unknown key derivation `{}`; expected `{KDF_NAME}`",
            document.kdf.name
        )));
    }
    if document.cipher.name != CIPHER_NAME {
        return Err(malformed(format!(
            "unknown cipher `{}`; expected `{CIPHER_NAME}`",
            document.cipher.name
        )));
    }
    if !ScryptParams::ACCEPTED.contains(&document.kdf.params) {
        return Err(DecryptError::UnsupportedParams(document.kdf.params));
    }

    // 2. Salt, nonce and ciphertext are base64 and the nonce has the cipher's size.
    let decode = |field: &str, value: &str| {
        STANDARD
            .decode(value)
            .map_err(|error| malformed(format!("`{field}` is not valid base64: {error}")))
    };
    let salt = decode("kdf.salt", &document.kdf.salt)?;
    let nonce = decode("cipher.nonce", &document.cipher.nonce)?;
    let ciphertext = decode("ciphertext", &document.ciphertext)?;
    if nonce.len() != NONCE_LEN {
        return Err(malformed(format!(
            "the nonce has {} bytes; secretbox uses {NONCE_LEN}",
            nonce.len()
        )));
    }

    // 3. Derive the key and open the box; a failed tag means a wrong password.
    let key = derive_key(password, &salt, document.kdf.params).map_err(malformed)?;
    XSalsa20Poly1305::new(Key::from_slice(key.as_slice()))
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| DecryptError::WrongPassword)
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, String> {
    let log_n = params.n.trailing_zeros();
    if !params.n.is_power_of_two() || log_n >= 64 {
        return Err(format!("scrypt N={} is not a power of two", params.n));
    }
    let scrypt_params = scrypt::Params::new(log_n as u8, params.r, params.p)
        .map_err(|error| format!("invalid scrypt parameters: {error}"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    scrypt::scrypt(password, salt, &scrypt_params, key.as_mut_slice())
        .map_err(|error| format!("scrypt failed: {error}"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The cheapest accepted set keeps these unit tests fast; the integration tests decrypt keys
    // that cosign and skopeo wrote with the standard set.
    const LEGACY: ScryptParams = ScryptParams::ACCEPTED[0];

    #[test]
    fn round_trip() {
        let body = encrypt(b"secret key", b"pw", LEGACY).unwrap();
        assert_eq!(*decrypt(&body, b"pw").unwrap(), b"secret key");
    }

    #[test]
    fn empty_password_round_trip() {
        let body = encrypt(b"secret key", b"", LEGACY).unwrap();
        assert_eq!(*decrypt(&body, b"").unwrap(), b"secret key");
    }

    #[test]
    fn json_field_order_matches_cosign() {
        let body =
            String::from_utf8(encrypt(b"k", b"pw", ScryptParams::STANDARD).unwrap()).unwrap();
        assert!(
            body.starts_with(
                r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#
            ),
            "{body}"
        );
        assert!(
            body.contains(r#""cipher":{"name":"nacl/secretbox","nonce":""#),
            "{body}"
        );
        assert!(body.contains(r#""ciphertext":""#), "{body}");
    }

    #[test]
    fn wrong_password() {
        let body = encrypt(b"secret key", b"pw", LEGACY).unwrap();
        assert_eq!(
            decrypt(&body, b"other").unwrap_err(),
            DecryptError::WrongPassword
        );
    }

    #[test]
    fn altered_ciphertext_fails_like_wrong_password() {
        let mut document: serde_json::Value =
            serde_json::from_slice(&encrypt(b"secret key", b"pw", LEGACY).unwrap()).unwrap();
        let mut ciphertext = STANDARD
            .decode(document["ciphertext"].as_str().unwrap())
            .unwrap();
        ciphertext[0] ^= 1;
        document["ciphertext"] = STANDARD.encode(ciphertext).into();
        let body = serde_json::to_vec(&document).unwrap();
        assert_eq!(
            decrypt(&body, b"pw").unwrap_err(),
            DecryptError::WrongPassword
        );
    }

    fn with_field(pointer: &str, value: serde_json::Value) -> Vec<u8> {
        let mut document: serde_json::Value =
            serde_json::from_slice(&encrypt(b"k", b"pw", LEGACY).unwrap()).unwrap();
        *document.pointer_mut(pointer).unwrap() = value;
        serde_json::to_vec(&document).unwrap()
    }

    fn malformed_reason(body: &[u8]) -> String {
        match decrypt(body, b"pw").unwrap_err() {
            DecryptError::Malformed(reason) => reason,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn unknown_kdf_rejected() {
        let body = with_field("/kdf/name", "argon2".into());
        assert_eq!(
            malformed_reason(&body),
            "unknown key derivation `argon2`; expected `scrypt`"
        );
    }

    #[test]
    fn unknown_cipher_rejected() {
        let body = with_field("/cipher/name", "aes-gcm".into());
        assert_eq!(
            malformed_reason(&body),
            "unknown cipher `aes-gcm`; expected `nacl/secretbox`"
        );
    }

    #[test]
    fn expensive_params_rejected_before_derivation() {
        let body = with_field("/kdf/params/N", (1u64 << 30).into());
        assert_eq!(
            decrypt(&body, b"pw").unwrap_err(),
            DecryptError::UnsupportedParams(ScryptParams {
                n: 1 << 30,
                r: 8,
                p: 1
            })
        );
    }

    #[test]
    fn short_nonce_rejected() {
        let body = with_field("/cipher/nonce", STANDARD.encode([0u8; 12]).into());
        assert_eq!(
            malformed_reason(&body),
            "the nonce has 12 bytes; secretbox uses 24"
        );
    }

    #[test]
    fn bad_base64_rejected() {
        let body = with_field("/ciphertext", "not base64!".into());
        assert!(
            malformed_reason(&body).starts_with("`ciphertext` is not valid base64"),
            "{}",
            malformed_reason(&body)
        );
    }

    #[test]
    fn not_json_rejected() {
        assert!(malformed_reason(b"{").starts_with("the encrypted key is not valid JSON"));
    }
}
