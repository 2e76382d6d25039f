//! RFC 3161 signed timestamps: a timestamp authority's signed statement that the bundle's
//! signature existed at a time (`genTime`). The token is a CMS `SignedData` (RFC 5652) over a
//! `TSTInfo` whose message imprint is the hash of the bundle's signature bytes.
//!
//! Checks, in order:
//!
//! 1. the response status is `granted` or `grantedWithMods` (a bare token is accepted too);
//! 2. the token is `SignedData` over `id-ct-TSTInfo` with exactly one `SignerInfo`;
//! 3. the message imprint is the hash of the signature the bundle carries;
//! 4. the signed attributes name `id-ct-TSTInfo` as content type and carry the digest of the
//!    `TSTInfo`, and an ESS signing-certificate-v2 attribute, when present, names the signer
//!    certificate (a v1 attribute, which hashes with SHA-1, is not checked);
//! 5. the signature over the signed attributes verifies with the signer certificate, taken
//!    from the token's certificates or from the trusted root by issuer and serial number or by
//!    subject key identifier;
//! 6. the signer certificate chains to a timestamp authority of the trusted root and has the
//!    `timeStamping` extended key usage;
//! 7. `genTime` is inside the authority's trusted interval and the validity of every
//!    certificate on the path. The current time is not used, so a timestamp stays valid after
//!    its authority's certificates expire.

use x509_cert::der::asn1::ObjectIdentifier;

use super::certificate::{self, Certificate};
use super::chain;
use super::der::{self, Tlv};
use super::key::{self, HashAlgorithm};
use super::time::Timestamp;
use super::trusted_root::TrustedRoot;

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_CERTIFICATE_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// A timestamp that verified.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedTimestamp {
    pub(crate) authority: String,
    pub(crate) time: Timestamp,
    /// Checks that could not be made and were skipped.
    pub(crate) not_checked: Vec<String>,
}

/// The parts of a token the checks need.
struct Token<'a> {
    tst_info: &'a [u8],
    certificates: Vec<Certificate>,
    signer: SignerInfo<'a>,
}

struct SignerInfo<'a> {
    sid: Tlv<'a>,
    digest_algorithm: ObjectIdentifier,
    signed_attributes: Tlv<'a>,
    signature_algorithm: ObjectIdentifier,
    signature: &'a [u8],
}

