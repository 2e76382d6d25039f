//! Signing with an ECDSA P-256 key on a PKCS#11 token, through the `cryptoki` crate, which loads
//! the module with `dlopen` at run time.
//!
//! Modules are loaded and initialised once per process and never finalised: `C_Initialize` may
//! be called only once per process, and finalising while another key of the same module is in
//! use would invalidate its session.
//!
//! Signing hashes on the host and uses `CKM_ECDSA` over the SHA-256 digest, because tokens such
//! as `SoftHSM` 2.6 have no `CKM_ECDSA_SHA256`. The token returns raw `r‖s`. Each signature is
//! checked against the key's public half before it is DER-encoded and returned. So a token that
//! pairs the wrong public key object with the private key fails here, not at verification.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::der::asn1::OctetStringRef;
use sha2::{Digest as _, Sha256};
use tracing::debug;
use zeroize::Zeroizing;

use super::uri::{ObjectType, PinSpec, Pkcs11Uri};
use crate::keys::{KeyError, PublicKey, Signature, algorithm};

/// Environment variable naming the module when the URI has no `module-path`.
pub const MODULE_PATH_ENV: &str = "CLEARBOX_PKCS11_MODULE_PATH";
/// Environment variable read when [`MODULE_PATH_ENV`] is unset, as cosign reads it.
pub const COSIGN_MODULE_PATH_ENV: &str = "COSIGN_PKCS11_MODULE_PATH";

/// A private key on a token, with a logged-in session kept open for signing.
pub(crate) struct TokenKey {
    // `Session` is `Send` but not `Sync`; the mutex makes the key shareable between threads.
    session: Mutex<Session>,
    key: ObjectHandle,
    public: PublicKey,
    uri: String,
}

impl TokenKey {
    /// Opens the private key that `uri` names, logging in with the URI's PIN (or one typed at
    /// the terminal when the URI has none).
    pub(crate) fn open(uri: &Pkcs11Uri) -> Result<Self, KeyError> {
        uri.require_key_selectors()?;
        if uri.object_type == Some(ObjectType::Public) {
            return Err(KeyError::InvalidPkcs11Uri {
                uri: uri.to_string(),
                reason: "`type=public` names a public key; signing needs `type=private` or no \
                         `type`"
                    .to_owned(),
            });
        }

        // Load the module, find the token, log in.
        let context = module(uri)?;
        let (slot, label) = find_slot(&context, uri)?;
        let session = context
            .open_ro_session(slot)
            .map_err(|source| pkcs11_error(uri, "C_OpenSession", source))?;
        let pin = resolve_pin(uri, &label)?;
        login(&session, uri, &pin)?;

        // Find the private key and its public half, and check they are P-256.
        let key = find_one(&session, uri, ObjectClass::PRIVATE_KEY)?;
        require_ec_p256(&session, uri, key)?;
        let public_handle = find_one(&session, uri, ObjectClass::PUBLIC_KEY)?;
        let public = read_ec_point(&session, uri, public_handle)?;
        debug!(uri = %uri, fingerprint = %public.fingerprint(), "opened PKCS#11 key");
        Ok(TokenKey {
            session: Mutex::new(session),
            key,
            public,
            uri: uri.to_string(),
        })
    }

    /// Signs SHA-256(`message`) with `CKM_ECDSA`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, KeyError> {
        let digest = Sha256::digest(message);
        let raw = {
            let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            session
                .sign(&Mechanism::Ecdsa, self.key, &digest)
                .map_err(|source| KeyError::Pkcs11 {
                    uri: self.uri.clone(),
                    operation: "C_Sign",
                    source,
                })?
        };
        let signature = Signature::from_raw(&raw).map_err(|_| KeyError::Pkcs11Token {
            uri: self.uri.clone(),
            reason: format!(
                "the token returned a {}-byte signature, not 64-byte r‖s",
                raw.len()
            ),
        })?;
        self.public
            .verify_prehash(&digest, &signature)
            .map_err(|_| KeyError::Pkcs11Token {
                uri: self.uri.clone(),
                reason: "the token's signature does not verify with the public key object of the \
                         same label and id; the token pairs the key with the wrong public key"
                    .to_owned(),
            })?;
        Ok(signature)
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        self.public
    }

    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }
}

