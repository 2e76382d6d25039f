//! Reproducible image builds: a YAML [`BuildSpec`] in, an OCI image out, with the same digest
//! for the same inputs on any machine with the same clearbox version.
//!
//! [`build`] reads every layer's sources into a tree keyed by path, applies the hardened
//! defaults, writes each layer as a gzip tar (see `layer.rs` for what makes the bytes stable),
//! then the config and manifest, into an OCI layout in a temporary directory. [`BuiltImage::write`]
//! copies that layout to the output transport.
//!
//! What decides the digest: the sources' bytes, permission bits, numeric owners (tar sources)
//! and mtimes up to the source date, and the spec. What does not: the order in which the build
//! machine lists directories, the build machine's users and groups, atime, ctime, extended
//! attributes, mtimes after the source date, and the umask when the spec's `files` modes or
//! `modes: normalize` set the bits.
//!
//! # Supported
//! - Bases: `scratch`, or an image pinned by digest (its layers are copied as stored).
//! - Layer sources: tar files (plain, gzip, zstd), Debian packages (`.deb` with gzip, xz, zstd
//!   or plain members), directories, single files, files concatenated from several sources,
//!   directories and symlinks.
//! - Outputs: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG]`,
//!   `docker://REGISTRY/REPO[:TAG]`.
//!
//! # Not yet
//! - Whiteouts: a layer cannot delete a file of a lower layer.
//! - The shell check sees only the built layers, not the base image's.
//!
//! # Never
//! - Running commands (`RUN`): what a command does depends on the machine, so its output
//!   cannot be reproduced from the spec alone.

mod compare;
mod deb;
mod error;
mod layer;
mod output;
mod provenance;
mod sources;
mod spec;
mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tracing::{debug, info};

use crate::digest::Digest;
use crate::image::Image;
use crate::options::ReadOptions;
use crate::spec::{
    ANNOTATION_REF_NAME, ContainerConfig, Descriptor, History, ImageConfig, ImageIndex,
    ImageManifest, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST, RootFs,
};

pub use compare::{Comparison, EntryDifference, LayerDifference, compare};
pub use deb::DebPackage;
pub use error::BuildError;
pub use output::WrittenImage;
pub use provenance::{BUILD_TYPE, provenance_predicate};
pub use spec::{
    Base, BuildSpec, ConfigSpec, DEFAULT_USER, DirectorySpec, FileKind, FileSpec, Hardening,
    LayerSpec, ModePolicy, Owner,
};
pub use tree::HardeningReport;

/// Media type of the config blob.
const MEDIA_TYPE_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The annotations that name the base image (OCI image spec, pre-defined annotation keys).
const BASE_NAME_ANNOTATION: &str = "org.opencontainers.image.base.name";
const BASE_DIGEST_ANNOTATION: &str = "org.opencontainers.image.base.digest";
/// The tag of the image in the staging layout.
pub const STAGING_TAG: &str = "latest";

/// One input file of the build, for the provenance's `resolvedDependencies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInput {
    /// What it is: `deb`, `tarball`, `file` or `directory`.
    pub kind: &'static str,
    /// The path as the spec resolves it.
    pub path: PathBuf,
    /// The digest of the file for `deb`, `tarball` and `file`, and of the layer's uncompressed tar
    /// (its `diff_id`) for `directory`, which has no single file to hash.
    pub digest: Digest,
}

/// One layer of the built image.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    /// Digest of the stored blob.
    pub digest: Digest,
    /// Size of the stored blob.
    pub size: u64,
    /// Digest of the uncompressed tar.
    pub diff_id: Digest,
    /// Media type of the blob.
    pub media_type: String,
    /// True for layers copied from the base image.
    pub from_base: bool,
    /// The history entry's `created_by`.
    pub created_by: String,
}

