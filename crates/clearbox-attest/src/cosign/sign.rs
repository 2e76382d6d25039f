//! Signing an image as `cosign sign --key` does: a simple signing payload naming the image's
//! digest, signed with the key, stored as a layer with the signature in its
//! `dev.cosignproject.cosign/signature` annotation.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::attach::{AttachOutcome, Merge, NewArtifact, attach};
use super::error::CosignError;
use super::format::{
    ArtifactDescriptor, ArtifactKind, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
use super::referrers::ReferrersMode;
use super::store::ArtifactStore;
use crate::keys::{PublicKey, SigningKey};
use crate::simple_signing::{SignedPayload, SimpleSigning};

/// Settings of [`sign`].
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// The referrers mode, which decides where the signature is stored. Default
    /// [`ReferrersMode::Auto`].
    pub mode: ReferrersMode,
    /// The repository the signature claims (`critical.identity.docker-reference`), as cosign's
    /// `--sign-container-identity` sets it. Default: the store's
    /// [`default_identity`](super::ArtifactStore::default_identity); a layout without a full
    /// reference as its tag has none, so signing it fails with
    /// [`CosignError::IdentityRequired`].
    pub identity: Option<String>,
    /// Entries of the payload's `optional` object, as `cosign sign -a key=value` writes them.
    /// Default: none, which writes `"optional":null`.
    pub annotations: BTreeMap<String, String>,
}

/// The result of [`sign`].
#[derive(Debug, Clone)]
pub struct SignOutcome {
    /// The signature's manifest and location, and whether it was new.
    pub attach: AttachOutcome,
    /// The payload bytes and the signature over them.
    pub signed: SignedPayload,
}

/// Signs the store's image with `key` and stores the signature.
///
/// In legacy mode the signature is appended to the manifest under `sha256-<hex>.sig`, keeping
/// every signature there. A signature that is there already is not added twice: as cosign
/// decides, an existing layer with the same payload and annotations whose signature verifies
/// with this key's public half counts as the same signature, whatever its bytes (ECDSA
/// signatures from tokens differ each time).
pub fn sign(
    store: &dyn ArtifactStore,
    key: &SigningKey,
    options: &SignOptions,
) -> Result<SignOutcome, CosignError> {
    // 1. The payload: identity and digest, plus annotations.
    if let Some(identity) = &options.identity {
        super::identity::Identity::parse(identity)?;
    }
    let identity = options
        .identity
        .clone()
        .or_else(|| store.default_identity())
        .ok_or_else(|| CosignError::IdentityRequired {
            location: store.location(),
        })?;
    let mut payload = SimpleSigning::new(identity, store.subject().digest.to_string())
        .map_err(CosignError::Payload)?;
    for (name, value) in &options.annotations {
        payload = payload.with_annotation(name, value);
    }

    // 2. The signature and its layer.
    let signed = payload.sign(key).map_err(CosignError::Payload)?;
    let mut layer = ArtifactDescriptor::of(SIMPLE_SIGNING_MEDIA_TYPE, &signed.payload);
    layer.annotations.insert(
        SIGNATURE_ANNOTATION.to_owned(),
        signed.signature.to_base64(),
    );

    // 3. Stored beside the image, unless this key signed this payload already.
    let public = key.public_key();
    let is_duplicate = |existing: &ArtifactDescriptor| {
        is_same_signature(existing, &layer, &signed.payload, &public)
    };
    let artifact = NewArtifact {
        kind: ArtifactKind::Signatures,
        layer: layer.clone(),
        blob: signed.payload.clone(),
    };
    let attach = attach(store, artifact, options.mode, &Merge::Append(&is_duplicate))?;
    Ok(SignOutcome { attach, signed })
}

/// cosign's duplicate test: same media type and payload digest, every annotation of the new
/// layer but the signature present with the same value, and the existing signature valid over
/// the payload with `key`.
fn is_same_signature(
    existing: &ArtifactDescriptor,
    new: &ArtifactDescriptor,
    payload: &[u8],
    key: &PublicKey,
) -> bool {
    if existing.media_type != new.media_type || existing.digest != new.digest {
        return false;
    }
    let same_annotations = new
        .annotations
        .iter()
        .filter(|(name, _)| *name != SIGNATURE_ANNOTATION)
        .all(|(name, value)| existing.annotations.get(name) == Some(value));
    let Some(signature) = existing
        .annotations
        .get(SIGNATURE_ANNOTATION)
        .and_then(|text| STANDARD.decode(text).ok())
    else {
        return false;
    };
    same_annotations && key.verify(payload, &signature).is_ok()
}
