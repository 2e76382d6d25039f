//! CycloneDX 1.6 JSON encoder.
//!
//! The metadata component is the image (`container`), which depends on the operating system
//! component, when the catalog names one, and on every package. Packages are `library`
//! components; model weights are `machine-learning-model` components with a `modelCard` holding
//! the architecture, task and datasets that the model's `config.json` and card state. Locations
//! are written both as `evidence.occurrences` and as `clearbox:location:N:*` properties, because
//! only the properties carry the layer.
//!
//! Not written: `pedigree` (the Debian source package is a property instead), `scope`, and a
//! model card's `quantitativeAnalysis` and `considerations`, which no cataloged file states.
//!
//! Specification: <https://cyclonedx.org/docs/1.6/json/>.

use clearbox_catalog::{Catalog, Distro, ModelFacts, Package, PackageKind};
use serde::Serialize;

use crate::checksum;
use crate::ids::{self, PackageIds};
use crate::license::License;
use crate::properties;
use crate::supplier::Supplier;
use crate::{Subject, image_name, image_purl, is_web_url, to_pretty_json};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<OrganizationalEntity>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_card: Option<ModelCard>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct OrganizationalEntity {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contact: Vec<Contact>,
}

#[derive(Serialize)]
struct Contact {
    email: String,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: NamedLicense },
    Expression { expression: String },
}

#[derive(Serialize)]
struct NamedLicense {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Evidence {
    occurrences: Vec<Occurrence>,
}

#[derive(Serialize)]
struct Occurrence {
    location: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelCard {
    model_parameters: ModelParameters,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ModelParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    architecture_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_architecture: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    datasets: Vec<Dataset>,
}

#[derive(Serialize)]
struct Dataset {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

/// Encodes the catalog as a CycloneDX 1.6 JSON BOM: pretty-printed, ending in a newline, the
/// same bytes for the same subject and catalog.
#[must_use]
pub fn to_cyclonedx_json(subject: &Subject, catalog: &Catalog) -> Vec<u8> {
    to_pretty_json(&build_bom(subject, catalog))
}

fn build_bom(subject: &Subject, catalog: &Catalog) -> Bom {
    let image = image_component(subject);
    let image_ref = image.bom_ref.clone().unwrap_or_default();

    // The operating system first, then the packages in catalog order.
    let mut components = Vec::with_capacity(catalog.packages.len() + 1);
    if let Some(distro) = &catalog.distro {
        components.push(distro_component(distro));
    }
    let package_ids = ids::package_ids(&catalog.packages);
    for (package, ids) in catalog.packages.iter().zip(&package_ids) {
        components.push(package_component(package, ids));
    }

    let dependencies = vec![Dependency {
        reference: image_ref,
        depends_on: components
            .iter()
            .filter_map(|c| c.bom_ref.clone())
            .collect(),
    }];

    Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!(
            "urn:uuid:{}",
            ids::document_uuid("CycloneDX-1.6", subject, catalog)
        ),
        version: 1,
        metadata: Metadata {
            timestamp: subject.created.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: "clearbox".to_owned(),
                    version: Some(subject.tool_version.clone()),
                    ..Component::default()
                }],
            },
            component: image,
        },
        components,
        dependencies,
    }
}

fn image_component(subject: &Subject) -> Component {
    let name = image_name(subject);
    Component {
        kind: "container",
        bom_ref: Some(format!("image-{}", ids::sanitize_id_or_unnamed(&name))),
        name,
        version: subject.manifest_digest.clone(),
        purl: image_purl(subject),
        properties: to_properties(properties::image_properties(subject)),
        ..Component::default()
    }
}

fn distro_component(distro: &Distro) -> Component {
    let version = distro.version_id.as_deref().unwrap_or("");
    Component {
        kind: "operating-system",
        bom_ref: Some(format!(
            "os-{}",
            ids::sanitize_id_or_unnamed(&format!("{}-{version}", distro.id))
        )),
        name: distro.id.clone(),
        version: distro.version_id.clone(),
        description: distro.pretty_name.clone(),
        properties: to_properties(properties::distro_properties(distro)),
        ..Component::default()
    }
}

fn package_component(package: &Package, ids: &PackageIds) -> Component {
    let occurrences: Vec<Occurrence> = package
        .locations
        .iter()
        .map(|l| Occurrence {
            location: l.path.clone(),
        })
        .collect();
    Component {
        kind: match package.kind {
            PackageKind::Model => "machine-learning-model",
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
            | PackageKind::Conda => "library",
            PackageKind::File => "file",
        },
        bom_ref: Some(ids.bom_ref.clone()),
        supplier: package
            .supplier
            .as_deref()
            .and_then(Supplier::parse)
            .map(|s| OrganizationalEntity {
                name: s.name,
                contact: s.email.map(|email| Contact { email }).into_iter().collect(),
            }),
        name: package.name.clone(),
        version: Some(package.version.clone()).filter(|v| !v.is_empty()),
        description: package.description.clone(),
        hashes: package
            .hashes
            .iter()
            .filter_map(checksum::checked)
            .map(|c| Hash {
                alg: c.cyclonedx,
                content: c.value.to_owned(),
            })
            .collect(),
        licenses: license_choices(&License::classify_all(&package.licenses)),
        purl: Some(package.purl.to_string()),
        external_references: package
            .homepage
            .iter()
            .filter(|h| is_web_url(h))
            .map(|h| ExternalReference {
                kind: "website",
                url: h.clone(),
            })
            .collect(),
        evidence: (!occurrences.is_empty()).then_some(Evidence { occurrences }),
        model_card: package.model.as_ref().and_then(model_card),
        properties: to_properties(properties::package_properties(package)),
    }
}

