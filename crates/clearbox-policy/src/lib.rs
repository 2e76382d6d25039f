//! Checks on images and Kubernetes manifests, each with its result and the evidence behind it.
//!
//! # Supported
//! - Image checks (`docs/image-checks.md`). These are the CIS Docker Benchmark v1.6.0 section 4
//!   items that can be decided from an image alone: 4.1 non-root user, 4.2 base image pinned by digest,
//!   4.3 no shell (busybox shell applets included) and no package manager in a shell-less
//!   image, 4.6 HEALTHCHECK, 4.8 no setuid or setgid files, 4.9 no `ADD` from a URL in the
//!   build history, 4.10 no secrets in the environment, history or files (masked in every
//!   output); and without a CIS number: world-writable files, declared writable paths, and
//!   the source and revision labels.
//! - Kubernetes manifests ([`k8s`]): Pod Security Standards `baseline` and `restricted` at every
//!   version from v1.0 to v1.37, CIS Kubernetes Benchmark section 5 workload items, and image
//!   and pod spec least-privilege checks.
//! - Compliance frameworks ([`compliance`]): the EU AI Act, NIST AI RMF 1.0, Singapore IM8, CIS
//!   Docker section 4 and CIS Kubernetes section 5 as data files that map each control to the
//!   checks that evidence it, and the rules that turn check results into control statuses.
//!
//! - The policy file ([`policy`], `docs/policy.md`): trusted registries, signers, attestation
//!   conditions, required annotations, tag and digest rules, and exceptions with expiry dates.
//!
//! # Not yet
//! - Secrets in files larger than 1 MiB, in binaries, and low-entropy secrets outside
//!   environment variables.

#![forbid(unsafe_code)]

pub mod compliance;
mod image_checks;
pub mod k8s;
pub mod policy;

pub use image_checks::{
    CheckOutcome, CheckResult, Evidence, FileFact, FileScanner, ImageFacts, ImageReport,
    ImageSummary, MAX_SCANNED_FILE_SIZE, MIN_GENERIC_ENTROPY, MIN_GENERIC_LENGTH, NotScanned,
    NotScannedReason, SecretFinding, SecretKind, SecretMatch, SecretScan, WRITABLE_PATHS_KEY,
    check_image, code, find_secrets, mask, passwd_text, render_markdown, run_image_checks,
    scan_config, shannon_entropy,
};
pub use image_checks::{
    ImageCheckOptions, KNOWN_BINARIES_ID, known_binaries, run_image_checks_with,
};
