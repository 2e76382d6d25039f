//! Adding one artifact (a signature, an attestation or an SBOM) to an image's artifacts, in the
//! mode asked for, without losing or duplicating what is there.
//!
//! - Legacy signatures and attestations are appended to the manifest under cosign's tag, which
//!   is then replaced by a manifest with one more layer, as cosign does. (sigstore-rs's
//!   `push_signature` writes only the new layer and so drops earlier signatures.)
//! - A legacy SBOM replaces the `.sbom` manifest, as `cosign attach sbom` does.
//! - In OCI 1.1 mode every artifact gets a manifest of its own, as cosign's `oci-1-1` mode
//!   writes them. A referrer manifest cannot be extended, because its digest is its name.
//!
//! An artifact already present is not added again (see [`Merge`]), unless its blob is missing
//! or does not match its digest: then the blob is written again under the same manifest.

use tracing::{debug, info, warn};

use clearbox_oci::Digest;

use super::error::CosignError;
use super::format::{ArtifactDescriptor, ArtifactKind, ArtifactManifest, MAX_ARTIFACT_LAYERS};
use super::referrers::{ReferrersMode, artifact_manifests};
use super::store::{ArtifactStore, ArtifactWrite, Placement, ReferrerSource};

/// The result of attaching an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachOutcome {
    /// The manifest that contains the artifact now.
    pub manifest: Digest,
    /// The mode used: `Legacy` or `Oci11`, never `Auto`.
    pub mode: ReferrersMode,
    /// False when an equivalent artifact was present already and nothing was written.
    pub added: bool,
    /// The manifest's location: the store with the tag (legacy) or the referrer's digest.
    pub location: String,
}

/// The rule by which a new layer joins the existing ones.
pub(crate) enum Merge<'a> {
    /// Append, unless an existing layer is a duplicate by this test.
    Append(&'a dyn Fn(&ArtifactDescriptor) -> bool),
    /// Replace the legacy manifest; in OCI 1.1 mode, skip when a referrer has the same layer.
    Replace,
}

/// A new artifact: its layer descriptor and blob.
pub(crate) struct NewArtifact {
    pub(crate) kind: ArtifactKind,
    pub(crate) layer: ArtifactDescriptor,
    pub(crate) blob: Vec<u8>,
}

/// True when `existing` is the same blob with the same annotations as `new`.
pub(crate) fn is_same_layer(existing: &ArtifactDescriptor, new: &ArtifactDescriptor) -> bool {
    existing.digest == new.digest
        && existing.media_type == new.media_type
        && existing.annotations == new.annotations
}

/// True when the store contains the blob of `layer` with its digest and size, so that an identical
/// artifact is present in full rather than only listed.
fn is_blob_intact(store: &dyn ArtifactStore, layer: &ArtifactDescriptor) -> bool {
    match store.blob(&layer.digest, layer.size) {
        Ok(bytes) => bytes.len() as u64 == layer.size,
        Err(error) => {
            warn!(digest = %layer.digest, %error, "the blob of an identical artifact is missing or corrupt; writing it again");
            false
        }
    }
}

/// Writes the blob of an identical artifact again with the manifest that lists it, then reads
/// it back, so a store that keeps a corrupt copy is reported instead of hidden.
fn rewrite_blob(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
    write: &ArtifactWrite,
) -> Result<(), CosignError> {
    store.write(write)?;
    store.blob(&layer.digest, layer.size)?;
    Ok(())
}

/// Adds `artifact` to the store's image in `mode`.
pub(crate) fn attach(
    store: &dyn ArtifactStore,
    artifact: NewArtifact,
    mode: ReferrersMode,
    merge: &Merge<'_>,
) -> Result<AttachOutcome, CosignError> {
    let mode = mode.resolve(store)?;
    let outcome = match mode {
        ReferrersMode::Oci11 => attach_referrer(store, artifact, merge)?,
        ReferrersMode::Legacy | ReferrersMode::Auto => attach_legacy(store, artifact, merge)?,
    };
    if outcome.added {
        info!(location = %outcome.location, manifest = %outcome.manifest, "artifact attached");
    } else {
        info!(location = %outcome.location, "an equivalent artifact is attached already; nothing written");
    }
    Ok(outcome)
}