/// Builds the component `licenses`: a list of identifiers and names, or one expression.
///
/// CycloneDX accepts either a list of single licences or exactly one SPDX expression, not a
/// mix. Compound expressions therefore become one `AND` expression when every licence is SPDX,
/// and a named licence holding the expression text otherwise.
fn license_choices(licenses: &[License]) -> Vec<LicenseChoice> {
    let has_expression = licenses.iter().any(|l| matches!(l, License::Expression(_)));
    let all_spdx = licenses.iter().all(|l| !matches!(l, License::Named(_)));
    if has_expression && all_spdx {
        let parts: Vec<String> = licenses
            .iter()
            .map(|l| match l {
                License::Expression(e) if licenses.len() > 1 => format!("({e})"),
                License::Id(e) | License::Expression(e) | License::Named(e) => e.clone(),
            })
            .collect();
        return vec![LicenseChoice::Expression {
            expression: parts.join(" AND "),
        }];
    }
    licenses
        .iter()
        .map(|l| LicenseChoice::License {
            license: match l {
                License::Id(id) => NamedLicense {
                    id: Some(id.clone()),
                    name: None,
                },
                License::Expression(name) | License::Named(name) => NamedLicense {
                    id: None,
                    name: Some(name.clone()),
                },
            },
        })
        .collect()
}

/// Builds the model card: architecture family (`config.json` `model_type`, else the
/// architecture the weight file names, such as GGUF `general.architecture`), architecture (the
/// first of `architectures`), task (the card's `pipeline_tag`) and datasets (the card's
/// `datasets`). Returns `None` when none of these is known.
///
/// A Keras model class (`Sequential`, `Functional`) names how the layers are wired, not an
/// architecture family, so it stays a property.
fn model_card(model: &ModelFacts) -> Option<ModelCard> {
    let config = model.config.as_ref();
    let card = model.card.as_ref();
    let parameters = ModelParameters {
        task: card.and_then(|c| c.pipeline_tag.clone()),
        architecture_family: config.and_then(|c| c.model_type.clone()).or_else(|| {
            model
                .architecture
                .clone()
                .filter(|_| model.format != "keras")
        }),
        model_architecture: config.and_then(|c| c.architectures.first().cloned()),
        datasets: card
            .map(|c| c.datasets.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|name| Dataset {
                kind: "dataset",
                name: name.clone(),
            })
            .collect(),
    };
    let empty = parameters.task.is_none()
        && parameters.architecture_family.is_none()
        && parameters.model_architecture.is_none()
        && parameters.datasets.is_empty();
    (!empty).then_some(ModelCard {
        model_parameters: parameters,
    })
}

fn to_properties(properties: Vec<(String, String)>) -> Vec<Property> {
    properties
        .into_iter()
        .map(|(name, value)| Property { name, value })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(declared: &[&str]) -> String {
        let declared: Vec<String> = declared.iter().map(|s| (*s).to_owned()).collect();
        let choices = license_choices(&License::classify_all(&declared));
        serde_json::to_string(&choices).unwrap()
    }

    #[test]
    fn licenses_as_list() {
        assert_eq!(
            choices(&["GPL-2+", "public-domain"]),
            r#"[{"license":{"id":"GPL-2.0-or-later"}},{"license":{"name":"public-domain"}}]"#
        );
    }

    #[test]
    fn licenses_as_expression() {
        assert_eq!(
            choices(&["MIT OR Apache-2.0", "BSD-3-Clause"]),
            r#"[{"expression":"(MIT OR Apache-2.0) AND BSD-3-Clause"}]"#
        );
        assert_eq!(
            choices(&["MIT OR Apache-2.0"]),
            r#"[{"expression":"MIT OR Apache-2.0"}]"#
        );
    }

    #[test]
    fn licenses_expression_with_named() {
        assert_eq!(
            choices(&["MIT OR Apache-2.0", "public-domain"]),
            r#"[{"license":{"name":"MIT OR Apache-2.0"}},{"license":{"name":"public-domain"}}]"#
        );
    }

    #[test]
    fn model_card_absent_without_facts() {
        assert!(model_card(&ModelFacts::default()).is_none());
    }

    #[test]
    fn model_card_family_from_gguf() {
        let gguf = ModelFacts {
            format: "gguf".into(),
            architecture: Some("llama".into()),
            ..ModelFacts::default()
        };
        let card = model_card(&gguf).unwrap();
        assert_eq!(
            card.model_parameters.architecture_family.as_deref(),
            Some("llama")
        );
        let keras = ModelFacts {
            format: "keras".into(),
            architecture: Some("Sequential".into()),
            ..ModelFacts::default()
        };
        assert!(model_card(&keras).is_none());
    }
}
