//! Opening an image: resolving a reference to a manifest, a config and a list of layers, with
//! every JSON blob checked against its digest before it is parsed. Layouts, archives and
//! registries share the index walk and platform choice.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use tracing::debug;

use crate::digest::Digest;
use crate::error::OciError;
use crate::layout::choose_layout_image;
use crate::options::ReadOptions;
use crate::reference::{ArchiveSelector, ImageReference, RegistryReference};
use crate::registry::RegistryClient;
use crate::spec::{
    ANNOTATION_REF_NAME, Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform,
    is_index_media_type, is_manifest_media_type,
};
use crate::store::{ArchiveIndex, BlobStore, RegistryBlobs};

/// One layer as the manifest (or archive) describes it, before it is read.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    /// Zero-based position, base layer first.
    pub index: usize,
    /// Media type from the manifest; `None` in a `docker save` archive.
    pub media_type: Option<String>,
    /// Digest of the stored blob, from the manifest. `None` in a `docker save` archive, which
    /// names layers by path.
    pub digest: Option<Digest>,
    /// Stored size, from the manifest or the archive.
    pub size: u64,
    /// Digest of the uncompressed layer, from the config's `rootfs.diff_ids`.
    pub diff_id: Option<Digest>,
    /// Annotations on the layer descriptor.
    pub annotations: BTreeMap<String, String>,
    /// Path of the blob inside the layout or archive.
    pub(crate) location: String,
}

impl LayerInfo {
    /// A short name for messages: the blob digest, else the `diff_id`, else the position.
    #[must_use]
    pub fn label(&self) -> String {
        match (&self.digest, &self.diff_id) {
            (Some(d), _) | (None, Some(d)) => d.to_string(),
            (None, None) => format!("#{}", self.index),
        }
    }
}

/// An opened image whose layers have not been read yet.
#[derive(Debug)]
pub struct Image {
    /// The reference it was opened from.
    pub reference: ImageReference,
    /// Digest of the image manifest. `None` for `docker save` archives and root filesystems,
    /// which carry no manifest.
    pub manifest_digest: Option<Digest>,
    /// The manifest, when there is one.
    pub manifest: Option<ImageManifest>,
    /// Digest of the manifest or index the reference named, before a platform was picked
    /// from an index: the digest that cosign signs and that signatures and referrers name. It
    /// equals [`manifest_digest`](Self::manifest_digest) unless the reference named an index.
    /// `None` for `docker save` archives and root filesystems.
    pub subject_digest: Option<Digest>,
    /// Digest of the config blob. `None` for root filesystems.
    pub config_digest: Option<Digest>,
    /// The image config; empty for root filesystems.
    pub config: ImageConfig,
    /// Layers, base first. Empty for root filesystems.
    pub layers: Vec<LayerInfo>,
    /// The tags the source names for this image (`RepoTags` of a `docker save` archive, the
    /// `ref.name` annotation of an OCI layout).
    pub tags: Vec<String>,
    /// Every tag the layout or archive holds, for finding artefacts stored beside the image
    /// (cosign's `sha256-<hex>.sig` and `.att` tags). Empty for registries, where listing
    /// every tag can be costly, so request the expected tag with
    /// [`RegistryClient::head_manifest`].
    pub source_tags: Vec<String>,
    /// The registry session and resolved reference, for `docker://` images.
    pub(crate) remote: Option<Remote>,
    pub(crate) source: Source,
}

/// The source of a `docker://` image, kept for finding its signatures and attestations.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    pub(crate) client: Arc<RegistryClient>,
    /// The reference as opened, with the digest of the manifest or index it resolved to.
    pub(crate) resolved: RegistryReference,
}

#[derive(Debug)]
pub(crate) enum Source {
    Blobs(BlobStore),
    RootFs(std::path::PathBuf),
}

