//! X.509 certificates (RFC 5280) as Sigstore uses them: Fulcio signing certificates, the CA
//! and timestamp-authority chains of the trusted root, and the signer certificates embedded in
//! RFC 3161 timestamps.
//!
//! Decoding uses `x509-cert`; the exact DER of the signed `TBSCertificate` and of the names is
//! kept as read, so signature checks and name comparisons never depend on a re-encoding.

use std::fmt;

use sha2::{Digest as _, Sha256};
use x509_cert::der::Decode as _;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

use super::der;
use super::key::{self, VerifierKey};
use super::time::{TimeRange, Timestamp};

pub(crate) const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
pub(crate) const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
pub(crate) const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
pub(crate) const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
/// `id-kp-codeSigning`, which Fulcio puts in every signing certificate.
pub(crate) const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// `id-kp-timeStamping`, which RFC 3161 requires of a timestamp authority's certificate.
pub(crate) const TIME_STAMPING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// Fulcio's `username` SAN other-name type, for identities that are neither a URI nor an email.
const FULCIO_USERNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// Extensions this crate understands, so they may be critical. Any other critical extension
/// makes the certificate unusable, as RFC 5280 section 4.2 requires.
const UNDERSTOOD_EXTENSIONS: [ObjectIdentifier; 6] = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXTENDED_KEY_USAGE,
    SUBJECT_ALT_NAME,
    SUBJECT_KEY_ID,
    AUTHORITY_KEY_ID,
];

/// A parsed certificate with the raw DER of its signed parts.
#[derive(Clone)]
pub(crate) struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    tbs_der: Vec<u8>,
    serial_der: Vec<u8>,
    issuer_der: Vec<u8>,
    subject_der: Vec<u8>,
    spki_der: Vec<u8>,
}

impl Certificate {
    /// Parses a DER certificate.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, String> {
        let parsed = x509_cert::Certificate::from_der(der)
            .map_err(|error| format!("not a DER X.509 certificate: {error}"))?;

