//! SPDX 2.3 JSON encoder.
//!
//! The document describes the image as a package (`primaryPackagePurpose` `CONTAINER`) that
//! `CONTAINS` the operating system, when the catalog names one, and every catalogued package.
//! Each package carries its purl as a `PACKAGE-MANAGER` external reference, its declared licences
//! as an SPDX expression, its digests as checksums, a comment for people and one annotation per
//! [`properties`](crate::properties) entry for programs. Licences that are not SPDX identifiers
//! become `LicenseRef-` identifiers defined in `hasExtractedLicensingInfos`.
//!
//! Not written: files (`filesAnalyzed` is false), `licenseConcluded` (always `NOASSERTION`),
//! download locations (`NOASSERTION`: the image is where the package was found, not where it
//! came from) and copyright texts.
//!
//! Specification: <https://spdx.github.io/spdx-spec/v2.3/>.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use clearbox_catalog::{Catalog, Distro, ModelFacts, Package, PackageKind};
use serde::Serialize;

use crate::checksum;
use crate::ids::{self, PackageIds};
use crate::license::{License, license_ref_stem};
use crate::properties;
use crate::supplier::Supplier;
use crate::{Subject, image_name, image_purl, is_web_url, to_pretty_json};

const NOASSERTION: &str = "NOASSERTION";

#[allow(
    clippy::struct_field_names,
    reason = "field names mirror the SPDX JSON member names"
)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[allow(
    clippy::struct_field_names,
    reason = "field names mirror the SPDX JSON member names"
)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[allow(
    clippy::struct_field_names,
    reason = "field names mirror the SPDX JSON member names"
)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
    comment: String,
}

#[allow(
    clippy::struct_field_names,
    reason = "field names mirror the SPDX JSON member names"
)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// Encodes the catalog as an SPDX 2.3 JSON document: pretty-printed, ending in a newline, the
/// same bytes for the same subject and catalog.
#[must_use]
pub fn to_spdx_json(subject: &Subject, catalog: &Catalog) -> Vec<u8> {
    to_pretty_json(&build_document(subject, catalog))
}

fn build_document(subject: &Subject, catalog: &Catalog) -> Document {
    let name = image_name(subject);
    let uuid = ids::document_uuid("SPDX-2.3", subject, catalog);
    let tool = format!("Tool: clearbox-{}", subject.tool_version);
    let encoder = Encoder {
        subject,
        annotator: tool.clone(),
        license_refs: LicenseRefs::new(&catalog.packages),
    };

    // The image first, then the operating system, then the packages in catalog order.
    let image = encoder.image_package();
    let image_id = image.spdx_id.clone();
    let mut packages = vec![image];
    if let Some(distro) = &catalog.distro {
        packages.push(encoder.distro_package(distro));
    }
    let package_ids = ids::package_ids(&catalog.packages);
    for (package, ids) in catalog.packages.iter().zip(&package_ids) {
        packages.push(encoder.package(package, ids));
    }

    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: image_id.clone(),
    }];
    relationships.extend(packages[1..].iter().map(|p| Relationship {
        spdx_element_id: image_id.clone(),
        relationship_type: "CONTAINS",
        related_spdx_element: p.spdx_id.clone(),
    }));

    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        document_namespace: format!(
            "https://spdx.org/spdxdocs/{}-{uuid}",
            ids::sanitize_id(&name)
        ),
        name,
        creation_info: CreationInfo {
            created: subject.created.clone(),
            creators: vec![tool],
        },
        packages,
        has_extracted_licensing_infos: encoder.license_refs.infos,
        relationships,
    }
}

/// Shared state for every package entry: the subject for dates, the annotator and the licence
/// references.
struct Encoder<'a> {
    subject: &'a Subject,
    annotator: String,
    license_refs: LicenseRefs,
}