impl Image {
    /// Opens the image a reference names, checking the manifest and config digests.
    pub fn open(reference: &ImageReference, options: &ReadOptions) -> Result<Image, OciError> {
        match reference {
            ImageReference::OciLayout { path, tag } => {
                let store = BlobStore::Dir(path.clone());
                open_layout(reference, store, tag.as_deref(), options)
            }
            ImageReference::OciArchive { path, tag } => {
                let index = ArchiveIndex::open(path, options)?;
                let store = BlobStore::Archive(Arc::new(index));
                open_layout(reference, store, tag.as_deref(), options)
            }
            ImageReference::DockerArchive { path, selector } => {
                open_docker_archive(reference, path, selector.as_ref(), options)
            }
            ImageReference::RootFs { path } => {
                let meta = std::fs::metadata(path).map_err(|e| OciError::io(path, e))?;
                if !meta.is_dir() {
                    return Err(OciError::InvalidImage(format!(
                        "`{}` is not a directory; dir: takes an unpacked root filesystem",
                        path.display()
                    )));
                }
                Ok(Image {
                    reference: reference.clone(),
                    manifest_digest: None,
                    manifest: None,
                    subject_digest: None,
                    config_digest: None,
                    config: ImageConfig::default(),
                    layers: Vec::new(),
                    tags: Vec::new(),
                    source_tags: Vec::new(),
                    remote: None,
                    source: Source::RootFs(path.clone()),
                })
            }
            ImageReference::Registry(target) => open_registry(reference, target, options),
        }
    }

    /// For a `docker://` image: the reference it was opened by, with its digest set to the
    /// manifest or index that the tag resolved to. That top-level digest is what signing
    /// tools attach signatures to (cosign's `sha256-<hex>.sig` tag, OCI referrers), and it
    /// equals [`manifest_digest`](Self::manifest_digest) unless the reference named a
    /// multi-platform index. `None` for other transports.
    #[must_use]
    pub fn registry_reference(&self) -> Option<&RegistryReference> {
        self.remote.as_ref().map(|r| &r.resolved)
    }

    /// For a `docker://` image: the client that read it, with its credentials and cached
    /// tokens, for further requests to the same repository. `None` for other transports.
    #[must_use]
    pub fn registry_client(&self) -> Option<&Arc<RegistryClient>> {
        self.remote.as_ref().map(|r| &r.client)
    }
}

/// Opens a registry image: pulls the manifest or index the reference names, resolves the
/// platform as for layouts, and leaves the layers to stream from the registry.
fn open_registry(
    reference: &ImageReference,
    target: &RegistryReference,
    options: &ReadOptions,
) -> Result<Image, OciError> {
    let client = Arc::new(RegistryClient::new(options.registry.clone())?);
    let top = client.get_manifest(target)?;
    let descriptor = Descriptor {
        media_type: top.media_type,
        digest: top.digest.clone(),
        size: top.bytes.len() as u64,
        annotations: BTreeMap::new(),
        platform: None,
        artifact_type: None,
    };
    let store = BlobStore::Registry(Arc::new(RegistryBlobs {
        client: Arc::clone(&client),
        repository: target.clone(),
    }));
    let resolved = resolve_manifest(&store, descriptor, Some(top.bytes), options)?;
    let mut image = finish_image(reference, store, resolved, options)?;
    image.tags = target.tag.clone().into_iter().collect();
    image.subject_digest = Some(top.digest.clone());
    image.remote = Some(Remote {
        client,
        resolved: RegistryReference {
            digest: Some(top.digest),
            ..target.clone()
        },
    });
    Ok(image)
}

/// Reads a blob named by a descriptor and checks its size and digest.
fn read_verified(
    store: &BlobStore,
    descriptor: &Descriptor,
    what: &str,
    options: &ReadOptions,
) -> Result<Vec<u8>, OciError> {
    let data = store.read_document(descriptor, what, options.max_json_bytes)?;
    let actual = Digest::of(&data);
    if actual != descriptor.digest {
        return Err(OciError::DigestMismatch {
            blob: format!("{what} blob"),
            expected: descriptor.digest.clone(),
            actual,
        });
    }
    if data.len() as u64 != descriptor.size {
        return Err(OciError::SizeMismatch {
            blob: format!("{what} blob {}", descriptor.digest),
            expected: descriptor.size,
            actual: data.len() as u64,
        });
    }
    Ok(data)
}

pub(crate) fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

