//! Keys on PKCS#11 tokens (hardware security modules, smart cards, `SoftHSM`), named by RFC 7512
//! URIs.

mod token;
mod uri;

pub use token::{COSIGN_MODULE_PATH_ENV, MODULE_PATH_ENV};
pub(crate) use token::{TokenKey, read_public_key};
pub use uri::{ObjectType, PKCS11_SCHEME, Pkcs11Uri};