/// A built image, staged as an OCI layout in a temporary directory until it is written.
#[derive(Debug)]
pub struct BuiltImage {
    staging: tempfile::TempDir,
    /// Digest of the manifest.
    pub manifest_digest: Digest,
    /// The manifest bytes.
    pub manifest: Vec<u8>,
    /// Digest of the config.
    pub config_digest: Digest,
    /// Layers, base first.
    pub layers: Vec<BuiltLayer>,
    /// The Debian packages unpacked, in spec order.
    pub packages: Vec<DebPackage>,
    /// The input files, in spec order.
    pub inputs: Vec<BuildInput>,
    /// The base image and its digest, unless the base is `scratch`.
    pub base: Option<(String, Digest)>,
    /// What the hardened defaults changed or kept.
    pub hardening: HardeningReport,
    /// One line for each hardened default the spec overrides.
    pub overrides: Vec<String>,
    /// The source date used, in seconds since the Unix epoch.
    pub source_date_epoch: u64,
}

impl BuiltImage {
    /// The staging OCI layout, whose `index.json` names the image with the tag
    /// [`STAGING_TAG`].
    #[must_use]
    pub fn layout(&self) -> &Path {
        self.staging.path()
    }
}

/// Builds the image a spec describes. `source_date_epoch` is used when the spec sets none, and
/// `options` reads the base image.
pub fn build(
    spec: &BuildSpec,
    source_date_epoch: Option<u64>,
    options: &ReadOptions,
) -> Result<BuiltImage, BuildError> {
    let source_date = spec
        .source_date_epoch
        .or(source_date_epoch)
        .ok_or(BuildError::MissingSourceDate)?;
    let staging = tempfile::Builder::new()
        .prefix("clearbox-build-")
        .tempdir()
        .map_err(|e| BuildError::write(std::env::temp_dir(), e))?;
    let blobs = staging.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| BuildError::write(&blobs, e))?;

    // 1. The base image's layers and config, copied as stored.
    let (base_config, mut layers, base) = match &spec.base {
        Base::Scratch => (ImageConfig::default(), Vec::new(), None),
        Base::Image { reference, digest } => {
            let (config, layers) = copy_base(reference, digest, options, &blobs)?;
            (
                config,
                layers,
                Some((reference.to_string(), digest.clone())),
            )
        }
    };
    let mut history = base_config.history.clone();

    // 2. The spec's layers.
    let created = rfc3339(source_date);
    let mut packages = Vec::new();
    let mut inputs = Vec::new();
    let mut hardening = HardeningReport::default();
    for (index, layer_spec) in spec.layers.iter().enumerate() {
        let mut tree = tree::LayerTree::default();
        let first_built = index == 0 && base.is_none();
        let description = fill_tree(
            &mut tree,
            layer_spec,
            first_built,
            &mut packages,
            &mut inputs,
        )?;
        hardening.absorb(tree.harden(&spec.hardening)?);
        let written = layer::write_layer(&tree, source_date, &blobs)?;
        if let Some(dir) = &layer_spec.directory {
            inputs.push(BuildInput {
                kind: "directory",
                path: dir.path.clone(),
                digest: written.diff_id.clone(),
            });
        }
        info!(layer = index, entries = tree.len(), digest = %written.digest, "layer written");
        let created_by = layer_spec.created_by.clone().unwrap_or(description);
        history.push(History {
            created: Some(created.clone()),
            created_by: Some(created_by.clone()),
            comment: layer_spec.comment.clone(),
            empty_layer: false,
        });
        layers.push(BuiltLayer {
            digest: written.digest,
            size: written.size,
            diff_id: written.diff_id,
            media_type: layer::MEDIA_TYPE_LAYER_GZIP.to_owned(),
            from_base: false,
            created_by,
        });
    }

    // 3. The config, the manifest and the staging index.
    let overrides = overrides(spec, &hardening);
    let config = image_config(spec, base_config, &layers, history, created);
    let config_bytes = serde_json::to_vec(&config).map_err(json_error)?;
    let config_digest = write_blob(&blobs, &config_bytes)?;
    let manifest = image_manifest(
        spec,
        &layers,
        &config_digest,
        config_bytes.len(),
        base.as_ref(),
    );
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(json_error)?;
    let manifest_digest = write_blob(&blobs, &manifest_bytes)?;
    output::write_layout_files(
        staging.path(),
        &manifest_descriptor(&manifest_digest, manifest_bytes.len(), STAGING_TAG),
    )?;
    debug!(digest = %manifest_digest, "image staged");
    Ok(BuiltImage {
        staging,
        manifest_digest,
        manifest: manifest_bytes,
        config_digest,
        layers,
        packages,
        inputs,
        base,
        hardening,
        overrides,
        source_date_epoch: source_date,
    })
}

