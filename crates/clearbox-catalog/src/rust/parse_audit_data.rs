//! Parser for the dependency list that `cargo auditable` embeds in Rust binaries: the ELF
//! section `.dep-v0`, holding zlib-compressed JSON `{"format": N, "packages": [...]}`. Each
//! package has `name`, `version`, `source` (`crates.io`, `git`, `local`, `registry`, or
//! another string), optional `kind` (`build` or `runtime`, default `runtime`), optional
//! `dependencies` (indexes into the package array) and optional `root`. Schema:
//! `cargo-auditable.schema.json` in the cargo-auditable repository.
//!
//! Decompression stops at [`MAX_JSON`] bytes, like `auditable-info`'s default limit, so a
//! compressed bomb cannot exhaust memory; indexes and counts are checked before use.

use std::fs::File;
use std::io::Read;

use flate2::read::ZlibDecoder;
use object::read::ReadCache;
use object::{Object, ObjectSection};
use serde::{Deserialize, Serialize};

const SECTION: &str = ".dep-v0";
/// Largest compressed section read. Real sections are a few KiB.
const MAX_SECTION: u64 = 8 << 20;
/// Largest decompressed JSON accepted, the default limit of `auditable-info`.
const MAX_JSON: u64 = 8 << 20;
/// Most packages accepted; a large application links a few hundred crates.
const MAX_PACKAGES: usize = 10_000;
const MAX_FIELD_LEN: usize = 1024;

/// The dependency tree `cargo auditable` recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditData {
    /// Format revision: 0 (or absent) when generated from `cargo metadata`.
    pub format: u32,
    /// Every crate in the build, in the recorded order.
    pub crates: Vec<AuditedCrate>,
}

/// One crate of a `cargo auditable` build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditedCrate {
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// Origin: `crates.io`, `git`, `local`, `registry`, or another string.
    pub source: String,
    /// Whether it is only a build-time dependency (build scripts, procedural macros).
    pub build_only: bool,
    /// Whether it is the crate the binary was built from.
    pub root: bool,
    /// Indexes of its dependencies in [`AuditData::crates`].
    pub dependencies: Vec<usize>,
}

#[derive(Deserialize)]
struct RawData {
    #[serde(default)]
    format: u32,
    packages: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: RawSource,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// `source` is a string; the schema also allows `{"Other": "..."}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawSource {
    Name(String),
    Other {
        #[serde(rename = "Other")]
        other: String,
    },
}

/// Reads the `.dep-v0` section of an ELF file. `Ok(None)` means the file has none.
pub(crate) fn parse_audit_data(file: File) -> Result<Option<AuditData>, String> {
    let cache = ReadCache::new(file);
    let elf = object::File::parse(&cache).map_err(|e| format!("invalid ELF file: {e}"))?;
    let Some(section) = elf.section_by_name(SECTION) else {
        return Ok(None);
    };
    if section.size() > MAX_SECTION {
        return Err(format!(
            "`{SECTION}` section is {} bytes, larger than the {MAX_SECTION}-byte limit",
            section.size()
        ));
    }
    let compressed = section
        .data()
        .map_err(|e| format!("failed to read the `{SECTION}` section: {e}"))?;
    decode(compressed).map(Some)
}

/// Decompresses and validates the section's content.
fn decode(compressed: &[u8]) -> Result<AuditData, String> {
    // 1. Decompress, at most MAX_JSON bytes.
    let mut json = Vec::new();
    ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("`{SECTION}` is not valid zlib data: {e}"))?;
    if json.len() as u64 > MAX_JSON {
        return Err(format!(
            "`{SECTION}` expands to more than {MAX_JSON} bytes; not read"
        ));
    }

    // 2. Parse.
    let raw: RawData = serde_json::from_slice(&json)
        .map_err(|e| format!("`{SECTION}` is not the expected JSON: {e}"))?;

    // 3. Validate counts, fields and indexes.
    if raw.packages.len() > MAX_PACKAGES {
        return Err(format!(
            "`{SECTION}` lists {} packages, more than the {MAX_PACKAGES} accepted",
            raw.packages.len()
        ));
    }
    let count = raw.packages.len();
    let mut crates = Vec::with_capacity(count);
    for (i, package) in raw.packages.into_iter().enumerate() {
        let source = match package.source {
            RawSource::Name(name) | RawSource::Other { other: name } => name,
        };
        for (field, value) in [("name", &package.name), ("version", &package.version)] {
            if value.is_empty()
                || value.len() > MAX_FIELD_LEN
                || value.chars().any(char::is_control)
            {
                return Err(format!("package {i} has an invalid {field}"));
            }
        }
        if let Some(bad) = package.dependencies.iter().find(|&&d| d >= count) {
            return Err(format!(
                "package {i} (`{}`) names dependency {bad}, but only {count} packages are listed",
                package.name
            ));
        }
        let build_only = match package.kind.as_deref() {
            None | Some("runtime") => false,
            Some("build") => true,
            Some(other) => {
                return Err(format!("package {i} has unknown kind `{other}`"));
            }
        };
        crates.push(AuditedCrate {
            name: package.name,
            version: package.version,
            source,
            build_only,
            root: package.root,
            dependencies: package.dependencies,
        });
    }
    Ok(AuditData {
        format: raw.format,
        crates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    use std::io::Write;

    fn compress(json: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(json).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn packages_with_kinds_and_root() {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.200","source":"crates.io"},{"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#;
        let data = decode(&compress(json)).unwrap();
        assert_eq!(data.crates.len(), 3);
        assert!(data.crates[0].root);
        assert_eq!(data.crates[0].dependencies, [1, 2]);
        assert!(data.crates[2].build_only);
        assert_eq!(data.crates[1].source, "crates.io");
    }

    #[test]
    fn bad_index_and_bad_data_are_errors() {
        let json =
            br#"{"packages":[{"name":"a","version":"1","source":"local","dependencies":[5]}]}"#;
        assert!(
            decode(&compress(json))
                .unwrap_err()
                .contains("dependency 5")
        );
        assert!(decode(b"not zlib").unwrap_err().contains("zlib"));
        assert!(decode(&compress(b"{}")).unwrap_err().contains("JSON"));
    }

    #[test]
    fn decompression_bomb_is_stopped() {
        let bomb = compress(&vec![b' '; (MAX_JSON + 10) as usize]);
        assert!(bomb.len() < 100_000);
        assert!(decode(&bomb).unwrap_err().contains("expands to more than"));
    }
}
