//! Integration tests of the Kubernetes checks on real third-party manifests from the shared
//! corpus (`$CLEARBOX_CORPUS`): the Pod Security admission fixtures, Kyverno's pod-security
//! policy tests and checkov's Kubernetes check examples. Tests that need the corpus print a
//! notice and pass when it is missing, except with `CI=true`.

#![allow(
    clippy::print_stdout,
    reason = "tests print how many third-party fixtures agree"
)]

mod checkov;
mod kyverno;
mod pss_fixtures;
mod support;