impl Encoder<'_> {
    fn image_package(&self) -> SpdxPackage {
        let subject = self.subject;
        let name = image_name(subject);
        let mut comment = format!("Container image `{}`.", subject.reference);
        if let Some(config) = &subject.config_digest {
            let _ = write!(comment, " Config digest `{config}`.");
        }
        SpdxPackage {
            spdx_id: format!("SPDXRef-Image-{}", ids::sanitize_id_or_unnamed(&name)),
            name,
            version_info: subject.manifest_digest.clone(),
            external_refs: image_purl(subject).map(purl_ref).into_iter().collect(),
            comment: Some(comment),
            primary_package_purpose: "CONTAINER",
            annotations: self.annotations(properties::image_properties(subject)),
            ..empty_package()
        }
    }

    fn distro_package(&self, distro: &Distro) -> SpdxPackage {
        let version = distro.version_id.as_deref().unwrap_or("");
        SpdxPackage {
            name: distro.id.clone(),
            spdx_id: format!(
                "SPDXRef-OperatingSystem-{}",
                ids::sanitize_id_or_unnamed(&format!("{}-{version}", distro.id))
            ),
            version_info: distro.version_id.clone(),
            description: distro.pretty_name.clone(),
            primary_package_purpose: "OPERATING-SYSTEM",
            annotations: self.annotations(properties::distro_properties(distro)),
            ..empty_package()
        }
    }

    fn package(&self, package: &Package, ids: &PackageIds) -> SpdxPackage {
        SpdxPackage {
            name: package.name.clone(),
            spdx_id: ids.spdx_id.clone(),
            version_info: Some(package.version.clone()).filter(|v| !v.is_empty()),
            supplier: package
                .supplier
                .as_deref()
                .and_then(spdx_actor)
                .unwrap_or_else(|| NOASSERTION.to_owned()),
            homepage: package.homepage.clone().filter(|h| is_web_url(h)),
            source_info: package
                .source
                .as_ref()
                .map(|s| format!("built from source package {} version {}", s.name, s.version)),
            license_declared: self.license_refs.declared(package),
            description: package.description.clone(),
            comment: Some(package_comment(package)),
            external_refs: vec![purl_ref(package.purl.to_string())],
            checksums: package
                .hashes
                .iter()
                .filter_map(checksum::checked)
                .map(|c| Checksum {
                    algorithm: c.spdx,
                    checksum_value: c.value.to_owned(),
                })
                .collect(),
            primary_package_purpose: purpose(package.kind),
            annotations: self.annotations(properties::package_properties(package)),
            ..empty_package()
        }
    }

    fn annotations(&self, properties: Vec<(String, String)>) -> Vec<Annotation> {
        properties
            .into_iter()
            .map(|(name, value)| Annotation {
                annotation_date: self.subject.created.clone(),
                annotation_type: "OTHER",
                annotator: self.annotator.clone(),
                comment: format!("{name}={value}"),
            })
            .collect()
    }
}

/// Returns a package entry with every optional field empty and every required one `NOASSERTION`.
fn empty_package() -> SpdxPackage {
    SpdxPackage {
        name: String::new(),
        spdx_id: String::new(),
        version_info: None,
        supplier: NOASSERTION.to_owned(),
        download_location: NOASSERTION,
        files_analyzed: false,
        homepage: None,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION,
        description: None,
        comment: None,
        external_refs: Vec::new(),
        checksums: Vec::new(),
        primary_package_purpose: "OTHER",
        annotations: Vec::new(),
    }
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
    }
}

/// Returns the SPDX 2.3 primary package purpose (section 7.24).
///
/// dpkg and Python metadata do not say whether a package is a program or a library, so OS and
/// Python packages are `LIBRARY`, the counterpart of the CycloneDX `library` type clearbox
/// writes for them. Go modules and the standard library are linked into binaries, which is what
/// `LIBRARY` means; so are crates, Maven artifacts and npm, conda and rpm packages, whose
/// metadata does not say either. SPDX 2.3 has no purpose for model weights; a model is
/// identified by its weight file, and `FILE` is "a single file which can be independently
/// distributed", as is an executable that no package accounts for.
fn purpose(kind: PackageKind) -> &'static str {
    match kind {
        PackageKind::Deb
        | PackageKind::Apk
        | PackageKind::Rpm
        | PackageKind::Python
        | PackageKind::GoModule
        | PackageKind::GoStdlib
        | PackageKind::Library
        | PackageKind::Npm
        | PackageKind::Java
        | PackageKind::RustCrate
        | PackageKind::Conda => "LIBRARY",
        PackageKind::Model | PackageKind::File => "FILE",
    }
}

