//! Appends the records of admissions to the audit store and, given a seal key, seals it.
//!
//! Appends run on blocking threads, one at a time through one store connection, since the
//! store serialises writers anyway. Seals use a second connection of their own: `Store::seal`
//! first checks the whole chain, and on that connection the check never holds up an
//! admission.
//!
//! When seals are appended:
//! 1. After every `every` records that this process appended, a background task appends a
//!    seal. Records appended while it seals may land before it, and the seal covers them too.
//! 2. At shutdown, once every append in progress has finished, a last seal covers the records
//!    appended since the previous seal, so a server stopped by SIGTERM or SIGINT leaves the
//!    store sealed to its end. After SIGKILL the records since the last seal stay unsealed
//!    until the next seal, by the next server or by `clearbox audit seal`.
//!
//! A seal that fails is logged and counted, and never denies an admission. It is tried again
//! after `every` more records and at shutdown.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use clearbox_attest::SigningKey;
use clearbox_audit::{AuditError, Event, Store};
use tokio::sync::{Notify, RwLock};
use tracing::{info, warn};

use crate::metrics::{Counter, Metrics};

/// Settings for sealing the audit store.
#[derive(Debug, Clone)]
pub struct SealConfig {
    /// The key seals are signed with.
    pub key: Arc<SigningKey>,
    /// Admission records between two seals; 1 seals after every admission.
    pub every: u64,
    /// The `actor` of seal records.
    pub actor: String,
}

/// The audit store as the server writes to it.
pub(crate) struct AuditWriter {
    store: Arc<Mutex<Store>>,
    /// Held shared by every append in progress and exclusively by [`AuditWriter::finish`],
    /// which therefore waits for them. An append keeps running on its blocking thread after
    /// its request is dropped at the end of the shutdown grace period.
    appends: Arc<RwLock<()>>,
    sealer: Option<Arc<Sealer>>,
}

/// The cause of a seal attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SealReason {
    /// `every` records were appended since the last attempt.
    Periodic,
    /// The server stops.
    Shutdown,
}

struct Sealer {
    config: SealConfig,
    /// The sealing connection, with the count of appended records the last seal covers.
    state: Mutex<SealState>,
    /// Records this process appended, counted after their transaction committed.
    appended: AtomicU64,
    /// The value of `appended` at which the next periodic seal is due.
    next_attempt: AtomicU64,
    wake: Notify,
    metrics: Arc<Metrics>,
}

struct SealState {
    store: Store,
    sealed: u64,
}

impl AuditWriter {
    /// Opens the store at `url`, and a second connection to it for seals when `seal` is given.
    pub(crate) fn open(
        url: &str,
        seal: Option<SealConfig>,
        metrics: Arc<Metrics>,
    ) -> Result<AuditWriter, AuditError> {
        let store = Store::open(url)?;
        let sealer = match seal {
            None => None,
            Some(config) => Some(Arc::new(Sealer {
                state: Mutex::new(SealState {
                    store: Store::open(url)?,
                    sealed: 0,
                }),
                appended: AtomicU64::new(0),
                next_attempt: AtomicU64::new(config.every),
                wake: Notify::new(),
                metrics,
                config,
            })),
        };
        Ok(AuditWriter {
            store: Arc::new(Mutex::new(store)),
            appends: Arc::new(RwLock::new(())),
            sealer,
        })
    }

    /// Starts the task that appends the periodic seals; without a seal key it does nothing.
    /// Must run inside the tokio runtime.
    pub(crate) fn start_sealing(&self) {
        let Some(sealer) = &self.sealer else {
            return;
        };
        let (location, every) = (self.location(), sealer.config.every);
        let key = sealer.config.key.public_key().fingerprint();
        info!(store = %location, every, %key, "sealing the audit store");
        let sealer = Arc::clone(sealer);
        tokio::spawn(async move {
            loop {
                sealer.wake.notified().await;
                let task = Arc::clone(&sealer);
                let _ = tokio::task::spawn_blocking(move || task.seal(SealReason::Periodic)).await;
            }
        });
    }

    fn location(&self) -> String {
        self.store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .location()
            .to_owned()
    }

    /// Appends `events` in order on a blocking thread. The error names the store and the cause.
    pub(crate) async fn append(&self, events: Vec<Event>) -> Result<(), String> {
        let shared = Arc::clone(&self.appends).read_owned().await;
        let store = Arc::clone(&self.store);
        let sealer = self.sealer.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _shared = shared;
            // An append is one transaction, so a panic during an earlier one left the store
            // whole.
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            let mut written = 0;
            let mut result = Ok(());
            for event in &events {
                // `AuditError` already names the store.
                if let Err(error) = store.append(event) {
                    result = Err(error.to_string());
                    break;
                }
                written += 1;
            }
            if let Some(sealer) = sealer {
                sealer.count_appended(written);
            }
            result
        });
        match task.await {
            Ok(result) => result,
            Err(error) => Err(format!(
                "internal error while writing the audit record: {error}"
            )),
        }
    }

    /// Waits for every append in progress, then appends the last seal when records were
    /// appended since the previous one. Call it once the server has stopped serving.
    pub(crate) async fn finish(&self) {
        let _exclusive = self.appends.write().await;
        let Some(sealer) = &self.sealer else {
            return;
        };
        let sealer = Arc::clone(sealer);
        if let Err(error) =
            tokio::task::spawn_blocking(move || sealer.seal(SealReason::Shutdown)).await
        {
            warn!(%error, "internal error while sealing the audit store at shutdown");
        }
    }
}

impl Sealer {
    /// Counts `records` appended, and wakes the sealing task when a periodic seal is due.
    fn count_appended(&self, records: u64) {
        if records == 0 {
            return;
        }
        let appended = self.appended.fetch_add(records, Ordering::AcqRel) + records;
        if appended >= self.next_attempt.load(Ordering::Acquire) {
            self.wake.notify_one();
        }
    }

    /// Appends a seal if one is due for `reason`. Runs on a blocking thread.
    fn seal(&self, reason: SealReason) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let appended = self.appended.load(Ordering::Acquire);
        let due = match reason {
            SealReason::Periodic => appended >= self.next_attempt.load(Ordering::Acquire),
            SealReason::Shutdown => appended > state.sealed,
        };
        if !due {
            return;
        }
        self.next_attempt
            .store(appended + self.config.every, Ordering::Release);
        match state.store.seal(&self.config.key, &self.config.actor) {
            Ok(record) => {
                state.sealed = appended;
                self.metrics.increment(Counter::SealSucceeded);
                info!(seq = record.seq, ?reason, "sealed the audit store");
            }
            Err(error) => {
                self.metrics.increment(Counter::SealFailed);
                warn!(
                    %error,
                    ?reason,
                    every = self.config.every,
                    "failed to seal the audit store; admissions go on, and the seal is tried \
                     again after `every` more records and at shutdown"
                );
            }
        }
    }
}
