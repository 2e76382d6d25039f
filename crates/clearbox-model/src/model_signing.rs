//! The OpenSSF Model Signing (OMS) v1.0 predicate for one model directory of an image.
//!
//! Specification: <https://github.com/ossf/model-signing-spec> (`SPEC.md` and
//! `schemas/predicate.schema.json`). The predicate is
//!
//! ```json
//! {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false,
//!                    "ignore_paths": [".git", ".gitattributes", ".github", ".gitignore"]},
//!  "resources": [{"name": "config.json", "algorithm": "sha256", "digest": "…"}, …]}
//! ```
//!
//! with one resource per regular file under the model directory, named by its path relative
//! to the directory and sorted by name. The statement's first subject is the model: the
//! directory's base name and the root digest, SHA-256 over the concatenated raw bytes of the
//! resource digests in order.
//!
//! Written here: the `files` method with SHA-256, symbolic links rejected (`allow_symlinks`
//! false), and the default exclusions `.git`, `.gitattributes`, `.github` and `.gitignore` at
//! the top of the directory. Checked here: the same, plus any `ignore_paths` a predicate
//! lists. The `shards` method and other hash types are rejected by name.
//!
//! The specification requires exactly one subject, and the `model_signing` 1.x verifier
//! rejects a statement with more. Statements stored beside an image add a second subject
//! naming the image digest, because cosign and clearbox verify that an attestation names the
//! image it is attached to; `clearbox model-attest --output FILE` instead writes the statement
//! with the model as its only subject, in the signature file format `model_signing` reads.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};

use clearbox_attest::intoto::Subject;
use clearbox_oci::{ContentInspector, EntryInfo, EntryKind, Scan};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::check::Mismatch;

/// The predicate type of OMS v1.0.
pub const MODEL_SIGNING_PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// Paths excluded at the top of every model directory, as the specification requires.
pub const DEFAULT_IGNORED: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// The OMS predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSigningPredicate {
    /// The enumeration and hashing parameters.
    pub serialization: Serialization,
    /// One entry per file, sorted by name.
    pub resources: Vec<Resource>,
}

/// The canonicalization parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serialization {
    /// `files` (one resource per file) or `shards` (one per byte range).
    pub method: String,
    /// The hash algorithm of every resource digest.
    pub hash_type: String,
    /// Whether symbolic links were followed.
    pub allow_symlinks: bool,
    /// Shard size in bytes, for `shards` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_size: Option<u64>,
    /// Paths left out, relative to the model directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_paths: Vec<String>,
}

/// One file of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Path relative to the model directory, with `/` separators.
    pub name: String,
    /// The hash algorithm, `sha256`.
    pub algorithm: String,
    /// The file's digest, lowercase hexadecimal.
    pub digest: String,
}

impl ModelSigningPredicate {
    /// Builds the predicate for files given as (relative name, SHA-256 hex) pairs.
    #[must_use]
    pub fn from_files(files: &BTreeMap<String, String>) -> Self {
        ModelSigningPredicate {
            serialization: Serialization {
                method: "files".to_owned(),
                hash_type: "sha256".to_owned(),
                allow_symlinks: false,
                shard_size: None,
                ignore_paths: DEFAULT_IGNORED.iter().map(|p| (*p).to_owned()).collect(),
            },
            // A BTreeMap of strings iterates in byte order, which for UTF-8 is code point
            // order, the order the specification requires.
            resources: files
                .iter()
                .map(|(name, digest)| Resource {
                    name: name.clone(),
                    algorithm: "sha256".to_owned(),
                    digest: digest.clone(),
                })
                .collect(),
        }
    }

    /// Computes the root digest: SHA-256 over the raw bytes of every resource digest, in order.
    /// `None` when a digest is not hexadecimal.
    #[must_use]
    pub fn root_digest(&self) -> Option<String> {
        let mut hasher = Sha256::new();
        for resource in &self.resources {
            hasher.update(hex::decode(&resource.digest).ok()?);
        }
        Some(hex::encode(hasher.finalize()))
    }

    /// Builds the model subject: `name` (the directory's base name) and the root digest.
    #[must_use]
    pub fn model_subject(&self, name: &str) -> Option<Subject> {
        Some(Subject::sha256(name, &self.root_digest()?))
    }

    /// Rejects what this checker cannot reproduce: another method than `files`, another hash
    /// than SHA-256.
    pub fn check_supported(&self) -> Result<(), String> {
        if self.serialization.method != "files" {
            return Err(format!(
                "serialization method `{}` is not supported; only `files` (one digest per \
                 file) is checked",
                self.serialization.method
            ));
        }
        if self.serialization.hash_type != "sha256" {
            return Err(format!(
                "hash type `{}` is not supported; only `sha256` is checked",
                self.serialization.hash_type
            ));
        }
        if let Some(resource) = self.resources.iter().find(|r| r.algorithm != "sha256") {
            return Err(format!(
                "resource `{}` has algorithm `{}`; only `sha256` is checked",
                resource.name, resource.algorithm
            ));
        }
        Ok(())
    }

