//! Errors raised while resolving references and reading images.

use std::io;
use std::path::PathBuf;

use crate::Digest;
use crate::registry::RegistryError;

/// An error from resolving an image reference or reading an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The reference string is not in any supported transport syntax.
    #[error("invalid image reference `{reference}`: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The transport exists in the syntax but this build cannot read it.
    #[error(
        "image reference `{reference}` uses the {transport} transport, which this build cannot read"
    )]
    UnsupportedTransport {
        /// The reference as given.
        reference: String,
        /// The transport name.
        transport: &'static str,
    },

    /// A file or directory could not be read.
    #[error("failed to read `{}`", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A JSON document of the image (index, manifest, config) is malformed.
    #[error("invalid {what}")]
    InvalidJson {
        /// Which document, for example `image index of oci:dir`.
        what: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },

    /// The image is structurally wrong: a missing tag, a wrong media type, a missing blob.
    #[error("{0}")]
    InvalidImage(String),

    /// An OCI layout has no single image that the reference names.
    #[error("{location}: {reason}")]
    ImageNotInLayout {
        /// The reference, such as `oci:DIR:TAG`.
        location: String,
        /// The reason no single image matches.
        reason: crate::layout::LayoutChoiceError,
    },

    /// A single-platform image is not of the platform that was requested.
    #[error(
        "manifest {manifest} is a single-platform image for `{found}` (from its config), not the \
         requested `{requested}`; request `{found}` or no platform"
    )]
    PlatformMismatch {
        /// The manifest's digest.
        manifest: Digest,
        /// The platform its config names, `OS/ARCH[/VARIANT]`.
        found: String,
        /// The platform requested.
        requested: String,
    },

    /// A digest string is malformed or uses an unsupported algorithm.
    #[error("invalid digest `{digest}`: {reason}")]
    InvalidDigest {
        /// The digest as found.
        digest: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A blob's content does not hash to the digest that names it.
    #[error("digest mismatch for {blob}: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        /// Which blob, for example `layer 2 (compressed blob)`.
        blob: String,
        /// The digest that names the blob.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },

    /// A blob's length differs from the size its descriptor declares.
    #[error("size mismatch for {blob}: descriptor declares {expected} bytes, read {actual}")]
    SizeMismatch {
        /// Which blob.
        blob: String,
        /// The declared size.
        expected: u64,
        /// The number of bytes read.
        actual: u64,
    },

    /// An image archive (oci-archive, docker-archive) could not be read as a tar file.
    #[error("archive `{}`: {reason}", path.display())]
    Archive {
        /// The archive file.
        path: PathBuf,
        /// What went wrong.
        reason: LayerProblem,
    },

    /// A layer could not be read as a tar stream.
    #[error("layer {layer}: {reason}")]
    Layer {
        /// The layer's digest, or `rootfs` for a `dir:` image.
        layer: String,
        /// What went wrong.
        reason: LayerProblem,
    },

    /// The CA file given for registries cannot be used.
    #[error("invalid CA file `{}`: {reason}", path.display())]
    InvalidCaFile {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The HTTP client for registries could not be set up.
    #[error(
        "failed to set up the registry client: {reason}; if the system has no CA \
         certificates, install them (Debian: `ca-certificates`) or pass `--ca-file`"
    )]
    ClientSetup {
        /// The TLS library's error.
        reason: String,
    },

    /// A registry request failed.
    #[error(transparent)]
    Registry(Box<RegistryError>),
}

/// Why a layer was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerProblem {
    /// An entry name leaves the root with `..`.
    #[error("entry `{path}` escapes the image root")]
    PathEscapesRoot {
        /// The entry name as stored in the layer.
        path: String,
    },

    /// A hard link names a file that neither this layer nor a lower one holds.
    #[error(
        "hard link `{path}` points to `{target}`, which no earlier entry or lower layer contains"
    )]
    HardLinkTargetMissing {
        /// The hard link's own name.
        path: String,
        /// The name it links to.
        target: String,
    },

    /// A hard link's target leaves the root with `..`.
    #[error("hard link `{path}` points to `{target}`, which escapes the image root")]
    HardLinkEscapesRoot {
        /// The hard link's own name.
        path: String,
        /// The name it links to.
        target: String,
    },

    /// A hard link names a directory or another non-regular file.
    #[error("hard link `{path}` points to `{target}`, which is not a regular file")]
    HardLinkTargetNotFile {
        /// The hard link's own name.
        path: String,
        /// The name it links to.
        target: String,
    },

    /// The stream ended inside an entry or a header.
    #[error("unexpected end of data in {0}")]
    Truncated(String),

    /// A 512-byte header block is not a valid tar header.
    #[error("invalid tar header at byte offset {offset}: {reason}")]
    InvalidHeader {
        /// Offset of the header in the uncompressed stream.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },

    /// An entry name or link target is longer than the limit.
    #[error("entry name of {len} bytes exceeds the limit of {limit} bytes")]
    NameTooLong {
        /// Length of the name.
        len: usize,
        /// The configured limit.
        limit: usize,
    },

    /// A long-name or PAX extension header is larger than the limit.
    #[error("extension header of {size} bytes exceeds the limit of {limit} bytes")]
    ExtensionTooLarge {
        /// Declared size of the extension header.
        size: u64,
        /// The configured limit.
        limit: u64,
    },

    /// The decompressed layer grew past the configured expansion ratio.
    #[error(
        "decompressed data grew past {ratio} times the {compressed} compressed bytes read so far \
         (a decompression bomb?); raise --max-layer-ratio if the layer is genuine"
    )]
    ExpansionRatioExceeded {
        /// The configured ratio.
        ratio: u64,
        /// Compressed bytes read when the limit was hit.
        compressed: u64,
    },

    /// The decompressed layer is larger than the configured absolute limit.
    #[error("decompressed size exceeds the limit of {limit} bytes")]
    SizeLimitExceeded {
        /// The configured limit.
        limit: u64,
    },

    /// The image has more filesystem entries than the configured limit.
    #[error("more than {limit} filesystem entries")]
    TooManyEntries {
        /// The configured limit.
        limit: usize,
    },

    /// The compressed stream is corrupt.
    #[error("corrupt {compression} stream")]
    Decompress {
        /// `gzip` or `zstd`.
        compression: &'static str,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },

    /// Reading the blob failed for another reason.
    #[error("read failed")]
    Io(#[source] io::Error),
}

impl OciError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        OciError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        OciError::InvalidJson {
            what: what.into(),
            source,
        }
    }
}
