//! Looking for signatures and provenance stored beside the image.
//!
//! This build does not verify signatures or attestations. It reports what it found and that
//! nothing was verified, so the package never claims a check it did not make.

use clearbox_oci::{Image, ImageReference};
use std::fmt::Write as _;

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Search {
    /// Places that were looked at.
    pub(crate) searched: Vec<String>,
    /// Cosign-style signature tags (`sha256-<hex>.sig`) present for this image.
    pub(crate) signature_tags: Vec<String>,
    /// Cosign-style attestation tags (`sha256-<hex>.att`) present for this image.
    pub(crate) attestation_tags: Vec<String>,
}

/// Searches the image's own source for cosign signature and attestation tags.
pub(crate) fn search(image: &Image) -> Search {
    let mut result = Search {
        searched: Vec::new(),
        signature_tags: Vec::new(),
        attestation_tags: Vec::new(),
    };
    let Some(digest) = &image.manifest_digest else {
        result.searched.push(
            "nothing: the source stores no image manifest, so there is no digest that a signature \
             could name"
                .to_owned(),
        );
        return result;
    };
    let prefix = format!("sha256-{}", digest.hex());
    match &image.reference {
        ImageReference::OciLayout { .. } | ImageReference::OciArchive { .. } => {
            result.searched.push(format!(
                "tags `{prefix}.sig` and `{prefix}.att` in the index of {}, the tag names cosign uses for signatures and attestations",
                image.reference
            ));
        }
        other => result.searched.push(format!("tags of {other}")),
    }
    for tag in &image.source_tags {
        if *tag == format!("{prefix}.sig") {
            result.signature_tags.push(tag.clone());
        } else if *tag == format!("{prefix}.att") {
            result.attestation_tags.push(tag.clone());
        }
    }
    result
}

/// Renders `signature-verification.txt`.
pub(crate) fn signature_report(image: &Image, search: &Search) -> String {
    let digest = image
        .manifest_digest
        .as_ref()
        .map_or_else(|| "(no manifest digest)".to_owned(), ToString::to_string);
    let mut out = String::new();
    out.push_str("Signature verification\n======================\n\n");
    let _ = writeln!(out, "Image:            {}", image.reference);
    let _ = writeln!(out, "Manifest digest:  {digest}");
    out.push_str("Result:           NOT VERIFIED\n\n");
    out.push_str("Searched:\n");
    for place in &search.searched {
        let _ = writeln!(out, "  - {place}");
    }
    out.push('\n');
    if search.signature_tags.is_empty() {
        out.push_str("Found: no signatures.\n\n");
        out.push_str(
            "No signature was found for this image, so nothing proves who published it or that it\n\
             is unchanged since. Sign it (for example with cosign) and write the package again.\n",
        );
    } else {
        out.push_str("Found, NOT verified:\n");
        for tag in &search.signature_tags {
            let _ = writeln!(out, "  - {tag}");
        }
        out.push_str(
            "\nThis version of clearbox finds cosign signature tags but does not verify them, so\n\
             they prove nothing here. Verify them with `cosign verify --key KEY` meanwhile.\n",
        );
    }
    out
}

/// Renders `slsa-provenance.json`: no provenance is ever reported that was not verified.
pub(crate) fn provenance_report(image: &Image, search: &Search) -> serde_json::Value {
    let status = if search.attestation_tags.is_empty() {
        "not-found"
    } else {
        "found-not-verified"
    };
    let reason = if search.attestation_tags.is_empty() {
        "no SLSA provenance attestation was found for this image"
    } else {
        "attestations exist beside the image, but this version of clearbox does not verify \
         them, so their content is not reported as provenance"
    };
    serde_json::json!({
        "status": status,
        "reason": reason,
        "image": image.reference.to_string(),
        "manifest_digest": image.manifest_digest.as_ref().map(ToString::to_string),
        "searched": search.searched,
        "attestation_tags": search.attestation_tags,
        "provenance": null,
    })
}