fn open_layout(
    reference: &ImageReference,
    store: BlobStore,
    tag: Option<&str>,
    options: &ReadOptions,
) -> Result<Image, OciError> {
    // Read the layout marker and the top-level index.
    let name = reference.to_string();
    if store.is_not_file("index.json") {
        return Err(OciError::InvalidImage(format!(
            "`{}` is not a regular file",
            store.describe("index.json").display()
        )));
    }
    if !store.contains("index.json") {
        return Err(OciError::InvalidImage(format!(
            "`{}` is not an OCI image layout: index.json is missing",
            store.describe("").display()
        )));
    }
    let index_bytes = store.read_small("index.json", options.max_json_bytes)?;
    let index: ImageIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| OciError::json(format!("index.json of {name}"), e))?;

    // Pick the manifest the tag or digest names, by the rule the signature store shares.
    let tags: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.annotations.get(ANNOTATION_REF_NAME).cloned())
        .collect();
    let mut read_manifest =
        |entry: &Descriptor| read_verified(&store, entry, "manifest", options).ok();
    let descriptor = choose_layout_image(&index, tag, &mut read_manifest).map_err(|reason| {
        OciError::ImageNotInLayout {
            location: name.clone(),
            reason,
        }
    })?;
    let own_tags = descriptor
        .annotations
        .get(ANNOTATION_REF_NAME)
        .cloned()
        .into_iter()
        .collect();

    // Descend through nested indexes to the platform's manifest, then read its config.
    let subject = descriptor.digest.clone();
    let resolved = resolve_manifest(&store, descriptor, None, options)?;
    let mut image = finish_image(reference, store, resolved, options)?;
    image.tags = own_tags;
    image.source_tags = tags;
    image.subject_digest = Some(subject);
    Ok(image)
}

/// Reads the config of a resolved manifest and describes its layers.
fn finish_image(
    reference: &ImageReference,
    store: BlobStore,
    resolved: ResolvedManifest,
    options: &ReadOptions,
) -> Result<Image, OciError> {
    let ResolvedManifest {
        descriptor: manifest_descriptor,
        manifest,
        from_index,
    } = resolved;
    let config_bytes = read_verified(&store, &manifest.config, "config", options)?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| OciError::json(format!("config {}", manifest.config.digest), e))?;

    // An index chose the platform already; a single manifest must be of the one requested.
    if !from_index && options.require_platform {
        check_platform(&manifest_descriptor, &config, &options.platform)?;
    }

    // Describe the layers.
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != manifest.layers.len() {
        return Err(OciError::InvalidImage(format!(
            "manifest {} lists {} layers but its config lists {} diff_ids",
            manifest_descriptor.digest,
            manifest.layers.len(),
            diff_ids.len()
        )));
    }
    let layers = manifest
        .layers
        .iter()
        .enumerate()
        .map(|(index, d)| LayerInfo {
            index,
            media_type: Some(d.media_type.clone()),
            digest: Some(d.digest.clone()),
            size: d.size,
            diff_id: diff_ids.get(index).cloned(),
            annotations: d.annotations.clone(),
            location: store.location_of(&d.digest),
        })
        .collect();
    Ok(Image {
        reference: reference.clone(),
        manifest_digest: Some(manifest_descriptor.digest.clone()),
        subject_digest: None,
        config_digest: Some(manifest.config.digest.clone()),
        manifest: Some(manifest),
        config,
        layers,
        tags: Vec::new(),
        source_tags: Vec::new(),
        remote: None,
        source: Source::Blobs(store),
    })
}

/// Checks that a single-platform image's config names the requested platform. A config that
/// names no OS and no architecture is accepted, because nothing contradicts the request.
fn check_platform(
    manifest: &Descriptor,
    config: &ImageConfig,
    want: &Platform,
) -> Result<(), OciError> {
    if config.os.is_empty() && config.architecture.is_empty() {
        debug!(manifest = %manifest.digest, "the config names no platform; not checked");
        return Ok(());
    }
    let matches = config.os == want.os
        && config.architecture == want.architecture
        && (want.variant.is_none() || config.variant == want.variant);
    if matches {
        return Ok(());
    }
    let found = Platform {
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
    };
    Err(OciError::PlatformMismatch {
        manifest: manifest.digest.clone(),
        found: platform_text(&found),
        requested: platform_text(want),
    })
}