/// Reads the public key that `uri` names. Logs in only when the URI carries a PIN, because
/// public key objects are readable without logging in.
pub(crate) fn read_public_key(uri: &Pkcs11Uri) -> Result<PublicKey, KeyError> {
    uri.require_key_selectors()?;
    let context = module(uri)?;
    let (slot, label) = find_slot(&context, uri)?;
    let session = context
        .open_ro_session(slot)
        .map_err(|source| pkcs11_error(uri, "C_OpenSession", source))?;
    if uri.has_pin() {
        let pin = resolve_pin(uri, &label)?;
        login(&session, uri, &pin)?;
    }
    let handle = find_one(&session, uri, ObjectClass::PUBLIC_KEY)?;
    read_ec_point(&session, uri, handle)
}

fn pkcs11_error(uri: &Pkcs11Uri, operation: &'static str, source: CryptokiError) -> KeyError {
    KeyError::Pkcs11 {
        uri: uri.to_string(),
        operation,
        source,
    }
}

/// The module path: from the URI, else `CLEARBOX_PKCS11_MODULE_PATH`, else
/// `COSIGN_PKCS11_MODULE_PATH`.
fn module_path(uri: &Pkcs11Uri) -> Result<PathBuf, KeyError> {
    if let Some(path) = uri.module_path() {
        return Ok(path.to_owned());
    }
    [MODULE_PATH_ENV, COSIGN_MODULE_PATH_ENV]
        .into_iter()
        .find_map(std::env::var_os)
        .map(PathBuf::from)
        .ok_or_else(|| KeyError::MissingModulePath {
            uri: uri.to_string(),
        })
}

/// The process-wide context for the module `uri` names, loaded and initialised on first use.
fn module(uri: &Pkcs11Uri) -> Result<Pkcs11, KeyError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();

    let path = module_path(uri)?;
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(context) = modules.get(&path) {
        return Ok(context.clone());
    }
    if !path.is_file() {
        return Err(KeyError::ModuleNotFound {
            uri: uri.to_string(),
            module: path,
        });
    }
    let context = Pkcs11::new(&path).map_err(|source| module_load_error(&path, source))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another part of the process initialised it: its state is shared, which is what we need.
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(source) => return Err(module_load_error(&path, source)),
    }
    debug!(module = %path.display(), "loaded PKCS#11 module");
    modules.insert(path, context.clone());
    Ok(context)
}

fn module_load_error(path: &Path, source: CryptokiError) -> KeyError {
    KeyError::ModuleLoad {
        module: path.to_owned(),
        source,
    }
}

/// The one slot whose token matches the URI's token attributes, and the token's label.
fn find_slot(context: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Slot, String), KeyError> {
    let slots = context
        .get_slots_with_initialized_token()
        .map_err(|source| pkcs11_error(uri, "C_GetSlotList", source))?;
    let mut matches = Vec::new();
    let mut available = Vec::new();
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|source| pkcs11_error(uri, "C_GetTokenInfo", source))?;
        let label = info.label().trim_end().to_owned();
        let matches_field = |field: &Option<String>, actual: &str| {
            field
                .as_deref()
                .is_none_or(|value| value == actual.trim_end())
        };
        if matches_field(&uri.token, &label)
            && matches_field(&uri.manufacturer, info.manufacturer_id())
            && matches_field(&uri.model, info.model())
            && matches_field(&uri.serial, info.serial_number())
            && uri.slot_id.is_none_or(|id| id == slot.id())
        {
            matches.push((slot, label.clone()));
        }
        available.push(label);
    }
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(KeyError::TokenNotFound {
            uri: uri.to_string(),
            available,
        }),
        _ => Err(KeyError::Pkcs11Token {
            uri: uri.to_string(),
            reason: format!(
                "{} tokens match; add `serial=` or `slot-id=` to select one",
                matches.len()
            ),
        }),
    }
}

/// The user PIN: from the URI, else typed at the terminal.
fn resolve_pin(uri: &Pkcs11Uri, token_label: &str) -> Result<Zeroizing<String>, KeyError> {
    match &uri.pin {
        Some(PinSpec::Value(pin)) => Ok(pin.clone()),
        Some(PinSpec::File(path)) => {
            let read = clearbox_oci::read_regular_file(path, crate::keys::MAX_KEY_FILE_BYTES);
            let bytes = Zeroizing::new(read.map_err(|source| KeyError::Read {
                path: path.clone(),
                source,
            })?);
            let text = std::str::from_utf8(&bytes).map_err(|_| KeyError::Read {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the PIN file is not UTF-8 text",
                ),
            })?;
            // The first line is the PIN, so the file may end with a newline.
            let line = text.lines().next().unwrap_or("");
            Ok(Zeroizing::new(line.to_owned()))
        }
        None => rpassword::prompt_password(format!("Enter PIN for token `{token_label}`: "))
            .map(Zeroizing::new)
            .map_err(|error| KeyError::NoPin {
                uri: uri.to_string(),
                reason: error.to_string(),
            }),
    }
}

