//! Adding annotations to an image manifest: the manifest is rewritten with the annotations
//! merged into its `annotations` object, stored under its new digest, and the reference is
//! moved to it.
//!
//! - `oci:DIR[:TAG|:@DIGEST]`: the new manifest is written to `blobs/sha256/` first, then
//!   `index.json` is replaced by renaming a complete new file over it, with the `digest` and
//!   `size` of the chosen entries changed. With a tag, only the entries of that tag move;
//!   otherwise every entry with the old digest moves. The old manifest stays in `blobs/`.
//! - `docker://REGISTRY/REPO:TAG`: the new manifest is pushed under the same tag. A reference by
//!   digest alone names no tag to move, so the manifest is pushed by its new digest only.
//!
//! Only OCI image manifests are rewritten. Every other field of the manifest, and of
//! `index.json`, is kept with its value and position; an annotation with the same key is
//! replaced. A new digest invalidates signatures and attestations made for the old one.
//!
//! NOTE: like the signature store's layout writes, the read-modify-rename of `index.json` takes
//! no lock, so two processes writing one layout at once can lose one update.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::debug;

use crate::file::read_regular_file;
use crate::layout::choose_layout_image;
use crate::reference::{ImageReference, RegistryReference};
use crate::registry::{RegistryClient, RegistryOptions};
use crate::spec::{ANNOTATION_REF_NAME, Descriptor, ImageIndex, MEDIA_TYPE_OCI_MANIFEST};
use crate::{Digest, OciError};

/// Largest manifest or `index.json` read for rewriting: 4 MiB, the limit registries apply to
/// manifests.
const MAX_DOCUMENT_BYTES: u64 = 4 << 20;

/// An error while adding annotations to a manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotateError {
    /// The image or its registry could not be read.
    #[error(transparent)]
    Oci(#[from] OciError),
    /// The reference names an image that cannot carry annotations here.
    #[error(
        "`{reference}`: annotations can be written only to an OCI layout (`oci:`) or a registry \
         (`docker://`); copy the image to one with `skopeo copy`"
    )]
    UnsupportedTransport {
        /// The reference as given.
        reference: String,
    },
    /// The manifest is not an OCI image manifest.
    #[error(
        "`{reference}` names a manifest of media type `{media_type}`, not an OCI image manifest \
         (`{MEDIA_TYPE_OCI_MANIFEST}`); name one platform's manifest by digest, or convert a \
         Docker manifest with `skopeo copy --format oci`"
    )]
    NotImageManifest {
        /// The reference as given.
        reference: String,
        /// The media type found.
        media_type: String,
    },
    /// The manifest or `index.json` is not a JSON object of the expected shape.
    #[error("{what} is malformed: {reason}")]
    Malformed {
        /// Which document.
        what: String,
        /// The problem.
        reason: String,
    },
    /// A file of the layout could not be written.
    #[error("failed to write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The change [`annotate_manifest`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotateOutcome {
    /// The manifest's location: `oci:DIR[:TAG]` or `docker://REGISTRY/REPO[:TAG]`.
    pub location: String,
    /// The digest of the manifest before.
    pub previous: Digest,
    /// The digest of the annotated manifest; equal to `previous` when nothing changed.
    pub digest: Digest,
    /// The size of the annotated manifest in bytes.
    pub size: u64,
    /// Keys that had another value before, with that value.
    pub replaced: BTreeMap<String, String>,
}

impl AnnotateOutcome {
    /// Returns true when the manifest already had every annotation, so nothing was written.
    #[must_use]
    pub fn is_unchanged(&self) -> bool {
        self.previous == self.digest
    }
}

/// Merges `annotations` into the manifest that `reference` names and moves the reference to
/// the result; see the module documentation.
pub fn annotate_manifest(
    reference: &ImageReference,
    annotations: &BTreeMap<String, String>,
    options: &RegistryOptions,
) -> Result<AnnotateOutcome, AnnotateError> {
    match reference {
        ImageReference::OciLayout { path, tag } => {
            annotate_layout(path, tag.as_deref(), reference, annotations)
        }
        ImageReference::Registry(target) => {
            let client = Arc::new(RegistryClient::new(options.clone())?);
            annotate_registry(&client, target, annotations)
        }
        other => Err(AnnotateError::UnsupportedTransport {
            reference: other.to_string(),
        }),
    }
}

/// The rewritten manifest and the keys whose values changed.
#[derive(Debug)]
struct Rewritten {
    bytes: Vec<u8>,
    replaced: BTreeMap<String, String>,
}

