//! CycloneDX 1.4, 1.5 and 1.6 JSON reader.
//!
//! Reads `components`, and the `components` nested inside them: `purl`, `version`, licences
//! (`license.id`, `license.name` or `expression`), supplier (`supplier`, else the 1.4 `author`,
//! else `publisher`), description, hashes, the `website` external reference, `properties` and
//! `evidence.occurrences`. `metadata.component`, services, dependencies and vulnerabilities are
//! not read.
//!
//! Specification: <https://cyclonedx.org/docs/1.6/json/>.

use clearbox_catalog::{Catalog, FileHash, Location};

use super::builder::Builder;
use super::json::Node;
use super::{CYCLONEDX_READER, Entry, parse_purl};
use crate::SbomError;
use crate::checksum::catalog_algorithm;

/// The versions this reader accepts, for messages.
const SUPPORTED: &str = "1.4, 1.5 and 1.6";

/// Reads a CycloneDX JSON BOM whose `bomFormat` has been checked.
pub(super) fn read(root: &Node<'_>) -> Result<Catalog, SbomError> {
    // 1. The version must be one this reader supports.
    let version = root.req_str("specVersion")?;
    if !matches!(version, "1.4" | "1.5" | "1.6") {
        return Err(SbomError::UnsupportedVersion {
            format: "CycloneDX",
            version: version.to_owned(),
            supported: SUPPORTED,
        });
    }

    // 2. Every component, depth first in document order. The recursion is bounded because
    //    serde_json rejects documents nested more than 128 levels deep.
    let mut builder = Builder::new(CYCLONEDX_READER);
    for component in root.opt_objects("components")? {
        read_component(&component, &mut builder)?;
    }
    Ok(builder.finish())
}

fn read_component(node: &Node<'_>, builder: &mut Builder) -> Result<(), SbomError> {
    let kind = node.req_str("type")?;
    let entry = read_entry(node, kind)?;
    match kind {
        "operating-system" => builder.add_operating_system(&entry),
        _ => builder.add(entry),
    }
    for child in node.opt_objects("components")? {
        read_component(&child, builder)?;
    }
    Ok(())
}

fn read_entry(node: &Node<'_>, kind: &str) -> Result<Entry, SbomError> {
    let name = node.req_str("name")?;
    // A purl that does not parse leaves this one component out, not the whole SBOM.
    let (purl, invalid_purl) = match node.get("purl") {
        None => (None, None),
        Some(field) => match parse_purl(&field) {
            Ok(purl) => (Some(purl), None),
            Err(SbomError::InvalidPurl { source, .. }) => {
                let bom_ref = node
                    .opt_str("bom-ref")?
                    .map_or_else(|| "no bom-ref".to_owned(), |r| format!("bom-ref `{r}`"));
                (
                    None,
                    Some(format!("component `{name}` ({bom_ref}): {source}")),
                )
            }
            Err(other) => return Err(other),
        },
    };
    let is_subject = kind == "container" || (kind == "file" && purl.is_none());
    let mut entry = Entry {
        field: node.path().to_owned(),
        name: name.to_owned(),
        version: node.opt_str("version")?.map(str::to_owned),
        purl,
        invalid_purl,
        is_model: kind == "machine-learning-model",
        is_subject,
        supplier: supplier(node)?,
        description: node.opt_str("description")?.map(str::to_owned),
        ..Entry::default()
    };

    entry.licenses = licenses(node)?;
    for hash in node.opt_objects("hashes")? {
        let algorithm = hash.req_str("alg")?;
        let content = hash.req_str("content")?;
        if let Some(algorithm) = catalog_algorithm(algorithm) {
            entry.hashes.push(FileHash {
                algorithm,
                value: content.to_ascii_lowercase(),
            });
        }
    }
    for reference in node.opt_objects("externalReferences")? {
        if entry.homepage.is_none() && reference.req_str("type")? == "website" {
            entry.homepage = Some(reference.req_str("url")?.to_owned());
        }
    }
    for property in node.opt_objects("properties")? {
        let name = property.req_str("name")?;
        let value = property.opt_str("value")?.unwrap_or("");
        entry.properties.push((name.to_owned(), value.to_owned()));
    }
    if let Some(evidence) = node.get("evidence") {
        for occurrence in evidence.opt_objects("occurrences")? {
            entry.locations.push(Location {
                path: occurrence.req_str("location")?.to_owned(),
                layer: None,
            });
        }
    }
    Ok(entry)
}

/// Collects the licences: each `license.id`, `license.name` or `expression`, in order.
fn licenses(node: &Node<'_>) -> Result<Vec<String>, SbomError> {
    let mut out = Vec::new();
    for choice in node.opt_objects("licenses")? {
        if let Some(expression) = choice.opt_str("expression")? {
            out.push(expression.to_owned());
        } else if let Some(license) = choice.get("license") {
            license.expect_object()?;
            if let Some(id) = license.opt_str("id")? {
                out.push(id.to_owned());
            } else if let Some(name) = license.opt_str("name")? {
                out.push(name.to_owned());
            }
        }
    }
    Ok(out)
}

/// Returns the supplier as `name <email>`: `supplier.name` with its first contact's e-mail address,
/// else the 1.4 `author` string, else `publisher`.
fn supplier(node: &Node<'_>) -> Result<Option<String>, SbomError> {
    if let Some(supplier) = node.get("supplier") {
        supplier.expect_object()?;
        if let Some(name) = supplier.opt_str("name")? {
            let email = match supplier.opt_objects("contact")?.first() {
                Some(contact) => contact.opt_str("email")?,
                None => None,
            };
            return Ok(Some(match email {
                Some(email) => format!("{name} <{email}>"),
                None => name.to_owned(),
            }));
        }
    }
    if let Some(author) = node.opt_str("author")? {
        return Ok(Some(author.to_owned()));
    }
    Ok(node.opt_str("publisher")?.map(str::to_owned))
}
