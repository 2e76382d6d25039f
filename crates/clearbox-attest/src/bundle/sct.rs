//! Signed certificate timestamps (RFC 6962 section 3) embedded in a Fulcio certificate: proof
//! that the certificate was submitted to a certificate transparency log of the trusted root.
//!
//! The extension `1.3.6.1.4.1.11129.2.4.2` holds a TLS-encoded list of SCTs. Each signs the
//! precertificate entry: the issuer's key hash and the `TBSCertificate` without that extension.
//! An SCT counts when its log is in the trusted root, the log key was valid at the SCT's time,
//! and its signature verifies. SCT extensions (RFC 6962 `CtExtensions`, used by static CT logs)
//! are signed as given and not interpreted.

use sha2::{Digest as _, Sha256};
use x509_cert::der::asn1::ObjectIdentifier;

use super::certificate::Certificate;
use super::der;
use super::key::HashAlgorithm;
use super::time::Timestamp;
use super::trusted_root::TrustedRoot;

const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// An SCT that verified.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedSct {
    pub(crate) log: String,
    pub(crate) time: Timestamp,
}

struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: u64,
    extensions: &'a [u8],
    hash: u8,
    signature: &'a [u8],
}

/// Verifies the SCTs embedded in `leaf`, issued by `issuer`. Succeeds when at least one
/// verifies, returning those that did.
pub(crate) fn verify_embedded(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<Vec<VerifiedSct>, String> {
    let Some((_, value)) = leaf.extension(&SCT_LIST) else {
        return Err("the certificate has no embedded SCT".to_owned());
    };
    let list = der::read_exact(value, der::OCTET_STRING)
        .map_err(|error| format!("the SCT extension is malformed: {error}"))?;
    let scts = parse_list(list.value)?;
    let tbs = precertificate_tbs(leaf.tbs_der())?;
    let issuer_key_hash = Sha256::digest(issuer.spki_der());

    let mut verified = Vec::new();
    let mut problems = Vec::new();
    for sct in scts {
        match verify_one(&sct, &tbs, &issuer_key_hash, root) {
            Ok(one) => verified.push(one),
            Err(problem) => problems.push(problem),
        }
    }
    if verified.is_empty() {
        if problems.is_empty() {
            problems.push("the SCT list is empty".to_owned());
        }
        return Err(problems.join("; "));
    }
    Ok(verified)
}

fn verify_one(
    sct: &Sct<'_>,
    tbs: &[u8],
    issuer_key_hash: &[u8],
    root: &TrustedRoot,
) -> Result<VerifiedSct, String> {
    let log_name = || {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(sct.log_id)
    };
    let log = root
        .ctlog(sct.log_id)
        .ok_or_else(|| format!("SCT from CT log {} is not in the trusted root", log_name()))?;
    let time = Timestamp::from_unix_millis(sct.timestamp);
    if !log.valid_for.contains(time) {
        return Err(format!(
            "SCT from `{}` at {time} is outside the log key's validity ({})",
            log.base_url, log.valid_for
        ));
    }
    let hash = match sct.hash {
        4 => HashAlgorithm::Sha256,
        5 => HashAlgorithm::Sha384,
        6 => HashAlgorithm::Sha512,
        other => return Err(format!("SCT hash algorithm {other} is not supported")),
    };
    let key = log
        .key()
        .map_err(|error| format!("the key of CT log `{}` is unusable: {error}", log.base_url))?;

    // digitally-signed struct of RFC 6962 section 3.2, for a precertificate entry.
    let mut signed = Vec::with_capacity(tbs.len() + 64);
    signed.push(0); // sct_version v1
    signed.push(0); // signature_type certificate_timestamp
    signed.extend_from_slice(&sct.timestamp.to_be_bytes());
    signed.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    signed.extend_from_slice(issuer_key_hash);
    let tbs_length = u32::try_from(tbs.len())
        .ok()
        .filter(|length| *length < 1 << 24)
        .ok_or("the TBSCertificate is too long for an SCT")?;
    signed.extend_from_slice(&tbs_length.to_be_bytes()[1..]);
    signed.extend_from_slice(tbs);
    // Checked below 2^16 when parsed.
    signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
    signed.extend_from_slice(sct.extensions);

    key.verify(&signed, sct.signature, hash)
        .map_err(|error| format!("SCT from `{}` does not verify: {error}", log.base_url))?;
    Ok(VerifiedSct {
        log: log.base_url.clone(),
        time,
    })
}

/// Splits the TLS `SignedCertificateTimestampList` (RFC 6962 section 3.3).
fn parse_list(bytes: &[u8]) -> Result<Vec<Sct<'_>>, String> {
    let mut reader = Tls(bytes);
    let mut list = Tls(reader.vector(2)?);
    if !reader.0.is_empty() {
        return Err("trailing bytes after the SCT list".to_owned());
    }
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        let mut sct = Tls(list.vector(2)?);
        let version = sct.take(1)?[0];
        if version != 0 {
            return Err(format!("SCT version {version} is not supported"));
        }
        let log_id = sct.take(32)?;
        let timestamp = u64::from_be_bytes(
            sct.take(8)?
                .try_into()
                .map_err(|_| "truncated SCT timestamp")?,
        );
        let extensions = sct.vector(2)?;
        let hash = sct.take(1)?[0];
        let _signature_algorithm = sct.take(1)?[0];
        let signature = sct.vector(2)?;
        if !sct.0.is_empty() {
            return Err("trailing bytes after an SCT".to_owned());
        }
        scts.push(Sct {
            log_id,
            timestamp,
            extensions,
            hash,
            signature,
        });
    }
    Ok(scts)
}

