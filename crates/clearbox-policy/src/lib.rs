//! Checks on images and Kubernetes manifests, each with its result and the evidence behind it.
//!
//! # Supported
//! - CIS Docker Benchmark v1.6.0 section 4 items that can be decided from an image alone:
//!   4.1 non-root user, 4.2 base image pinned by digest, 4.3 no shell in a minimal image,
//!   4.6 HEALTHCHECK, 4.8 no setuid or setgid files, and world-writable files (least
//!   privilege; no CIS number).
//! - Kubernetes manifests ([`k8s`]): Pod Security Standards `baseline` and `restricted` at every
//!   version from v1.0 to v1.37, CIS Kubernetes Benchmark section 5 workload items, and image
//!   and pod spec least-privilege checks.
//!
//! # Not yet
//! - Secrets in files and environment, package managers left behind, `ADD` from URLs, and the
//!   policy file.

#![forbid(unsafe_code)]

mod image_checks;
pub mod k8s;

pub use image_checks::{CheckOutcome, CheckResult, ImageFacts, check_image, code, render_markdown};
