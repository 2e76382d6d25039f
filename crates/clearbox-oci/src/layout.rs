//! Choosing the image that an `oci:DIR[:TAG|:@DIGEST]` reference names among the entries of a
//! layout's `index.json`. The image reader and the signature store both use
//! [`choose_layout_image`], so they always agree on which image a reference means.
//!
//! - `:TAG` names the entries whose `org.opencontainers.image.ref.name` is `TAG`.
//! - `:@DIGEST` names the entry with that manifest or index digest.
//! - Without either, every entry counts except artifacts about an image. These are cosign's
//!   signatures, attestations and SBOMs (tags `sha256-<hex>.sig`, `.att`, `.sbom`, or the
//!   `kind` annotation `cosign save` writes), the referrers fallback index (tag
//!   `sha256-<hex>`), and OCI 1.1 referrers (an `artifactType` on the entry, or a `subject` in
//!   the manifest).
//!
//! Entries with the same digest count once. More than one distinct image is an error that
//! lists them, never a guess.

use std::fmt;

use serde::Deserialize;

use crate::digest::Digest;
use crate::spec::{
    ANNOTATION_REF_NAME, Descriptor, ImageIndex, is_index_media_type, is_manifest_media_type,
};

/// The annotation `cosign save` puts on each `index.json` entry instead of a tag.
pub const COSIGN_KIND_ANNOTATION: &str = "kind";

/// The reason no single image of a layout matches a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutChoiceError {
    /// No entry has the tag.
    TagNotFound {
        /// The tag looked for.
        tag: String,
        /// Every tag of the layout.
        tags: Vec<String>,
    },
    /// No entry has the digest.
    DigestNotFound {
        /// The digest looked for.
        digest: Digest,
    },
    /// The text after `:@` is not a digest.
    InvalidDigest {
        /// The text as given.
        text: String,
    },
    /// Entries of different digests have the same tag.
    AmbiguousTag {
        /// The tag.
        tag: String,
        /// The digests it names.
        digests: Vec<Digest>,
    },
    /// The layout contains no image, only artifacts about images or nothing.
    NoImage {
        /// Entries left out as artifacts.
        artifacts: usize,
    },
    /// Without a tag or digest, more than one image remains.
    Ambiguous {
        /// Each image: its tag, if any, and its digest.
        images: Vec<(Option<String>, Digest)>,
    },
    /// The chosen entry is neither an image manifest nor an index.
    NotAnImage {
        /// The entry's digest.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },
}

impl fmt::Display for LayoutChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutChoiceError::TagNotFound { tag, tags } => write!(
                f,
                "no image is tagged `{tag}`; tags present: {}",
                backticked_or_none(tags)
            ),
            LayoutChoiceError::DigestNotFound { digest } => {
                write!(f, "no entry of index.json has the digest {digest}")
            }
            LayoutChoiceError::InvalidDigest { text } => write!(
                f,
                "`@{text}` is not a valid digest; write `:@sha256:<64 hex digits>` to name an \
                 image by digest"
            ),
            LayoutChoiceError::AmbiguousTag { tag, digests } => write!(
                f,
                "{} different images are tagged `{tag}` ({}); name one as `:@DIGEST`",
                digests.len(),
                join(digests.iter().map(ToString::to_string))
            ),
            LayoutChoiceError::NoImage { artifacts: 0 } => {
                f.write_str("the layout contains no image")
            }
            LayoutChoiceError::NoImage { artifacts } => write!(
                f,
                "the layout contains no image, only {artifacts} signature, attestation or \
                 referrer entries"
            ),
            LayoutChoiceError::Ambiguous { images } => write!(
                f,
                "the layout contains {} images: {}; add `:TAG` or `:@DIGEST` to the reference to \
                 pick one",
                images.len(),
                join(images.iter().map(|(tag, digest)| match tag {
                    Some(tag) => format!("`{tag}` ({digest})"),
                    None => format!("{digest} (untagged)"),
                }))
            ),
            LayoutChoiceError::NotAnImage { digest, media_type } => write!(
                f,
                "the entry {digest} has media type `{media_type}`, which is neither an image \
                 manifest nor an index"
            ),
        }
    }
}

impl std::error::Error for LayoutChoiceError {}

/// Picks the `index.json` entry that `selector` names: `None`, a tag, or `@DIGEST`.
///
/// `read_manifest` returns the bytes of an entry's manifest, or `None` when they cannot be
/// read. Without a selector, each candidate is read to tell an OCI 1.1 referrer (a manifest
/// with `subject`) from an image, and one that cannot be read is kept as a candidate, so
/// that reading it later reports the problem.
pub fn choose_layout_image(
    index: &ImageIndex,
    selector: Option<&str>,
    read_manifest: &mut dyn FnMut(&Descriptor) -> Option<Vec<u8>>,
) -> Result<Descriptor, LayoutChoiceError> {
    let chosen = match selector {
        Some(text) if text.starts_with('@') => by_digest(index, &text[1..])?,
        Some(tag) => by_tag(index, tag)?,
        None => only_image(index, read_manifest)?,
    };
    if !is_manifest_media_type(&chosen.media_type) && !is_index_media_type(&chosen.media_type) {
        return Err(LayoutChoiceError::NotAnImage {
            digest: chosen.digest.clone(),
            media_type: chosen.media_type.clone(),
        });
    }
    Ok(chosen.clone())
}

