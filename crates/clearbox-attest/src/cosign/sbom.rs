//! Attaching an SBOM document to an image unsigned, as cosign 2.5's deprecated
//! `cosign attach sbom --sbom F --type spdx|cyclonedx|syft` does, and reading it back as
//! `cosign download sbom` does.
//!
//! The document is stored as it is, as the only layer of the manifest under
//! `sha256-<hex>.sbom` (replacing any earlier one), without annotations. Nothing proves who
//! attached it; a signed SBOM is an attestation with an SPDX or CycloneDX predicate.

use std::fmt;

use super::attach::{AttachOutcome, Merge, NewArtifact, attach};
use super::error::{ArtifactLocation, CosignError};
use super::format::{ArtifactDescriptor, ArtifactKind};
use super::referrers::{ReferrersMode, artifact_manifests};
use super::store::{ArtifactStore, MAX_SBOM_BYTES};

/// An SBOM format and the layer media type cosign gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    /// SPDX JSON: `text/spdx+json`.
    SpdxJson,
    /// SPDX tag-value: `text/spdx`.
    SpdxTagValue,
    /// CycloneDX JSON: `application/vnd.cyclonedx+json`.
    CycloneDxJson,
    /// CycloneDX XML: `application/vnd.cyclonedx+xml`.
    CycloneDxXml,
    /// Syft's JSON: `application/vnd.syft+json`.
    SyftJson,
}

impl SbomFormat {
    /// The layer media type.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::SpdxJson => "text/spdx+json",
            SbomFormat::SpdxTagValue => "text/spdx",
            SbomFormat::CycloneDxJson => "application/vnd.cyclonedx+json",
            SbomFormat::CycloneDxXml => "application/vnd.cyclonedx+xml",
            SbomFormat::SyftJson => "application/vnd.syft+json",
        }
    }

    /// The format cosign 2.5 picks for `--type` (`spdx`, `cyclonedx`, `syft`) and
    /// `--input-format` (`json`, `xml`, `text`, or `None`): JSON when the input format is
    /// `json` or the file name ends in `.json` (whatever the input format is, as in cosign),
    /// else tag-value for SPDX and XML for CycloneDX. Syft has only JSON. Combinations cosign
    /// rejects are rejected with its reason.
    pub fn from_cosign_flags(
        sbom_type: &str,
        input_format: Option<&str>,
        file_name: &str,
    ) -> Result<Self, String> {
        #[allow(
            clippy::case_sensitive_file_extension_comparisons,
            reason = "cosign compares the suffix case-sensitively, and so must this"
        )]
        let json = input_format == Some("json") || file_name.ends_with(".json");
        match (sbom_type, input_format) {
            ("spdx", None | Some("json" | "text")) => Ok(if json {
                SbomFormat::SpdxJson
            } else {
                SbomFormat::SpdxTagValue
            }),
            ("cyclonedx", None | Some("json" | "xml")) => Ok(if json {
                SbomFormat::CycloneDxJson
            } else {
                SbomFormat::CycloneDxXml
            }),
            ("syft", None | Some("json")) => Ok(SbomFormat::SyftJson),
            ("spdx", Some(other)) => Err(format!(
                "invalid SBOM input format `{other}` for spdx; expected json or text"
            )),
            ("cyclonedx", Some(other)) => Err(format!(
                "invalid SBOM input format `{other}` for cyclonedx; expected json or xml"
            )),
            ("syft", Some(other)) => Err(format!(
                "invalid SBOM input format `{other}` for syft; expected json"
            )),
            (other, _) => Err(format!(
                "unknown SBOM type `{other}`; expected spdx, cyclonedx or syft"
            )),
        }
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// An SBOM read back from an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedSbom {
    /// The layer media type.
    pub media_type: String,
    /// The document exactly as stored; its digest was checked.
    pub bytes: Vec<u8>,
    /// The SBOM's location.
    pub location: ArtifactLocation,
}

