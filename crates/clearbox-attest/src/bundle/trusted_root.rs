//! The Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`, the
//! `TrustedRoot` message of sigstore/protobuf-specs `sigstore_trustroot.proto`): the
//! transparency logs, certificate authorities, CT logs and timestamp authorities a bundle is
//! checked against, each with the interval it is trusted for.
//!
//! Validation at load time: a known media type, base64 that decodes, certificates that parse,
//! non-empty chains, and a `validFor.start` on every log key and authority. A missing start is
//! an error rather than an unbounded interval. Log keys are parsed only when a check uses them,
//! so a root that lists a key type this crate cannot use still loads.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::certificate::Certificate;
use super::key::{HashAlgorithm, VerifierKey};
use super::time::{TimeRange, Timestamp};
use crate::dsse::decode_base64;

const MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// An error while loading a trusted root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedRootError {
    /// The file could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The document is not JSON of the trusted-root shape.
    #[error("invalid trusted root JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The media type is not a trusted-root version this crate reads.
    #[error("unsupported trusted root media type `{found}`; expected `{}`", MEDIA_TYPES[0])]
    UnsupportedMediaType {
        /// The media type found.
        found: String,
    },
    /// A field is missing, malformed or not base64.
    #[error("invalid trusted root: `{field}`: {reason}")]
    InvalidField {
        /// The field's JSON path, such as `tlogs[1].publicKey.validFor.start`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A trusted root, validated.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    pub(crate) tlogs: Vec<LogInstance>,
    pub(crate) ctlogs: Vec<LogInstance>,
    pub(crate) certificate_authorities: Vec<Authority>,
    pub(crate) timestamp_authorities: Vec<Authority>,
}

/// A transparency log or CT log and its key.
#[derive(Debug, Clone)]
pub(crate) struct LogInstance {
    pub(crate) base_url: String,
    key_details: String,
    key_bytes: Vec<u8>,
    pub(crate) log_id: Vec<u8>,
    pub(crate) valid_for: TimeRange,
}