/// `OS/ARCH` or `OS/ARCH/VARIANT`.
fn platform_text(platform: &Platform) -> String {
    match &platform.variant {
        Some(variant) => format!("{}/{}/{variant}", platform.os, platform.architecture),
        None => format!("{}/{}", platform.os, platform.architecture),
    }
}

fn list_or_none(tags: &[String]) -> String {
    if tags.is_empty() {
        "none".to_owned()
    } else {
        tags.iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The manifest a reference resolved to.
struct ResolvedManifest {
    descriptor: Descriptor,
    manifest: ImageManifest,
    /// True when an index was walked to reach the manifest, so the platform was chosen there.
    from_index: bool,
}

/// Follows a descriptor through nested indexes to the manifest for the configured platform,
/// and parses that manifest. `first` holds the bytes of `descriptor` when the caller already
/// read and checked them.
fn resolve_manifest(
    store: &BlobStore,
    mut descriptor: Descriptor,
    mut first: Option<Vec<u8>>,
    options: &ReadOptions,
) -> Result<ResolvedManifest, OciError> {
    // Indexes may nest; a few levels is plenty and bounds a malicious cycle.
    for depth in 0..4 {
        let is_manifest = is_manifest_media_type(&descriptor.media_type);
        if !is_manifest && !is_index_media_type(&descriptor.media_type) {
            return Err(OciError::InvalidImage(format!(
                "descriptor {} has media type `{}`, which is neither an image manifest nor an index",
                descriptor.digest, descriptor.media_type
            )));
        }
        let what = if is_manifest {
            "manifest"
        } else {
            "image index"
        };
        let bytes = match first.take() {
            Some(bytes) => bytes,
            None => read_verified(store, &descriptor, what, options)?,
        };
        if is_manifest {
            let manifest: ImageManifest = serde_json::from_slice(&bytes)
                .map_err(|e| OciError::json(format!("manifest {}", descriptor.digest), e))?;
            return Ok(ResolvedManifest {
                descriptor,
                manifest,
                from_index: depth > 0,
            });
        }
        let index: ImageIndex = serde_json::from_slice(&bytes)
            .map_err(|e| OciError::json(format!("image index {}", descriptor.digest), e))?;
        descriptor = select_platform(&index, &descriptor, options)?.clone();
    }
    Err(OciError::InvalidImage(format!(
        "image indexes nest more than 4 levels deep below {}",
        descriptor.digest
    )))
}

/// Picks the entry of an index that matches the configured platform. An index may list
/// another index without a platform, as a wrapper; that entry is taken when nothing matches.
fn select_platform<'a>(
    index: &'a ImageIndex,
    descriptor: &Descriptor,
    options: &ReadOptions,
) -> Result<&'a Descriptor, OciError> {
    let want = &options.platform;
    let found = index.manifests.iter().find(|d| {
        d.platform.as_ref().is_some_and(|p| {
            p.os == want.os
                && p.architecture == want.architecture
                && (want.variant.is_none() || p.variant == want.variant)
        })
    });
    let found = found.or_else(|| {
        index
            .manifests
            .iter()
            .find(|d| d.platform.is_none() && is_index_media_type(&d.media_type))
    });
    found.ok_or_else(|| {
        let offered: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| format!("{}/{}", p.os, p.architecture))
            .collect();
        OciError::InvalidImage(format!(
            "image index {} has no {}/{} manifest (platforms: {})",
            descriptor.digest,
            want.os,
            want.architecture,
            list_or_none(&offered)
        ))
    })
}

/// Whether two image names are the same once normalised as Docker does.
fn same_tag(a: &str, b: &str) -> bool {
    let normal = |s: &str| {
        crate::reference::RegistryReference::parse(s)
            .map_or_else(|_| s.to_owned(), |r| r.to_string())
    };
    a == b || normal(a) == normal(b)
}

