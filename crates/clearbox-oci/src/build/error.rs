//! Errors of an image build.

use std::path::PathBuf;

use crate::error::{LayerProblem, OciError};

/// An error while building an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The spec file is invalid.
    #[error("invalid build spec `{}`: {reason}", path.display())]
    Spec {
        /// The spec file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An input file could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("failed to write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A `.deb` file is not a Debian binary package clearbox can unpack.
    #[error("`{}` is not a Debian package that can be unpacked: {reason}", path.display())]
    InvalidDeb {
        /// The package file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tar input (a tarball or a package's data member) is malformed.
    #[error("failed to read the tar archive `{}`", path.display())]
    InvalidTar {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: LayerProblem,
    },
    /// A source contains an entry that a layer cannot carry.
    #[error("`{}` cannot go into a layer: {reason}", path.display())]
    Unsupported {
        /// The source path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The output path holds something a build must not replace.
    #[error("`{}` cannot take the build output: {reason}", path.display())]
    Output {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A hardened default would be broken and the spec does not relax it.
    #[error("{0}")]
    Hardening(String),
    /// The base image or the output could not be read or written.
    #[error(transparent)]
    Oci(#[from] OciError),
    /// The base image is not the one the spec pins.
    #[error("the base image `{reference}` resolved to {actual}, but the spec pins {expected}")]
    BaseDigestMismatch {
        /// The reference.
        reference: String,
        /// The pinned digest.
        expected: crate::Digest,
        /// The digest found.
        actual: crate::Digest,
    },
    /// The output reference is not one a build can write.
    #[error(
        "`{reference}` cannot be a build output; write to oci:DIR[:TAG], oci-archive:FILE, \
         docker-archive:FILE[:NAME:TAG] or docker://REGISTRY/REPO[:TAG]"
    )]
    UnsupportedOutput {
        /// The reference as given.
        reference: String,
    },
    /// No `SOURCE_DATE_EPOCH` was given.
    #[error(
        "no source date: set `source_date_epoch` in the spec or the SOURCE_DATE_EPOCH \
         environment variable (seconds since the Unix epoch), which fixes the image's creation \
         time and clamps file times"
    )]
    MissingSourceDate,
}

impl BuildError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> BuildError {
        BuildError::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> BuildError {
        BuildError::Write {
            path: path.into(),
            source,
        }
    }
}
