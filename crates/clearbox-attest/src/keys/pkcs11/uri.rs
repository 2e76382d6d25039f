//! PKCS#11 URIs (RFC 7512, <https://www.rfc-editor.org/rfc/rfc7512>) naming a key on a token:
//! `pkcs11:token=T;object=O;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234`.
//!
//! Supported path attributes: `token`, `manufacturer`, `model`, `serial`, `slot-id` (which
//! select the token), `object`, `id` (which select the key) and `type` (`private` or `public`).
//! Supported query attributes: `module-path`, `pin-value` and `pin-source` (a `file:` URI or a
//! path). Vendor attributes (`x-…`) are ignored. Everything else is rejected, because silently
//! ignoring a selector could pick a different key than the one named.
//!
//! Not supported: `module-name` (searching the system's module directories), `pin-source` with a
//! command (`|/usr/bin/program`), and the `library-*` and `slot-*` description attributes.

use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::keys::KeyError;

/// The URI scheme, with its colon.
pub const PKCS11_SCHEME: &str = "pkcs11:";

/// The kind of object a URI names (`type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `type=private`.
    Private,
    /// `type=public`.
    Public,
}

/// The source of the user PIN.
#[derive(Clone)]
pub(crate) enum PinSpec {
    /// `pin-value=`.
    Value(Zeroizing<String>),
    /// `pin-source=`: a file whose first line is the PIN.
    File(PathBuf),
}

/// A parsed PKCS#11 URI naming a key. `Display` and `Debug` print it with the PIN replaced by
/// `***`, so it is safe to put in messages and logs.
#[derive(Clone)]
pub struct Pkcs11Uri {
    pub(crate) token: Option<String>,
    pub(crate) manufacturer: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) serial: Option<String>,
    pub(crate) slot_id: Option<u64>,
    pub(crate) object: Option<String>,
    pub(crate) id: Option<Vec<u8>>,
    pub(crate) object_type: Option<ObjectType>,
    pub(crate) module_path: Option<PathBuf>,
    pub(crate) pin: Option<PinSpec>,
    redacted: String,
}