fn attach_legacy(
    store: &dyn ArtifactStore,
    artifact: NewArtifact,
    merge: &Merge<'_>,
) -> Result<AttachOutcome, CosignError> {
    let kind = artifact.kind;
    let tag = kind.legacy_tag(&store.subject().digest);
    let location = format!("{}:{tag}", store.location());

    // 1. The layers under the tag now, kept when appending.
    let mut layers = Vec::new();
    if let Merge::Append(is_duplicate) = merge
        && let Some(existing) = store.tagged(&tag)?
    {
        let manifest = ArtifactManifest::from_json(&existing.bytes).map_err(|e| {
            CosignError::InvalidManifest {
                digest: existing.digest.clone(),
                source_of: ReferrerSource::LegacyTag(tag.clone()),
                reason: e.to_string(),
            }
        })?;
        if let Some(duplicate) = manifest.layers.iter().find(|layer| is_duplicate(layer)) {
            let added = !is_blob_intact(store, duplicate);
            if added {
                let write = ArtifactWrite {
                    blobs: vec![artifact.blob],
                    manifest: existing.bytes,
                    artifact_type: manifest.effective_artifact_type().to_owned(),
                    placement: Placement::LegacyTag(kind),
                };
                rewrite_blob(store, duplicate, &write)?;
            }
            return Ok(AttachOutcome {
                manifest: existing.digest,
                mode: ReferrersMode::Legacy,
                added,
                location,
            });
        }
        if manifest.layers.len() >= MAX_ARTIFACT_LAYERS {
            return Err(CosignError::TooManyLayers {
                location,
                limit: MAX_ARTIFACT_LAYERS,
            });
        }
        debug!(%tag, layers = manifest.layers.len(), "appending to the existing manifest");
        layers = manifest.layers;
    }

    // 2. One more layer, a new config and manifest, written in one step.
    layers.push(artifact.layer);
    let (manifest, config) = ArtifactManifest::legacy(layers);
    let write = ArtifactWrite {
        blobs: vec![config, artifact.blob],
        manifest: manifest.to_json(),
        artifact_type: manifest.effective_artifact_type().to_owned(),
        placement: Placement::LegacyTag(kind),
    };
    let digest = store.write(&write)?;
    Ok(AttachOutcome {
        manifest: digest,
        mode: ReferrersMode::Legacy,
        added: true,
        location,
    })
}

fn attach_referrer(
    store: &dyn ArtifactStore,
    artifact: NewArtifact,
    merge: &Merge<'_>,
) -> Result<AttachOutcome, CosignError> {
    let kind = artifact.kind;

    // 1. An existing referrer with the same artifact makes this one redundant.
    let (existing, _) = artifact_manifests(store, kind)?;
    for found in existing {
        if matches!(found.source, ReferrerSource::LegacyTag(_)) {
            continue;
        }
        let Ok(manifest) = &found.parsed else {
            continue;
        };
        let duplicate = manifest.layers.iter().find(|layer| match merge {
            Merge::Append(is_duplicate) => is_duplicate(layer),
            Merge::Replace => is_same_layer(layer, &artifact.layer),
        });
        if let Some(duplicate) = duplicate {
            let added = !is_blob_intact(store, duplicate);
            if added {
                let write = ArtifactWrite {
                    blobs: vec![artifact.blob],
                    manifest: found.stored.bytes.clone(),
                    artifact_type: kind.artifact_type().to_owned(),
                    placement: Placement::Referrer(kind),
                };
                rewrite_blob(store, duplicate, &write)?;
            }
            return Ok(AttachOutcome {
                location: format!("{}@{}", store.location(), found.stored.digest),
                manifest: found.stored.digest,
                mode: ReferrersMode::Oci11,
                added,
            });
        }
    }

    // 2. A referrer manifest of its own.
    let (manifest, config) =
        ArtifactManifest::referrer(kind, artifact.layer, store.subject().descriptor());
    let write = ArtifactWrite {
        blobs: vec![config, artifact.blob],
        manifest: manifest.to_json(),
        artifact_type: kind.artifact_type().to_owned(),
        placement: Placement::Referrer(kind),
    };
    let digest = store.write(&write)?;
    Ok(AttachOutcome {
        location: format!("{}@{digest}", store.location()),
        manifest: digest,
        mode: ReferrersMode::Oci11,
        added: true,
    })
}
