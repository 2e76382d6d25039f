//! An OCI image layout directory as an artifact store, in the form `cosign save` writes and
//! `cosign verify --local-image` reads, without losing the layout's own tags.
//!
//! `cosign save` (cosign 2.5) writes one image per layout and marks the `index.json` entries
//! with a `kind` annotation instead of a tag: `dev.cosignproject.cosign/image` (or `/imageIndex`)
//! for the image, `/sigs` for the signature manifest, `/atts` for the attestation manifest.
//! cosign's layout reader takes the first entry of each kind. So a manifest written here gets:
//!
//! - `org.opencontainers.image.ref.name` = cosign's tag (`sha256-<hex>.sig`, `.att`, `.sbom`),
//!   which skopeo, oras and clearbox see as an ordinary tag; and
//! - `kind` = `/sigs` or `/atts`, with `kind` = `/image` or `/imageIndex` added to the image's
//!   own entry (its `ref.name` stays), when the layout has no image marked yet or the marked image
//!   is this one. A layout whose marked image is another one gets only the tag, because cosign
//!   reads signatures of the marked image alone.
//!
//! Reading accepts both: a cosign tag is looked up by `ref.name` first, then by `kind` when the
//! marked image is the subject.
//!
//! Writes put every blob in place first (a temporary file renamed to `blobs/sha256/<hex>`),
//! then replace `index.json` by renaming a complete new file over it, so a reader sees the old
//! index or the new one and never a manifest whose blobs are missing. A manifest replaced under
//! a tag stays in `blobs/`, unreferenced.
//!
//! NOTE: two processes writing the same layout at once can lose one's `index.json` update,
//! because the read-modify-rename takes no lock.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clearbox_oci::spec::{
    ANNOTATION_REF_NAME, Descriptor, ImageIndex, is_index_media_type, is_manifest_media_type,
};
use clearbox_oci::{
    Digest, FileProblem, RegistryReference, choose_layout_image, read_regular_file,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::{debug, warn};

use super::{
    ArtifactStore, ArtifactWrite, FoundReferrer, MAX_MANIFEST_BYTES, Placement, ReferrerSource,
    StoreError, StoredManifest, Subject, check_digest,
};
use crate::cosign::format::{
    ArtifactKind, LAYOUT_KIND_ANNOTATION, LAYOUT_KIND_IMAGE, LAYOUT_KIND_IMAGE_INDEX,
    MANIFEST_MEDIA_TYPE,
};

/// An OCI image layout directory and the image in it that artifacts are about.
#[derive(Debug)]
pub struct LayoutStore {
    root: PathBuf,
    subject: Subject,
    /// The subject entry's `org.opencontainers.image.ref.name`, if any.
    ref_name: Option<String>,
}

#[derive(Deserialize)]
struct SubjectField {
    #[serde(default)]
    subject: Option<Descriptor>,
}

impl LayoutStore {
    /// Opens the layout at `root` for the image that `tag` names: its `ref.name`, or `@DIGEST`
    /// for the entry with that digest. Without a tag, the only entry that is not a cosign
    /// artifact or an OCI 1.1 referrer, by the rule the image reader uses
    /// ([`choose_layout_image`]). The image's manifest is read and checked against its digest
    /// and size.
    pub fn open(root: &Path, tag: Option<&str>) -> Result<LayoutStore, StoreError> {
        let location = layout_location(root, tag);
        check_layout_marker(root, &location)?;
        let (_, index) = read_index_document(root)?;
        let mut read_manifest = |entry: &Descriptor| {
            read_blob_file(root, &entry.digest, MAX_MANIFEST_BYTES, "manifest").ok()
        };
        let entry = choose_layout_image(&index, tag, &mut read_manifest).map_err(|reason| {
            StoreError::ImageNotFound {
                location: location.clone(),
                reason: reason.to_string(),
            }
        })?;
        LayoutStore::with_subject(root, &entry, &location)
    }

    /// Opens the layout at `root` for the `index.json` entry with `digest`, the image that a
    /// reader resolved `oci:ROOT[:TAG]` to. Fails when no entry has that digest any more,
    /// because then the layout changed after the image was read.
    pub fn open_at(
        root: &Path,
        tag: Option<&str>,
        digest: &Digest,
    ) -> Result<LayoutStore, StoreError> {
        let location = layout_location(root, tag);
        check_layout_marker(root, &location)?;
        let (_, index) = read_index_document(root)?;

        // Prefer the entry that also has the tag, for its `ref.name`.
        let with_digest = |d: &&Descriptor| d.digest == *digest;
        let entry = index
            .manifests
            .iter()
            .filter(with_digest)
            .find(|d| {
                tag.is_some() && d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) == tag
            })
            .or_else(|| index.manifests.iter().find(with_digest))
            .ok_or_else(|| StoreError::ImageNotFound {
                location: location.clone(),
                reason: format!(
                    "index.json no longer lists the image {digest} that was read; the layout \
                     changed meanwhile, so run the command again"
                ),
            })?;
        LayoutStore::with_subject(root, entry, &location)
    }

    /// Opens the layout at `root` for the manifest with `digest` that an index of the layout
    /// names, such as a platform's manifest: signatures made for that manifest name its digest,
    /// which `index.json` need not list. The manifest blob is read and checked against `digest`.
    pub fn open_manifest(
        root: &Path,
        tag: Option<&str>,
        digest: &Digest,
    ) -> Result<LayoutStore, StoreError> {
        let location = layout_location(root, tag);
        check_layout_marker(root, &location)?;
        let bytes = read_blob_file(root, digest, MAX_MANIFEST_BYTES, "manifest")?;
        let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| clearbox_oci::spec::MEDIA_TYPE_OCI_MANIFEST.to_owned());
        let entry = Descriptor {
            media_type,
            digest: digest.clone(),
            size: bytes.len() as u64,
            annotations: std::collections::BTreeMap::new(),
            platform: None,
            artifact_type: None,
        };
        LayoutStore::with_subject(root, &entry, &location)
    }

    /// The store for the index entry `entry`, after checking that its manifest is intact:
    /// signatures will name its digest.
    fn with_subject(
        root: &Path,
        entry: &Descriptor,
        location: &str,
    ) -> Result<LayoutStore, StoreError> {
        let store = LayoutStore {
            root: root.to_owned(),
            ref_name: entry.annotations.get(ANNOTATION_REF_NAME).cloned(),
            subject: Subject {
                digest: entry.digest.clone(),
                media_type: entry.media_type.clone(),
                size: entry.size,
            },
        };
        let manifest = store.manifest(&store.subject.digest)?;
        if manifest.bytes.len() as u64 != store.subject.size {
            return Err(StoreError::InvalidLayout {
                location: location.to_owned(),
                reason: format!(
                    "the manifest {} is {} bytes but index.json says {}",
                    store.subject.digest,
                    manifest.bytes.len(),
                    store.subject.size
                ),
            });
        }
        debug!(layout = %root.display(), digest = %store.subject.digest, "layout store opened");
        Ok(store)
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.root, digest)
    }

    /// Writes a blob, unless a file of that name contains exactly these bytes already. A file
    /// with other content (truncated, corrupted) is replaced.
    fn write_blob(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        match read_regular_file(&path, bytes.len() as u64) {
            Ok(existing) if Digest::of(&existing) == digest => return Ok(()),
            Ok(_) => {
                warn!(path = %path.display(), "blob content does not match its name; writing it again");
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                warn!(path = %path.display(), %error, "blob unreadable; writing it again");
            }
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            action: "create",
            path: dir.to_owned(),
            source,
        })?;
        write_atomically(dir, &path, bytes)
    }

    /// Applies a write's placement to the entries of `index.json`.
    fn place(&self, manifests: &mut Vec<Value>, write: &ArtifactWrite, digest: &Digest) {
        let subject = self.subject.digest.to_string();
        let mut entry = Map::new();
        entry.insert("mediaType".into(), MANIFEST_MEDIA_TYPE.into());
        entry.insert("digest".into(), digest.to_string().into());
        entry.insert("size".into(), write.manifest.len().into());
        match write.placement {
            Placement::LegacyTag(kind) => {
                let tag = kind.legacy_tag(&self.subject.digest);
                let marked = marked_image(manifests);
                let subject_listed = manifests.iter().any(|e| entry_digest_is(e, &subject));
                let layout_kind = kind
                    .layout_kind()
                    .filter(|_| subject_listed && marked.as_ref().is_none_or(|m| *m == subject));

                // Mark the image for cosign, unless it is marked already.
                if layout_kind.is_some() && marked.is_none() {
                    let image_kind = if is_index_media_type(&self.subject.media_type) {
                        LAYOUT_KIND_IMAGE_INDEX
                    } else {
                        LAYOUT_KIND_IMAGE
                    };
                    if let Some(image) = manifests.iter_mut().find(|e| entry_digest_is(e, &subject))
                    {
                        set_annotation(image, LAYOUT_KIND_ANNOTATION, image_kind);
                    }
                }

                // Replace what the tag (and the kind) named before.
                manifests.retain(|e| {
                    annotation(e, ANNOTATION_REF_NAME) != Some(tag.as_str())
                        && (layout_kind.is_none()
                            || annotation(e, LAYOUT_KIND_ANNOTATION) != layout_kind)
                });
                let mut annotations = Map::new();
                if let Some(layout_kind) = layout_kind {
                    annotations.insert(LAYOUT_KIND_ANNOTATION.into(), layout_kind.into());
                }
                annotations.insert(ANNOTATION_REF_NAME.into(), tag.into());
                entry.insert("annotations".into(), Value::Object(annotations));
                manifests.push(Value::Object(entry));
            }
            Placement::Referrer(_) => {
                if !manifests
                    .iter()
                    .any(|e| entry_digest_is(e, &digest.to_string()))
                {
                    entry.insert("artifactType".into(), write.artifact_type.clone().into());
                    manifests.push(Value::Object(entry));
                }
            }
        }
    }
}

