//! SPDX 2.2 and 2.3 JSON reader.
//!
//! Reads `packages`: the purl from `externalRefs` (`referenceType` `purl`; 2.2 spells the
//! category `PACKAGE_MANAGER`, 2.3 `PACKAGE-MANAGER`, and neither is checked), licences from
//! `licenseDeclared` split at top-level `AND` with `LicenseRef-` identifiers replaced by the
//! licence name from `hasExtractedLicensingInfos`, the supplier, description (or summary),
//! homepage, checksums, `sourceInfo`, and `name=value` annotations written by clearbox.
//! `files`, `snippets` and relationships other than `DESCRIBES` are not read.
//!
//! Specification: <https://spdx.github.io/spdx-spec/v2.3/package-information/>.

use std::collections::{BTreeMap, BTreeSet};

use clearbox_catalog::{Catalog, FileHash};

use super::builder::Builder;
use super::json::Node;
use super::{Entry, SPDX_READER, parse_purl};
use crate::SbomError;
use crate::checksum::catalog_algorithm;
use crate::properties::PREFIX;

/// The versions this reader accepts, for messages.
pub(super) const SUPPORTED: &str = "SPDX-2.2 and SPDX-2.3";

/// Reads an SPDX JSON document.
pub(super) fn read(root: &Node<'_>) -> Result<Catalog, SbomError> {
    // 1. The version must be one this reader supports.
    let version = root.required("spdxVersion")?;
    let version_text = version.as_str()?;
    if !matches!(version_text, "SPDX-2.2" | "SPDX-2.3") {
        return Err(SbomError::UnsupportedVersion {
            format: "SPDX",
            version: version_text.to_owned(),
            supported: SUPPORTED,
        });
    }

    // 2. Licence names behind `LicenseRef-` identifiers, and the elements the document
    //    describes.
    let license_names = license_names(root)?;
    let described = described_elements(root)?;

    // 3. Every package.
    let mut builder = Builder::new(SPDX_READER);
    for node in root.opt_objects("packages")? {
        let spdx_id = node.req_str("SPDXID")?;
        let purpose = node.opt_str("primaryPackagePurpose")?.unwrap_or("");
        let mut entry = read_package(&node, &license_names)?;
        if purpose == "OPERATING-SYSTEM" {
            builder.add_operating_system(&entry);
        } else {
            entry.is_subject = described.contains(spdx_id) || purpose == "CONTAINER";
            builder.add(entry);
        }
    }
    Ok(builder.finish())
}

fn read_package(
    node: &Node<'_>,
    license_names: &BTreeMap<String, String>,
) -> Result<Entry, SbomError> {
    let mut entry = Entry {
        field: node.path().to_owned(),
        name: node.req_str("name")?.to_owned(),
        version: node.opt_str("versionInfo")?.map(str::to_owned),
        supplier: node.opt_str("supplier")?.and_then(actor_to_supplier),
        description: match node.opt_str("description")? {
            Some(d) => Some(d.to_owned()),
            None => node.opt_str("summary")?.map(str::to_owned),
        },
        homepage: node
            .opt_str("homepage")?
            .filter(|h| !matches!(*h, "NONE" | "NOASSERTION"))
            .map(str::to_owned),
        source_info: node.opt_str("sourceInfo")?.map(str::to_owned),
        ..Entry::default()
    };

    for reference in node.opt_objects("externalRefs")? {
        if reference.req_str("referenceType")? == "purl" {
            entry.purl = Some(parse_purl(&reference.required("referenceLocator")?)?);
            break;
        }
    }
    if let Some(declared) = node.opt_str("licenseDeclared")? {
        entry.licenses = split_license_expression(declared, license_names);
    }
    for checksum in node.opt_objects("checksums")? {
        let algorithm = checksum.req_str("algorithm")?;
        let value = checksum.req_str("checksumValue")?;
        if let Some(algorithm) = catalog_algorithm(algorithm) {
            entry.hashes.push(FileHash {
                algorithm,
                value: value.to_ascii_lowercase(),
            });
        }
    }
    for annotation in node.opt_objects("annotations")? {
        let Some(comment) = annotation.opt_str("comment")? else {
            continue;
        };
        if comment.starts_with(PREFIX)
            && let Some((name, value)) = comment.split_once('=')
        {
            entry.properties.push((name.to_owned(), value.to_owned()));
        }
    }
    Ok(entry)
}

/// Maps each `LicenseRef-` identifier to the licence name: `name` when given, else the identifier
/// without its prefix.
fn license_names(root: &Node<'_>) -> Result<BTreeMap<String, String>, SbomError> {
    let mut names = BTreeMap::new();
    for info in root.opt_objects("hasExtractedLicensingInfos")? {
        let id = info.req_str("licenseId")?;
        let name = match info.opt_str("name")?.map(str::trim) {
            Some(name) if !name.is_empty() && name != "NOASSERTION" => name,
            _ => id.strip_prefix("LicenseRef-").unwrap_or(id),
        };
        names.insert(id.to_owned(), name.to_owned());
    }
    Ok(names)
}

