//! Errors from reading an SBOM.

use clearbox_catalog::PurlError;

/// An error from reading an SBOM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// The input is not JSON.
    #[error("SBOM is not valid JSON")]
    InvalidJson(#[source] serde_json::Error),

    /// The input is JSON but not an object.
    #[error("SBOM is not a JSON object but {found}")]
    NotAnObject {
        /// The JSON type of the top-level value, such as `an array`.
        found: &'static str,
    },

    /// The object is neither SPDX nor CycloneDX.
    #[error(
        "unrecognised SBOM format: expected SPDX JSON with `spdxVersion` or CycloneDX JSON with `bomFormat` set to `CycloneDX`"
    )]
    UnknownFormat,

    /// The format is recognised but its version is not supported.
    #[error("unsupported {format} version `{version}`: supported versions are {supported}")]
    UnsupportedVersion {
        /// `SPDX` or `CycloneDX`.
        format: &'static str,
        /// The version the document declares.
        version: String,
        /// The versions the reader supports.
        supported: &'static str,
    },

    /// A field the reader needs is missing or has the wrong type.
    #[error("invalid SBOM field `{field}`: {reason}")]
    InvalidField {
        /// Path of the field, such as `packages[3].externalRefs[0].referenceLocator`.
        field: String,
        /// The problem, such as `expected a string, found a number`.
        reason: String,
    },

    /// A package URL does not parse.
    #[error("invalid SBOM field `{field}`")]
    InvalidPurl {
        /// Path of the field holding the purl.
        field: String,
        /// The reason the purl does not parse.
        #[source]
        source: PurlError,
    },
}
