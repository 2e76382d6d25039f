//! SBOM readers: SPDX 2.2 and 2.3 JSON and CycloneDX 1.4 to 1.6 JSON, from clearbox or any other
//! tool, turned back into a [`Catalog`] so that an SBOM can be matched against advisories without
//! the image.
//!
//! Packages are rebuilt from their package URLs, because the purl is the one field every tool
//! writes the same way:
//!
//! | entry | package kind |
//! | --- | --- |
//! | `pkg:deb/…` | `Deb` |
//! | `pkg:pypi/…` | `Python` |
//! | `pkg:golang/stdlib@…` | `GoStdlib` |
//! | `pkg:golang/…` | `GoModule` |
//! | `pkg:huggingface/…`, `pkg:mlflow/…` | `Model` |
//! | any purl on a CycloneDX `machine-learning-model` | `Model` |
//! | any purl with property `clearbox:package-type` = `model` | `Model` |
//!
//! The Debian source package comes from the first of: the purl `upstream` qualifier (syft and
//! clearbox), `clearbox:source-package:*` properties, `aquasecurity:trivy:Src*` properties, SPDX
//! `sourceInfo`. When none names one, it is the binary package.
//!
//! The operating system comes from the first purl with a `distro` qualifier (`debian-12`), else
//! from a CycloneDX `operating-system` component or an SPDX `OPERATING-SYSTEM` package.
//!
//! Entries that cannot become packages are listed in [`Catalog::unknowns`], never dropped
//! silently: a purl of another type (`npm`, `rpm`, `apk`, …), no purl at all, or (CycloneDX
//! only) a purl that does not parse, whose reason names the component's `bom-ref` and purl. For such an
//! entry `Unknown::path` is the first location the SBOM gives for it, or else the entry's JSON
//! path such as `components[4]`. Entries that describe the scanned thing itself become packages
//! when their purl allows and are otherwise skipped without a note: the SPDX `DESCRIBES` target,
//! SPDX `CONTAINER` packages, `container` components, and `file` components without a purl.
//! CycloneDX `metadata.component` is not read at all.
//!
//! Fields the reader uses must have the right JSON type. A wrong type or a missing required field
//! (SPDX `SPDXID` and `name`, CycloneDX component `type` and `name`) is an error that names the
//! field. Other fields are ignored, so extensions from syft, trivy or cdxgen do not get in the way.

mod builder;
mod cyclonedx;
mod json;
mod spdx;

use clearbox_catalog::{Catalog, FileHash, Location, Purl};

use crate::{SbomError, SbomFormat};

/// `found_by` of packages read from SPDX JSON.
const SPDX_READER: &str = "spdx-json-reader";
/// `found_by` of packages read from CycloneDX JSON.
const CYCLONEDX_READER: &str = "cyclonedx-json-reader";

/// Reads an SPDX or CycloneDX JSON SBOM, detecting the format from its content.
///
/// Returns the packages sorted by kind, name, version and first location, as catalogers return
/// them, with entries that could not become packages in `unknowns`. Read packages have
/// `found_by` set to `spdx-json-reader` or `cyclonedx-json-reader` and no model facts.
pub fn read_sbom(bytes: &[u8]) -> Result<(SbomFormat, Catalog), SbomError> {
    // A UTF-8 byte order mark is not JSON, but Windows tools write one.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(SbomError::InvalidJson)?;
    let root = json::Node::root(&value);
    let serde_json::Value::Object(members) = &value else {
        return Err(SbomError::NotAnObject {
            found: json::describe(&value),
        });
    };

    if members.contains_key("spdxVersion") {
        return Ok((SbomFormat::SpdxJson, spdx::read(&root)?));
    }
    if let Some(format) = root.get("bomFormat") {
        if format.as_str()? != "CycloneDX" {
            return Err(SbomError::UnknownFormat);
        }
        return Ok((SbomFormat::CycloneDxJson, cyclonedx::read(&root)?));
    }
    if let Some(context) = root.get("@context")
        && context.as_str().is_ok_and(|c| c.contains("spdx.org/rdf/3"))
    {
        return Err(SbomError::UnsupportedVersion {
            format: "SPDX",
            version: "3 (JSON-LD)".to_owned(),
            supported: spdx::SUPPORTED,
        });
    }
    Err(SbomError::UnknownFormat)
}

/// Facts a format reader found about one SBOM entry, before the entry becomes a package.
#[derive(Debug, Default)]
struct Entry {
    /// JSON path of the entry, such as `packages[3]`.
    field: String,
    name: String,
    version: Option<String>,
    purl: Option<Purl>,
    /// Why the entry's package URL could not be used, when it has one that does not parse: the
    /// entry is then listed as unknown instead of failing the whole SBOM.
    invalid_purl: Option<String>,
    /// The format marks it as model weights: a CycloneDX `machine-learning-model`.
    is_model: bool,
    /// It describes the scanned thing itself, so failing to become a package is expected.
    is_subject: bool,
    licenses: Vec<String>,
    supplier: Option<String>,
    description: Option<String>,
    homepage: Option<String>,
    hashes: Vec<FileHash>,
    /// Name–value properties: CycloneDX `properties`, SPDX `clearbox:` annotations.
    properties: Vec<(String, String)>,
    /// CycloneDX `evidence.occurrences`.
    locations: Vec<Location>,
    /// SPDX `sourceInfo`.
    source_info: Option<String>,
}

impl Entry {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_purl(node: &json::Node<'_>) -> Result<Purl, SbomError> {
    node.as_str()?
        .parse()
        .map_err(|source| SbomError::InvalidPurl {
            field: node.path().to_owned(),
            source,
        })
}