/// Reads one layer's sources into `tree` and returns a default `created_by` for them.
fn fill_tree(
    tree: &mut tree::LayerTree,
    layer_spec: &LayerSpec,
    first_built: bool,
    packages: &mut Vec<DebPackage>,
    inputs: &mut Vec<BuildInput>,
) -> Result<String, BuildError> {
    let mut parts = Vec::new();
    if first_built {
        // `/tmp` is the one world-writable directory the image declares.
        tree.insert(
            "tmp",
            tree::Entry {
                data: tree::EntryData::Directory,
                mode: 0o1777,
                uid: 0,
                gid: 0,
                mtime: tree::NO_TIME,
            },
            Path::new("/tmp"),
        )?;
    }
    if let Some(tarball) = &layer_spec.tarball {
        tree.begin_source();
        sources::add_tarball(tree, tarball)?;
        inputs.push(file_input("tarball", tarball)?);
        parts.push(format!("tarball {}", file_name(tarball)));
    }
    for deb in &layer_spec.debs {
        tree.begin_source();
        let package = deb::add_deb(tree, deb)?;
        inputs.push(BuildInput {
            kind: "deb",
            path: deb.clone(),
            digest: format!("sha256:{}", package.sha256)
                .parse()
                .map_err(BuildError::Oci)?,
        });
        packages.push(package);
    }
    if !layer_spec.debs.is_empty() {
        parts.push(format!("{} Debian packages", layer_spec.debs.len()));
    }
    if let Some(dir) = &layer_spec.directory {
        tree.begin_source();
        sources::add_directory(tree, dir)?;
        parts.push(format!("directory {}", file_name(&dir.path)));
    }
    tree.begin_source();
    for file in &layer_spec.files {
        sources::add_file(tree, file)?;
        match &file.kind {
            FileKind::Source(path) => inputs.push(file_input("file", path)?),
            FileKind::Sources(paths) => {
                for path in paths {
                    inputs.push(file_input("file", path)?);
                }
            }
            FileKind::Content(_) | FileKind::Directory | FileKind::Symlink(_) => {}
        }
    }
    if !layer_spec.files.is_empty() {
        parts.push(format!("{} files", layer_spec.files.len()));
    }
    Ok(format!("clearbox build: {}", parts.join(", ")))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn file_input(kind: &'static str, path: &Path) -> Result<BuildInput, BuildError> {
    let (file, _) = crate::file::open_regular_file(path).map_err(|e| BuildError::read(path, e))?;
    let mut reader = crate::digest::HashingReader::new(file);
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| BuildError::read(path, e))?;
    let (digest, _, _) = reader.finish().map_err(|e| BuildError::read(path, e))?;
    Ok(BuildInput {
        kind,
        path: path.to_owned(),
        digest,
    })
}

