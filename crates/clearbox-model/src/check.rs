//! Comparing the files a model attestation lists with the files the image's layers hold.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::inventory::ModelFileRecord;

/// One way in which an attestation and the image disagree. Every variant names the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Mismatch {
    /// The file's content hashes to another digest than the one listed.
    DigestMismatch {
        /// The file, absolute in the image or relative to the model directory.
        path: String,
        /// The SHA-256 the attestation lists.
        listed: String,
        /// The SHA-256 of the file in the image.
        actual: String,
    },
    /// The file's size differs from the size listed.
    SizeMismatch {
        /// The file.
        path: String,
        /// The size the attestation lists.
        listed: u64,
        /// The size in the image.
        actual: u64,
    },
    /// The file comes from another layer than the one listed.
    LayerMismatch {
        /// The file.
        path: String,
        /// The layer `diff_id` the attestation lists.
        listed: Option<String>,
        /// The layer that contains it in the image.
        actual: Option<String>,
    },
    /// The attestation lists a file the image does not hold.
    Missing {
        /// The file.
        path: String,
    },
    /// The image contains a weight file (or, for a model directory, any file) that the
    /// attestation does not list.
    Unlisted {
        /// The file.
        path: String,
        /// Its SHA-256.
        sha256: String,
        /// The layer that contains it.
        layer: Option<String>,
    },
    /// The attestation lists one file twice.
    ListedTwice {
        /// The file.
        path: String,
    },
    /// A file of the model directory cannot be checked, such as a symbolic link.
    Unchecked {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::DigestMismatch {
                path,
                listed,
                actual,
            } => write!(
                f,
                "`{path}`: the attestation lists sha256:{listed}, but the file in the image \
                 hashes to sha256:{actual}"
            ),
            Mismatch::SizeMismatch {
                path,
                listed,
                actual,
            } => write!(
                f,
                "`{path}`: the attestation lists {listed} bytes, but the file in the image has \
                 {actual}"
            ),
            Mismatch::LayerMismatch {
                path,
                listed,
                actual,
            } => write!(
                f,
                "`{path}`: the attestation lists layer {}, but the image holds the file in \
                 layer {}",
                listed.as_deref().unwrap_or("(none)"),
                actual.as_deref().unwrap_or("(none)")
            ),
            Mismatch::Missing { path } => write!(
                f,
                "`{path}`: listed in the attestation, but not in the image"
            ),
            Mismatch::Unlisted {
                path,
                sha256,
                layer,
            } => {
                write!(f, "`{path}`: in the image (sha256:{sha256}")?;
                if let Some(layer) = layer {
                    write!(f, ", layer {layer}")?;
                }
                write!(f, ") but not listed in the attestation")
            }
            Mismatch::ListedTwice { path } => {
                write!(f, "`{path}`: listed twice in the attestation")
            }
            Mismatch::Unchecked { path, reason } => write!(f, "`{path}`: {reason}"),
        }
    }
}

/// Compares the files a clearbox model predicate lists with the weight files of the image, by
/// absolute path: digest, size and layer of each, then the files on one side only.
#[must_use]
pub fn compare_files(listed: &[ModelFileRecord], actual: &[ModelFileRecord]) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    let in_image: BTreeMap<&str, &ModelFileRecord> =
        actual.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut seen = BTreeSet::new();
    for file in listed {
        if !seen.insert(file.path.as_str()) {
            mismatches.push(Mismatch::ListedTwice {
                path: file.path.clone(),
            });
            continue;
        }
        let Some(found) = in_image.get(file.path.as_str()) else {
            mismatches.push(Mismatch::Missing {
                path: file.path.clone(),
            });
            continue;
        };
        if file.sha256 != found.sha256 {
            mismatches.push(Mismatch::DigestMismatch {
                path: file.path.clone(),
                listed: file.sha256.clone(),
                actual: found.sha256.clone(),
            });
        }
        if file.size != found.size {
            mismatches.push(Mismatch::SizeMismatch {
                path: file.path.clone(),
                listed: file.size,
                actual: found.size,
            });
        }
        if file.layer != found.layer {
            mismatches.push(Mismatch::LayerMismatch {
                path: file.path.clone(),
                listed: file.layer.clone(),
                actual: found.layer.clone(),
            });
        }
    }
    for file in actual {
        if !seen.contains(file.path.as_str()) {
            mismatches.push(Mismatch::Unlisted {
                path: file.path.clone(),
                sha256: file.sha256.clone(),
                layer: file.layer.clone(),
            });
        }
    }
    mismatches
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn file(path: &str, sha256: &str, size: u64) -> ModelFileRecord {
        ModelFileRecord {
            path: path.to_owned(),
            layer: Some("sha256:aa".to_owned()),
            sha256: sha256.to_owned(),
            size,
            format: "safetensors".to_owned(),
            facts: Value::Null,
        }
    }

    #[test]
    fn same_files_match() {
        let files = [file("/m/a.safetensors", "01", 3)];
        assert_eq!(compare_files(&files, &files), []);
    }

    #[test]
    fn each_difference_names_its_file() {
        let listed = [
            file("/m/a.safetensors", "01", 3),
            file("/m/gone.onnx", "02", 4),
            file("/m/a.safetensors", "01", 3),
        ];
        let mut moved = file("/m/a.safetensors", "ff", 5);
        moved.layer = Some("sha256:bb".to_owned());
        let actual = [moved, file("/extra/b.gguf", "03", 6)];
        let found: Vec<String> = compare_files(&listed, &actual)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "`/m/a.safetensors`: the attestation lists sha256:01, but the file in the image hashes to sha256:ff",
                "`/m/a.safetensors`: the attestation lists 3 bytes, but the file in the image has 5",
                "`/m/a.safetensors`: the attestation lists layer sha256:aa, but the image holds the file in layer sha256:bb",
                "`/m/gone.onnx`: listed in the attestation, but not in the image",
                "`/m/a.safetensors`: listed twice in the attestation",
                "`/extra/b.gguf`: in the image (sha256:03, layer sha256:aa) but not listed in the attestation",
            ]
        );
    }
}
