//! The signer's identity in a Fulcio certificate: the subject alternative name (a URI such as a
//! GitHub Actions workflow, or an email address) and the OIDC issuer that vouched for it.
//!
//! Fulcio records the issuer twice (<https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>):
//! `1.3.6.1.4.1.57264.1.8` holds a DER `UTF8String`; the older `1.3.6.1.4.1.57264.1.1` holds
//! the raw string without DER framing. The first is read when present, else the second.
//! This module only reads the values; `policy::ValueMatcher` compares them, without case folding.

use x509_cert::der::Decode as _;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};

use super::certificate::Certificate;

const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");

/// The OIDC issuer recorded in `certificate`, if any.
pub(crate) fn oidc_issuer(certificate: &Certificate) -> Result<Option<String>, String> {
    if let Some((_, value)) = certificate.extension(&ISSUER_V2) {
        let text = Utf8StringRef::from_der(value)
            .map_err(|_| "the OIDC issuer extension (1.3.6.1.4.1.57264.1.8) is not a UTF8String")?;
        return Ok(Some(text.as_str().to_owned()));
    }
    if let Some((_, value)) = certificate.extension(&ISSUER_V1) {
        let text = std::str::from_utf8(value)
            .map_err(|_| "the OIDC issuer extension (1.3.6.1.4.1.57264.1.1) is not UTF-8")?;
        return Ok(Some(text.to_owned()));
    }
    Ok(None)
}
