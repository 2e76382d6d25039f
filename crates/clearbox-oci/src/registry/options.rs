//! Settings of a registry client: trust, credentials, retries, timeouts and upload sizes.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of a [`RegistryClient`](super::RegistryClient): trust, credentials, retries,
/// timeouts and upload sizes.
///
/// The defaults suit public registries: HTTPS only, system trust roots, credentials from the
/// Docker config file, three retries.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Registries reached over plain HTTP instead of HTTPS, as `HOST` or `HOST:PORT`. A bare
    /// `HOST` matches every port of that host. A listed registry is never tried over HTTPS, and
    /// an unlisted one is never tried over HTTP. Default: empty.
    pub insecure: Vec<String>,
    /// A PEM file of CA certificates trusted in addition to the system store. Default: none.
    pub ca_file: Option<PathBuf>,
    /// Credentials sent to every registry this client talks to, and to the token servers those
    /// registries name. When set, the Docker config file is not read. Default: none.
    pub credentials: Option<Credentials>,
    /// The Docker config file to take credentials from. Default (`None`):
    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. A missing file means no
    /// credentials.
    pub docker_config: Option<PathBuf>,
    /// When and how often failed requests are retried.
    pub retry: RetryPolicy,
    /// Time allowed to open a connection, TLS handshake included. Default 10 s.
    pub connect_timeout: Duration,
    /// Time allowed for the response headers, and then for each read of the body, so a slow
    /// but steady download of a large layer never hits it. Default 60 s.
    pub io_timeout: Duration,
    /// The `User-Agent` header. Default `clearbox/<version>`.
    pub user_agent: String,
    /// Blobs smaller than this are uploaded in one request; others in chunks of this size,
    /// each held in memory while it is sent. Raised to the registry's `OCI-Chunk-Min-Length`
    /// when that is larger. Default 16 MiB.
    pub chunk_size: usize,
    /// Maximum size of a manifest, index or other JSON response read into memory. Default
    /// 4 MiB, the limit distribution and most registries apply to manifests.
    pub max_manifest_bytes: u64,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: Vec::new(),
            ca_file: None,
            credentials: None,
            docker_config: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_mins(1),
            user_agent: concat!("clearbox/", env!("CARGO_PKG_VERSION")).to_owned(),
            chunk_size: 16 << 20,
            max_manifest_bytes: 4 << 20,
        }
    }
}

impl RegistryOptions {
    /// Returns true when `registry` (`HOST` or `HOST:PORT`) is listed in
    /// [`insecure`](Self::insecure), so it is reached over plain HTTP.
    #[must_use]
    pub fn is_insecure(&self, registry: &str) -> bool {
        let host = host_of(registry);
        self.insecure
            .iter()
            .any(|entry| entry == registry || (host_of(entry) == entry && entry == host))
    }
}

/// Returns the host part of `HOST[:PORT]`, keeping a bracketed IPv6 address whole.
pub(crate) fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_inclusive(']').next().unwrap_or(registry);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// A user name and password (or a registry access token used as the password).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password. Never logged or printed; `Debug` shows it as `***`.
    pub password: String,
}

impl Credentials {
    /// Pairs a user name with a password.
    #[must_use]
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Retries of requests that failed for a reason that may pass: HTTP 5xx (except 501 and 505),
/// HTTP 429, a refused, reset or timed-out connection. The wait doubles after each attempt,
/// starting at [`initial_backoff`](Self::initial_backoff) and capped at
/// [`max_backoff`](Self::max_backoff); a `Retry-After` header in seconds replaces it, within
/// the same cap.
///
/// A timed-out attempt counts against [`max_timeout_retries`](Self::max_timeout_retries) as well,
/// because a registry that does not respond at all would otherwise hold the command for every
/// attempt's full timeout.
///
/// Chunk uploads (`PATCH`) are never retried, because the registry may have stored part of a
/// chunk; the upload fails and can be started again.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt. Default 3; 0 disables retries.
    pub max_retries: u32,
    /// Retries after attempts that timed out, within [`max_retries`](Self::max_retries).
    /// Default 1.
    pub max_timeout_retries: u32,
    /// Wait before the first retry. Default 250 ms.
    pub initial_backoff: Duration,
    /// Maximum wait between attempts. Default 8 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            max_timeout_retries: 1,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// Returns the wait before retry number `retry` (1 for the first retry).
    pub(crate) fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_backoff);
        }
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insecure(entries: &[&str]) -> RegistryOptions {
        RegistryOptions {
            insecure: entries.iter().map(|e| (*e).to_owned()).collect(),
            ..RegistryOptions::default()
        }
    }

    #[test]
    fn insecure_entry_with_port_matches_that_port_only() {
        let options = insecure(&["127.0.0.1:5000"]);
        assert!(options.is_insecure("127.0.0.1:5000"));
        assert!(!options.is_insecure("127.0.0.1:5001"));
        assert!(!options.is_insecure("127.0.0.1"));
    }

    #[test]
    fn insecure_entry_without_port_matches_every_port() {
        let options = insecure(&["localhost", "[::1]"]);
        assert!(options.is_insecure("localhost:5000"));
        assert!(options.is_insecure("localhost"));
        assert!(options.is_insecure("[::1]:5000"));
        assert!(!options.is_insecure("localhost.example:5000"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(1, None), Duration::from_millis(250));
        assert_eq!(policy.backoff(2, None), Duration::from_millis(500));
        assert_eq!(policy.backoff(3, None), Duration::from_secs(1));
        assert_eq!(policy.backoff(40, None), Duration::from_secs(8));
    }

    #[test]
    fn backoff_honours_retry_after_within_the_cap() {
        let policy = RetryPolicy::default();
        let two = Some(Duration::from_secs(2));
        assert_eq!(policy.backoff(1, two), Duration::from_secs(2));
        let hour = Some(Duration::from_hours(1));
        assert_eq!(policy.backoff(1, hour), Duration::from_secs(8));
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let text = format!("{:?}", Credentials::new("alice", "s3cret"));
        assert!(text.contains("alice"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