/// Formats a supplier as an SPDX actor, `Organization: name (email)` or `Person: name (email)`.
fn spdx_actor(raw: &str) -> Option<String> {
    let supplier = Supplier::parse(raw)?;
    let kind = if supplier.is_organization() {
        "Organization"
    } else {
        "Person"
    };
    Some(match &supplier.email {
        Some(email) => format!("{kind}: {} ({email})", supplier.name),
        None => format!("{kind}: {}", supplier.name),
    })
}

/// Writes the package comment: who found it, where, and for models a summary of the weights.
fn package_comment(package: &Package) -> String {
    let mut lines = vec![format!("Found by {}.", package.found_by)];
    for location in &package.locations {
        lines.push(match &location.layer {
            Some(layer) => format!("Location: {} (layer {layer})", location.path),
            None => format!("Location: {}", location.path),
        });
    }
    if let Some(model) = &package.model {
        lines.extend(model_summary(model));
    }
    lines.join("\n")
}

/// Lists one line per model fact that exists.
fn model_summary(model: &ModelFacts) -> Vec<String> {
    let mut first = format!(
        "Model weights: {} format, {} bytes",
        model.format, model.file_size
    );
    if let Some(tensors) = model.tensor_count {
        let _ = write!(first, ", {tensors} tensors");
    }
    if let Some(parameters) = model.parameter_count {
        let _ = write!(first, ", {parameters} parameters");
    }
    first.push('.');
    let mut lines = vec![first];
    if !model.dtypes.is_empty() {
        let dtypes: Vec<String> = model
            .dtypes
            .iter()
            .map(|(dtype, count)| format!("{dtype} {count}"))
            .collect();
        lines.push(format!("Tensors by data type: {}.", dtypes.join(", ")));
    }
    lines.extend(file_summary(model));
    if let Some(config) = &model.config {
        if !config.architectures.is_empty() {
            lines.push(format!(
                "Architecture: {}.",
                config.architectures.join(", ")
            ));
        }
        if let Some(model_type) = &config.model_type {
            lines.push(format!("Model type: {model_type}."));
        }
    }
    if let Some(card) = &model.card {
        if let Some(task) = &card.pipeline_tag {
            lines.push(format!("Task: {task}."));
        }
        if !card.datasets.is_empty() {
            lines.push(format!("Datasets: {}.", card.datasets.join(", ")));
        }
    }
    for warning in &model.warnings {
        lines.push(format!("Warning: {warning}"));
    }
    for problem in &model.problems {
        lines.push(format!("Problem: {problem}"));
    }
    lines
}

/// Lists what the weight files state about themselves.
fn file_summary(model: &ModelFacts) -> Vec<String> {
    let mut lines = Vec::new();
    if model.files.len() > 1 {
        lines.push(format!("Stored in {} files.", model.files.len()));
    }
    let labelled = [
        ("Name", model.name.as_ref()),
        ("Format version", model.format_version.as_ref()),
        (
            "Architecture named by the file",
            model.architecture.as_ref(),
        ),
        ("Quantization", model.quantization.as_ref()),
        ("Producer", model.producer.as_ref()),
    ];
    for (label, value) in labelled {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}."));
        }
    }
    if let Some(context) = model.context_length {
        lines.push(format!("Context length: {context} tokens."));
    }
    if !model.opsets.is_empty() {
        let opsets: Vec<String> = model
            .opsets
            .iter()
            .map(|(domain, version)| format!("{domain} {version}"))
            .collect();
        lines.push(format!("Operator sets: {}.", opsets.join(", ")));
    }
    if let Some(pickle) = &model.pickle {
        lines.push(format!("Pickle imports: {}.", pickle.verdict.name()));
    }
    lines
}