    /// Returns true when `name`, relative to the model directory, is excluded: at the top by
    /// default, or by an `ignore_paths` entry (the path itself or anything below it).
    #[must_use]
    pub fn is_ignored(&self, name: &str) -> bool {
        let top = name.split('/').next().unwrap_or(name);
        DEFAULT_IGNORED.contains(&top)
            || self.serialization.ignore_paths.iter().any(|ignored| {
                name == ignored
                    || name
                        .strip_prefix(ignored.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

/// The files of model directories, as the layers hold them.
#[derive(Debug, Default)]
pub struct DirectoryFiles {
    /// Regular files by absolute path: (SHA-256 hex, size).
    pub files: BTreeMap<String, (String, u64)>,
    /// Entries that are neither directories nor regular files, such as symbolic links, with
    /// what they are.
    pub others: BTreeMap<String, String>,
}

impl DirectoryFiles {
    /// Returns the entries under `root` (absolute, without a trailing `/`), keyed by their path
    /// relative to it.
    #[must_use]
    pub fn under(&self, root: &str) -> (BTreeMap<String, (String, u64)>, BTreeMap<String, String>) {
        let prefix = format!("{}/", root.trim_end_matches('/'));
        let relative = |path: &String| path.strip_prefix(&prefix).map(str::to_owned);
        let files = self
            .files
            .iter()
            .filter_map(|(path, v)| Some((relative(path)?, v.clone())))
            .collect();
        let others = self
            .others
            .iter()
            .filter_map(|(path, v)| Some((relative(path)?, v.clone())))
            .collect();
        (files, others)
    }
}

/// Hashes every regular file below some directories while the layers stream.
#[derive(Debug)]
pub(crate) struct DirectoryHasher {
    /// Directory prefixes relative to the image root, each ending in `/`.
    prefixes: Vec<String>,
}

impl DirectoryHasher {
    /// Creates a hasher for absolute directory paths.
    pub(crate) fn new(roots: &[String]) -> Self {
        DirectoryHasher {
            prefixes: roots
                .iter()
                .map(|root| format!("{}/", root.trim_matches('/')))
                .collect(),
        }
    }

    fn covers(&self, path: &str) -> bool {
        self.prefixes.iter().any(|prefix| path.starts_with(prefix))
    }

    /// Collects the files and other entries below the directories from a finished scan.
    pub(crate) fn collect(&self, scan: &Scan<(String, u64)>) -> DirectoryFiles {
        let hashed: BTreeMap<&str, &(String, u64)> =
            scan.facts().map(|(path, _, fact)| (path, fact)).collect();
        let mut found = DirectoryFiles::default();
        for (path, node) in scan.tree.iter() {
            if !self.covers(path) || node.is_dir() {
                continue;
            }
            let absolute = format!("/{path}");
            match hashed.get(path) {
                Some(fact) if node.is_file() => {
                    found.files.insert(absolute, (*fact).clone());
                }
                _ if node.kind == EntryKind::Symlink => {
                    found.others.insert(
                        absolute,
                        "a symbolic link, which is not followed".to_owned(),
                    );
                }
                _ => {
                    found.others.insert(
                        absolute,
                        format!("a {}, which cannot be hashed", node.kind.describe()),
                    );
                }
            }
        }
        found
    }
}

impl ContentInspector for DirectoryHasher {
    type Fact = (String, u64);

    fn wants(&self, entry: &EntryInfo<'_>) -> bool {
        self.covers(entry.path)
    }

    fn inspect(
        &self,
        _entry: &EntryInfo<'_>,
        content: &mut dyn Read,
    ) -> io::Result<Option<Self::Fact>> {
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 1 << 20];
        let mut size = 0u64;
        loop {
            match content.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&buffer[..n]);
                    size += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some((hex::encode(hasher.finalize()), size)))
    }
}

/// Compares a predicate with the files of the directory `root` in the image.
#[must_use]
pub fn compare_directory(
    predicate: &ModelSigningPredicate,
    root: &str,
    files: &DirectoryFiles,
) -> Vec<Mismatch> {
    let (present, others) = files.under(root);
    let absolute = |name: &str| format!("{}/{name}", root.trim_end_matches('/'));
    let mut mismatches = Vec::new();
    let mut listed = BTreeSet::new();
    for resource in &predicate.resources {
        if !listed.insert(resource.name.as_str()) {
            mismatches.push(Mismatch::ListedTwice {
                path: absolute(&resource.name),
            });
            continue;
        }
        match present.get(&resource.name) {
            None => mismatches.push(Mismatch::Missing {
                path: absolute(&resource.name),
            }),
            Some((sha256, _)) if *sha256 != resource.digest => {
                mismatches.push(Mismatch::DigestMismatch {
                    path: absolute(&resource.name),
                    listed: resource.digest.clone(),
                    actual: sha256.clone(),
                });
            }
            Some(_) => {}
        }
    }
    for (name, (sha256, _)) in &present {
        if !listed.contains(name.as_str()) && !predicate.is_ignored(name) {
            mismatches.push(Mismatch::Unlisted {
                path: absolute(name),
                sha256: sha256.clone(),
                layer: None,
            });
        }
    }
    for (name, what) in &others {
        if !predicate.is_ignored(name) {
            mismatches.push(Mismatch::Unchecked {
                path: absolute(name),
                reason: format!("in the model directory, but {what}"),
            });
        }
    }
    mismatches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
            .collect()
    }

    #[test]
    fn predicate_shape_and_order() {
        let predicate = ModelSigningPredicate::from_files(&files(&[
            ("z.bin", "02"),
            ("a/b.json", "01"),
            ("模型.bin", "03"),
        ]));
        let json = serde_json::to_value(&predicate).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "serialization": {
                    "method": "files",
                    "hash_type": "sha256",
                    "allow_symlinks": false,
                    "ignore_paths": [".git", ".gitattributes", ".github", ".gitignore"]
                },
                "resources": [
                    {"name": "a/b.json", "algorithm": "sha256", "digest": "01"},
                    {"name": "z.bin", "algorithm": "sha256", "digest": "02"},
                    {"name": "模型.bin", "algorithm": "sha256", "digest": "03"}
                ]
            })
        );
    }

    #[test]
    fn root_digest_hashes_raw_digest_bytes() {
        let predicate = ModelSigningPredicate::from_files(&files(&[("a", "0102"), ("b", "ff")]));
        let expected = hex::encode(Sha256::digest([0x01, 0x02, 0xff]));
        assert_eq!(predicate.root_digest().unwrap(), expected);
        let subject = predicate.model_subject("model").unwrap();
        assert_eq!(subject.name, "model");
        assert_eq!(subject.digest["sha256"], expected);
    }

    #[test]
    fn ignored_paths() {
        let mut predicate = ModelSigningPredicate::from_files(&files(&[("a", "01")]));
        predicate.serialization.ignore_paths = vec!["cache".to_owned()];
        assert!(predicate.is_ignored(".git/config"));
        assert!(predicate.is_ignored(".gitignore"));
        assert!(!predicate.is_ignored("sub/.git/config"));
        assert!(predicate.is_ignored("cache"));
        assert!(predicate.is_ignored("cache/x"));
        assert!(!predicate.is_ignored("cached"));
        assert!(!predicate.is_ignored("sub/cache"));
    }

    #[test]
    fn shards_are_rejected_by_name() {
        let mut predicate = ModelSigningPredicate::from_files(&files(&[("a", "01")]));
        predicate.serialization.method = "shards".to_owned();
        assert_eq!(
            predicate.check_supported().unwrap_err(),
            "serialization method `shards` is not supported; only `files` (one digest per file) \
             is checked"
        );
    }

    #[test]
    fn directory_comparison_names_files() {
        let predicate =
            ModelSigningPredicate::from_files(&files(&[("model.bin", "01"), ("gone.json", "02")]));
        let mut found = DirectoryFiles::default();
        found
            .files
            .insert("/m/model.bin".to_owned(), ("0f".to_owned(), 1));
        found
            .files
            .insert("/m/extra.bin".to_owned(), ("03".to_owned(), 1));
        found
            .files
            .insert("/m/.git/HEAD".to_owned(), ("04".to_owned(), 1));
        found
            .files
            .insert("/other/x.bin".to_owned(), ("05".to_owned(), 1));
        found.others.insert(
            "/m/link".to_owned(),
            "a symbolic link, which is not followed".to_owned(),
        );
        let mismatches: Vec<String> = compare_directory(&predicate, "/m", &found)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            mismatches,
            [
                "`/m/gone.json`: listed in the attestation, but not in the image",
                "`/m/model.bin`: the attestation lists sha256:01, but the file in the image hashes to sha256:0f",
                "`/m/extra.bin`: in the image (sha256:03) but not listed in the attestation",
                "`/m/link`: in the model directory, but a symbolic link, which is not followed",
            ]
        );
    }
}