/// A certificate authority or timestamp authority: its chain (issuing certificate first, root
/// last) and the interval it is trusted for.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    pub(crate) name: String,
    pub(crate) chain: Vec<Certificate>,
    pub(crate) valid_for: TimeRange,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawPublicKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPublicKey {
    raw_bytes: Option<String>,
    #[serde(default)]
    key_details: String,
    valid_for: Option<RawRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawRange {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    subject: RawSubject,
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: Option<RawRange>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawSubject {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    common_name: String,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawCertificate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCertificate {
    raw_bytes: String,
}

impl TrustedRoot {
    /// Parses and validates a trusted root.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustedRootError> {
        let raw: RawRoot = serde_json::from_slice(bytes).map_err(TrustedRootError::InvalidJson)?;
        if !MEDIA_TYPES.contains(&raw.media_type.as_str()) {
            return Err(TrustedRootError::UnsupportedMediaType {
                found: raw.media_type,
            });
        }
        Ok(TrustedRoot {
            tlogs: logs(raw.tlogs, "tlogs")?,
            ctlogs: logs(raw.ctlogs, "ctlogs")?,
            certificate_authorities: authorities(
                raw.certificate_authorities,
                "certificateAuthorities",
            )?,
            timestamp_authorities: authorities(raw.timestamp_authorities, "timestampAuthorities")?,
        })
    }

    /// Reads and validates a trusted root file.
    pub fn from_file(path: &Path) -> Result<Self, TrustedRootError> {
        // A trusted root is a few kilobytes; 16 MiB leaves room and stops a huge or endless file.
        let bytes = clearbox_oci::read_regular_file(path, 16 << 20).map_err(|source| {
            TrustedRootError::Read {
                path: path.to_owned(),
                source,
            }
        })?;
        TrustedRoot::from_json(&bytes)
    }

    /// Lists why this root cannot verify a keyless signature made at `now`, which is empty when
    /// it can.
    ///
    /// Keyless verification needs a certificate authority to chain the signing certificate to,
    /// a CT log to check its SCT and a transparency log to check the log entry. Each is missing
    /// when its section is empty, when no log key in it parses, or when every entry's
    /// `validFor` ended before `now`. Signatures made before those ends could still verify,
    /// but a root whose every period ended is out of date.
    #[must_use]
    pub fn keyless_gaps(&self, now: Timestamp) -> Vec<String> {
        let mut gaps = Vec::new();
        let authorities = self
            .certificate_authorities
            .iter()
            .map(|authority| Ok(authority.valid_for))
            .collect::<Vec<_>>();
        let logs = |logs: &[LogInstance], section: &str| {
            logs.iter()
                .enumerate()
                .map(|(index, log)| {
                    log.key()
                        .map(|_| log.valid_for)
                        .map_err(|reason| format!("`{section}[{index}].publicKey`: {reason}"))
                })
                .collect::<Vec<_>>()
        };
        let sections = [
            (
                "certificateAuthorities",
                "no signing certificate can chain to it",
                authorities,
            ),
            (
                "ctlogs",
                "no certificate's SCT can be checked",
                logs(&self.ctlogs, "ctlogs"),
            ),
            (
                "tlogs",
                "no transparency log entry can be checked",
                logs(&self.tlogs, "tlogs"),
            ),
        ];
        for (section, consequence, entries) in sections {
            if let Some(gap) = section_gap(section, consequence, &entries, now) {
                gaps.push(gap);
            }
        }
        gaps
    }

    /// The transparency log whose log ID (SHA-256 of its key) is `log_id`.
    pub(crate) fn tlog(&self, log_id: &[u8]) -> Option<&LogInstance> {
        self.tlogs.iter().find(|log| log.log_id == log_id)
    }

    /// The CT log whose log ID is `log_id`.
    pub(crate) fn ctlog(&self, log_id: &[u8]) -> Option<&LogInstance> {
        self.ctlogs.iter().find(|log| log.log_id == log_id)
    }
}

impl LogInstance {
    /// The log's public key. `PKCS1_*` key details mean a PKCS#1 `RSAPublicKey`; everything
    /// else is a DER `SubjectPublicKeyInfo`.
    pub(crate) fn key(&self) -> Result<VerifierKey, String> {
        if self.key_details.starts_with("PKCS1_") {
            VerifierKey::from_pkcs1_rsa_der(&self.key_bytes)
        } else {
            VerifierKey::from_spki_der(&self.key_bytes)
        }
    }

    /// The hash the log signs with: the one its key details name, else the key's default.
    pub(crate) fn hash(&self, key: &VerifierKey) -> HashAlgorithm {
        if self.key_details.ends_with("SHA_384") {
            HashAlgorithm::Sha384
        } else if self.key_details.ends_with("SHA_512") {
            HashAlgorithm::Sha512
        } else if self.key_details.ends_with("SHA_256") {
            HashAlgorithm::Sha256
        } else {
            key.default_hash()
        }
    }

    /// The name the log signs checkpoints under: its base URL without the scheme, such as
    /// `rekor.sigstore.dev`.
    pub(crate) fn checkpoint_name(&self) -> &str {
        let url = self.base_url.trim_end_matches('/');
        url.strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or(url)
    }
}

/// Describes why a section of a root has no usable entry. `entries` has each entry's validity,
/// or the reason its key is unusable. Returns `None` when one entry is usable at `now` or later.
fn section_gap(
    section: &str,
    consequence: &str,
    entries: &[Result<TimeRange, String>],
    now: Timestamp,
) -> Option<String> {
    if entries.is_empty() {
        return Some(format!("`{section}` is empty, so {consequence}"));
    }
    let periods: Vec<TimeRange> = entries
        .iter()
        .filter_map(|e| e.as_ref().ok().copied())
        .collect();
    if periods.is_empty() {
        let reasons: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.as_ref().err().map(String::as_str))
            .collect();
        return Some(format!(
            "no key in `{section}` can be used ({}), so {consequence}",
            reasons.join("; ")
        ));
    }
    if periods.iter().any(|p| p.end.is_none_or(|end| end >= now)) {
        return None;
    }
    let last = periods.iter().filter_map(|p| p.end).max()?;
    Some(format!(
        "every `validFor` in `{section}` ended (the last at {last}), so {consequence} for a \
         signature made now"
    ))
}

fn logs(raw: Vec<RawLog>, section: &str) -> Result<Vec<LogInstance>, TrustedRootError> {
    raw.into_iter()
        .enumerate()
        .map(|(index, log)| {
            let field = |name: &str| format!("{section}[{index}].{name}");
            let key_bytes = log
                .public_key
                .raw_bytes
                .ok_or_else(|| invalid(field("publicKey.rawBytes"), "missing"))?;
            Ok(LogInstance {
                base_url: log.base_url,
                key_details: log.public_key.key_details,
                key_bytes: base64(&key_bytes, &field("publicKey.rawBytes"))?,
                log_id: base64(&log.log_id.key_id, &field("logId.keyId"))?,
                valid_for: range(log.public_key.valid_for, &field("publicKey.validFor"))?,
            })
        })
        .collect()
}

fn authorities(raw: Vec<RawAuthority>, section: &str) -> Result<Vec<Authority>, TrustedRootError> {
    raw.into_iter()
        .enumerate()
        .map(|(index, authority)| {
            let field = |name: &str| format!("{section}[{index}].{name}");
            if authority.cert_chain.certificates.is_empty() {
                return Err(invalid(field("certChain.certificates"), "empty"));
            }
            let chain = authority
                .cert_chain
                .certificates
                .iter()
                .enumerate()
                .map(|(position, certificate)| {
                    let name = field(&format!("certChain.certificates[{position}]"));
                    let der = base64(&certificate.raw_bytes, &name)?;
                    Certificate::from_der(&der).map_err(|reason| invalid(name, &reason))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let name = match (
                &authority.subject.organization,
                &authority.subject.common_name,
            ) {
                (organization, common_name) if !common_name.is_empty() => {
                    format!("{common_name} ({organization})")
                }
                _ if !authority.uri.is_empty() => authority.uri.clone(),
                _ => chain[0].subject(),
            };
            Ok(Authority {
                name,
                chain,
                valid_for: range(authority.valid_for, &field("validFor"))?,
            })
        })
        .collect()
}

fn range(raw: Option<RawRange>, field: &str) -> Result<TimeRange, TrustedRootError> {
    let raw = raw.ok_or_else(|| invalid(field.to_owned(), "missing"))?;
    let start = raw.start.ok_or_else(|| {
        invalid(
            format!("{field}.start"),
            "missing; the interval needs a start",
        )
    })?;
    let parse = |text: &str, name: String| {
        Timestamp::parse_rfc3339(text).map_err(|reason| invalid(name, &reason))
    };
    Ok(TimeRange {
        start: parse(&start, format!("{field}.start"))?,
        end: raw
            .end
            .map(|end| parse(&end, format!("{field}.end")))
            .transpose()?,
    })
}

fn base64(text: &str, field: &str) -> Result<Vec<u8>, TrustedRootError> {
    decode_base64(text)
        .map_err(|reason| invalid(field.to_owned(), &format!("invalid base64: {reason}")))
}

fn invalid(field: String, reason: &str) -> TrustedRootError {
    TrustedRootError::InvalidField {
        field,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = r#"{
      "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      "tlogs": [{
        "baseUrl": "https://rekor.sigstore.dev",
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
          "rawBytes": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==",
          "keyDetails": "PKIX_ECDSA_P256_SHA_256",
          "validFor": {"start": "2021-01-12T11:53:27.000Z"}
        },
        "logId": {"keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}
      }]
    }"#;

    #[test]
    fn log_parsed_with_open_interval() {
        let root = TrustedRoot::from_json(ROOT.as_bytes()).unwrap();
        let log = &root.tlogs[0];
        assert_eq!(log.checkpoint_name(), "rekor.sigstore.dev");
        assert_eq!(log.valid_for.end, None);
        assert_eq!(log.key().unwrap().algorithm(), "ECDSA P-256");
        assert!(root.tlog(&log.log_id).is_some());
        assert!(root.ctlog(&log.log_id).is_none());
    }

    #[test]
    fn missing_start_rejected() {
        let text = ROOT.replace(
            r#""start": "2021-01-12T11:53:27.000Z""#,
            r#""end": "2030-01-01T00:00:00Z""#,
        );
        let error = TrustedRoot::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid trusted root: `tlogs[0].publicKey.validFor.start`: missing; the interval \
             needs a start"
        );
    }

    #[test]
    fn keyless_gaps_name_missing_sections() {
        let root = TrustedRoot::from_json(ROOT.as_bytes()).unwrap();
        let now = Timestamp::from_unix(1_800_000_000);
        assert_eq!(
            root.keyless_gaps(now),
            [
                "`certificateAuthorities` is empty, so no signing certificate can chain to it",
                "`ctlogs` is empty, so no certificate's SCT can be checked",
            ]
        );
    }

    #[test]
    fn keyless_gaps_name_unusable_and_ended_logs() {
        let ended = ROOT.replace(
            r#""start": "2021-01-12T11:53:27.000Z""#,
            r#""start": "2021-01-12T11:53:27.000Z", "end": "2022-01-01T00:00:00Z""#,
        );
        let root = TrustedRoot::from_json(ended.as_bytes()).unwrap();
        let now = Timestamp::from_unix(1_800_000_000);
        assert_eq!(
            root.keyless_gaps(now)[2],
            "every `validFor` in `tlogs` ended (the last at 2022-01-01T00:00:00Z), so no \
             transparency log entry can be checked for a signature made now"
        );
        // Before the end, the log is usable.
        assert_eq!(
            root.keyless_gaps(Timestamp::from_unix(1_620_000_000)).len(),
            2
        );

        let junk = ROOT.replace("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y", "AAAA");
        let root = TrustedRoot::from_json(junk.as_bytes()).unwrap();
        let gaps = root.keyless_gaps(now);
        assert!(
            gaps[2].starts_with("no key in `tlogs` can be used (`tlogs[0].publicKey`: "),
            "{}",
            gaps[2]
        );
        assert!(
            gaps[2].ends_with("), so no transparency log entry can be checked"),
            "{}",
            gaps[2]
        );
    }

    #[test]
    fn unknown_media_type_rejected() {
        let text = ROOT.replace("version=0.1", "version=9");
        let error = TrustedRoot::from_json(text.as_bytes()).unwrap_err();
        assert!(
            matches!(error, TrustedRootError::UnsupportedMediaType { .. }),
            "{error}"
        );
    }
}