impl Pkcs11Uri {
    /// Parses `uri`, which must start with `pkcs11:`.
    pub fn parse(uri: &str) -> Result<Self, KeyError> {
        let redacted = redact(uri);
        let invalid = |reason: String| KeyError::InvalidPkcs11Uri {
            uri: redacted.clone(),
            reason,
        };
        let Some(rest) = uri.strip_prefix(PKCS11_SCHEME) else {
            return Err(invalid("a PKCS#11 URI starts with `pkcs11:`".to_owned()));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut parsed = Pkcs11Uri {
            token: None,
            manufacturer: None,
            model: None,
            serial: None,
            slot_id: None,
            object: None,
            id: None,
            object_type: None,
            module_path: None,
            pin: None,
            redacted: redacted.clone(),
        };
        let mut seen = Vec::new();
        for (name, raw) in attributes(path, ';').map_err(&invalid)? {
            check_once(&mut seen, name).map_err(&invalid)?;
            parsed.set_path_attribute(name, raw).map_err(&invalid)?;
        }
        for (name, raw) in attributes(query, '&').map_err(&invalid)? {
            check_once(&mut seen, name).map_err(&invalid)?;
            parsed.set_query_attribute(name, raw).map_err(&invalid)?;
        }
        Ok(parsed)
    }

    fn set_path_attribute(&mut self, name: &str, raw: &str) -> Result<(), String> {
        match name {
            "token" => self.token = Some(decode_text(name, raw)?),
            "manufacturer" => self.manufacturer = Some(decode_text(name, raw)?),
            "model" => self.model = Some(decode_text(name, raw)?),
            "serial" => self.serial = Some(decode_text(name, raw)?),
            "object" => self.object = Some(decode_text(name, raw)?),
            "id" => self.id = Some(percent_decode(name, raw)?),
            "slot-id" => {
                let text = decode_text(name, raw)?;
                let slot = text
                    .parse()
                    .map_err(|_| format!("`slot-id` must be a decimal number, found `{text}`"))?;
                self.slot_id = Some(slot);
            }
            "type" => {
                self.object_type = Some(match decode_text(name, raw)?.as_str() {
                    "private" => ObjectType::Private,
                    "public" => ObjectType::Public,
                    other => {
                        return Err(format!(
                            "`type={other}` names no key; use `type=private` or `type=public`"
                        ));
                    }
                });
            }
            vendor if vendor.starts_with("x-") => {}
            other => {
                return Err(format!(
                    "the path attribute `{other}` is not supported; use token, manufacturer, \
                     model, serial or slot-id to select the token and object or id for the key"
                ));
            }
        }
        Ok(())
    }

    fn set_query_attribute(&mut self, name: &str, raw: &str) -> Result<(), String> {
        match name {
            "module-path" => self.module_path = Some(PathBuf::from(decode_text(name, raw)?)),
            "pin-value" => self.pin = Some(PinSpec::Value(Zeroizing::new(decode_text(name, raw)?))),
            "pin-source" => {
                let source = decode_text(name, raw)?;
                let path = source
                    .strip_prefix("file://")
                    .or_else(|| source.strip_prefix("file:"))
                    .unwrap_or(&source);
                if path.starts_with('|') || path.is_empty() {
                    return Err(format!(
                        "`pin-source={source}` is not supported; give a file: `pin-source=file:/path`"
                    ));
                }
                self.pin = Some(PinSpec::File(PathBuf::from(path)));
            }
            "module-name" => {
                return Err(
                    "`module-name` is not supported; give the module's absolute path \
                            with `module-path`"
                        .to_owned(),
                );
            }
            vendor if vendor.starts_with("x-") => {}
            other => {
                return Err(format!(
                    "the query attribute `{other}` is not supported; use module-path, pin-value \
                     or pin-source"
                ));
            }
        }
        Ok(())
    }

    /// Checks that the URI selects a token and a key, as cosign requires.
    pub(crate) fn require_key_selectors(&self) -> Result<(), KeyError> {
        let invalid = |reason: &str| KeyError::InvalidPkcs11Uri {
            uri: self.redacted.clone(),
            reason: reason.to_owned(),
        };
        if self.token.is_none() && self.slot_id.is_none() && self.serial.is_none() {
            return Err(invalid(
                "name the token with `token=`, `serial=` or `slot-id=`",
            ));
        }
        if self.object.is_none() && self.id.is_none() {
            return Err(invalid("name the key with `object=` (its label) or `id=`"));
        }
        Ok(())
    }

    /// The token label (`token=`).
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The key label (`object=`).
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// The key id (`id=`), decoded.
    #[must_use]
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// The module path (`module-path=`).
    #[must_use]
    pub fn module_path(&self) -> Option<&std::path::Path> {
        self.module_path.as_deref()
    }

    /// Whether the URI carries a PIN (`pin-value=` or `pin-source=`).
    #[must_use]
    pub fn has_pin(&self) -> bool {
        self.pin.is_some()
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({})", self.redacted)
    }
}

/// `uri` with the value of every `pin-value` attribute replaced by `***`, in the query and, where
/// it does not belong but could be typed, in the path.
pub(crate) fn redact(uri: &str) -> String {
    let hide = |component: &str, separator: char| {
        component
            .split(separator)
            .map(|attribute| {
                if attribute.starts_with("pin-value=") {
                    "pin-value=***"
                } else {
                    attribute
                }
            })
            .collect::<Vec<_>>()
            .join(&separator.to_string())
    };
    match uri.split_once('?') {
        Some((path, query)) => format!("{}?{}", hide(path, ';'), hide(query, '&')),
        None => hide(uri, ';'),
    }
}

/// Splits `component` into `(name, raw value)` pairs.
fn attributes(component: &str, separator: char) -> Result<Vec<(&str, &str)>, String> {
    component
        .split(separator)
        .filter(|attribute| !attribute.is_empty())
        .map(|attribute| {
            attribute.split_once('=').ok_or_else(|| {
                // A mistyped `pin-value` must not end up in the message.
                if attribute.starts_with("pin") {
                    "a `pin-…` attribute has no `=value`".to_owned()
                } else {
                    format!("the attribute `{attribute}` has no `=value`")
                }
            })
        })
        .collect()
}

fn check_once<'a>(seen: &mut Vec<&'a str>, name: &'a str) -> Result<(), String> {
    if seen.contains(&name) {
        return Err(format!("the attribute `{name}` appears more than once"));
    }
    seen.push(name);
    Ok(())
}

fn decode_text(name: &str, raw: &str) -> Result<String, String> {
    String::from_utf8(percent_decode(name, raw)?)
        .map_err(|_| format!("the value of `{name}` is not UTF-8 after percent-decoding"))
}

