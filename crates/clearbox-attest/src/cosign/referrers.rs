//! The referrers modes that decide where artifacts about an image are attached
//! ([`ReferrersMode`]), and the search that finds them again ([`discover`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use clearbox_oci::Digest;
use clearbox_oci::spec::MEDIA_TYPE_OCI_MANIFEST;
use serde::Deserialize;
use tracing::debug;

use super::error::{ArtifactLocation, CosignError, Rejected};
use super::format::{ArtifactDescriptor, ArtifactKind, ArtifactManifest};
use super::store::{ArtifactStore, ReferrerSource, StoreError, StoredManifest};

/// The place where signatures, attestations and SBOMs are attached to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferrersMode {
    /// cosign's tags `sha256-<hex>.sig`, `.att` and `.sbom`; cosign's default
    /// (`--registry-referrers-mode=legacy`). Every tool that reads cosign signatures finds
    /// these, cosign 2.5 and skopeo 1.18 included.
    Legacy,
    /// An OCI 1.1 manifest with `subject` and `artifactType`, one per artifact, as cosign's
    /// `--registry-referrers-mode=oci-1-1` writes for signatures. A registry without the
    /// referrers API also gets the fallback tag `sha256-<hex>` updated. cosign 2.5 reads these
    /// only with `verify --experimental-oci11`, and then only the last one listed.
    Oci11,
    /// [`Oci11`](Self::Oci11) when the registry serves the referrers API, else
    /// [`Legacy`](Self::Legacy); always `Legacy` for a layout, because that is the form
    /// `cosign verify --local-image` reads. cosign 2.5 has no such mode (its flag takes
    /// `legacy` and `oci-1-1`); this follows oras, which probes the API first. The default.
    #[default]
    Auto,
}

impl ReferrersMode {
    /// Resolves [`Auto`](Self::Auto) against a store by asking whether it has the referrers
    /// API. Returns `Legacy` or `Oci11`.
    pub fn resolve(self, store: &dyn ArtifactStore) -> Result<ReferrersMode, StoreError> {
        match self {
            ReferrersMode::Auto => {
                let api = store.has_referrers_api()?;
                let mode = if api {
                    ReferrersMode::Oci11
                } else {
                    ReferrersMode::Legacy
                };
                debug!(location = %store.location(), referrers_api = api, %mode, "referrers mode chosen");
                Ok(mode)
            }
            other => Ok(other),
        }
    }
}

impl FromStr for ReferrersMode {
    type Err = String;

    /// Parses `legacy`, `oci-1-1` (cosign's spelling) or `auto`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "legacy" => Ok(ReferrersMode::Legacy),
            "oci-1-1" => Ok(ReferrersMode::Oci11),
            "auto" => Ok(ReferrersMode::Auto),
            other => Err(format!(
                "unknown referrers mode `{other}`; expected `legacy`, `oci-1-1` or `auto`"
            )),
        }
    }
}

impl fmt::Display for ReferrersMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReferrersMode::Legacy => "legacy",
            ReferrersMode::Oci11 => "oci-1-1",
            ReferrersMode::Auto => "auto",
        })
    }
}

/// A manifest about the image: a cosign artifact under its tag, or an OCI 1.1 referrer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: String,
    /// The manifest's size in bytes.
    pub size: u64,
    /// The artifact type listed for it (referrers only).
    pub artifact_type: Option<String>,
    /// The cosign artifact kind, from its tag or artifact type; `None` for other artifacts.
    pub kind: Option<ArtifactKind>,
    /// The annotations listed for it (referrers only).
    pub annotations: BTreeMap<String, String>,
    /// Every place it was found, in the order searched.
    pub sources: Vec<ReferrerSource>,
}

#[derive(Deserialize)]
struct MediaTypeField {
    #[serde(default, rename = "mediaType")]
    media_type: Option<String>,
}

/// Lists every manifest about the store's image: the referrers API (all pages), the fallback
/// tag `sha256-<hex>`, the layout index, and cosign's `.sig`, `.att` and `.sbom` tags. A
/// manifest found in several places is listed once with all its sources. Nothing is verified.
pub fn discover(store: &dyn ArtifactStore) -> Result<Vec<Referrer>, CosignError> {
    let subject = store.subject().digest.clone();
    let mut found: Vec<Referrer> = Vec::new();
    let mut add = |referrer: Referrer| {
        let Some(known) = found.iter_mut().find(|r| r.digest == referrer.digest) else {
            found.push(referrer);
            return;
        };
        for source in referrer.sources {
            if !known.sources.contains(&source) {
                known.sources.push(source);
            }
        }
        if known.artifact_type.is_none() {
            known.artifact_type = referrer.artifact_type;
        }
        known.kind = known.kind.or(referrer.kind);
    };

    // 1. OCI 1.1 referrers.
    for listed in store.referrers()? {
        let descriptor = listed.descriptor;
        add(Referrer {
            kind: descriptor
                .artifact_type
                .as_deref()
                .and_then(ArtifactKind::of_artifact_type),
            digest: descriptor.digest,
            media_type: descriptor.media_type,
            size: descriptor.size,
            artifact_type: descriptor.artifact_type,
            annotations: descriptor.annotations,
            sources: vec![listed.source],
        });
    }

    // 2. cosign's tags.
    for kind in ArtifactKind::ALL {
        let tag = kind.legacy_tag(&subject);
        if let Some(manifest) = store.tagged(&tag)? {
            let media_type = serde_json::from_slice::<MediaTypeField>(&manifest.bytes)
                .ok()
                .and_then(|m| m.media_type)
                .unwrap_or_else(|| MEDIA_TYPE_OCI_MANIFEST.to_owned());
            add(Referrer {
                digest: manifest.digest,
                media_type,
                size: manifest.bytes.len() as u64,
                artifact_type: None,
                kind: Some(kind),
                annotations: BTreeMap::new(),
                sources: vec![ReferrerSource::LegacyTag(tag)],
            });
        }
    }
    debug!(location = %store.location(), referrers = found.len(), "referrers discovered");
    Ok(found)
}

