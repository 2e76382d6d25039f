//! Model governance for images that ship model weights: a model card recorded as OCI
//! annotations on the image manifest, and signed attestations that list the model files,
//! checked against the files the image's layers actually hold.
//!
//! `docs/model-governance.md` describes the model card, the annotation keys and both
//! predicates; `docs/model-card.schema.json` is the card's JSON Schema.
//!
//! # Supported
//!
//! - Model cards in YAML or JSON, validated field by field with every problem named
//!   ([`read_card`]); their annotations with configurable key prefixes ([`AnnotationKeys`]),
//!   and the same checks on annotations read back ([`read_governance`]).
//! - The weight files of a scanned image with layer, SHA-256, size, format and format facts
//!   ([`model_files`]).
//! - clearbox's model predicate `https://clearbox.dev/model/v1` and the OpenSSF Model Signing
//!   v1.0 predicate for one model directory (`files` method, SHA-256), built from an image and
//!   checked against it ([`verify_model_attestations`]): every listed digest, and no unlisted
//!   weight file.
//!
//! # Not yet
//!
//! - OMS's `shards` method and hash types other than SHA-256: such predicates are rejected by
//!   name when checked, and never written.
//! - Following symbolic links in a model directory (OMS `allow_symlinks`): a link there makes
//!   signing fail and checking report it.
//! - Writing OMS signature files (`model.sig` Sigstore bundles); the envelope is stored beside
//!   the image as cosign stores attestations.
//!
//! # Never
//!
//! - Loading or executing a model file; weights are hashed and their headers parsed by the
//!   catalog's parsers.

#![forbid(unsafe_code)]

mod attestation;
mod card;
mod check;
mod governance;
mod inventory;
pub mod model_signing;

pub use attestation::{
    CheckedAttestation, MODEL_PREDICATE_TYPE, ModelError, ModelFormat, ModelPredicate,
    ModelSigningParts, ModelVerification, model_predicate, model_signing_predicate,
    verify_model_attestations,
};
pub use card::{CardError, FieldProblem, MAX_CARD_BYTES, read_card, validate_card};
pub use check::{Mismatch, compare_files};
pub use governance::{
    AnnotationKeys, BiasScan, BiasScanStatus, Governance, GovernanceRecord, MODEL_PREFIX,
    STANDARD_PREFIX, read_governance,
};
pub use inventory::{ModelFileRecord, model_files};
pub use model_signing::MODEL_SIGNING_PREDICATE_TYPE;
