//! The policy file: one YAML (or JSON) document that `clearbox verify`, `check` and `evidence`
//! read, stating which images are acceptable. `docs/policy.md` describes every field and
//! `docs/policy.schema.json` is its JSON Schema.
//!
//! ```yaml
//! apiVersion: clearbox.dev/v1
//! kind: Policy
//! trusted_registries: [ghcr.io/acme]
//! signers:
//!   require: any
//!   keys: [keys/release.pub]
//! deny_latest_tag: true
//! ```
//!
//! Reading ([`read_policy`]) rejects unknown fields with their line, and reports every unusable
//! value (a bad date, an empty key list, an unknown severity or rule name) together. Evaluating
//! produces an [`Evaluation`] of [`RuleResult`]s, to which the exceptions are applied:
//! - [`evaluate_reference`] decides `trusted_registries`, `deny_latest_tag` and `require_digest`
//!   from the reference alone, before any registry is contacted;
//! - [`evaluate_annotations`] decides `annotations` from an image's or resource's annotations;
//! - [`evaluate_store`] decides `signers` and `attestations` from what is stored beside an image;
//! - [`evaluate_manifests`] applies the first two to every workload of Kubernetes manifests;
//! - `signed_objects` is decided by the admission webhook (`clearbox-webhook`) on each object
//!   it receives, with the keys of [`load_object_signer_keys`].
//!
//! # Not yet
//! - Attestations are verified with the signer keys only, not with keyless identities.

mod evaluation;
mod image;
mod init;
mod k8s;
mod model;
mod parse;
mod pattern;
mod raw;
mod signers;
mod vulnerability;

pub use evaluation::{
    AppliedException, Evaluation, NotEvaluated, Outcome, RuleResult, Target, Verdict,
};
pub use image::{ImageSubject, evaluate_annotations, evaluate_reference, image_annotations};
pub use init::StarterPolicy;
pub use k8s::evaluate_manifests;
pub use model::{
    API_VERSION, AnnotationRule, AnnotationValue, DEFAULT_SIGNED_KINDS, Exception, IdentityMatch,
    IdentitySigner, KIND, KeySigner, MADE_FROM, MaxSeverity, Policy, Rule, SignedObjectsRule,
    SignerRequirement, Signers, VulnerabilityRule,
};
pub use parse::{
    MAX_POLICY_BYTES, PolicyError, Problem, declares_api_version, parse_policy, read_policy,
};
pub use pattern::Glob;
pub use signers::{
    LoadedKey, Verifiers, evaluate_store, load_object_signer_keys, load_signer_keys,
    vulnerability_type,
};