/// A cursor over TLS presentation-language data (RFC 8446 section 3).
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], String> {
        if self.0.len() < count {
            return Err("truncated SCT data".to_owned());
        }
        let (head, rest) = self.0.split_at(count);
        self.0 = rest;
        Ok(head)
    }

    /// A vector with a big-endian length prefix of `width` bytes.
    fn vector(&mut self, width: usize) -> Result<&'a [u8], String> {
        let length = self
            .take(width)?
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        self.take(length)
    }
}

/// The `TBSCertificate` with the SCT list extension removed, as the log signed it.
fn precertificate_tbs(tbs_der: &[u8]) -> Result<Vec<u8>, String> {
    let malformed = |error: String| format!("the certificate is malformed: {error}");
    let tbs = der::read_exact(tbs_der, der::SEQUENCE).map_err(malformed)?;
    let sct_oid = der::oid(&SCT_LIST);
    let mut fields = Vec::new();
    for field in der::read_all(tbs.value).map_err(malformed)? {
        if field.tag != der::context(3) {
            fields.extend_from_slice(field.raw);
            continue;
        }
        let extensions = der::read_exact(field.value, der::SEQUENCE).map_err(malformed)?;
        let mut kept = Vec::new();
        for extension in der::read_all(extensions.value).map_err(malformed)? {
            let (id, _) = der::read(extension.value).map_err(malformed)?;
            if id.raw != sct_oid.as_slice() {
                kept.extend_from_slice(extension.raw);
            }
        }
        if !kept.is_empty() {
            fields.extend(der::encode(
                der::context(3),
                &der::encode(der::SEQUENCE, &kept),
            ));
        }
    }
    Ok(der::encode(der::SEQUENCE, &fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parsed() {
        let mut sct = vec![0u8];
        sct.extend([9u8; 32]);
        sct.extend(1_689_177_396_000u64.to_be_bytes());
        sct.extend([0, 2, 0xaa, 0xbb]);
        sct.extend([4, 3, 0, 1, 0xcc]);
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend(&sct);
        let mut outer = (list.len() as u16).to_be_bytes().to_vec();
        outer.extend(&list);

        let scts = parse_list(&outer).unwrap();
        assert_eq!(scts.len(), 1);
        assert_eq!(scts[0].log_id, [9; 32]);
        assert_eq!(scts[0].timestamp, 1_689_177_396_000);
        assert_eq!(scts[0].extensions, [0xaa, 0xbb]);
        assert_eq!(scts[0].hash, 4);
        assert_eq!(scts[0].signature, [0xcc]);
    }

    #[test]
    fn truncated_list_rejected() {
        assert!(parse_list(&[0, 5, 0, 3, 0]).is_err());
        assert!(parse_list(&[0, 0, 1]).is_err());
    }
}
