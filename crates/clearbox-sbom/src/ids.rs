//! Deterministic identifiers: SPDX element ids, CycloneDX `bom-ref`s and document UUIDs.
//!
//! Nothing here reads a clock or a random source, so encoding the same subject and catalog twice
//! gives the same identifiers. Package identifiers depend on the package's own content (kind,
//! name, purl and first location), not on its position, except for the numeric suffix that keeps
//! two packages with the same purl and first location apart.
//!
//! Document UUIDs follow RFC 9562 section 5.8 (version 8, "custom") the way its appendix B.2 builds
//! a name-based UUID from SHA-256: the first 16 bytes of the hash with the version and variant
//! bits overwritten. Version 5 would claim SHA-1, which is not what is hashed.

use std::collections::HashMap;

use clearbox_catalog::{Catalog, Package};
use sha2::{Digest, Sha256};

use crate::Subject;

/// Number of hexadecimal digits of the content hash kept in package identifiers: 48 bits, so
/// an accidental clash needs about 16 million packages with the same kind and name.
const PACKAGE_HASH_DIGITS: usize = 12;

/// The identifiers of one package in both formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackageIds {
    /// SPDX element id, `SPDXRef-Package-<kind>-<name>-<hash>`.
    pub(crate) spdx_id: String,
    /// CycloneDX `bom-ref`, `package-<kind>-<name>-<hash>`.
    pub(crate) bom_ref: String,
}

/// Lowercase hexadecimal SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Replaces every character outside `[A-Za-z0-9.-]` with `-`, collapses runs of `-` and trims
/// `-` from both ends. The result fits both the SPDX `idstring` and `LicenseRef-` grammars.
pub(crate) fn sanitize_id(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// [`sanitize_id`], or `unnamed` when nothing is left.
pub(crate) fn sanitize_id_or_unnamed(s: &str) -> String {
    let id = sanitize_id(s);
    if id.is_empty() {
        "unnamed".to_owned()
    } else {
        id
    }
}

/// Computes the identifiers of every package, in catalog order, unique within the catalog.
pub(crate) fn package_ids(packages: &[Package]) -> Vec<PackageIds> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ids = Vec::with_capacity(packages.len());
    for package in packages {
        let mut stem = package_stem(package);

        // A second package with the same kind, name, purl and first location gets `-2`, a
        // third `-3`. A stem always ends in hash digits, so a suffixed stem cannot equal an
        // unsuffixed one.
        let count = seen.entry(stem.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            stem = format!("{stem}-{count}");
        }

        ids.push(PackageIds {
            spdx_id: format!("SPDXRef-Package-{stem}"),
            bom_ref: format!("package-{stem}"),
        });
    }
    ids
}

fn package_stem(package: &Package) -> String {
    let first = package.locations.first();
    let key = format!(
        "{}\n{}\n{}",
        package.purl,
        first.map_or("", |l| l.path.as_str()),
        first.and_then(|l| l.layer.as_deref()).unwrap_or(""),
    );
    let hash = sha256_hex(key.as_bytes());
    let name = sanitize_id_or_unnamed(&package.name);
    format!(
        "{}-{name}-{}",
        package.kind.name(),
        &hash[..PACKAGE_HASH_DIGITS]
    )
}

/// Derives the UUID of one document from everything that goes into it: the format, the subject
/// and the catalog. Packages are hashed one by one and the hashes sorted, so the UUID does not
/// depend on package order.
pub(crate) fn document_uuid(format: &str, subject: &Subject, catalog: &Catalog) -> String {
    let mut package_hashes: Vec<String> = catalog
        .packages
        .iter()
        .map(|p| sha256_hex(&to_json(p)))
        .collect();
    package_hashes.sort_unstable();

    let mut hasher = Sha256::new();
    for field in [
        "clearbox-sbom document v1",
        format,
        &subject.reference,
        &subject.name,
        subject.manifest_digest.as_deref().unwrap_or(""),
        subject.config_digest.as_deref().unwrap_or(""),
        &subject.created,
        &subject.tool_version,
    ] {
        hasher.update(field.as_bytes());
        hasher.update(b"\n");
    }
    hasher.update(to_json(&catalog.distro));
    hasher.update(b"\n");
    for hash in &package_hashes {
        hasher.update(hash.as_bytes());
        hasher.update(b"\n");
    }
    format_uuid_v8(&hasher.finalize())
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // The catalog types hold only strings, numbers, vectors and maps with string keys, which
    // serde_json always serialises.
    serde_json::to_vec(value).expect("catalog types serialise to JSON")
}

/// Formats the first 16 bytes of `hash` as a version 8, variant `10` UUID.
fn format_uuid_v8(hash: &[u8]) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_replaces_and_collapses() {
        assert_eq!(sanitize_id("golang.org/x/crypto"), "golang.org-x-crypto");
        assert_eq!(sanitize_id("  naïve__pkg  "), "na-ve-pkg");
        assert_eq!(sanitize_id("GPL-2+"), "GPL-2");
        assert_eq!(sanitize_id("ü"), "");
    }

    #[test]
    fn uuid_v8_bits() {
        let uuid = format_uuid_v8(&[0xff; 32]);
        assert_eq!(uuid, "ffffffff-ffff-8fff-bfff-ffffffffffff");
        let uuid = format_uuid_v8(&[0x00; 32]);
        assert_eq!(uuid, "00000000-0000-8000-8000-000000000000");
    }
}
