//! A Kubernetes validating admission webhook that applies the clearbox policy file to the
//! images of every workload the API server is about to admit (`docs/webhook.md`).
//!
//! The rules are evaluated by `clearbox_policy::policy`, the same code as `clearbox verify
//! --policy` and `clearbox check k8s --policy`; this crate reads `AdmissionReview`s
//! ([`review`]), finds the images of the object ([`workload`]), verifies them concurrently with
//! a deadline and a cache, records each decision in the audit store, and serves it all over
//! HTTPS ([`serve`]).
//!
//! # Supported
//! - `admission.k8s.io/v1` `AdmissionReview`, for Pods and every kind with a pod template
//!   (`Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `ReplicationController`, `Job`,
//!   `CronJob`);
//!   containers, init containers and ephemeral containers alike.
//! - Every rule of the policy file; exceptions apply to the workload and image they name.
//!   `signed_objects` verifies the manifest signature of the object itself, as received.
//! - Failing closed: an image whose verification times out, whose registry is unreachable, or
//!   whose decision cannot be recorded is denied with the reason.
//!
//! # Not yet
//! - Mutation (rewriting tags to digests): the webhook only validates.
//! - Mutual TLS with the API server: any client that reaches the port may ask for decisions,
//!   which reveal only the policy's verdicts.
//! - Annotations of the image itself: `annotations` is checked on the object's
//!   `metadata.annotations`, as `check k8s --policy` does, since reading each image's
//!   configuration would cost a registry round trip per admission.
//!
//! # Never
//! - Allowing when in doubt: there is no fail-open setting. Use the webhook configuration's
//!   `failurePolicy` and namespace selectors to decide what the cluster does while the
//!   webhook is down.

#![forbid(unsafe_code)]

mod admission;
mod cache;
mod defaults;
mod error;
mod listener;
mod metrics;
pub mod record;
pub mod review;
mod server;
mod signed_object;
mod state;
mod verify;
pub mod workload;
mod writer;

pub use admission::{Decision, ImageDecision};
pub use cache::{CacheKey, StoreResult, VerificationCache};
pub use error::WebhookError;
pub use metrics::{Counter, Metrics};
pub use server::{ServerConfig, serve};
pub use signed_object::SignedBy;
pub use state::{LoadedPolicy, PolicyLoader};
pub use writer::SealConfig;