/// An artifact manifest of one kind, parsed.
#[derive(Debug, Clone)]
pub(crate) struct FoundManifest {
    pub(crate) source: ReferrerSource,
    pub(crate) stored: StoredManifest,
    /// The parsed manifest, or why it does not parse.
    pub(crate) parsed: Result<ArtifactManifest, String>,
}

/// Runs `check` on every layer of `manifests`. A manifest that does not parse is rejected
/// with `invalid_manifest(reason)`. Returns each passing layer's result with its location, and
/// the rejections.
pub(crate) fn check_layers<T, E: fmt::Display>(
    manifests: Vec<FoundManifest>,
    invalid_manifest: impl Fn(String) -> E,
    mut check: impl FnMut(&ArtifactDescriptor) -> Result<T, E>,
) -> (Vec<(T, ArtifactLocation)>, Vec<Rejected<E>>) {
    let mut passed = Vec::new();
    let mut rejected = Vec::new();
    for found in manifests {
        let manifest_location = ArtifactLocation {
            manifest: found.stored.digest.clone(),
            layer: None,
            source: found.source.clone(),
        };
        let manifest = match found.parsed {
            Ok(manifest) => manifest,
            Err(reason) => {
                rejected.push(Rejected {
                    location: manifest_location,
                    error: invalid_manifest(reason),
                });
                continue;
            }
        };
        debug!(manifest = %found.stored.digest, layers = manifest.layers.len(), "artifact manifest found");
        for (index, layer) in manifest.layers.iter().enumerate() {
            let location = ArtifactLocation {
                layer: Some(index),
                ..manifest_location.clone()
            };
            match check(layer) {
                Ok(result) => {
                    debug!(%location, "artifact verified");
                    passed.push((result, location));
                }
                Err(error) => {
                    debug!(%location, %error, "artifact rejected");
                    rejected.push(Rejected { location, error });
                }
            }
        }
    }
    (passed, rejected)
}

/// The artifact manifests of `kind` about the store's image: the one under cosign's tag first,
/// then OCI 1.1 referrers whose artifact type is the kind's. Also returns the places searched,
/// for messages.
pub(crate) fn artifact_manifests(
    store: &dyn ArtifactStore,
    kind: ArtifactKind,
) -> Result<(Vec<FoundManifest>, Vec<String>), CosignError> {
    let tag = kind.legacy_tag(&store.subject().digest);
    let searched = vec![
        format!("tag `{tag}` in {}", store.location()),
        format!("referrers of type `{}`", kind.artifact_type()),
    ];
    let mut found: Vec<FoundManifest> = Vec::new();

    // 1. The legacy tag.
    if let Some(stored) = store.tagged(&tag)? {
        found.push(parsed(ReferrerSource::LegacyTag(tag), stored));
    }

    // 2. Referrers of the kind's artifact type. A listing without `artifactType` is fetched and
    //    judged by the manifest itself.
    for listed in store.referrers()? {
        let digest = &listed.descriptor.digest;
        if found.iter().any(|f| f.stored.digest == *digest) {
            continue;
        }
        if let Some(listed_type) = &listed.descriptor.artifact_type
            && listed_type != kind.artifact_type()
        {
            continue;
        }
        let manifest = parsed(listed.source, store.manifest(digest)?);
        let matches = match &manifest.parsed {
            Ok(parsed) => parsed.effective_artifact_type() == kind.artifact_type(),
            Err(_) => listed.descriptor.artifact_type.is_some(),
        };
        if matches {
            found.push(manifest);
        }
    }
    debug!(?kind, manifests = found.len(), "artifact manifests found");
    Ok((found, searched))
}

fn parsed(source: ReferrerSource, stored: StoredManifest) -> FoundManifest {
    let parsed = ArtifactManifest::from_json(&stored.bytes).map_err(|e| e.to_string());
    FoundManifest {
        source,
        stored,
        parsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_with_cosign_spelling() {
        assert_eq!("legacy".parse(), Ok(ReferrersMode::Legacy));
        assert_eq!("oci-1-1".parse(), Ok(ReferrersMode::Oci11));
        assert_eq!("auto".parse(), Ok(ReferrersMode::Auto));
        assert_eq!(ReferrersMode::Oci11.to_string(), "oci-1-1");
        assert!("oci11".parse::<ReferrersMode>().is_err());
    }
}