fn percent_decode(name: &str, raw: &str) -> Result<Vec<u8>, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let pair = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| {
                    format!("the value of `{name}` has a `%` not followed by two hex digits")
                })?;
            out.push(pair);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(uri: &str) -> String {
        match Pkcs11Uri::parse(uri) {
            Err(KeyError::InvalidPkcs11Uri { reason, .. }) => reason,
            other => panic!("expected InvalidPkcs11Uri for {uri}, got {other:?}"),
        }
    }

    #[test]
    fn full_uri() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;object=signing;id=%01%ab;type=private;slot-id=7\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2534",
        )
        .unwrap();
        assert_eq!(uri.token(), Some("My Token"));
        assert_eq!(uri.object(), Some("signing"));
        assert_eq!(uri.id(), Some(&[0x01, 0xab][..]));
        assert_eq!(uri.object_type, Some(ObjectType::Private));
        assert_eq!(uri.slot_id, Some(7));
        assert_eq!(
            uri.module_path(),
            Some(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        match &uri.pin {
            Some(PinSpec::Value(pin)) => assert_eq!(pin.as_str(), "12%34"),
            _ => panic!("pin-value not parsed"),
        }
    }

    #[test]
    fn display_redacts_pin() {
        let uri =
            Pkcs11Uri::parse("pkcs11:token=t;object=k?pin-value=1234&module-path=/m.so").unwrap();
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=t;object=k?pin-value=***&module-path=/m.so"
        );
        assert!(!format!("{uri:?}").contains("1234"));
    }

    #[test]
    fn errors_redact_pin() {
        let error = Pkcs11Uri::parse("pkcs11:token=t;bogus=1?pin-value=1234").unwrap_err();
        assert!(!error.to_string().contains("1234"), "{error}");
        let misplaced = Pkcs11Uri::parse("pkcs11:token=t;pin-value=1234").unwrap_err();
        assert!(!misplaced.to_string().contains("1234"), "{misplaced}");
    }

    #[test]
    fn pin_source_forms() {
        for (uri, expected) in [
            (
                "pkcs11:token=t;object=k?pin-source=file:/run/pin",
                "/run/pin",
            ),
            (
                "pkcs11:token=t;object=k?pin-source=file:///run/pin",
                "/run/pin",
            ),
            ("pkcs11:token=t;object=k?pin-source=/run/pin", "/run/pin"),
        ] {
            match Pkcs11Uri::parse(uri).unwrap().pin {
                Some(PinSpec::File(path)) => assert_eq!(path, PathBuf::from(expected), "{uri}"),
                _ => panic!("pin-source not parsed in {uri}"),
            }
        }
    }

    #[test]
    fn pin_source_command_rejected() {
        assert!(reason("pkcs11:token=t;object=k?pin-source=|/bin/pin").contains("not supported"));
    }

    #[test]
    fn wrong_scheme_rejected() {
        assert_eq!(
            reason("pkcs12:token=t"),
            "a PKCS#11 URI starts with `pkcs11:`"
        );
    }

    #[test]
    fn unknown_attribute_rejected() {
        assert!(reason("pkcs11:token=t;colour=red").starts_with("the path attribute `colour`"));
        assert!(reason("pkcs11:token=t?colour=red").starts_with("the query attribute `colour`"));
    }

    #[test]
    fn vendor_attribute_ignored() {
        assert!(Pkcs11Uri::parse("pkcs11:token=t;x-vendor=1?x-other=2").is_ok());
    }

    #[test]
    fn duplicate_attribute_rejected() {
        assert_eq!(
            reason("pkcs11:token=a;token=b"),
            "the attribute `token` appears more than once"
        );
    }

    #[test]
    fn bad_percent_rejected() {
        assert_eq!(
            reason("pkcs11:token=a%2"),
            "the value of `token` has a `%` not followed by two hex digits"
        );
        assert_eq!(
            reason("pkcs11:token=a%zz"),
            "the value of `token` has a `%` not followed by two hex digits"
        );
    }

    #[test]
    fn non_utf8_label_rejected() {
        assert_eq!(
            reason("pkcs11:token=%ff"),
            "the value of `token` is not UTF-8 after percent-decoding"
        );
    }

    #[test]
    fn bad_slot_id_rejected() {
        assert_eq!(
            reason("pkcs11:slot-id=first"),
            "`slot-id` must be a decimal number, found `first`"
        );
    }

    #[test]
    fn certificate_type_rejected() {
        assert_eq!(
            reason("pkcs11:token=t;type=cert"),
            "`type=cert` names no key; use `type=private` or `type=public`"
        );
    }

    #[test]
    fn module_name_rejected() {
        assert!(reason("pkcs11:token=t?module-name=softhsm2").contains("module-path"));
    }

    #[test]
    fn attribute_without_value_rejected() {
        assert_eq!(
            reason("pkcs11:token"),
            "the attribute `token` has no `=value`"
        );
        assert_eq!(
            reason("pkcs11:token=t?pin-value:1234"),
            "a `pin-…` attribute has no `=value`"
        );
    }

    #[test]
    fn selectors_required() {
        let no_token = Pkcs11Uri::parse("pkcs11:object=k").unwrap();
        assert_eq!(
            no_token.require_key_selectors().unwrap_err().to_string(),
            "invalid PKCS#11 URI `pkcs11:object=k`: name the token with `token=`, `serial=` or \
             `slot-id=`"
        );
        let no_key = Pkcs11Uri::parse("pkcs11:token=t").unwrap();
        assert_eq!(
            no_key.require_key_selectors().unwrap_err().to_string(),
            "invalid PKCS#11 URI `pkcs11:token=t`: name the key with `object=` (its label) or `id=`"
        );
    }
}
