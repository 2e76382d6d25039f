//! Where signatures, attestations and SBOMs are stored: a registry repository or an OCI image
//! layout on disk, behind one interface, [`ArtifactStore`].
//!
//! A store is opened for one image, its *subject*: the manifest or index that an image
//! reference resolves to. Artifacts are read and written relative to that subject, under
//! cosign's tags (`sha256-<hex>.sig`, `.att`, `.sbom`) or as OCI 1.1 referrers.

mod layout;
#[cfg(test)]
pub(crate) mod memory;
mod registry;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use clearbox_oci::registry::{RegistryClient, RegistryOptions};
use clearbox_oci::spec::Descriptor;
use clearbox_oci::{Digest, Image, ImageReference, OciError};

pub use layout::LayoutStore;
pub use registry::RegistryStore;

use super::format::{ArtifactDescriptor, ArtifactKind};

/// Maximum size of a simple signing payload or DSSE envelope read into memory: 16 MiB. cosign's
/// payloads are under 1 KiB; an envelope carries a whole predicate, such as SLSA provenance or
/// an SBOM attestation of about 15,000 packages at 1 KiB of JSON each (an estimate).
pub const MAX_PAYLOAD_BYTES: u64 = 16 << 20;

/// Maximum size of an SBOM attached or read back unsigned: 64 MiB, room for an SBOM of about
/// 60,000 packages at 1 KiB of JSON each (an estimate).
pub const MAX_SBOM_BYTES: u64 = 64 << 20;

/// Maximum size of a manifest or `index.json` read from a layout: 4 MiB, the limit registries
/// apply to manifests.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// An error while reading or writing a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A registry request failed, or an image reference or registry manifest is unusable.
    #[error(transparent)]
    Oci(#[from] OciError),
    /// A file of a layout could not be read or written.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// The operation: `read`, `write`, `create`, `rename a file to`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A layout is not an OCI image layout, or its index is malformed.
    #[error("{location}: {reason}")]
    InvalidLayout {
        /// The layout, as `oci:DIR`.
        location: String,
        /// The problem.
        reason: String,
    },
    /// The image reference names no image of the layout, or more than one.
    #[error("{location}: {reason}")]
    ImageNotFound {
        /// The layout, as `oci:DIR[:TAG]`.
        location: String,
        /// The tag looked for and the tags present.
        reason: String,
    },
    /// A blob or manifest does not hash to the digest that names it.
    #[error("{what} does not match its digest: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        /// Which blob.
        what: String,
        /// The digest that names it.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },
    /// A blob is larger than the limit for what is read into memory.
    #[error("{what} is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Which blob.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A transport other than `docker://` and `oci:` was given.
    #[error(
        "`{reference}`: signatures can be stored only in a registry (`docker://`) or an OCI \
         layout (`oci:`)"
    )]
    UnsupportedTransport {
        /// The reference as given.
        reference: String,
    },
    /// A document to be updated (the referrers fallback index) is malformed.
    #[error("{what} is malformed: {reason}")]
    InvalidDocument {
        /// Which document.
        what: String,
        /// The problem.
        reason: String,
    },
}

/// The image a store is opened for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The digest of the manifest or index the reference resolved to, which signatures name.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Subject {
    /// The subject as an OCI 1.1 `subject` descriptor.
    #[must_use]
    pub fn descriptor(&self) -> ArtifactDescriptor {
        ArtifactDescriptor {
            media_type: self.media_type.clone(),
            size: self.size,
            digest: self.digest.clone(),
            annotations: BTreeMap::new(),
        }
    }
}

/// A manifest read from a store, its digest checked.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// The manifest's digest.
    pub digest: Digest,
    /// The exact bytes.
    pub bytes: Vec<u8>,
}

/// The name under which a manifest is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Under cosign's tag for the kind (`sha256-<hex>.sig` …), replacing what the tag named.
    /// In a layout the entry also gets `cosign save`'s `kind` annotation when the layout is
    /// the subject's (see [`LayoutStore`]).
    LegacyTag(ArtifactKind),
    /// As an OCI 1.1 referrer of the subject, by digest. A registry without the referrers API
    /// gets the manifest added to the fallback tag `sha256-<hex>` as well. A layout gets an
    /// untagged `index.json` entry, as `oras attach --oci-layout` adds.
    Referrer(ArtifactKind),
}

/// A manifest and the blobs it names, to be written in one step.
#[derive(Debug, Clone)]
pub struct ArtifactWrite {
    /// Blobs the manifest needs (config and new layers). Blobs already present are skipped.
    pub blobs: Vec<Vec<u8>>,
    /// The manifest JSON.
    pub manifest: Vec<u8>,
    /// The manifest's `artifactType` (or config media type), for referrer index entries.
    pub artifact_type: String,
    /// The name under which the manifest is written.
    pub placement: Placement,
}

/// The place where a manifest about the subject was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReferrerSource {
    /// The registry's referrers API (`GET /v2/<name>/referrers/<digest>`).
    ReferrersApi,
    /// The distribution specification's fallback tag `sha256-<hex>`.
    FallbackTag,
    /// A cosign tag (`sha256-<hex>.sig`, `.att`, `.sbom`), or the matching `kind` entry of a
    /// layout written by `cosign save`.
    LegacyTag(String),
    /// An entry of a layout's `index.json` whose manifest names the subject.
    LayoutIndex,
}

