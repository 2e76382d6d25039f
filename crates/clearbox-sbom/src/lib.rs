//! Software bills of materials: SPDX 2.3 and CycloneDX 1.6 JSON encoders, a package table for
//! people, and readers that turn SBOMs written by any tool back into a [`Catalog`].
//!
//! # Supported
//! - Writing SPDX 2.3 JSON ([`to_spdx_json`]) and CycloneDX 1.6 JSON ([`to_cyclonedx_json`]) that
//!   pass `pyspdxtools` 0.8.5 and the CycloneDX 1.6 strict JSON schema. Output is deterministic:
//!   no clock, no random numbers, package order as in the catalog, maps sorted.
//! - Model weights as CycloneDX `machine-learning-model` components with a `modelCard`, and as
//!   SPDX packages whose facts sit in the comment and in annotations.
//! - Reading SPDX 2.2 and 2.3 JSON and CycloneDX 1.4, 1.5 and 1.6 JSON ([`read_sbom`]) from
//!   clearbox, syft, trivy or cdxgen. Packages are rebuilt from their package URLs: `deb`, `pypi`
//!   and `golang`, and model weights.
//!
//! # Not yet
//! - SPDX tag-value, RDF and YAML; CycloneDX XML; SPDX 3.0 JSON-LD (the reader rejects it).
//! - Reading packages of other purl types (`npm`, `rpm`, `apk`, `maven`, …). The reader lists
//!   each one in [`Catalog::unknowns`] instead of dropping it silently.
//! - Rebuilding [`ModelFacts`](clearbox_catalog::ModelFacts) from an SBOM: read models have
//!   `model: None`.
//!
//! # Never
//! - Licence texts. Licences are names and SPDX expressions as the packages declare them; the
//!   SPDX `extractedText` of a non-SPDX licence says so instead of inventing a text.
//! - Concluded licences. `licenseConcluded` is always `NOASSERTION`, because clearbox does not
//!   analyse file contents for licences.

#![forbid(unsafe_code)]

use std::fmt::Write as _;

mod checksum;
mod cyclonedx;
mod error;
mod ids;
mod license;
mod properties;
mod read;
mod spdx;
mod supplier;
mod table;

pub use cyclonedx::to_cyclonedx_json;
pub use error::SbomError;
pub use read::read_sbom;
pub use spdx::to_spdx_json;
pub use table::to_table;

#[cfg(doc)]
use clearbox_catalog::Catalog;

/// The image an SBOM describes, and how the SBOM was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// Image reference as the user gave it, such as `oci:target/example-image:latest`.
    pub reference: String,
    /// Short name, such as `clearbox-example-ai`: the SPDX document and image package name and
    /// the CycloneDX metadata component name.
    pub name: String,
    /// Manifest digest, `sha256:<hex>`, when the image has a manifest. Becomes the image's
    /// version and, as `pkg:oci/<name>@sha256%3A<hex>`, its package URL.
    pub manifest_digest: Option<String>,
    /// Config digest, `sha256:<hex>`.
    pub config_digest: Option<String>,
    /// When the SBOM was made: RFC 3339 in UTC with whole seconds, `YYYY-MM-DDThh:mm:ssZ`.
    /// Written as given, since SPDX requires exactly this form; the encoders read no clock.
    pub created: String,
    /// clearbox version, written as the creating tool's version.
    pub tool_version: String,
}

/// An SBOM format the reader recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// SPDX 2.2 or 2.3 JSON.
    SpdxJson,
    /// CycloneDX 1.4, 1.5 or 1.6 JSON.
    CycloneDxJson,
}

impl SbomFormat {
    /// Returns the format's name for messages: `SPDX JSON` or `CycloneDX JSON`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SbomFormat::SpdxJson => "SPDX JSON",
            SbomFormat::CycloneDxJson => "CycloneDX JSON",
        }
    }
}

impl std::fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Serialises `value` as pretty JSON with two-space indentation and a final newline.
fn to_pretty_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // The document types hold only strings, booleans, integers, vectors and structs with
    // string keys, which serde_json always serialises.
    let mut out = serde_json::to_vec_pretty(value).expect("SBOM documents serialise to JSON");
    out.push(b'\n');
    out
}

/// Returns the name the SBOM gives the image: [`Subject::name`], else the reference, else `image`.
fn image_name(subject: &Subject) -> String {
    [&subject.name, &subject.reference]
        .into_iter()
        .find(|s| !s.trim().is_empty())
        .map_or_else(|| "image".to_owned(), |s| s.trim().to_owned())
}

/// Builds the image's package URL, `pkg:oci/<name>@sha256%3A<hex>`, when the manifest digest is
/// known.
///
/// The purl `oci` type takes the last segment of the repository name, lowercased, as the name,
/// and the manifest digest as the version, with `:` percent-encoded as in the type's examples.
/// Specification: <https://github.com/package-url/purl-spec/blob/main/PURL-TYPES.rst#oci>.
fn image_purl(subject: &Subject) -> Option<String> {
    let digest = subject.manifest_digest.as_deref()?;
    let name = image_name(subject);
    let name = name.rsplit('/').next().unwrap_or(&name).to_lowercase();
    Some(format!(
        "pkg:oci/{}@{}",
        percent_encode(&name),
        percent_encode(digest)
    ))
}

/// Percent-encodes every byte outside the purl unreserved set `[A-Za-z0-9.-_~]`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Returns whether `url` is an `http` or `https` URL with a host, the only homepages written. pyspdxtools
/// rejects anything that does not look like a web address, and Debian `Homepage` fields are
/// free text.
fn is_web_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        host.contains('.') && !url.chars().any(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_purl_encodes_digest() {
        let subject = Subject {
            name: "library/Debian".into(),
            manifest_digest: Some("sha256:abc".into()),
            ..Subject::default()
        };
        assert_eq!(image_purl(&subject).unwrap(), "pkg:oci/debian@sha256%3Aabc");
    }

    #[test]
    fn web_urls() {
        assert!(is_web_url("https://www.gnu.org/software/libc/"));
        assert!(is_web_url("http://example.org"));
        assert!(!is_web_url("www.example.org"));
        assert!(!is_web_url("https://localhost/"));
        assert!(!is_web_url("https://example.org/a b"));
    }

    #[test]
    fn image_name_falls_back() {
        let mut subject = Subject {
            reference: "oci:dir:tag".into(),
            ..Subject::default()
        };
        assert_eq!(image_name(&subject), "oci:dir:tag");
        subject.reference.clear();
        assert_eq!(image_name(&subject), "image");
    }
}