impl ArtifactStore for LayoutStore {
    fn location(&self) -> String {
        format!("oci:{}", self.root.display())
    }

    fn subject(&self) -> &Subject {
        &self.subject
    }

    fn default_identity(&self) -> Option<String> {
        let name = self.ref_name.as_deref()?;
        let (host, _) = name.split_once('/')?;
        if !(host.contains(['.', ':']) || host == "localhost") {
            return None;
        }
        let reference: RegistryReference = name.parse().ok()?;
        Some(format!("{}/{}", reference.registry, reference.repository))
    }

    fn has_referrers_api(&self) -> Result<bool, StoreError> {
        Ok(false)
    }

    fn tagged(&self, tag: &str) -> Result<Option<StoredManifest>, StoreError> {
        let index = read_index(&self.root)?;
        let subject = self.subject.digest.to_string();

        // By tag first; then cosign's `kind` entry when the marked image is the subject.
        let by_tag = index
            .iter()
            .find(|e| annotation(e, ANNOTATION_REF_NAME) == Some(tag));
        let by_kind = || {
            let kind = ArtifactKind::of_legacy_tag(tag, &self.subject.digest)?.layout_kind()?;
            if marked_image(&index)? != subject {
                return None;
            }
            index
                .iter()
                .find(|e| annotation(e, LAYOUT_KIND_ANNOTATION) == Some(kind))
        };
        let Some(entry) = by_tag.or_else(by_kind) else {
            return Ok(None);
        };
        let digest = entry_digest(entry, &self.location())?;
        self.manifest(&digest).map(Some)
    }

