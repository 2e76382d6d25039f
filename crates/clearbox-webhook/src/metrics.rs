//! Counters, the open-connections gauge and the latency histogram served at `/metrics` in the
//! Prometheus text format (version 0.0.4), written by hand:
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds. The API server waits 10 s by
/// default, so the buckets stop there.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric the webhook exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `/validate` requests by HTTP status code.
    requests: Mutex<BTreeMap<u16, u64>>,
    allowed: AtomicU64,
    denied: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    verification_errors: AtomicU64,
    audit_errors: AtomicU64,
    reloads_succeeded: AtomicU64,
    reloads_failed: AtomicU64,
    seals_succeeded: AtomicU64,
    seals_failed: AtomicU64,
    /// Connections accepted and not yet closed; a gauge.
    open_connections: AtomicU64,
    /// Count per bucket (not cumulative), then the requests above the last bound.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
}

/// A counter the webhook increments.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    /// An admission allowed.
    Allowed,
    /// An admission denied.
    Denied,
    /// An image whose verification results came from the cache.
    CacheHit,
    /// An image verified against its registry.
    CacheMiss,
    /// An image whose verification failed to complete: registry unreachable, deadline passed,
    /// internal error.
    VerificationError,
    /// An admission that could not be recorded in the audit store.
    AuditError,
    /// A policy reload that took effect.
    ReloadSucceeded,
    /// A policy reload that kept the old policy.
    ReloadFailed,
    /// A seal appended to the audit store.
    SealSucceeded,
    /// A seal that could not be appended.
    SealFailed,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn increment(&self, counter: Counter) {
        let cell = match counter {
            Counter::Allowed => &self.allowed,
            Counter::Denied => &self.denied,
            Counter::CacheHit => &self.cache_hits,
            Counter::CacheMiss => &self.cache_misses,
            Counter::VerificationError => &self.verification_errors,
            Counter::AuditError => &self.audit_errors,
            Counter::ReloadSucceeded => &self.reloads_succeeded,
            Counter::ReloadFailed => &self.reloads_failed,
            Counter::SealSucceeded => &self.seals_succeeded,
            Counter::SealFailed => &self.seals_failed,
        };
        cell.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection accepted.
    pub(crate) fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection closed; pairs with [`Metrics::connection_opened`].
    pub(crate) fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Records a finished `/validate` request: its status code and how long it took.
    pub fn observe_request(&self, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry(status).or_default() += 1;
        }
        let seconds = elapsed.as_secs_f64();
        let index = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.latency[index].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Renders the metrics in the Prometheus text format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |cell: &AtomicU64| cell.load(Ordering::Relaxed);

        let requests: Vec<(String, u64)> = match self.requests.lock() {
            Ok(requests) => requests
                .iter()
                .map(|(code, count)| (format!("code=\"{code}\""), *count))
                .collect(),
            Err(_) => Vec::new(),
        };
        counter(
            &mut out,
            "clearbox_webhook_requests_total",
            "Requests to /validate by HTTP status code.",
            &requests,
        );
        let decisions = [
            ("result=\"allowed\"".to_owned(), get(&self.allowed)),
            ("result=\"denied\"".to_owned(), get(&self.denied)),
        ];
        counter(
            &mut out,
            "clearbox_webhook_decisions_total",
            "Admission decisions by result.",
            &decisions,
        );

        let plain = [
            (
                "clearbox_webhook_cache_hits_total",
                "Images whose verification results came from the cache.",
                &self.cache_hits,
            ),
            (
                "clearbox_webhook_cache_misses_total",
                "Images verified against their registry.",
                &self.cache_misses,
            ),
            (
                "clearbox_webhook_verification_errors_total",
                "Image verifications that could not complete: unreachable registry, deadline \
                 passed, internal error.",
                &self.verification_errors,
            ),
            (
                "clearbox_webhook_audit_errors_total",
                "Admissions denied because their audit record could not be written.",
                &self.audit_errors,
            ),
        ];
        for (name, help, cell) in plain {
            counter(&mut out, name, help, &[(String::new(), get(cell))]);
        }

        let reloads = [
            (
                "result=\"succeeded\"".to_owned(),
                get(&self.reloads_succeeded),
            ),
            ("result=\"failed\"".to_owned(), get(&self.reloads_failed)),
        ];
        counter(
            &mut out,
            "clearbox_webhook_policy_reloads_total",
            "Policy reloads on SIGHUP by result.",
            &reloads,
        );
        let seals = [
            (
                "result=\"succeeded\"".to_owned(),
                get(&self.seals_succeeded),
            ),
            ("result=\"failed\"".to_owned(), get(&self.seals_failed)),
        ];
        counter(
            &mut out,
            "clearbox_webhook_seals_total",
            "Seals the webhook appended to the audit store, by result.",
            &seals,
        );
        let name = "clearbox_webhook_open_connections";
        header(
            &mut out,
            name,
            "gauge",
            "Connections accepted and not yet closed.",
        );
        let _ = writeln!(out, "{name} {}", get(&self.open_connections));
        self.render_latency(&mut out);
        out
    }

    fn render_latency(&self, out: &mut String) {
        let name = "clearbox_webhook_request_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "Time to answer a /validate request.",
        );
        let mut cumulative = 0;
        for (bound, cell) in BUCKETS.iter().zip(&self.latency) {
            cumulative += cell.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.latency[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        // Microseconds to seconds; a sum beyond 2^53 µs (285 years) would lose precision.
        #[allow(clippy::cast_precision_loss, reason = "see the comment above")]
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes a counter with one sample per label set; an empty label set writes the bare name.
fn counter(out: &mut String, name: &str, help: &str, samples: &[(String, u64)]) {
    header(out, name, "counter", help);
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let metrics = Metrics::default();
        metrics.increment(Counter::Denied);
        metrics.increment(Counter::CacheHit);
        metrics.increment(Counter::SealFailed);
        metrics.connection_opened();
        metrics.connection_opened();
        metrics.connection_closed();
        metrics.observe_request(200, Duration::from_millis(20));
        metrics.observe_request(400, Duration::from_secs(20));
        let text = metrics.render();
        let lines: Vec<&str> = text.lines().collect();
        for expected in [
            "clearbox_webhook_requests_total{code=\"200\"} 1",
            "clearbox_webhook_requests_total{code=\"400\"} 1",
            "clearbox_webhook_decisions_total{result=\"allowed\"} 0",
            "clearbox_webhook_decisions_total{result=\"denied\"} 1",
            "clearbox_webhook_cache_hits_total 1",
            "clearbox_webhook_seals_total{result=\"succeeded\"} 0",
            "clearbox_webhook_seals_total{result=\"failed\"} 1",
            "# TYPE clearbox_webhook_open_connections gauge",
            "clearbox_webhook_open_connections 1",
            "clearbox_webhook_request_duration_seconds_bucket{le=\"0.01\"} 0",
            "clearbox_webhook_request_duration_seconds_bucket{le=\"0.025\"} 1",
            "clearbox_webhook_request_duration_seconds_bucket{le=\"10\"} 1",
            "clearbox_webhook_request_duration_seconds_bucket{le=\"+Inf\"} 2",
            "clearbox_webhook_request_duration_seconds_sum 20.02",
            "clearbox_webhook_request_duration_seconds_count 2",
        ] {
            assert!(lines.contains(&expected), "{expected} not in\n{text}");
        }
    }
}
