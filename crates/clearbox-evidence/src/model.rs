//! `model-attestation.json`: the model attestations stored beside the image, verified with the
//! key and compared with the weight files in the image's layers. Also the governance
//! annotations that `image-metadata.json` shows.
//!
//! Both predicate types are checked: clearbox's `https://clearbox.dev/model/v1` (every weight
//! file of the image) and OpenSSF Model Signing `https://model_signing/signature/v1.0` (one
//! model directory). The file counts as produced only when at least one attestation verified
//! and every verified one agrees with the image.

use clearbox_attest::PublicKey;
use clearbox_attest::cosign::{self, with_causes};
use clearbox_catalog::Contents;
use clearbox_model::{
    AnnotationKeys, ModelError, ModelFormat, model_files, read_governance,
    verify_model_attestations,
};
use clearbox_oci::{Image, ImageReference, Progress, ReadOptions};
use serde_json::{Map, Value, json};

/// The contents of `model-attestation.json`, whether it contains verified evidence, the reason
/// when it does not, and the summary line.
pub(crate) struct ModelEvidence {
    pub(crate) document: Value,
    pub(crate) produced: bool,
    pub(crate) note: String,
    pub(crate) summary: String,
}

/// Verifies the image's model attestations with `key`, when given.
pub(crate) fn model_attestation(
    image: &Image,
    contents: &Contents,
    key: Option<&PublicKey>,
    read: &ReadOptions,
    progress: &dyn Progress,
) -> ModelEvidence {
    let not_produced = |status: &str, reason: String| ModelEvidence {
        document: json!({"status": status, "reason": reason}),
        produced: false,
        summary: format!("Model attestation: not verified ({reason})."),
        note: reason,
    };
    if !matches!(
        image.reference,
        ImageReference::Registry(_) | ImageReference::OciLayout { .. }
    ) {
        return not_produced(
            "not-verified",
            "this image source (an archive or a root filesystem) cannot carry attestations"
                .to_owned(),
        );
    }
    let Some(key) = key else {
        return not_produced(
            "not-verified",
            "no --key was given, so model attestations were not verified; attest with `clearbox \
             model-attest IMAGE --key KEY` and pass the public key"
                .to_owned(),
        );
    };
    let store = match cosign::open_store_for_image(image) {
        Ok(store) => store,
        Err(error) => {
            return not_produced(
                "not-verified",
                format!(
                    "the attestation store could not be opened: {}",
                    with_causes(&error)
                ),
            );
        }
    };

    // Each predicate type on its own: a missing one is not a failure of the other.
    let files = model_files(&contents.scan);
    let mut by_type = Map::new();
    let mut verified = 0usize;
    let mut disagreeing = 0usize;
    for format in [ModelFormat::Clearbox, ModelFormat::ModelSigning] {
        let result =
            verify_model_attestations(store.as_ref(), key, format, image, read, progress, &files);
        let entry = match result {
            Ok(verification) => {
                verified += verification.checked.len();
                disagreeing += verification.checked.iter().filter(|c| !c.passed()).count();
                let mut entry = verification.to_json();
                entry["status"] = if verification.passed() {
                    "verified".into()
                } else {
                    "mismatch".into()
                };
                entry
            }
            Err(error @ ModelError::NotFound { .. }) => {
                json!({"status": "not-found", "reason": error.to_string()})
            }
            Err(error) => json!({"status": "not-verified", "reason": with_causes(&error)}),
        };
        by_type.insert(format.predicate_type().to_owned(), entry);
    }

    let (status, reason, produced) = match (verified, disagreeing) {
        (0, _) => (
            "not-verified",
            "no model attestation verified with the key; see each predicate type below".to_owned(),
            false,
        ),
        (_, 0) => (
            "verified",
            format!(
                "{verified} model attestations verified with the key, and every file each lists \
                 matches the image's layers"
            ),
            true,
        ),
        (_, n) => (
            "mismatch",
            format!(
                "{n} of {verified} verified model attestations disagree with the image's layers; \
                 each mismatch is listed below"
            ),
            false,
        ),
    };
    ModelEvidence {
        document: json!({
            "status": status,
            "reason": reason,
            "key": key.fingerprint(),
            "image_weight_files": files.len(),
            "predicate_types": by_type,
        }),
        produced,
        summary: format!("Model attestation: {status} ({reason})."),
        note: if produced { String::new() } else { reason },
    }
}

/// Builds the `model_governance` field of `image-metadata.json`: the governance annotations
/// with the default prefixes, checked as a model card is.
pub(crate) fn governance(image: &Image) -> Value {
    let keys = AnnotationKeys::default();
    let annotations = image
        .manifest
        .as_ref()
        .map(|m| m.annotations.clone())
        .unwrap_or_default();
    match read_governance(&annotations, &keys) {
        None => json!({
            "status": "absent",
            "reason": format!(
                "the manifest has no `{}*` annotations; record a model card with `clearbox \
                 annotate IMAGE --model-card FILE`",
                keys.model_prefix()
            ),
        }),
        Some(record) => {
            let mut value = record.to_json();
            value["status"] = if record.problems.is_empty() {
                "valid".into()
            } else {
                "invalid".into()
            };
            value
        }
    }
}
