//! Offline verification of Sigstore bundles (<https://github.com/sigstore/protobuf-specs>,
//! `sigstore_bundle.proto`): a signature or DSSE envelope with the certificate or key hint, the
//! transparency log entries and the RFC 3161 timestamps that vouch for it, checked against a
//! trusted root file and the artifact, with no network access.
//!
//! ```no_run
//! use clearbox_attest::bundle::{Artifact, Policy, TrustedRoot, verify_json};
//!
//! let root = TrustedRoot::from_file("trusted_root.json".as_ref())?;
//! let policy = Policy::identity(
//!     "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main",
//!     "https://token.actions.githubusercontent.com",
//! );
//! let artifact = std::fs::read("artifact.tar.gz")?;
//! let bundle = std::fs::read("artifact.tar.gz.sigstore.json")?;
//! let verified = verify_json(&bundle, &root, Artifact::Bytes(&artifact), &policy)?;
//! println!("{}", serde_json::to_string(verified.get())?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The checks and their order are listed in [`verify()`]; each failure names its [`Check`].
//!
//! # Supported
//!
//! - Bundle media types v0.1, v0.2 and v0.3 (both spellings of v0.3).
//! - Message signatures over an artifact digest, and DSSE envelopes holding in-toto
//!   statements whose subject must be the artifact.
//! - Fulcio certificates chained to the trusted root's CAs, with SAN (URI, email or Fulcio
//!   username) and OIDC issuer (`1.3.6.1.4.1.57264.1.8`, else `.1.1`) matched exactly or by a
//!   regular expression that must match the whole value ([`ValueMatcher`]), and
//!   embedded SCTs verified against the trusted root's CT logs.
//! - Keys supplied by the verifier ("managed keys").
//! - Rekor v1 entries (`hashedrekord` 0.0.1, `dsse` 0.0.1, `intoto` 0.0.2) with inclusion
//!   promise, inclusion proof and signed checkpoint; Rekor v2 entries (`hashedrekord` 0.0.2,
//!   `dsse` 0.0.2) with inclusion proof and checkpoint, witness cosignatures ignored.
//! - RFC 3161 timestamps from the trusted root's timestamp authorities.
//! - Keys: ECDSA P-256 and P-384, Ed25519, RSA PKCS#1 v1.5.
//!
//! # Not yet
//!
//! - Fulcio extensions other than the SAN and issuer (workflow repository, ref, trigger) as
//!   policy.
//! - Witness cosignatures on checkpoints: trusted roots carry no witness keys yet.
//! - ECDSA P-521, RSA-PSS and Ed25519ph keys; ESS signing-certificate v1 attributes (SHA-1).
//! - Rekor v1 kinds other than the three above (`rekord`, `intoto` 0.0.1, …).
//!
//! # Never
//!
//! - Network access: no log lookups, no TUF updates of the trusted root.
//! - Trust from the bundle itself: certificates in a bundle's chain never become anchors, and
//!   a root certificate in the chain is rejected.
//! - Skipping an entry or timestamp that cannot be verified: each one must verify.

mod canonical_json;
mod certificate;
mod chain;
mod checkpoint;
mod content;
mod der;
mod entry_body;
mod error;
mod evidence;
mod identity;
mod key;
mod merkle;
mod model;
mod policy;
mod sct;
mod time;
mod timestamp;
mod tlog;
mod trusted_root;
mod verify;

pub use error::{Check, Failure, VerificationFailure};
pub use evidence::{
    BundleVerification, LogEntryEvidence, SignerEvidence, StatementEvidence, TimeEvidence,
    TimestampEvidence,
};
pub use key::{HashAlgorithm, VerifierKey};
pub use model::{Bundle, BundleFormatError, BundleVersion};
pub(crate) use model::{Content, Material, TlogEntry};
pub use policy::{Artifact, CertificateIdentity, Policy, Signer, ValueMatcher, regex_problem};
pub use time::{TimeRange, Timestamp};
pub use trusted_root::{TrustedRoot, TrustedRootError};
pub use verify::{VerifiedBundle, verify, verify_json};