    fn manifest(&self, digest: &Digest) -> Result<StoredManifest, StoreError> {
        let bytes = read_blob_file(&self.root, digest, MAX_MANIFEST_BYTES, "manifest")?;
        Ok(StoredManifest {
            digest: digest.clone(),
            bytes,
        })
    }

    fn blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError> {
        read_blob_file(&self.root, digest, max, "blob")
    }

    fn referrers(&self) -> Result<Vec<FoundReferrer>, StoreError> {
        let index = read_index(&self.root)?;
        let mut found = Vec::new();
        for entry in index {
            let descriptor: Descriptor =
                serde_json::from_value(entry).map_err(|e| StoreError::InvalidLayout {
                    location: self.location(),
                    reason: format!("invalid index.json entry: {e}"),
                })?;
            if descriptor.digest == self.subject.digest
                || !is_manifest_media_type(&descriptor.media_type)
            {
                continue;
            }
            let manifest = self.manifest(&descriptor.digest)?;
            let names_subject = serde_json::from_slice::<SubjectField>(&manifest.bytes)
                .ok()
                .and_then(|m| m.subject)
                .is_some_and(|s| s.digest == self.subject.digest);
            if names_subject {
                found.push(FoundReferrer {
                    descriptor,
                    source: ReferrerSource::LayoutIndex,
                });
            }
        }
        Ok(found)
    }

    fn write(&self, write: &ArtifactWrite) -> Result<Digest, StoreError> {
        // 1. Blobs, then the manifest blob.
        for blob in &write.blobs {
            self.write_blob(blob)?;
        }
        self.write_blob(&write.manifest)?;
        let digest = Digest::of(&write.manifest);

        // 2. A new index.json with the entry, renamed over the old one.
        // NOTE: nothing locks the layout, so two processes signing it at once can each read
        // the old index.json and the later rename drops the other's entry, while both report
        // success. Sign one layout from one process at a time.
        let path = self.root.join("index.json");
        let (mut document, _) = read_index_document(&self.root)?;
        let Some(manifests) = document.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(invalid_index(&self.root, "it has no `manifests` array"));
        };
        self.place(manifests, write, &digest);
        let bytes =
            serde_json::to_vec(&document).map_err(|e| invalid_index(&self.root, &e.to_string()))?;
        write_atomically(&self.root, &path, &bytes)?;
        debug!(layout = %self.root.display(), %digest, "artifact manifest written to the layout");
        Ok(digest)
    }
}

