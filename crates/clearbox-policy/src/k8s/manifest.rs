//! Reading manifests: files and directories, multi-document YAML, JSON, and `List` objects.
//!
//! A path named on the command line is read whatever its extension. A directory is walked
//! recursively for `.yaml`, `.yml` and `.json` files in sorted order, so that output is
//! deterministic. Symbolic links to files are read; symbolic links to directories are not
//! followed, which rules out cycles. Documents that are not Kubernetes objects (no `kind`, or not a
//! mapping) are skipped and logged at debug level.

use std::path::{Path, PathBuf};

use super::yaml::{Location, Node, SyntaxError, Value, parse_documents};

/// An error that stops manifests from being read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum K8sError {
    /// A path on the command line does not exist.
    #[error("`{}` does not exist", path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not UTF-8 text.
    #[error("`{}` is not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A file is not valid YAML or JSON.
    #[error("invalid YAML in `{}`: {message}", path.display())]
    InvalidYaml {
        /// The file.
        path: PathBuf,
        /// Location where the parser stopped, when it reports one.
        location: Option<Location>,
        /// The parser's message, with the line and column.
        message: String,
    },
}

/// A manifest file and its non-empty documents.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The path as it was found: as given, or joined under a directory given.
    pub path: PathBuf,
    /// The documents, in file order.
    pub documents: Vec<Node>,
}

/// Extensions of the files read from directories.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Lists the files to read: each file named, and the manifest files under each directory named.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, K8sError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                K8sError::NotFound { path: path.clone() }
            } else {
                K8sError::Read {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        if metadata.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Appends the manifest files under `dir`, depth first, each directory's entries sorted by name.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), K8sError> {
    let read_error = |source| K8sError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(read_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type().map_err(|source| K8sError::Read {
            path: path.clone(),
            source,
        })?;
        if file_type.is_dir() {
            walk(&path, files)?;
        } else if !has_manifest_extension(&path) {
            tracing::trace!(path = %path.display(), "not a manifest file name");
        } else if file_type.is_symlink() && path.is_dir() {
            tracing::debug!(path = %path.display(), "symbolic link to a directory not followed");
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    })
}

/// Reads and parses one file.
pub fn read_file(path: &Path) -> Result<ManifestFile, K8sError> {
    let bytes = std::fs::read(path).map_err(|source| K8sError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| K8sError::NotUtf8 {
        path: path.to_owned(),
    })?;
    parse_manifest(path, &text)
}

/// Parses manifest text that came from `path`.
pub fn parse_manifest(path: &Path, text: &str) -> Result<ManifestFile, K8sError> {
    let documents = parse_documents(text).map_err(|SyntaxError { location, message }| {
        K8sError::InvalidYaml {
            path: path.to_owned(),
            location,
            message,
        }
    })?;
    Ok(ManifestFile {
        path: path.to_owned(),
        documents,
    })
}

/// The Kubernetes objects of a file: every document that is a mapping with a `kind`, with the
/// items of `List` objects (`v1/List`, `PodList` and the like) in place of the list.
#[must_use]
pub fn objects(file: &ManifestFile) -> Vec<&Node> {
    let mut objects = Vec::new();
    for document in &file.documents {
        push_objects(file, document, &mut objects);
    }
    objects
}

fn push_objects<'a>(file: &ManifestFile, node: &'a Node, objects: &mut Vec<&'a Node>) {
    let kind = node.get("kind").and_then(Node::as_str);
    let Some(kind) = kind.filter(|_| matches!(node.value, Value::Mapping(_))) else {
        tracing::debug!(
            file = %file.path.display(),
            line = node.location.line,
            "skipped a document that is not a Kubernetes object (no `kind`)"
        );
        return;
    };
    match node.get("items").map(|items| &items.value) {
        Some(Value::Sequence(items)) if kind.ends_with("List") => {
            for item in items {
                push_objects(file, item, objects);
            }
        }
        _ => objects.push(node),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ManifestFile {
        parse_manifest(Path::new("test.yaml"), text).unwrap()
    }

    fn kinds(file: &ManifestFile) -> Vec<&str> {
        objects(file)
            .iter()
            .map(|o| o.get("kind").unwrap().as_str().unwrap())
            .collect()
    }

    #[test]
    fn lists_expand_to_their_items() {
        let file = parse(
            "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n- kind: DeploymentList\n  items:\n  - kind: Deployment\n",
        );
        assert_eq!(kinds(&file), ["Pod", "Deployment"]);
    }

    #[test]
    fn documents_without_kind_are_skipped() {
        let file = parse("replicas: 3\n---\n- a\n---\nkind: Service\n");
        assert_eq!(kinds(&file), ["Service"]);
    }

    #[test]
    fn invalid_yaml_names_file_and_line() {
        let error = parse_manifest(Path::new("bad.yaml"), "kind: Pod\nspec: [\n").unwrap_err();
        let K8sError::InvalidYaml { path, location, .. } = &error else {
            panic!("expected InvalidYaml, got {error:?}");
        };
        assert_eq!(path, Path::new("bad.yaml"));
        assert!(location.is_some());
        assert!(error.to_string().contains("`bad.yaml`"), "{error}");
    }

    #[test]
    fn error_messages() {
        let errors = [
            K8sError::NotFound {
                path: "a.yaml".into(),
            },
            K8sError::Read {
                path: "b".into(),
                source: std::io::Error::other("denied"),
            },
            K8sError::NotUtf8 {
                path: "c.yaml".into(),
            },
            K8sError::InvalidYaml {
                path: "d.yaml".into(),
                location: None,
                message: "unclosed bracket at line 1, column 4".into(),
            },
        ];
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "`a.yaml` does not exist",
                "failed to read `b`",
                "`c.yaml` is not UTF-8 text",
                "invalid YAML in `d.yaml`: unclosed bracket at line 1, column 4",
            ]
        );
    }
}