/// Verifies the DER `TimeStampResp` `response` as a timestamp over `signature`.
pub(crate) fn verify(
    response: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<VerifiedTimestamp, String> {
    // 1-2. Response and token structure.
    let token = parse_token(token_of(response)?)?;

    // 3. The message imprint covers the bundle's signature.
    let (imprint_algorithm, imprint, time) = parse_tst_info(token.tst_info)?;
    if imprint != imprint_algorithm.digest(signature) {
        return Err(
            "the timestamp's message imprint is not the hash of the bundle's signature".to_owned(),
        );
    }

    // 4. Signed attributes.
    let attributes = signed_attributes(&token.signer)?;
    let content_type = attributes
        .iter()
        .find(|(id, _)| *id == CONTENT_TYPE)
        .ok_or("the signed attributes have no content type")?;
    if single_value(content_type.1)?.raw != der::oid(&TST_INFO).as_slice() {
        return Err("the signed content type is not id-ct-TSTInfo".to_owned());
    }
    let digest_algorithm =
        HashAlgorithm::from_oid(&token.signer.digest_algorithm).ok_or_else(|| {
            format!(
                "unsupported digest algorithm {}",
                token.signer.digest_algorithm
            )
        })?;
    let message_digest = attributes
        .iter()
        .find(|(id, _)| *id == MESSAGE_DIGEST)
        .ok_or("the signed attributes have no message digest")?;
    let digest = der::read_exact(single_value(message_digest.1)?.raw, der::OCTET_STRING)?;
    if digest.value != digest_algorithm.digest(token.tst_info) {
        return Err("the signed message digest is not the digest of the TSTInfo".to_owned());
    }

    // 5-7. The signer: signature, path and time, trying each certificate that matches.
    let mut problems = Vec::new();
    let candidates = token
        .certificates
        .iter()
        .chain(root.timestamp_authorities.iter().flat_map(|tsa| &tsa.chain))
        .filter(|certificate| matches_sid(&token.signer.sid, certificate));
    for candidate in candidates {
        match check_signer(
            &token.signer,
            &attributes,
            candidate,
            digest_algorithm,
            time,
            root,
        ) {
            Ok((authority, not_checked)) => {
                return Ok(VerifiedTimestamp {
                    authority,
                    time,
                    not_checked,
                });
            }
            Err(problem) => problems.push(problem),
        }
    }
    Err(if problems.is_empty() {
        "no certificate in the token or the trusted root matches the timestamp's signer".to_owned()
    } else {
        problems.join("; ")
    })
}

/// Checks the signature by `candidate`, its ESS binding, its path and the time.
fn check_signer(
    signer: &SignerInfo<'_>,
    attributes: &[(ObjectIdentifier, &[u8])],
    candidate: &Certificate,
    digest_algorithm: HashAlgorithm,
    time: Timestamp,
    root: &TrustedRoot,
) -> Result<(String, Vec<String>), String> {
    let mut not_checked = Vec::new();

    // ESS signing certificate.
    if let Some((_, values)) = attributes
        .iter()
        .find(|(id, _)| *id == SIGNING_CERTIFICATE_V2)
    {
        check_ess_v2(single_value(values)?, candidate)?;
    } else if attributes
        .iter()
        .any(|(id, _)| *id == SIGNING_CERTIFICATE_V1)
    {
        not_checked.push(
            "the ESS signing-certificate attribute (v1) names the signer by SHA-1 hash, which is not checked"
                .to_owned(),
        );
    }

    // Signature over the DER SET OF the signed attributes (RFC 5652 section 5.4).
    let mut attributes_set = signer.signed_attributes.raw.to_vec();
    attributes_set[0] = der::SET;
    let key = candidate.public_key().map_err(|error| {
        format!(
            "the signer key of `{}` is unusable: {error}",
            candidate.subject()
        )
    })?;
    let result = if signer.signature_algorithm == RSA_ENCRYPTION
        || signer.signature_algorithm == EC_PUBLIC_KEY
    {
        key.verify(&attributes_set, signer.signature, digest_algorithm)
    } else {
        key::verify_with_algorithm(
            &key,
            &signer.signature_algorithm,
            &attributes_set,
            signer.signature,
        )
    };
    result.map_err(|error| {
        format!(
            "the timestamp signature by `{}`: {error}",
            candidate.subject()
        )
    })?;

    // Path and usage.
    let paths = chain::paths(candidate, &root.timestamp_authorities).map_err(|problem| {
        format!(
            "the timestamp signer `{}` is not trusted: {problem}",
            candidate.subject()
        )
    })?;
    if !candidate
        .extended_key_usage()?
        .contains(&certificate::TIME_STAMPING)
    {
        return Err(format!(
            "the timestamp signer `{}` lacks the timeStamping extended key usage",
            candidate.subject()
        ));
    }

    // Time.
    let mut time_problems = Vec::new();
    for path in &paths {
        match chain::valid_at(candidate, path, time) {
            Ok(()) => return Ok((path.authority.name.clone(), not_checked)),
            Err(problem) => time_problems.push(problem),
        }
    }
    Err(format!(
        "the timestamp time {time}: {}",
        time_problems.join("; ")
    ))
}

/// The `TimeStampToken` of a `TimeStampResp`, or `input` itself when it is a bare token.
fn token_of(input: &[u8]) -> Result<&[u8], String> {
    let outer = der::read_exact(input, der::SEQUENCE)?;
    let members = der::read_all(outer.value)?;
    let Some(first) = members.first() else {
        return Err("the timestamp is an empty SEQUENCE".to_owned());
    };
    if first.tag == der::OBJECT_IDENTIFIER {
        return Ok(input);
    }
    let status = der::read_all(first.value)?;
    let code = status
        .first()
        .filter(|element| element.tag == der::INTEGER)
        .ok_or("the timestamp response has no status")?;
    if !matches!(code.value, [0 | 1]) {
        return Err(format!(
            "the timestamp response status is {}, not granted",
            hex::encode(code.value)
        ));
    }
    members
        .get(1)
        .map(|token| token.raw)
        .ok_or_else(|| "the timestamp response has no token".to_owned())
}

fn parse_token(input: &[u8]) -> Result<Token<'_>, String> {
    // ContentInfo { contentType, [0] EXPLICIT content }.
    let content_info = der::read_all(der::read_exact(input, der::SEQUENCE)?.value)?;
    let [content_type, content] = content_info.as_slice() else {
        return Err("the timestamp token is not a ContentInfo".to_owned());
    };
    if content_type.raw != der::oid(&SIGNED_DATA).as_slice() || content.tag != der::context(0) {
        return Err("the timestamp token is not CMS SignedData".to_owned());
    }

    // SignedData { version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls,
    // signerInfos }.
    let signed_data = der::read_all(der::read_exact(content.value, der::SEQUENCE)?.value)?;
    let encapsulated = signed_data.get(2).ok_or("truncated SignedData")?;
    let encapsulated = der::read_all(encapsulated.value)?;
    let [econtent_type, econtent] = encapsulated.as_slice() else {
        return Err("the SignedData has no encapsulated TSTInfo".to_owned());
    };
    if econtent_type.raw != der::oid(&TST_INFO).as_slice() || econtent.tag != der::context(0) {
        return Err("the SignedData does not encapsulate a TSTInfo".to_owned());
    }
    let tst_info = der::read_exact(econtent.value, der::OCTET_STRING)?.value;

    let mut certificates = Vec::new();
    for element in &signed_data[3..] {
        if element.tag == der::context(0) {
            for certificate in der::read_all(element.value)? {
                // Other certificate choices (attribute certificates and so on) are skipped.
                if certificate.tag == der::SEQUENCE {
                    certificates.push(Certificate::from_der(certificate.raw)?);
                }
            }
        }
    }
    let signer_infos = signed_data.last().filter(|element| element.tag == der::SET);
    let signer_infos = der::read_all(
        signer_infos
            .ok_or("the SignedData has no signerInfos")?
            .value,
    )?;
    let [signer_info] = signer_infos.as_slice() else {
        return Err(format!(
            "the timestamp has {} signers, not one",
            signer_infos.len()
        ));
    };
    Ok(Token {
        tst_info,
        certificates,
        signer: parse_signer_info(signer_info)?,
    })
}