/// Collects the SPDX ids the document describes: `documentDescribes` (SPDX 2.2) and `DESCRIBES`
/// relationships from `SPDXRef-DOCUMENT`.
fn described_elements(root: &Node<'_>) -> Result<BTreeSet<String>, SbomError> {
    let mut described = BTreeSet::new();
    for id in root.opt_array("documentDescribes")? {
        described.insert(id.as_str()?.to_owned());
    }
    for relationship in root.opt_objects("relationships")? {
        let kind = relationship.req_str("relationshipType")?;
        let from = relationship.req_str("spdxElementId")?;
        if kind == "DESCRIBES" && from == "SPDXRef-DOCUMENT" {
            described.insert(relationship.req_str("relatedSpdxElement")?.to_owned());
        }
    }
    Ok(described)
}

/// Splits a licence expression at top-level `AND` into the licences a package declares.
/// `NOASSERTION` and `NONE` declare none; `LicenseRef-` terms become their names; parentheses
/// around a whole part are dropped.
fn split_license_expression(expression: &str, names: &BTreeMap<String, String>) -> Vec<String> {
    let expression = expression.trim();
    if matches!(expression, "NOASSERTION" | "NONE" | "") {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = expression.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && expression[i..].starts_with(" AND ") => {
                parts.push(&expression[start..i]);
                i += " AND ".len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&expression[start..]);
    parts
        .into_iter()
        .map(|part| {
            let part = strip_outer_parentheses(part.trim());
            names.get(part).cloned().unwrap_or_else(|| part.to_owned())
        })
        .collect()
}

/// Drops one pair of parentheses that encloses the whole of `part`.
fn strip_outer_parentheses(part: &str) -> &str {
    let Some(inner) = part.strip_prefix('(').and_then(|p| p.strip_suffix(')')) else {
        return part;
    };
    // `(a) OR (b)` starts and ends with parentheses that do not enclose the whole.
    let mut depth = 0i32;
    for c in inner.chars() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return part;
        }
    }
    inner.trim()
}

/// Turns a supplier written as an SPDX actor (`Person: name (email)`) back into the
/// `name <email>` form catalogers record; `None` for `NOASSERTION` and `NONE`.
fn actor_to_supplier(actor: &str) -> Option<String> {
    let actor = actor.trim();
    let rest = ["Person:", "Organization:", "Tool:"]
        .iter()
        .find_map(|prefix| actor.strip_prefix(prefix))
        .unwrap_or(actor)
        .trim();
    if rest.is_empty() || rest == "NOASSERTION" || rest == "NONE" {
        return None;
    }
    if let Some(inner) = rest.strip_suffix(')')
        && let Some((name, email)) = inner.rsplit_once('(')
    {
        let (name, email) = (name.trim(), email.trim());
        return Some(match (name.is_empty(), email.is_empty()) {
            (false, false) => format!("{name} <{email}>"),
            (false, true) => name.to_owned(),
            (true, _) => email.to_owned(),
        });
    }
    Some(rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(expression: &str) -> Vec<String> {
        let names = BTreeMap::from([(
            "LicenseRef-public-domain".to_owned(),
            "public-domain".to_owned(),
        )]);
        split_license_expression(expression, &names)
    }

    #[test]
    fn split_top_level_and() {
        assert_eq!(
            split("GPL-2.0-or-later AND LicenseRef-public-domain"),
            ["GPL-2.0-or-later", "public-domain"]
        );
        assert_eq!(
            split("(MIT OR Apache-2.0) AND BSD-3-Clause"),
            ["MIT OR Apache-2.0", "BSD-3-Clause"]
        );
        assert_eq!(split("(MIT AND Zlib) OR ISC"), ["(MIT AND Zlib) OR ISC"]);
        assert_eq!(split("(MIT) OR (ISC)"), ["(MIT) OR (ISC)"]);
        assert!(split("NOASSERTION").is_empty());
    }

    #[test]
    fn actors() {
        assert_eq!(
            actor_to_supplier("Organization: Debian GCC Maintainers (debian-gcc@lists.debian.org)"),
            Some("Debian GCC Maintainers <debian-gcc@lists.debian.org>".to_owned())
        );
        assert_eq!(
            actor_to_supplier("Person: Jane Doe ()"),
            Some("Jane Doe".to_owned())
        );
        assert_eq!(
            actor_to_supplier("Person: Jane Doe"),
            Some("Jane Doe".to_owned())
        );
        assert_eq!(actor_to_supplier("NOASSERTION"), None);
    }
}
