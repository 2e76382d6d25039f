//! Signature and attestation verification of one image, run on a blocking thread, with its
//! results cached per digest.
//!
//! The rules are evaluated by `clearbox_policy::policy::evaluate_store`, the code behind
//! `clearbox verify --policy`; this module only opens the image's signature store and caches
//! what the evaluation found.

use std::sync::Arc;

use clearbox_attest::cosign;
use clearbox_oci::registry::RegistryOptions;
use clearbox_oci::{ImageReference, RegistryReference};
use clearbox_policy::policy::{Evaluation, Outcome, Target, evaluate_store};

use crate::cache::{CacheKey, StoreResult, VerificationCache};
use crate::state::LoadedPolicy;

/// The outcome of verifying one image.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// The manifest digest the signatures were checked against.
    pub(crate) digest: String,
    /// One result per store rule the policy sets, before exceptions.
    pub(crate) results: Vec<StoreResult>,
    /// Whether the results came from the cache.
    pub(crate) cached: bool,
}

/// Opens the signature store of `reference` and evaluates the policy's `signers` and
/// attestation rules on it, unless the digest's results are cached. Blocks on the registry.
/// An error is the reason the store could not be opened.
pub(crate) fn verify_image(
    reference: &RegistryReference,
    loaded: &LoadedPolicy,
    registry: &RegistryOptions,
    cache: &VerificationCache,
) -> Result<Verified, String> {
    // 1. Resolve the digest: opening the store reads the manifest the reference names.
    let image = ImageReference::Registry(reference.clone());
    let store = cosign::open_store(&image, registry).map_err(|error| {
        format!(
            "failed to read the image from its registry: {}",
            cosign::with_causes(&error)
        )
    })?;
    let digest = store.subject().digest.to_string();

    // 2. A tag can name a digest whose results are cached.
    let key = cache_key(reference, &digest, loaded);
    if let Some(results) = cache.get(&key) {
        return Ok(Verified {
            digest,
            results,
            cached: true,
        });
    }

    // 3. Evaluate without exceptions, and cache what was decided.
    let target = Target {
        image: Some(reference.to_string()),
        ..Target::default()
    };
    let now = chrono::Utc::now();
    let mut evaluation = Evaluation::new(&loaded.unwaived, now.date_naive());
    evaluate_store(
        &loaded.unwaived,
        &loaded.verifiers,
        store.as_ref(),
        &target,
        now,
        &mut evaluation,
    );
    let results: Vec<StoreResult> = evaluation
        .results
        .into_iter()
        .map(|result| StoreResult {
            rule: result.rule,
            outcome: result.outcome,
            message: result.message,
        })
        .collect();
    cache.insert(key, &results);
    Ok(Verified {
        digest,
        results,
        cached: false,
    })
}

/// Returns the cached results of an image named by digest, looked up before any thread or
/// registry is used.
pub(crate) fn cached_by_reference(
    reference: &RegistryReference,
    loaded: &LoadedPolicy,
    cache: &VerificationCache,
) -> Option<Verified> {
    let digest = reference.digest.as_ref()?.to_string();
    let results = cache.get(&cache_key(reference, &digest, loaded))?;
    Some(Verified {
        digest,
        results,
        cached: true,
    })
}

fn cache_key(reference: &RegistryReference, digest: &str, loaded: &LoadedPolicy) -> CacheKey {
    CacheKey {
        repository: format!("{}/{}", reference.registry, reference.repository),
        digest: digest.to_owned(),
        policy_digest: loaded.policy.digest.clone(),
    }
}

/// Returns whether a result means that verification did not complete.
pub(crate) fn is_error(verified: &Result<Verified, String>) -> bool {
    match verified {
        Ok(found) => found
            .results
            .iter()
            .any(|r| r.outcome == Outcome::CouldNotCheck),
        Err(_) => true,
    }
}

/// A job for [`verify_image`] on a blocking thread.
#[derive(Debug, Clone)]
pub(crate) struct VerifyJob {
    pub(crate) reference: RegistryReference,
    pub(crate) loaded: Arc<LoadedPolicy>,
    pub(crate) registry: Arc<RegistryOptions>,
    pub(crate) cache: Arc<VerificationCache>,
}

impl VerifyJob {
    pub(crate) fn run(&self) -> Result<Verified, String> {
        verify_image(&self.reference, &self.loaded, &self.registry, &self.cache)
    }
}