/// The `LicenseRef-` identifiers for every licence name in the catalog that is not an SPDX
/// identifier, and their definitions.
struct LicenseRefs {
    by_name: BTreeMap<String, String>,
    infos: Vec<ExtractedLicense>,
}

impl LicenseRefs {
    fn new(packages: &[Package]) -> LicenseRefs {
        // Every name with the packages that declare it, sorted so the result does not depend
        // on package order.
        let mut declared_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for package in packages {
            for license in License::classify_all(&package.licenses) {
                if let License::Named(name) = license {
                    declared_by
                        .entry(name)
                        .or_default()
                        .insert(declarer(package));
                }
            }
        }

        // Names that sanitise to the same identifier (ignoring case, as licence matchers do)
        // each get a hash suffix instead of sharing one.
        let mut by_stem: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for name in declared_by.keys() {
            by_stem
                .entry(license_ref_stem(name).to_ascii_lowercase())
                .or_default()
                .push(name);
        }
        let mut by_name = BTreeMap::new();
        for names in by_stem.values() {
            for &name in names {
                let stem = license_ref_stem(name);
                let id = if names.len() == 1 {
                    format!("LicenseRef-{stem}")
                } else {
                    let hash = ids::sha256_hex(name.as_bytes());
                    format!("LicenseRef-{stem}-{}", &hash[..8])
                };
                by_name.insert(name.to_owned(), id);
            }
        }

        let mut infos: Vec<ExtractedLicense> = declared_by
            .iter()
            .map(|(name, declarers)| ExtractedLicense {
                license_id: by_name[name].clone(),
                extracted_text: format!(
                    "The licence name `{name}` as declared in package metadata. The licence \
                     text was not extracted."
                ),
                name: name.clone(),
                comment: format!(
                    "Declared by: {}.",
                    declarers.iter().cloned().collect::<Vec<_>>().join("; ")
                ),
            })
            .collect();
        infos.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        LicenseRefs { by_name, infos }
    }

    /// Builds the `licenseDeclared` expression: every declared licence joined with `AND`, each
    /// one an SPDX identifier, a parenthesised expression or a `LicenseRef-`. Returns
    /// `NOASSERTION` when the package declares none.
    fn declared(&self, package: &Package) -> String {
        let licenses = License::classify_all(&package.licenses);
        let parts: Vec<String> = licenses
            .iter()
            .map(|license| match license {
                License::Id(id) => id.clone(),
                License::Expression(e) if licenses.len() > 1 => format!("({e})"),
                License::Expression(e) => e.clone(),
                License::Named(name) => self.by_name[name].clone(),
            })
            .collect();
        if parts.is_empty() {
            NOASSERTION.to_owned()
        } else {
            parts.join(" AND ")
        }
    }
}

/// Names a package in the `hasExtractedLicensingInfos` comment: name, version and the file
/// that declares it.
fn declarer(package: &Package) -> String {
    match package.locations.first() {
        Some(location) => format!("{} {} ({})", package.name, package.version, location.path),
        None => format!("{} {}", package.name, package.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_kinds() {
        assert_eq!(
            spdx_actor("Debian GCC Maintainers <debian-gcc@lists.debian.org>").unwrap(),
            "Organization: Debian GCC Maintainers (debian-gcc@lists.debian.org)"
        );
        assert_eq!(
            spdx_actor("Jane Doe <jane@example.org>").unwrap(),
            "Person: Jane Doe (jane@example.org)"
        );
        assert_eq!(spdx_actor("Jane Doe").unwrap(), "Person: Jane Doe");
        assert_eq!(spdx_actor(" "), None);
    }

    #[test]
    fn purposes() {
        assert_eq!(purpose(PackageKind::Deb), "LIBRARY");
        assert_eq!(purpose(PackageKind::Model), "FILE");
    }
}