/// Attaches `sbom` to the store's image, unsigned; an SBOM larger than [`MAX_SBOM_BYTES`] is
/// rejected with [`CosignError::SbomTooLarge`]. In legacy mode it replaces the manifest under
/// `sha256-<hex>.sbom`. In OCI 1.1 mode it becomes a referrer of type
/// `application/vnd.dev.cosign.artifact.sbom.v1+json`, unless one with the same document is
/// there already.
pub fn attach_sbom(
    store: &dyn ArtifactStore,
    sbom: &[u8],
    format: SbomFormat,
    mode: ReferrersMode,
) -> Result<AttachOutcome, CosignError> {
    if sbom.len() as u64 > MAX_SBOM_BYTES {
        return Err(CosignError::SbomTooLarge {
            size: sbom.len() as u64,
            limit: MAX_SBOM_BYTES,
        });
    }
    let artifact = NewArtifact {
        kind: ArtifactKind::Sbom,
        layer: ArtifactDescriptor::of(format.media_type(), sbom),
        blob: sbom.to_vec(),
    };
    attach(store, artifact, mode, &Merge::Replace)
}

/// Reads the SBOMs attached to the store's image: the layers under `sha256-<hex>.sbom`, then
/// those of SBOM referrers. Each blob is checked against its digest; nothing is verified
/// beyond that. Fails with [`CosignError::NoSbom`] when there is none.
pub fn download_sbom(store: &dyn ArtifactStore) -> Result<Vec<DownloadedSbom>, CosignError> {
    let (manifests, searched) = artifact_manifests(store, ArtifactKind::Sbom)?;
    let mut sboms = Vec::new();
    for found in manifests {
        let manifest = found
            .parsed
            .map_err(|reason| CosignError::InvalidManifest {
                digest: found.stored.digest.clone(),
                source_of: found.source.clone(),
                reason,
            })?;
        for (index, layer) in manifest.layers.iter().enumerate() {
            let bytes = store.blob(&layer.digest, MAX_SBOM_BYTES)?;
            sboms.push(DownloadedSbom {
                media_type: layer.media_type.clone(),
                bytes,
                location: ArtifactLocation {
                    manifest: found.stored.digest.clone(),
                    layer: Some(index),
                    source: found.source.clone(),
                },
            });
        }
    }
    if sboms.is_empty() {
        return Err(CosignError::NoSbom {
            image: format!("{}@{}", store.location(), store.subject().digest),
            searched,
        });
    }
    Ok(sboms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_flag_table() {
        let table = [
            ("spdx", None, "sbom.spdx.json", Ok(SbomFormat::SpdxJson)),
            ("spdx", None, "sbom.spdx", Ok(SbomFormat::SpdxTagValue)),
            ("spdx", Some("json"), "sbom", Ok(SbomFormat::SpdxJson)),
            ("spdx", Some("text"), "sbom.json", Ok(SbomFormat::SpdxJson)),
            (
                "spdx",
                Some("text"),
                "sbom.txt",
                Ok(SbomFormat::SpdxTagValue),
            ),
            ("cyclonedx", None, "bom.json", Ok(SbomFormat::CycloneDxJson)),
            ("cyclonedx", None, "bom.xml", Ok(SbomFormat::CycloneDxXml)),
            (
                "cyclonedx",
                Some("xml"),
                "bom.json",
                Ok(SbomFormat::CycloneDxJson),
            ),
            (
                "cyclonedx",
                Some("xml"),
                "bom",
                Ok(SbomFormat::CycloneDxXml),
            ),
            ("syft", None, "sbom", Ok(SbomFormat::SyftJson)),
        ];
        for (sbom_type, input, file, expected) in table {
            assert_eq!(
                SbomFormat::from_cosign_flags(sbom_type, input, file),
                expected,
                "{sbom_type} {input:?} {file}"
            );
        }
    }

    #[test]
    fn cosign_rejections() {
        for (sbom_type, input) in [
            ("spdx", Some("xml")),
            ("cyclonedx", Some("text")),
            ("syft", Some("text")),
            ("sbom", None),
        ] {
            assert!(
                SbomFormat::from_cosign_flags(sbom_type, input, "x").is_err(),
                "{sbom_type} {input:?}"
            );
        }
    }

    #[test]
    fn media_types() {
        assert_eq!(SbomFormat::SpdxJson.media_type(), "text/spdx+json");
        assert_eq!(
            SbomFormat::CycloneDxXml.to_string(),
            "application/vnd.cyclonedx+xml"
        );
    }
}
