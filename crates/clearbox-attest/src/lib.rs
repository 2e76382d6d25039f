//! cosign-compatible signing: keys in files and on PKCS#11 tokens, cosign's image signature
//! payload, DSSE envelopes and in-toto statements, and (in [`cosign`]) signatures, attestations
//! and SBOMs stored beside images in registries and OCI layouts.
//!
//! The command line lives in another crate; this one produces, stores and checks artifacts.
//!
//! Verification functions return [`Verified<T>`], which only this crate can construct, so code
//! that needs a verified payload cannot be given an unchecked one by mistake.
//!
//! # Supported
//!
//! - ECDSA P-256 with SHA-256, signatures in ASN.1 DER (as cosign stores them); verification also
//!   accepts raw `r‖s`.
//! - Private key files: cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign 2.x) and `ENCRYPTED
//!   COSIGN PRIVATE KEY` (older cosign, skopeo 1.18), PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`.
//!   New keys are written in the `ENCRYPTED SIGSTORE PRIVATE KEY` format with cosign 2.5's scrypt
//!   parameters (N=65536, r=8, p=1).
//! - Public keys as PKIX `PUBLIC KEY` PEM.
//! - Keys on PKCS#11 tokens named by RFC 7512 URIs, with the module loaded at run time.
//! - cosign's simple signing payload, DSSE v1 envelopes, in-toto statements v1 (written and read)
//!   and v0.1 (read).
//! - cosign's `.sig`, `.att` and `.sbom` artifacts and OCI 1.1 referrers, in registries and in
//!   OCI layouts in `cosign save`'s form; see [`cosign`].
//! - Offline verification of Sigstore bundles (v0.1 to v0.3) against a trusted root, with
//!   Fulcio certificates or managed keys, Rekor v1 and v2 entries and RFC 3161 timestamps; see
//!   [`bundle`].
//! - SLSA provenance v1 written for an image from its git checkout, and provenance v0.1, v0.2
//!   and v1 checked against a policy; see [`slsa`].
//!
//! # Not yet
//!
//! - P-384, P-521, RSA and Ed25519 keys, which cosign can generate with `--key-algorithm` or
//!   import: each is rejected with its name. P-256 is cosign's default and the only type its
//!   `generate-key-pair` writes unless asked.
//! - Password-encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) and OpenSSL's legacy encrypted PEM.
//! - Key-management services (`awskms://`, `gcpkms://`, `azurekms://`, `hashivault://`, `k8s://`,
//!   `gitlab://`, `env://`): rejected by scheme name.
//! - Fulcio keyless signing and uploads to Rekor. Verifying Sigstore bundles, with their
//!   certificates, log entries and timestamps, is supported offline; see [`bundle`]. So is
//!   verifying images' keyless signatures and attestations; see [`cosign::keyless`].
//!
//! # Never
//!
//! - Logging, printing or putting into an error message a password, PIN or private key.
//! - Verifying a DSSE signature over anything but the PAE of the payload.

#![forbid(unsafe_code)]

pub mod bundle;
pub mod cosign;
pub mod dsse;
pub mod intoto;
pub mod keys;
pub mod simple_signing;
pub mod slsa;
mod verified;

pub use keys::{KeyError, PublicKey, Signature, SigningKey};
pub use verified::Verified;