/// Merges `annotations` into the manifest JSON `bytes`, keeping every other field.
fn rewrite_manifest(
    bytes: &[u8],
    annotations: &BTreeMap<String, String>,
    what: &str,
) -> Result<Rewritten, AnnotateError> {
    let malformed = |reason: String| AnnotateError::Malformed {
        what: what.to_owned(),
        reason,
    };
    let mut document: Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
    let Some(object) = document.as_object_mut() else {
        return Err(malformed("it is not a JSON object".to_owned()));
    };
    let existing = object
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(existing) = existing.as_object_mut() else {
        return Err(malformed(
            "its `annotations` is not a JSON object".to_owned(),
        ));
    };

    // Merge, noting the keys whose value changes.
    let mut replaced = BTreeMap::new();
    let mut changed = false;
    for (key, value) in annotations {
        match existing.get(key) {
            Some(Value::String(old)) if old == value => continue,
            Some(old) => {
                let old = old.as_str().map_or_else(|| old.to_string(), str::to_owned);
                replaced.insert(key.clone(), old);
            }
            None => {}
        }
        existing.insert(key.clone(), Value::String(value.clone()));
        changed = true;
    }
    if !changed {
        return Ok(Rewritten {
            bytes: bytes.to_vec(),
            replaced,
        });
    }
    let bytes = serde_json::to_vec(&document).map_err(|e| malformed(e.to_string()))?;
    Ok(Rewritten { bytes, replaced })
}

fn annotate_layout(
    root: &Path,
    tag: Option<&str>,
    reference: &ImageReference,
    annotations: &BTreeMap<String, String>,
) -> Result<AnnotateOutcome, AnnotateError> {
    let location = reference.to_string();
    let index_path = root.join("index.json");

    // 1. The index entry the reference names, by the rule the image reader uses.
    let index_bytes = read_layout_file(&index_path)?;
    let mut document: Value =
        serde_json::from_slice(&index_bytes).map_err(|e| OciError::json("index.json", e))?;
    let index: ImageIndex = serde_json::from_value(document.clone())
        .map_err(|e| OciError::json(format!("index.json of {location}"), e))?;
    let mut read_manifest =
        |entry: &Descriptor| read_layout_file(&blob_path(root, &entry.digest)).ok();
    let entry = choose_layout_image(&index, tag, &mut read_manifest).map_err(|reason| {
        OciError::ImageNotInLayout {
            location: location.clone(),
            reason,
        }
    })?;
    if entry.media_type != MEDIA_TYPE_OCI_MANIFEST {
        return Err(AnnotateError::NotImageManifest {
            reference: location,
            media_type: entry.media_type,
        });
    }

    // 2. The manifest, checked against the entry, rewritten and written as a blob.
    let manifest = read_layout_file(&blob_path(root, &entry.digest))?;
    check_blob(&manifest, &entry, "manifest")?;
    let rewritten = rewrite_manifest(
        &manifest,
        annotations,
        &format!("manifest {}", entry.digest),
    )?;
    let digest = Digest::of(&rewritten.bytes);
    let outcome = AnnotateOutcome {
        location,
        previous: entry.digest.clone(),
        digest: digest.clone(),
        size: rewritten.bytes.len() as u64,
        replaced: rewritten.replaced,
    };
    if outcome.is_unchanged() {
        return Ok(outcome);
    }
    let path = blob_path(root, &digest);
    write_atomically(&path, &rewritten.bytes)?;

    // 3. The entries moved to it, in a new index.json renamed over the old one.
    let moves = |candidate: &Value| {
        candidate.get("digest").and_then(Value::as_str) == Some(entry.digest.to_string().as_str())
            && match tag {
                Some(tag) if !tag.starts_with('@') => {
                    candidate
                        .get("annotations")
                        .and_then(|a| a.get(ANNOTATION_REF_NAME))
                        .and_then(Value::as_str)
                        == Some(tag)
                }
                _ => true,
            }
    };
    let Some(entries) = document.get_mut("manifests").and_then(Value::as_array_mut) else {
        return Err(AnnotateError::Malformed {
            what: format!("`{}`", index_path.display()),
            reason: "it has no `manifests` array".to_owned(),
        });
    };
    for candidate in entries.iter_mut().filter(|c| moves(c)) {
        if let Some(object) = candidate.as_object_mut() {
            object.insert("digest".into(), digest.to_string().into());
            object.insert("size".into(), outcome.size.into());
        }
    }
    let bytes = serde_json::to_vec(&document).map_err(|e| AnnotateError::Malformed {
        what: format!("`{}`", index_path.display()),
        reason: e.to_string(),
    })?;
    write_atomically(&index_path, &bytes)?;
    debug!(layout = %root.display(), previous = %outcome.previous, %digest, "manifest annotated");
    Ok(outcome)
}

