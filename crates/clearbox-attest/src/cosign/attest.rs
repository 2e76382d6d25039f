//! Attesting an image as `cosign attest --key --type T --predicate F` does: an in-toto
//! statement about the image's digest, signed into a DSSE envelope, stored as a layer with the
//! `predicateType` annotation and an empty `dev.cosignproject.cosign/signature` annotation.
//!
//! The statement is v1 (`https://in-toto.io/Statement/v1`); cosign 2.5 still writes v0.1, and
//! both tools verify either. Its subject `name` is the repository, as cosign writes it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::attach::{AttachOutcome, Merge, NewArtifact, attach, is_same_layer};
use super::error::CosignError;
use super::format::{
    ArtifactDescriptor, ArtifactKind, DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION,
    SIGNATURE_ANNOTATION,
};
use super::referrers::ReferrersMode;
use super::store::ArtifactStore;
use crate::intoto::{PredicateType, Statement, Subject};
use crate::keys::SigningKey;

/// Settings of [`attest`].
#[derive(Debug, Clone, Default)]
pub struct AttestOptions {
    /// The referrers mode, which decides where the attestation is stored. Default
    /// [`ReferrersMode::Auto`].
    pub mode: ReferrersMode,
    /// The statement subject's `name`. Default: the store's
    /// [`default_identity`](super::ArtifactStore::default_identity), the repository, as cosign
    /// writes it; a layout without one fails with [`CosignError::IdentityRequired`].
    pub subject_name: Option<String>,
}

/// Signs a statement that `predicate` (of `predicate_type`) holds for the store's image and
/// stores the envelope. `predicate` must be a JSON object.
///
/// In legacy mode the attestation is appended to the manifest under `sha256-<hex>.att`, as
/// cosign appends. An envelope with the same bytes and annotations as one there already is not
/// added twice. A key that signs deterministically (file keys here) gives the same bytes for
/// the same statement.
pub fn attest(
    store: &dyn ArtifactStore,
    key: &SigningKey,
    predicate_type: &PredicateType,
    predicate: Value,
    options: &AttestOptions,
) -> Result<AttachOutcome, CosignError> {
    // 1. The statement about this digest.
    let name = options
        .subject_name
        .clone()
        .or_else(|| store.default_identity())
        .ok_or_else(|| CosignError::IdentityRequired {
            location: store.location(),
        })?;
    let subject = Subject::sha256(name, &store.subject().digest.to_string());
    let statement =
        Statement::new(vec![subject], predicate_type, predicate).map_err(CosignError::Statement)?;

    // 2. The envelope and its layer.
    let envelope = statement
        .sign(key)
        .map_err(CosignError::Envelope)?
        .to_json();
    let mut layer = ArtifactDescriptor::of(DSSE_MEDIA_TYPE, &envelope);
    layer.annotations = BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_owned(), String::new()),
        (
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.uri().to_owned(),
        ),
    ]);

    // 3. Stored beside the image.
    let is_duplicate = |existing: &ArtifactDescriptor| is_same_layer(existing, &layer);
    let artifact = NewArtifact {
        kind: ArtifactKind::Attestations,
        layer: layer.clone(),
        blob: envelope,
    };
    attach(store, artifact, options.mode, &Merge::Append(&is_duplicate))
}