impl fmt::Display for ReferrerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferrerSource::ReferrersApi => f.write_str("referrers API"),
            ReferrerSource::FallbackTag => f.write_str("referrers fallback tag"),
            ReferrerSource::LegacyTag(tag) => write!(f, "tag `{tag}`"),
            ReferrerSource::LayoutIndex => f.write_str("layout index"),
        }
    }
}

/// An OCI 1.1 referrer of the subject, as listed by the referrers API, the fallback tag or a
/// layout index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundReferrer {
    /// The descriptor as listed.
    pub descriptor: Descriptor,
    /// The place it was listed.
    pub source: ReferrerSource,
}

/// A place that stores artifacts about one image: a registry repository or an OCI layout.
pub trait ArtifactStore: fmt::Debug {
    /// The store for messages: `docker://HOST/REPO` or `oci:DIR`.
    fn location(&self) -> String;

    /// The image the store was opened for.
    fn subject(&self) -> &Subject;

    /// The repository a signature claims by default (`critical.identity.docker-reference`):
    /// `HOST/REPO` for a registry, as cosign writes it; for a layout, the repository of its
    /// `org.opencontainers.image.ref.name` when that is a full reference, else `None`.
    fn default_identity(&self) -> Option<String>;

    /// Whether OCI 1.1 referrers are listed by the store itself: true for a registry that
    /// serves the referrers API, false for one that returns 404 and for layouts.
    fn has_referrers_api(&self) -> Result<bool, StoreError>;

    /// The manifest a tag names, or `None` when the tag does not exist.
    fn tagged(&self, tag: &str) -> Result<Option<StoredManifest>, StoreError>;

    /// The manifest with `digest`.
    fn manifest(&self, digest: &Digest) -> Result<StoredManifest, StoreError>;

    /// A blob of at most `max` bytes, checked against `digest`.
    fn blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError>;

    /// The OCI 1.1 referrers of the subject: from the referrers API and the fallback tag for a
    /// registry, from `index.json` for a layout.
    fn referrers(&self) -> Result<Vec<FoundReferrer>, StoreError>;

    /// Writes blobs, then the manifest, then names it. Returns the manifest's digest.
    fn write(&self, write: &ArtifactWrite) -> Result<Digest, StoreError>;
}

/// Opens the store for an image reference: `docker://` (with `options`) or `oci:DIR[:TAG]`.
pub fn open(
    reference: &ImageReference,
    options: &RegistryOptions,
) -> Result<Box<dyn ArtifactStore>, StoreError> {
    match reference {
        ImageReference::Registry(target) => {
            let client = Arc::new(RegistryClient::new(options.clone())?);
            Ok(Box::new(RegistryStore::open(client, target)?))
        }
        ImageReference::OciLayout { path, tag } => {
            Ok(Box::new(LayoutStore::open(path, tag.as_deref())?))
        }
        other => Err(StoreError::UnsupportedTransport {
            reference: other.to_string(),
        }),
    }
}

/// Opens the store for an image that [`Image::open`](clearbox_oci::Image::open) read, with the
/// subject that the reader resolved, so that the store never resolves a tag a second time.
///
/// A `docker://` image reuses the reader's client and names the subject by digest, so a tag
/// moved since the image was read does not change the subject. An `oci:` layout is opened at the
/// digest of the `index.json` entry the reader chose. Other transports cannot store artifacts.
pub fn open_for_image(image: &Image) -> Result<Box<dyn ArtifactStore>, StoreError> {
    let unsupported = || StoreError::UnsupportedTransport {
        reference: image.reference.to_string(),
    };
    match &image.reference {
        ImageReference::Registry(_) => {
            let (Some(client), Some(resolved)) =
                (image.registry_client(), image.registry_reference())
            else {
                return Err(unsupported());
            };
            Ok(Box::new(RegistryStore::open(Arc::clone(client), resolved)?))
        }
        ImageReference::OciLayout { path, tag } => {
            let Some(digest) = &image.subject_digest else {
                return Err(unsupported());
            };
            Ok(Box::new(LayoutStore::open_at(
                path,
                tag.as_deref(),
                digest,
            )?))
        }
        _ => Err(unsupported()),
    }
}

/// Opens the store for the platform manifest of an image read through an index: the manifest
/// [`Image::manifest_digest`](clearbox_oci::Image::manifest_digest) names, which signatures made
/// for the platform's digest name. `None` when the reference named that manifest itself (then
/// [`open_for_image`] opens it) or the source stores no manifest.
#[must_use]
pub fn open_for_platform(image: &Image) -> Option<Result<Box<dyn ArtifactStore>, StoreError>> {
    let digest = image.manifest_digest.as_ref()?;
    if image.subject_digest.as_ref() == Some(digest) {
        return None;
    }
    match &image.reference {
        ImageReference::Registry(_) => {
            let client = image.registry_client()?;
            let mut resolved = image.registry_reference()?.clone();
            resolved.digest = Some(digest.clone());
            Some(
                RegistryStore::open(Arc::clone(client), &resolved)
                    .map(|s| Box::new(s) as Box<dyn ArtifactStore>),
            )
        }
        ImageReference::OciLayout { path, tag } => Some(
            LayoutStore::open_manifest(path, tag.as_deref(), digest)
                .map(|s| Box::new(s) as Box<dyn ArtifactStore>),
        ),
        _ => None,
    }
}

/// Checks that `bytes` hash to `expected`.
fn check_digest(
    what: impl FnOnce() -> String,
    expected: &Digest,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let actual = Digest::of(bytes);
    if actual == *expected {
        Ok(())
    } else {
        Err(StoreError::DigestMismatch {
            what: what(),
            expected: expected.clone(),
            actual,
        })
    }
}