/// Parses a CMS `SignerInfo` (RFC 5652 section 5.3): `version, sid, digestAlgorithm,
/// [0] signedAttrs, signatureAlgorithm, signature, [1] unsignedAttrs`.
fn parse_signer_info<'a>(element: &Tlv<'a>) -> Result<SignerInfo<'a>, String> {
    let fields = der::read_all(element.value)?;
    let [
        _version,
        sid,
        digest_algorithm,
        signed_attributes,
        signature_algorithm,
        signature,
        ..,
    ] = fields.as_slice()
    else {
        return Err("the SignerInfo has no signed attributes".to_owned());
    };
    if signed_attributes.tag != der::context(0) {
        return Err("the SignerInfo has no signed attributes".to_owned());
    }
    if signature.tag != der::OCTET_STRING {
        return Err("the SignerInfo signature is not an OCTET STRING".to_owned());
    }
    Ok(SignerInfo {
        sid: *sid,
        digest_algorithm: algorithm_oid(digest_algorithm)?,
        signed_attributes: *signed_attributes,
        signature_algorithm: algorithm_oid(signature_algorithm)?,
        signature: signature.value,
    })
}

/// The hash algorithm, message imprint and `genTime` of a `TSTInfo`.
fn parse_tst_info(input: &[u8]) -> Result<(HashAlgorithm, Vec<u8>, Timestamp), String> {
    let fields = der::read_all(der::read_exact(input, der::SEQUENCE)?.value)?;
    let [_version, _policy, imprint, _serial, gen_time, ..] = fields.as_slice() else {
        return Err("the TSTInfo is truncated".to_owned());
    };
    let imprint = der::read_all(imprint.value)?;
    let [algorithm, hashed] = imprint.as_slice() else {
        return Err("the TSTInfo message imprint is malformed".to_owned());
    };
    let algorithm_id = algorithm_oid(algorithm)?;
    let algorithm = HashAlgorithm::from_oid(&algorithm_id)
        .ok_or_else(|| format!("unsupported message imprint algorithm {algorithm_id}"))?;
    if hashed.tag != der::OCTET_STRING || gen_time.tag != der::GENERALIZED_TIME {
        return Err("the TSTInfo is malformed".to_owned());
    }
    let time = Timestamp::parse_generalized_time(gen_time.value)?;
    Ok((algorithm, hashed.value.to_vec(), time))
}