fn by_digest<'a>(index: &'a ImageIndex, text: &str) -> Result<&'a Descriptor, LayoutChoiceError> {
    let digest: Digest = text.parse().map_err(|_| LayoutChoiceError::InvalidDigest {
        text: text.to_owned(),
    })?;
    index
        .manifests
        .iter()
        .find(|d| d.digest == digest)
        .ok_or(LayoutChoiceError::DigestNotFound { digest })
}

fn by_tag<'a>(index: &'a ImageIndex, tag: &str) -> Result<&'a Descriptor, LayoutChoiceError> {
    let mut tagged: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| ref_name(d) == Some(tag))
        .collect();
    dedup_by_digest(&mut tagged);
    match tagged.as_slice() {
        [one] => Ok(one),
        [] => Err(LayoutChoiceError::TagNotFound {
            tag: tag.to_owned(),
            tags: index
                .manifests
                .iter()
                .filter_map(|d| ref_name(d).map(str::to_owned))
                .collect(),
        }),
        many => Err(LayoutChoiceError::AmbiguousTag {
            tag: tag.to_owned(),
            digests: many.iter().map(|d| d.digest.clone()).collect(),
        }),
    }
}

fn only_image<'a>(
    index: &'a ImageIndex,
    read_manifest: &mut dyn FnMut(&Descriptor) -> Option<Vec<u8>>,
) -> Result<&'a Descriptor, LayoutChoiceError> {
    let mut images: Vec<&Descriptor> = Vec::new();
    let mut artifacts = 0;
    for entry in &index.manifests {
        if is_artifact_entry(entry) || names_subject(entry, read_manifest) {
            artifacts += 1;
        } else {
            images.push(entry);
        }
    }
    dedup_by_digest(&mut images);
    match images.as_slice() {
        [one] => Ok(one),
        [] => Err(LayoutChoiceError::NoImage { artifacts }),
        many => Err(LayoutChoiceError::Ambiguous {
            images: many
                .iter()
                .map(|d| (ref_name(d).map(str::to_owned), d.digest.clone()))
                .collect(),
        }),
    }
}

/// True for entries that the descriptor alone marks as artifacts about an image.
fn is_artifact_entry(entry: &Descriptor) -> bool {
    let cosign_tag = ref_name(entry).is_some_and(is_artifact_tag);
    let cosign_kind = matches!(
        entry
            .annotations
            .get(COSIGN_KIND_ANNOTATION)
            .map(String::as_str),
        Some("dev.cosignproject.cosign/sigs" | "dev.cosignproject.cosign/atts")
    );
    cosign_tag || cosign_kind || entry.artifact_type.is_some()
}

/// True for a manifest or index entry whose document has a `subject`: an OCI 1.1 referrer.
fn names_subject(
    entry: &Descriptor,
    read_manifest: &mut dyn FnMut(&Descriptor) -> Option<Vec<u8>>,
) -> bool {
    #[derive(Deserialize)]
    struct SubjectField {
        #[serde(default)]
        subject: Option<serde_json::Value>,
    }

    if !is_manifest_media_type(&entry.media_type) && !is_index_media_type(&entry.media_type) {
        return false;
    }
    read_manifest(entry)
        .and_then(|bytes| serde_json::from_slice::<SubjectField>(&bytes).ok())
        .is_some_and(|document| document.subject.is_some_and(|s| !s.is_null()))
}

/// Cosign's tags for artifacts about an image (`sha256-<hex>.sig`, `.att`, `.sbom`) and the
/// referrers fallback tag `sha256-<hex>` of the OCI distribution specification.
pub(crate) fn is_artifact_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let (hex, suffix) = rest.split_once('.').unwrap_or((rest, ""));
    hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(suffix, "" | "sig" | "att" | "sbom")
}

fn ref_name(entry: &Descriptor) -> Option<&str> {
    entry
        .annotations
        .get(ANNOTATION_REF_NAME)
        .map(String::as_str)
}

fn dedup_by_digest(entries: &mut Vec<&Descriptor>) {
    let mut seen = Vec::new();
    entries.retain(|d| {
        if seen.contains(&&d.digest) {
            false
        } else {
            seen.push(&d.digest);
            true
        }
    });
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn backticked_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        join(items.iter().map(|item| format!("`{item}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    #[test]
    fn artifact_tags() {
        assert!(is_artifact_tag(&format!("sha256-{HEX}.sig")));
        assert!(is_artifact_tag(&format!("sha256-{HEX}.att")));
        assert!(is_artifact_tag(&format!("sha256-{HEX}.sbom")));
        assert!(is_artifact_tag(&format!("sha256-{HEX}")));
        assert!(!is_artifact_tag(&format!("sha256-{HEX}.tar")));
        assert!(!is_artifact_tag("sha256-abc.sig"));
        assert!(!is_artifact_tag("latest"));
    }
}
