//! SLSA provenance (<https://slsa.dev/provenance/v1>): writing a v1 predicate for a container
//! image from its git checkout and build facts, and checking provenance of any supported
//! version against a policy, as slsa-verifier checks it.
//!
//! # Writing
//!
//! [`ProvenanceInputs::predicate`] turns what the command line gathered (the image's digests, the source
//! checkout read by [`GitCheckout`], base images, approvals, and the CI job found by
//! [`CiJob::detect`]) into a `https://slsa.dev/provenance/v1` predicate whose `buildType` is
//! [`BUILD_TYPE`]. `docs/provenance.md` lists every field it writes. The predicate is put into an
//! in-toto statement by [`Statement::new`](crate::intoto::Statement::new), or signed and attached
//! by [`cosign::attest`](crate::cosign::attest).
//!
//! # Checking
//!
//! [`ProvenancePolicy`] is the policy file (YAML or JSON); [`check_provenance_policy`] applies it
//! to one statement and reports every check by name. It reads SLSA provenance v0.1 (Google Cloud
//! Build), v0.2 and v1 through [`ProvenanceFacts`], which takes each field from where
//! slsa-verifier takes it. The caller verifies the signature first: nothing here checks one.
//!
//! # Not yet
//!
//! - slsa-verifier's builder-specific checks (the workflow inputs, the reusable-workflow trust
//!   list, GCB's recipe types and its unsigned text copy of the statement). The policy names the
//!   builders it trusts instead.
//! - Certificate identities: provenance signed by GitHub's keyless workflow certificates is
//!   checked by [`bundle`](crate::bundle), not here.

mod build;
mod ci;
mod facts;
#[cfg(feature = "git")]
mod git;
mod policy;
mod time;

pub use build::{Approval, ApprovalError, BaseImage, ImageInputs, ProvenanceInputs, SourceFacts};
pub use ci::{CiJob, CiProvider, GITHUB_PARAMETERS, GITLAB_PARAMETERS};
pub use facts::{ProvenanceFacts, ProvenanceVersion, SourceClaim};
#[cfg(feature = "git")]
pub use git::{GitCheckout, GitError};
pub use policy::{
    CheckOutcome, PolicyCheck, PolicyError, PolicyReport, ProvenancePolicy, check_provenance_policy,
};
pub use time::{TimeError, parse_rfc3339};

/// The `buildType` of the provenance clearbox writes: a container image built from a git
/// checkout, described in `docs/provenance.md` under this anchor.
// NOTE: the prefix is the workspace's `repository` URL; provenance already written keeps the
// old value if that URL changes, so change both only together with the documentation.
pub const BUILD_TYPE: &str =
    "https://example.invalid/clearbox/blob/main/docs/provenance.md#build-type-container-image-v1";

/// The predicate types of SLSA provenance that [`check_provenance_policy`] reads.
pub const PROVENANCE_TYPES: [&str; 3] = [
    "https://slsa.dev/provenance/v0.1",
    "https://slsa.dev/provenance/v0.2",
    "https://slsa.dev/provenance/v1",
];