/// Opens the base image, checks its digest and copies its layer blobs into `blobs`.
fn copy_base(
    reference: &crate::ImageReference,
    pinned: &Digest,
    options: &ReadOptions,
    blobs: &Path,
) -> Result<(ImageConfig, Vec<BuiltLayer>), BuildError> {
    let image = Image::open(reference, options)?;
    let Some(actual) = image
        .subject_digest
        .clone()
        .or_else(|| image.manifest_digest.clone())
    else {
        return Err(BuildError::Oci(crate::OciError::InvalidImage(format!(
            "the base image `{reference}` has no manifest digest"
        ))));
    };
    if actual != *pinned {
        return Err(BuildError::BaseDigestMismatch {
            reference: reference.to_string(),
            expected: pinned.clone(),
            actual,
        });
    }
    // Spec parsing admits only layouts, OCI archives and registries, whose blobs are stored.
    let crate::image::Source::Blobs(store) = &image.source else {
        return Err(BuildError::Oci(crate::OciError::InvalidImage(format!(
            "the base image `{reference}` has no stored layers"
        ))));
    };
    let mut layers = Vec::new();
    for (layer, history) in image
        .layers
        .iter()
        .zip(layer_history(&image.config.history))
    {
        let (Some(digest), Some(diff_id)) = (&layer.digest, &layer.diff_id) else {
            return Err(BuildError::Oci(crate::OciError::InvalidImage(format!(
                "a layer of the base image `{reference}` has no digest or diff_id"
            ))));
        };
        let (mut reader, size) = store.open(&layer.location)?;
        let target = blobs.join(digest.hex());
        let mut file = std::fs::File::create(&target).map_err(|e| BuildError::write(&target, e))?;
        let mut hashing = crate::digest::HashingReader::new(&mut reader);
        std::io::copy(&mut hashing, &mut file)
            .map_err(|e| BuildError::read(reference.to_string(), e))?;
        let (copied, count, _) = hashing
            .finish()
            .map_err(|e| BuildError::read(reference.to_string(), e))?;
        if copied != *digest || count != size {
            return Err(BuildError::Oci(crate::OciError::DigestMismatch {
                blob: format!("layer of base image `{reference}`"),
                expected: digest.clone(),
                actual: copied,
            }));
        }
        layers.push(BuiltLayer {
            digest: digest.clone(),
            size,
            diff_id: diff_id.clone(),
            media_type: oci_layer_media_type(layer.media_type.as_deref()),
            from_base: true,
            created_by: history,
        });
    }
    Ok((image.config, layers))
}

/// The `created_by` of each non-empty history entry, in layer order.
fn layer_history(history: &[History]) -> impl Iterator<Item = String> + '_ {
    history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.clone().unwrap_or_default())
        .chain(std::iter::repeat(String::new()))
}

/// Docker's layer media types mapped to the OCI types of the same bytes.
fn oci_layer_media_type(media_type: Option<&str>) -> String {
    match media_type {
        Some("application/vnd.docker.image.rootfs.diff.tar.gzip") | None => {
            layer::MEDIA_TYPE_LAYER_GZIP.to_owned()
        }
        Some("application/vnd.docker.image.rootfs.diff.tar") => {
            "application/vnd.oci.image.layer.v1.tar".to_owned()
        }
        Some(other) => other.to_owned(),
    }
}

fn image_config(
    spec: &BuildSpec,
    base: ImageConfig,
    layers: &[BuiltLayer],
    history: Vec<History>,
    created: String,
) -> ImageConfig {
    let mut config: ContainerConfig = base.config;
    config.user = Some(
        spec.config
            .user
            .clone()
            .unwrap_or_else(|| DEFAULT_USER.to_owned()),
    );
    if let Some(entrypoint) = &spec.config.entrypoint {
        config.entrypoint = Some(entrypoint.clone());
    }
    if let Some(cmd) = &spec.config.cmd {
        config.cmd = Some(cmd.clone());
    }
    if let Some(workdir) = &spec.config.workdir {
        config.working_dir = Some(workdir.clone());
    }
    if !spec.config.env.is_empty() {
        let mut env = config.env.take().unwrap_or_default();
        for entry in &spec.config.env {
            let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
            env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
            env.push(entry.clone());
        }
        config.env = Some(env);
    }
    if !spec.config.labels.is_empty() {
        let mut labels = config.labels.take().unwrap_or_default();
        labels.extend(spec.config.labels.clone());
        config.labels = Some(labels);
    }
    ImageConfig {
        created: Some(created),
        author: None,
        architecture: spec.platform.architecture.clone(),
        os: spec.platform.os.clone(),
        variant: spec.platform.variant.clone(),
        config,
        rootfs: RootFs {
            kind: "layers".to_owned(),
            diff_ids: layers.iter().map(|l| l.diff_id.clone()).collect(),
        },
        history,
    }
}