fn annotate_registry(
    client: &RegistryClient,
    target: &RegistryReference,
    annotations: &BTreeMap<String, String>,
) -> Result<AnnotateOutcome, AnnotateError> {
    let location = format!("docker://{target}");

    // 1. The manifest the reference names; the client checks its digest.
    let current = client.get_manifest(target)?;
    if current.media_type != MEDIA_TYPE_OCI_MANIFEST {
        return Err(AnnotateError::NotImageManifest {
            reference: location,
            media_type: current.media_type,
        });
    }

    // 2. Rewritten and pushed under the tag, or by digest when the reference has no tag.
    let rewritten = rewrite_manifest(
        &current.bytes,
        annotations,
        &format!("manifest {}", current.digest),
    )?;
    let digest = Digest::of(&rewritten.bytes);
    let outcome = AnnotateOutcome {
        location,
        previous: current.digest,
        digest: digest.clone(),
        size: rewritten.bytes.len() as u64,
        replaced: rewritten.replaced,
    };
    if outcome.is_unchanged() {
        return Ok(outcome);
    }
    let destination = RegistryReference {
        digest: if target.tag.is_some() {
            None
        } else {
            Some(digest.clone())
        },
        ..target.clone()
    };
    client.put_manifest(&destination, MEDIA_TYPE_OCI_MANIFEST, &rewritten.bytes)?;
    debug!(reference = %destination, previous = %outcome.previous, %digest, "manifest annotated");
    Ok(outcome)
}

fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join("blobs")
        .join(digest.algorithm())
        .join(digest.hex())
}

fn read_layout_file(path: &Path) -> Result<Vec<u8>, OciError> {
    read_regular_file(path, MAX_DOCUMENT_BYTES).map_err(|e| OciError::io(path, e))
}

/// Checks that `bytes` are the blob `descriptor` names.
fn check_blob(bytes: &[u8], descriptor: &Descriptor, what: &str) -> Result<(), OciError> {
    let actual = Digest::of(bytes);
    if actual != descriptor.digest {
        return Err(OciError::DigestMismatch {
            blob: format!("{what} blob"),
            expected: descriptor.digest.clone(),
            actual,
        });
    }
    if bytes.len() as u64 != descriptor.size {
        return Err(OciError::SizeMismatch {
            blob: format!("{what} blob {}", descriptor.digest),
            expected: descriptor.size,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it to
/// `path`, keeping the mode of a file being replaced (0644 before the umask for a new one).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AnnotateError> {
    let error = |source| AnnotateError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".clearbox-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut file = builder.tempfile_in(dir).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn rewrite_keeps_fields_and_order() {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"x"},"layers":[],"annotations":{"a":"1","b":"2"}}"#;
        let rewritten =
            rewrite_manifest(manifest, &annotations(&[("b", "3"), ("c", "4")]), "m").unwrap();
        assert_eq!(
            String::from_utf8(rewritten.bytes).unwrap(),
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"x"},"layers":[],"annotations":{"a":"1","b":"3","c":"4"}}"#
        );
        assert_eq!(rewritten.replaced, annotations(&[("b", "2")]));
    }

    #[test]
    fn rewrite_adds_annotations_object() {
        let manifest = br#"{"schemaVersion":2,"layers":[]}"#;
        let rewritten = rewrite_manifest(manifest, &annotations(&[("k", "v")]), "m").unwrap();
        assert_eq!(
            rewritten.bytes,
            br#"{"schemaVersion":2,"layers":[],"annotations":{"k":"v"}}"#
        );
    }

    #[test]
    fn rewrite_without_change_keeps_bytes() {
        let manifest = br#"{ "schemaVersion": 2, "annotations": {"k": "v"} }"#;
        let rewritten = rewrite_manifest(manifest, &annotations(&[("k", "v")]), "m").unwrap();
        assert_eq!(rewritten.bytes, manifest);
        assert!(rewritten.replaced.is_empty());
    }

    #[test]
    fn rewrite_rejects_non_object_annotations() {
        let error = rewrite_manifest(br#"{"annotations":[]}"#, &annotations(&[("k", "v")]), "m")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "m is malformed: its `annotations` is not a JSON object"
        );
    }
}