/// One image of a `docker save` archive's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The image of a `docker save` archive that the selector picks, or the only one.
fn choose_archive_entry<'a>(
    entries: &'a [ArchiveManifestEntry],
    selector: Option<&ArchiveSelector>,
    name: &str,
) -> Result<&'a ArchiveManifestEntry, OciError> {
    let all_tags = || -> Vec<String> {
        entries
            .iter()
            .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
            .collect()
    };
    match selector {
        None if entries.len() == 1 => Ok(&entries[0]),
        None if entries.is_empty() => {
            Err(OciError::InvalidImage(format!("{name} holds no images")))
        }
        None => Err(OciError::InvalidImage(format!(
            "{name} holds {} images; pick one with `:REPO:TAG` or `:@INDEX` (tags present: {})",
            entries.len(),
            list_or_none(&all_tags())
        ))),
        Some(ArchiveSelector::Index(i)) => entries.get(*i).ok_or_else(|| {
            OciError::InvalidImage(format!(
                "{name} holds {} images; index @{i} is out of range",
                entries.len()
            ))
        }),
        // Docker and skopeo write tags in normalised form (`docker.io/library/x:latest`), so
        // both sides are compared normalised.
        Some(ArchiveSelector::Tag(tag)) => entries
            .iter()
            .find(|e| {
                e.repo_tags
                    .as_ref()
                    .is_some_and(|tags| tags.iter().any(|t| same_tag(t, tag)))
            })
            .ok_or_else(|| {
                OciError::InvalidImage(format!(
                    "tag `{tag}` not found in {name}; tags present: {}",
                    list_or_none(&all_tags())
                ))
            }),
    }
}

fn open_docker_archive(
    reference: &ImageReference,
    path: &Path,
    selector: Option<&ArchiveSelector>,
    options: &ReadOptions,
) -> Result<Image, OciError> {
    let name = reference.to_string();
    let store = BlobStore::Archive(Arc::new(ArchiveIndex::open(path, options)?));
    if !store.contains("manifest.json") {
        return Err(OciError::InvalidImage(format!(
            "`{}` is not a docker-archive: manifest.json is missing",
            path.display()
        )));
    }
    let bytes = store.read_small("manifest.json", options.max_json_bytes)?;
    let entries: Vec<ArchiveManifestEntry> = serde_json::from_slice(&bytes)
        .map_err(|e| OciError::json(format!("manifest.json of {name}"), e))?;

    // Pick the image.
    let entry = choose_archive_entry(&entries, selector, &name)?;

    // Read the config; its file name is its digest in every format docker has written.
    let Some(config_path) = crate::fs::normalize_entry_name(&entry.config) else {
        return Err(OciError::InvalidImage(format!(
            "{name}: manifest.json names config `{}`, which is not a path inside the archive",
            entry.config
        )));
    };
    let config_bytes = store.read_small(&config_path, options.max_json_bytes)?;
    let config_digest = Digest::of(&config_bytes);
    let named_hex = config_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".json");
    if named_hex.len() == 64 && named_hex != config_digest.hex() {
        return Err(OciError::DigestMismatch {
            blob: format!("config `{config_path}`"),
            expected: format!("sha256:{named_hex}").parse()?,
            actual: config_digest,
        });
    }
    let config: ImageConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| OciError::json(format!("config `{config_path}` of {name}"), e))?;
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != entry.layers.len() {
        return Err(OciError::InvalidImage(format!(
            "{name}: manifest.json lists {} layers but the config lists {} diff_ids",
            entry.layers.len(),
            diff_ids.len()
        )));
    }

    // Describe the layers; the archive gives no stored digest, so the diff_id is what is
    // checked.
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (index, layer_path) in entry.layers.iter().enumerate() {
        let Some(location) = crate::fs::normalize_entry_name(layer_path) else {
            return Err(OciError::InvalidImage(format!(
                "{name}: manifest.json names layer `{layer_path}`, which is not a path inside the archive"
            )));
        };
        let (_, size) = store.open(&location)?;
        layers.push(LayerInfo {
            index,
            media_type: None,
            digest: None,
            size,
            diff_id: Some(diff_ids[index].clone()),
            annotations: BTreeMap::new(),
            location,
        });
    }
    Ok(Image {
        reference: reference.clone(),
        manifest_digest: None,
        manifest: None,
        subject_digest: None,
        config_digest: Some(config_digest),
        config,
        layers,
        tags: entry.repo_tags.clone().unwrap_or_default(),
        source_tags: entries
            .iter()
            .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
            .collect(),
        remote: None,
        source: Source::Blobs(store),
    })
}