fn image_manifest(
    spec: &BuildSpec,
    layers: &[BuiltLayer],
    config_digest: &Digest,
    config_size: usize,
    base: Option<&(String, Digest)>,
) -> ImageManifest {
    let mut annotations = spec.annotations.clone();
    if let Some((name, digest)) = base {
        annotations
            .entry(BASE_NAME_ANNOTATION.to_owned())
            .or_insert_with(|| name.clone());
        annotations
            .entry(BASE_DIGEST_ANNOTATION.to_owned())
            .or_insert_with(|| digest.to_string());
    }
    ImageManifest {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_OCI_MANIFEST.to_owned()),
        config: descriptor(
            MEDIA_TYPE_OCI_CONFIG,
            config_digest.clone(),
            config_size as u64,
        ),
        layers: layers
            .iter()
            .map(|l| descriptor(&l.media_type, l.digest.clone(), l.size))
            .collect(),
        subject: None,
        annotations,
    }
}

fn descriptor(media_type: &str, digest: Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_owned(),
        digest,
        size,
        annotations: BTreeMap::new(),
        platform: None,
        artifact_type: None,
    }
}

/// The index entry of the manifest, tagged `tag`.
pub(crate) fn manifest_descriptor(digest: &Digest, size: usize, tag: &str) -> Descriptor {
    let mut entry = descriptor(MEDIA_TYPE_OCI_MANIFEST, digest.clone(), size as u64);
    entry
        .annotations
        .insert(ANNOTATION_REF_NAME.to_owned(), tag.to_owned());
    entry
}

/// An index with one entry, for layouts and archives.
pub(crate) fn single_index(entry: Descriptor) -> ImageIndex {
    ImageIndex {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_OCI_INDEX.to_owned()),
        manifests: vec![entry],
        annotations: BTreeMap::new(),
    }
}

fn write_blob(blobs: &Path, bytes: &[u8]) -> Result<Digest, BuildError> {
    let digest = Digest::of(bytes);
    let path = blobs.join(digest.hex());
    std::fs::write(&path, bytes).map_err(|e| BuildError::write(&path, e))?;
    Ok(digest)
}

fn json_error(e: serde_json::Error) -> BuildError {
    BuildError::write("image JSON", std::io::Error::other(e))
}

/// The hardened defaults the spec overrides, one line each.
fn overrides(spec: &BuildSpec, report: &HardeningReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(user) = &spec.config.user {
        let name = user.split(':').next().unwrap_or_default();
        if name.is_empty() || name == "0" || name == "root" {
            lines.push(format!(
                "config.user `{user}` runs the image as root instead of {DEFAULT_USER}"
            ));
        } else if user != DEFAULT_USER {
            lines.push(format!("config.user `{user}` replaces {DEFAULT_USER}"));
        }
    }
    if spec.hardening.allow_shell {
        lines.push(format!(
            "hardening.allow_shell keeps shells: {}",
            list_or_none(&report.shells_kept)
        ));
    }
    if spec.hardening.keep_setuid {
        lines.push(format!(
            "hardening.keep_setuid keeps setuid and setgid bits: {}",
            list_or_none(&report.setuid_kept)
        ));
    }
    if !spec.hardening.writable.is_empty() {
        lines.push(format!(
            "hardening.writable declares world-writable paths besides /tmp: {}",
            spec.hardening.writable.join(", ")
        ));
    }
    lines
}

fn list_or_none(paths: &[String]) -> String {
    if paths.is_empty() {
        "none found".to_owned()
    } else {
        paths.join(", ")
    }
}

/// Formats seconds since the Unix epoch as RFC 3339 in UTC with whole seconds.
fn rfc3339(seconds: u64) -> String {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