fn login(session: &Session, uri: &Pkcs11Uri, pin: &str) -> Result<(), KeyError> {
    match session.login(UserType::User, Some(&AuthPin::from(pin))) {
        // Login state is per token and process: another key of this token logged in already.
        Ok(()) | Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CryptokiError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(KeyError::WrongPin {
                uri: uri.to_string(),
            })
        }
        Err(CryptokiError::Pkcs11(RvError::PinLocked, _)) => Err(KeyError::PinLocked {
            uri: uri.to_string(),
        }),
        Err(source) => Err(pkcs11_error(uri, "C_Login", source)),
    }
}

/// The one object of `class` whose label and id match the URI.
fn find_one(
    session: &Session,
    uri: &Pkcs11Uri,
    class: ObjectClass,
) -> Result<ObjectHandle, KeyError> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let handles = session
        .find_objects(&template)
        .map_err(|source| pkcs11_error(uri, "C_FindObjects", source))?;
    let kind = if class == ObjectClass::PRIVATE_KEY {
        "private key"
    } else {
        "public key"
    };
    match handles.as_slice() {
        [handle] => Ok(*handle),
        [] => Err(KeyError::ObjectNotFound {
            uri: uri.to_string(),
            kind,
        }),
        many => Err(KeyError::Pkcs11Token {
            uri: uri.to_string(),
            reason: format!(
                "{} {kind} objects match; name the key by both `object=` and `id=`",
                many.len()
            ),
        }),
    }
}

fn require_ec_p256(session: &Session, uri: &Pkcs11Uri, key: ObjectHandle) -> Result<(), KeyError> {
    let attributes = session
        .get_attributes(key, &[AttributeType::KeyType, AttributeType::EcParams])
        .map_err(|source| pkcs11_error(uri, "C_GetAttributeValue", source))?;
    let mut key_type = None;
    let mut params = None;
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(value) => key_type = Some(value),
            Attribute::EcParams(value) => params = Some(value),
            _ => {}
        }
    }
    let unsupported = |algorithm: String| KeyError::UnsupportedAlgorithm {
        origin: format!("`{uri}`"),
        algorithm,
    };
    match key_type {
        Some(KeyType::EC) => {}
        Some(KeyType::RSA) => return Err(unsupported("RSA".to_owned())),
        Some(other) => return Err(unsupported(format!("PKCS#11 {other}"))),
        None => {
            return Err(unsupported(
                "unknown (the token reports no CKA_KEY_TYPE)".to_owned(),
            ));
        }
    }
    match params {
        Some(params) if params == algorithm::P256_EC_PARAMS => Ok(()),
        Some(params) => Err(unsupported(format!(
            "ECDSA with CKA_EC_PARAMS {}",
            hex::encode(params)
        ))),
        // Some tokens hide the parameters on private keys; the public key's point decides.
        None => Ok(()),
    }
}

/// The key in a public key object's `CKA_EC_POINT`: a DER OCTET STRING around the SEC1 point per
/// PKCS#11, or the bare point as some modules return it.
fn read_ec_point(
    session: &Session,
    uri: &Pkcs11Uri,
    handle: ObjectHandle,
) -> Result<PublicKey, KeyError> {
    let attributes = session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(|source| pkcs11_error(uri, "C_GetAttributeValue", source))?;
    let Some(point) = attributes
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
    else {
        return Err(KeyError::UnsupportedAlgorithm {
            origin: format!("`{uri}`"),
            algorithm: "non-EC public key (no CKA_EC_POINT)".to_owned(),
        });
    };
    let unwrapped = <&OctetStringRef>::from_der(&point)
        .ok()
        .and_then(|octets| PublicKey::from_sec1_bytes(octets.as_bytes()).ok());
    unwrapped
        .map_or_else(|| PublicKey::from_sec1_bytes(&point), Ok)
        .map_err(|_| KeyError::UnsupportedAlgorithm {
            origin: format!("`{uri}`"),
            algorithm: format!("EC key whose {}-byte point is not on P-256", point.len()),
        })
}
