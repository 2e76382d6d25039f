//! Verification results kept in memory per (repository, image digest, policy digest), so that
//! admitting a digest again does not contact its registry.
//!
//! The repository is part of the key because signatures are stored, and name the image, per
//! repository: the same digest pushed to a second repository has none of the first one's
//! signatures.
//!
//! Only decided results are kept: passed and failed. A result that could not be checked (the
//! registry was unreachable, a signature store could not be read) is never cached, so the next
//! admission tries again. Entries expire after the time to live, because signatures can be added
//! to an image later and a vulnerability attestation ages. A new policy has a new digest, so its
//! results never mix with the old one's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clearbox_policy::policy::{Outcome, Rule};

/// One rule's result for an image, before the policy's exceptions are applied: exceptions name
/// workloads, so each admission applies them to its own workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreResult {
    /// The rule: `signers` or an attestation rule.
    pub rule: Rule,
    /// Passed, failed or could not check.
    pub outcome: Outcome,
    /// The values compared, or why it failed.
    pub message: String,
}

/// The key a result is cached under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// `HOST/REPO`, where the signatures were read.
    pub repository: String,
    /// The image's manifest digest.
    pub digest: String,
    /// The policy's digest.
    pub policy_digest: String,
}

#[derive(Debug)]
struct Entry {
    results: Vec<StoreResult>,
    stored: Instant,
}

/// The cache. Lookups and inserts take a short lock; nothing blocks while holding it.
#[derive(Debug)]
pub struct VerificationCache {
    entries: Mutex<HashMap<CacheKey, Entry>>,
    ttl: Duration,
    max_entries: usize,
}

impl VerificationCache {
    /// Creates a cache whose entries live for `ttl`, with at most `max_entries`. The oldest
    /// entry makes room for a new one.
    #[must_use]
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        VerificationCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            max_entries: max_entries.max(1),
        }
    }

    /// Returns the results stored under `key` less than the time to live ago.
    pub fn get(&self, key: &CacheKey) -> Option<Vec<StoreResult>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.stored.elapsed() < self.ttl).then(|| entry.results.clone())
    }

    /// Stores `results` unless one of them could not be checked.
    pub fn insert(&self, key: CacheKey, results: &[StoreResult]) {
        if results.iter().any(|r| r.outcome == Outcome::CouldNotCheck) {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.max_entries {
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.stored.elapsed() < ttl);
        }
        if entries.len() >= self.max_entries {
            let oldest = entries
                .iter()
                .min_by_key(|(_, entry)| entry.stored)
                .map(|(key, _)| key.clone());
            if let Some(key) = oldest {
                entries.remove(&key);
            }
        }
        entries.insert(
            key,
            Entry {
                results: results.to_vec(),
                stored: Instant::now(),
            },
        );
    }

    /// Drops every entry, as after a policy reload.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(repository: &str, digest: &str, policy: &str) -> CacheKey {
        CacheKey {
            repository: repository.to_owned(),
            digest: digest.to_owned(),
            policy_digest: policy.to_owned(),
        }
    }

    fn result(outcome: Outcome) -> StoreResult {
        StoreResult {
            rule: Rule::Signers,
            outcome,
            message: "m".to_owned(),
        }
    }

    #[test]
    fn keyed_by_repository_digest_and_policy() {
        let cache = VerificationCache::new(Duration::from_mins(1), 10);
        cache.insert(key("r/a", "sha256:a", "p1"), &[result(Outcome::Passed)]);
        assert_eq!(
            cache.get(&key("r/a", "sha256:a", "p1")),
            Some(vec![result(Outcome::Passed)])
        );
        assert_eq!(cache.get(&key("r/a", "sha256:a", "p2")), None);
        assert_eq!(cache.get(&key("r/a", "sha256:b", "p1")), None);
        assert_eq!(cache.get(&key("r/b", "sha256:a", "p1")), None);
    }

    #[test]
    fn could_not_check_is_not_cached() {
        let cache = VerificationCache::new(Duration::from_mins(1), 10);
        cache.insert(key("r", "sha256:a", "p"), &[result(Outcome::CouldNotCheck)]);
        assert_eq!(cache.get(&key("r", "sha256:a", "p")), None);
    }

    #[test]
    fn expired_entry_is_missed() {
        let cache = VerificationCache::new(Duration::ZERO, 10);
        cache.insert(key("r", "sha256:a", "p"), &[result(Outcome::Failed)]);
        assert_eq!(cache.get(&key("r", "sha256:a", "p")), None);
    }

    #[test]
    fn full_cache_drops_oldest() {
        let cache = VerificationCache::new(Duration::from_mins(1), 2);
        cache.insert(key("r", "sha256:a", "p"), &[result(Outcome::Passed)]);
        cache.insert(key("r", "sha256:b", "p"), &[result(Outcome::Passed)]);
        cache.insert(key("r", "sha256:c", "p"), &[result(Outcome::Passed)]);
        assert_eq!(cache.get(&key("r", "sha256:a", "p")), None);
        assert!(cache.get(&key("r", "sha256:b", "p")).is_some());
        assert!(cache.get(&key("r", "sha256:c", "p")).is_some());
    }
}