        // The raw parts: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
        // signatureValue }, and the TBSCertificate's leading fields, after the optional
        // `[0] version`.
        let outer = der::read_exact(der, der::SEQUENCE)?;
        let (tbs, _) = der::read(outer.value)?;
        let fields = der::read_all(tbs.value)?;
        let skip = usize::from(fields.first().is_some_and(|f| f.tag == der::context(0)));
        let field = |index: usize| -> Result<Vec<u8>, String> {
            fields
                .get(skip + index)
                .map(|element| element.raw.to_vec())
                .ok_or_else(|| "truncated TBSCertificate".to_owned())
        };
        Ok(Certificate {
            tbs_der: tbs.raw.to_vec(),
            serial_der: field(0)?,
            issuer_der: field(2)?,
            subject_der: field(4)?,
            spki_der: field(5)?,
            der: der.to_vec(),
            parsed,
        })
    }

    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn tbs_der(&self) -> &[u8] {
        &self.tbs_der
    }

    /// The DER INTEGER of the serial number.
    pub(crate) fn serial_der(&self) -> &[u8] {
        &self.serial_der
    }

    /// The DER `Name` of the issuer.
    pub(crate) fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// The DER `Name` of the subject.
    pub(crate) fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub(crate) fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The subject as an RFC 4514 string, such as `CN=sigstore-intermediate,O=sigstore.dev`.
    pub(crate) fn subject(&self) -> String {
        self.parsed.tbs_certificate().subject().to_string()
    }

    /// `sha256:<hex>` of the DER certificate.
    pub(crate) fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(&self.der)))
    }

    /// `notBefore` to `notAfter`, both included (RFC 5280 section 4.1.2.5).
    pub(crate) fn validity(&self) -> TimeRange {
        let validity = self.parsed.tbs_certificate().validity();
        TimeRange {
            start: Timestamp::from_x509(validity.not_before),
            end: Some(Timestamp::from_x509(validity.not_after)),
        }
    }

    pub(crate) fn public_key(&self) -> Result<VerifierKey, String> {
        VerifierKey::from_spki_der(&self.spki_der)
    }

    /// Checks that `issuer` issued this certificate: the names chain and the signature over
    /// the `TBSCertificate` verifies with the issuer's key.
    pub(crate) fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), String> {
        if self.issuer_der != issuer.subject_der {
            return Err(format!(
                "issued by `{}`, not by `{}`",
                self.parsed.tbs_certificate().issuer(),
                issuer.subject()
            ));
        }
        if self.parsed.signature_algorithm() != self.parsed.tbs_certificate().signature() {
            return Err("the outer and inner signature algorithms differ".to_owned());
        }
        let key = issuer
            .public_key()
            .map_err(|error| format!("the issuer's key is unusable: {error}"))?;
        let signature = self
            .parsed
            .signature()
            .as_bytes()
            .ok_or("the signature bit string has unused bits")?;
        key::verify_with_algorithm(
            &key,
            &self.parsed.signature_algorithm().oid,
            &self.tbs_der,
            signature,
        )
        .map_err(|error| format!("signature by `{}`: {error}", issuer.subject()))
    }

    /// Whether the certificate names itself as issuer and its signature verifies with its own
    /// key: a root CA.
    pub(crate) fn is_self_signed(&self) -> bool {
        self.issuer_der == self.subject_der && self.verify_issued_by(self).is_ok()
    }

    /// The value of the extension `oid` and whether it is critical.
    pub(crate) fn extension(&self, oid: &ObjectIdentifier) -> Option<(bool, &[u8])> {
        self.parsed
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|extension| extension.extn_id == *oid)
            .map(|extension| (extension.critical, extension.extn_value.as_bytes()))
    }

    /// OIDs of critical extensions this crate does not understand.
    pub(crate) fn unknown_critical_extensions(&self) -> Vec<String> {
        self.parsed
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .filter(|extension| {
                extension.critical && !UNDERSTOOD_EXTENSIONS.contains(&extension.extn_id)
            })
            .map(|extension| extension.extn_id.to_string())
            .collect()
    }

    pub(crate) fn basic_constraints(&self) -> Result<Option<BasicConstraints>, String> {
        self.decode_extension(&BASIC_CONSTRAINTS, "basic constraints")
    }

    pub(crate) fn key_usage(&self) -> Result<Option<KeyUsage>, String> {
        self.decode_extension(&KEY_USAGE, "key usage")
    }

    /// The extended key usages; empty when the extension is absent.
    pub(crate) fn extended_key_usage(&self) -> Result<Vec<ObjectIdentifier>, String> {
        let usage: Option<ExtendedKeyUsage> =
            self.decode_extension(&EXTENDED_KEY_USAGE, "extended key usage")?;
        Ok(usage.map(|usage| usage.0).unwrap_or_default())
    }

    /// Whether the certificate may sign other certificates: `cA` is set in its basic
    /// constraints and, when key usage is present, `keyCertSign` is set.
    pub(crate) fn is_ca(&self) -> Result<bool, String> {
        let is_ca = self
            .basic_constraints()?
            .is_some_and(|constraints| constraints.ca);
        let may_sign = self.key_usage()?.is_none_or(|usage| usage.key_cert_sign());
        Ok(is_ca && may_sign)
    }

    /// The identities in the subject alternative name: URIs, email addresses and Fulcio
    /// usernames, as written.
    pub(crate) fn san_identities(&self) -> Result<Vec<String>, String> {
        let Some(san) = self.decode_extension::<SubjectAltName>(&SUBJECT_ALT_NAME, "SAN")? else {
            return Ok(Vec::new());
        };
        let mut identities = Vec::new();
        for name in san.0 {
            match name {
                GeneralName::UniformResourceIdentifier(uri) => identities.push(uri.to_string()),
                GeneralName::Rfc822Name(email) => identities.push(email.to_string()),
                GeneralName::OtherName(other) if other.type_id == FULCIO_USERNAME => {
                    let text: String = other
                        .value
                        .decode_as()
                        .map_err(|error| format!("invalid Fulcio username SAN: {error}"))?;
                    identities.push(text);
                }
                _ => {}
            }
        }
        Ok(identities)
    }

    fn decode_extension<'a, T: x509_cert::der::Decode<'a>>(
        &'a self,
        oid: &ObjectIdentifier,
        name: &str,
    ) -> Result<Option<T>, String> {
        let Some((_, value)) = self.extension(oid) else {
            return Ok(None);
        };
        T::from_der(value)
            .map(Some)
            .map_err(|_| format!("the {name} extension is malformed"))
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate({} {})", self.subject(), self.fingerprint())
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
