//! The policy in force, replaced as a whole on reload.

use std::sync::{Arc, RwLock};

use clearbox_policy::policy::{Policy, Verifiers};

/// A policy with its signer keys and trusted root loaded.
#[derive(Debug)]
pub struct LoadedPolicy {
    /// The policy as read.
    pub policy: Policy,
    /// The same policy without exceptions, for results that are cached: exceptions are
    /// applied per admission, since they name workloads.
    pub(crate) unwaived: Policy,
    /// The keys and trusted root that signatures and attestations are verified with.
    pub verifiers: Verifiers,
}

impl LoadedPolicy {
    /// Pairs a policy with its verifiers.
    #[must_use]
    pub fn new(policy: Policy, verifiers: Verifiers) -> Self {
        let mut unwaived = policy.clone();
        unwaived.exceptions.clear();
        LoadedPolicy {
            policy,
            unwaived,
            verifiers,
        }
    }
}

/// Loads the policy file again, for the start and for each SIGHUP. An error is a message to
/// log; the old policy stays in force.
pub type PolicyLoader = dyn Fn() -> Result<LoadedPolicy, String> + Send + Sync;

/// The policy in force. A reload swaps the whole [`LoadedPolicy`], so a request evaluates
/// under one policy from start to end.
#[derive(Debug)]
pub(crate) struct CurrentPolicy(RwLock<Arc<LoadedPolicy>>);

impl CurrentPolicy {
    pub(crate) fn new(loaded: LoadedPolicy) -> Self {
        CurrentPolicy(RwLock::new(Arc::new(loaded)))
    }

    pub(crate) fn get(&self) -> Arc<LoadedPolicy> {
        // A writer only swaps an `Arc`, which cannot panic halfway, so a poisoned lock still
        // holds a whole policy.
        match self.0.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn replace(&self, loaded: LoadedPolicy) {
        let loaded = Arc::new(loaded);
        match self.0.write() {
            Ok(mut guard) => *guard = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
    }
}