/// The OID of an `AlgorithmIdentifier`.
fn algorithm_oid(element: &Tlv<'_>) -> Result<ObjectIdentifier, String> {
    let (id, _) = der::read(element.value)?;
    if element.tag != der::SEQUENCE || id.tag != der::OBJECT_IDENTIFIER {
        return Err("malformed AlgorithmIdentifier".to_owned());
    }
    ObjectIdentifier::from_bytes(id.value).map_err(|error| format!("malformed OID: {error}"))
}

/// The attributes as `(type, DER SET OF values)`.
fn signed_attributes<'a>(
    signer: &SignerInfo<'a>,
) -> Result<Vec<(ObjectIdentifier, &'a [u8])>, String> {
    der::read_all(signer.signed_attributes.value)?
        .into_iter()
        .map(|attribute| {
            let parts = der::read_all(attribute.value)?;
            let [id, values] = parts.as_slice() else {
                return Err("malformed signed attribute".to_owned());
            };
            if id.tag != der::OBJECT_IDENTIFIER || values.tag != der::SET {
                return Err("malformed signed attribute".to_owned());
            }
            let oid = ObjectIdentifier::from_bytes(id.value)
                .map_err(|error| format!("malformed OID: {error}"))?;
            Ok((oid, values.value))
        })
        .collect()
}

/// The one value of an attribute's SET OF values.
fn single_value(values: &[u8]) -> Result<Tlv<'_>, String> {
    let values = der::read_all(values)?;
    match values.as_slice() {
        [value] => Ok(*value),
        _ => Err(format!(
            "a signed attribute has {} values, not one",
            values.len()
        )),
    }
}

/// Whether `certificate` is the one the signer identifier names.
fn matches_sid(sid: &Tlv<'_>, certificate: &Certificate) -> bool {
    if sid.tag == der::SEQUENCE {
        // IssuerAndSerialNumber.
        let Ok(parts) = der::read_all(sid.value) else {
            return false;
        };
        return matches!(parts.as_slice(), [issuer, serial]
            if issuer.raw == certificate.issuer_der() && serial.raw == certificate.serial_der());
    }
    if sid.tag == der::context_primitive(0) {
        // SubjectKeyIdentifier: the value of the certificate's extension, an OCTET STRING.
        return certificate
            .extension(&SUBJECT_KEY_ID)
            .and_then(|(_, value)| der::read_exact(value, der::OCTET_STRING).ok())
            .is_some_and(|identifier| identifier.value == sid.value);
    }
    false
}

/// Checks the first `ESSCertIDv2` of a `SigningCertificateV2` against `certificate`.
fn check_ess_v2(value: Tlv<'_>, certificate: &Certificate) -> Result<(), String> {
    let malformed = || "the ESS signing-certificate-v2 attribute is malformed".to_owned();
    let certs = der::read_all(value.value)?;
    let first_list = certs.first().ok_or_else(malformed)?;
    let first = der::read_all(first_list.value)?;
    let id = first.first().ok_or_else(malformed)?;
    let parts = der::read_all(id.value)?;
    let (algorithm, hash) = match parts.as_slice() {
        [hash, ..] if hash.tag == der::OCTET_STRING => (HashAlgorithm::Sha256, hash.value),
        [algorithm, hash, ..] if hash.tag == der::OCTET_STRING => {
            let oid = algorithm_oid(algorithm)?;
            let algorithm = HashAlgorithm::from_oid(&oid)
                .ok_or_else(|| format!("unsupported ESS certificate hash {oid}"))?;
            (algorithm, hash.value)
        }
        _ => return Err(malformed()),
    };
    if algorithm.digest(certificate.der()) == hash {
        Ok(())
    } else {
        Err(format!(
            "the ESS signing-certificate attribute names another certificate than `{}`",
            certificate.subject()
        ))
    }
}