fn layout_location(root: &Path, tag: Option<&str>) -> String {
    match tag {
        Some(tag) => format!("oci:{}:{tag}", root.display()),
        None => format!("oci:{}", root.display()),
    }
}

fn invalid_index(root: &Path, reason: &str) -> StoreError {
    StoreError::InvalidLayout {
        location: layout_location(root, None),
        reason: format!("invalid index.json: {reason}"),
    }
}

/// Fails unless `root` has the `oci-layout` marker file.
fn check_layout_marker(root: &Path, location: &str) -> Result<(), StoreError> {
    if root.join("oci-layout").is_file() {
        return Ok(());
    }
    Err(StoreError::InvalidLayout {
        location: location.to_owned(),
        reason: "not an OCI image layout: the `oci-layout` file is missing".to_owned(),
    })
}

/// The path of a blob in the layout at `root`.
fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join("blobs")
        .join(digest.algorithm())
        .join(digest.hex())
}

/// Reads a regular file of at most `max` bytes.
fn read_file(path: &Path, max: u64, what: impl FnOnce() -> String) -> Result<Vec<u8>, StoreError> {
    read_regular_file(path, max).map_err(|source| match FileProblem::of(&source) {
        Some(&FileProblem::TooLarge { size, limit }) => StoreError::TooLarge {
            what: what(),
            size,
            limit,
        },
        _ => StoreError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        },
    })
}

/// Reads a blob file of the layout at `root`, of at most `max` bytes, and checks its digest.
fn read_blob_file(
    root: &Path,
    digest: &Digest,
    max: u64,
    what: &str,
) -> Result<Vec<u8>, StoreError> {
    let path = blob_path(root, digest);
    let bytes = read_file(&path, max, || format!("{what} {digest}"))?;
    check_digest(|| format!("{what} `{}`", path.display()), digest, &bytes)?;
    Ok(bytes)
}

/// Reads `index.json`: as JSON keeping every field, for rewriting, and as a checked index.
fn read_index_document(root: &Path) -> Result<(Value, ImageIndex), StoreError> {
    let path = root.join("index.json");
    let bytes = read_file(&path, MAX_MANIFEST_BYTES, || {
        format!("`{}`", path.display())
    })?;
    let document: Value =
        serde_json::from_slice(&bytes).map_err(|e| invalid_index(root, &e.to_string()))?;
    let index = serde_json::from_value::<ImageIndex>(document.clone())
        .map_err(|e| invalid_index(root, &e.to_string()))?;
    Ok((document, index))
}

/// The entries of `index.json`.
fn read_index(root: &Path) -> Result<Vec<Value>, StoreError> {
    let (document, _) = read_index_document(root)?;
    Ok(document
        .get("manifests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The digest of the entry `cosign save` marked as the image, if any.
fn marked_image(index: &[Value]) -> Option<String> {
    index
        .iter()
        .find(|entry| {
            matches!(
                annotation(entry, LAYOUT_KIND_ANNOTATION),
                Some(LAYOUT_KIND_IMAGE | LAYOUT_KIND_IMAGE_INDEX)
            )
        })
        .and_then(|entry| entry.get("digest").and_then(Value::as_str))
        .map(str::to_owned)
}

fn entry_digest_is(entry: &Value, digest: &str) -> bool {
    entry.get("digest").and_then(Value::as_str) == Some(digest)
}

fn annotation<'a>(entry: &'a Value, key: &str) -> Option<&'a str> {
    entry.get("annotations")?.get(key)?.as_str()
}

fn set_annotation(entry: &mut Value, key: &str, value: &str) {
    let Some(object) = entry.as_object_mut() else {
        return;
    };
    let annotations = object
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(key.to_owned(), value.into());
    }
}

fn entry_digest(entry: &Value, location: &str) -> Result<Digest, StoreError> {
    entry
        .get("digest")
        .and_then(Value::as_str)
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| StoreError::InvalidLayout {
            location: location.to_owned(),
            reason: "an index.json entry has no valid `digest`".to_owned(),
        })
}

/// Writes `bytes` to a temporary file in `dir`, flushes it to disk and renames it to `path`.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |action, source| StoreError::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".clearbox-");
    // Keep the mode of the file being replaced. A new file gets 0644 (before the umask), as
    // files that other tools write into layouts do, instead of the temporary file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut file = builder
        .tempfile_in(dir)
        .map_err(|e| io("create a temporary file for", e))?;
    file.write_all(bytes).map_err(|e| io("write", e))?;
    file.as_file().sync_all().map_err(|e| io("write", e))?;
    file.persist(path)
        .map_err(|e| io("rename a file to", e.error))?;
    Ok(())
}
