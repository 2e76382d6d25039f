//! Appends the records of admissions to the audit store and, given a seal key, seals it.
//!
//! Appends are committed in groups. Each admission queues its records with a channel for the
//! outcome. One writer thread, which owns the store connection, takes every queued admission up
//! to [`MAX_BATCH_RECORDS`] records, appends them with one `Store::append_all` (one
//! transaction, so one `fsync` on SQLite), and then sends each admission the outcome. The
//! response to an admission is therefore sent only after its records are committed, as with one
//! transaction per admission, but concurrent admissions share the flush. When the batch fails,
//! every admission in it receives the store's error and is denied, and none of its records are
//! stored. At most [`MAX_QUEUED_ADMISSIONS`] admissions wait in the queue, and more wait to
//! enter it.
//!
//! Seals use a second connection of their own: `Store::seal` first checks the whole chain, and
//! on that connection the check never holds up an admission.
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

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clearbox_attest::SigningKey;
use clearbox_audit::{AuditError, Event, Store};
use tokio::sync::{Notify, OwnedRwLockReadGuard, RwLock, mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::metrics::{Counter, Metrics};

/// Maximum records appended in one transaction. An admission whose records alone exceed it
/// is appended in a transaction of its own.
pub(crate) const MAX_BATCH_RECORDS: usize = 1024;

/// Maximum admissions waiting for the writer thread. An admission has one event per image, each
/// about 1 KiB (an estimate), so a full queue takes a few MiB.
pub(crate) const MAX_QUEUED_ADMISSIONS: usize = 4096;

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
    location: String,
    queue: mpsc::Sender<Pending>,
    /// Held shared by every append in progress and exclusively by [`AuditWriter::finish`],
    /// which therefore waits for them. Each queued admission carries its share until its batch
    /// is committed or has failed, so a request dropped at the end of the shutdown grace period
    /// still holds up the last seal until its records are written.
    appends: Arc<RwLock<()>>,
    sealer: Option<Arc<Sealer>>,
}

/// One admission's records, waiting in the queue for the writer thread.
struct Pending {
    events: Vec<Event>,
    /// Receives the outcome once the batch is committed or has failed.
    outcome: oneshot::Sender<Result<(), String>>,
    /// The admission's share of [`AuditWriter::appends`], released after the outcome is sent.
    _shared: OwnedRwLockReadGuard<()>,
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
    /// Opens the store at `url` and starts the writer thread that owns the connection, and
    /// opens a second connection for seals when `seal` is given.
    pub(crate) fn open(
        url: &str,
        seal: Option<SealConfig>,
        lock_timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<AuditWriter, AuditError> {
        let mut store = Store::open(url)?;
        // A batch that waits for another writer's lock fails by then, so that its admissions
        // are denied with the reason before the API server gives up on the webhook.
        store.set_lock_timeout(lock_timeout)?;
        let location = store.location().to_owned();
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
        let (queue, receiver) = mpsc::channel(MAX_QUEUED_ADMISSIONS);
        let thread_sealer = sealer.clone();
        // A thread of its own rather than one of tokio's blocking threads, because it runs as
        // long as the server and the runtime waits for its blocking threads when it shuts down.
        std::thread::Builder::new()
            .name("audit-writer".to_owned())
            .spawn(move || write_batches(store, receiver, thread_sealer.as_deref()))
            .map_err(|source| AuditError::Io {
                path: "the audit writer thread".into(),
                source,
            })?;
        Ok(AuditWriter {
            location,
            queue,
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
        self.location.clone()
    }

    /// Appends `events` in order, in a batch with the events of concurrent admissions, and
    /// returns once the batch is committed. The error names the store and the cause.
    pub(crate) async fn append(&self, events: Vec<Event>) -> Result<(), String> {
        let shared = Arc::clone(&self.appends).read_owned().await;
        let (outcome, receiver) = oneshot::channel();
        let pending = Pending {
            events,
            outcome,
            _shared: shared,
        };
        let stopped = || {
            format!(
                "internal error while writing the audit record: the writer of audit store `{}` \
                 has stopped",
                self.location
            )
        };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        receiver.await.map_err(|_| stopped())?
    }

    /// Waits for every append in progress, then appends the last seal when records were
    /// appended since the previous one. Call it once the server has stopped serving.
    pub(crate) async fn finish(&self) -> Result<(), String> {
        let _exclusive = self.appends.write().await;
        let Some(sealer) = &self.sealer else {
            return Ok(());
        };
        let sealer = Arc::clone(sealer);
        tokio::task::spawn_blocking(move || sealer.seal(SealReason::Shutdown))
            .await
            .map_err(|error| format!("internal error: {error}"))?
    }
}

/// Appends the queued admissions in batches until every sender is gone. Runs on the writer
/// thread.
fn write_batches(mut store: Store, mut receiver: mpsc::Receiver<Pending>, sealer: Option<&Sealer>) {
    let mut carried = None;
    while let Some(batch) = next_batch(&mut receiver, &mut carried) {
        let events: Vec<Event> = batch
            .iter()
            .flat_map(|pending| pending.events.iter().cloned())
            .collect();
        // `append_all` is one transaction, which a panic rolls back, so the store stays whole
        // and the thread goes on with the next batch.
        let result = match catch_unwind(AssertUnwindSafe(|| store.append_all(&events))) {
            // `AuditError` already names the store.
            Ok(result) => result
                .map(|records| records.len())
                .map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "internal error while writing the audit records to `{}`; the webhook's log \
                 has the panic message",
                store.location()
            )),
        };
        match &result {
            Ok(records) => debug!(
                admissions = batch.len(),
                records, "appended a batch of audit records"
            ),
            // Each denied admission is logged with the error as well.
            Err(error) => warn!(
                admissions = batch.len(),
                records = events.len(),
                %error,
                "failed to append a batch of audit records; its admissions are denied"
            ),
        }
        if let (Some(sealer), Ok(records)) = (sealer, &result) {
            sealer.count_appended(*records as u64);
        }
        for pending in batch {
            // A request dropped after queueing its records no longer waits for the outcome.
            let _ = pending.outcome.send(result.clone().map(drop));
        }
    }
}

/// Waits for the next admission, then takes the ones queued behind it while the batch stays
/// within [`MAX_BATCH_RECORDS`] records. The admission that would exceed the limit is kept in
/// `carried` and starts the next batch. Returns `None` once every sender is gone.
fn next_batch(
    receiver: &mut mpsc::Receiver<Pending>,
    carried: &mut Option<Pending>,
) -> Option<Vec<Pending>> {
    let first = match carried.take() {
        Some(pending) => pending,
        None => receiver.blocking_recv()?,
    };
    let mut records = first.events.len();
    let mut batch = vec![first];
    while let Ok(pending) = receiver.try_recv() {
        if records + pending.events.len() > MAX_BATCH_RECORDS {
            *carried = Some(pending);
            break;
        }
        records += pending.events.len();
        batch.push(pending);
    }
    Some(batch)
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

    /// Appends a seal if one is due for `reason`, and returns the store's error when it
    /// failed. Runs on a blocking thread.
    fn seal(&self, reason: SealReason) -> Result<(), String> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let appended = self.appended.load(Ordering::Acquire);
        let due = match reason {
            SealReason::Periodic => appended >= self.next_attempt.load(Ordering::Acquire),
            SealReason::Shutdown => appended > state.sealed,
        };
        if !due {
            return Ok(());
        }
        self.next_attempt
            .store(appended + self.config.every, Ordering::Release);
        match state.store.seal(&self.config.key, &self.config.actor) {
            Ok(record) => {
                state.sealed = appended;
                self.metrics.increment(Counter::SealSucceeded);
                info!(seq = record.seq, ?reason, "sealed the audit store");
                Ok(())
            }
            Err(error) if reason == SealReason::Periodic => {
                self.metrics.increment(Counter::SealFailed);
                warn!(
                    %error,
                    every = self.config.every,
                    "failed to seal the audit store; admissions go on, and the seal is tried \
                     again after `every` more records and at shutdown"
                );
                Err(error.to_string())
            }
            Err(error) => {
                self.metrics.increment(Counter::SealFailed);
                Err(error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:8e3b6ec0ba5e1bc31d9b3bde4d29fd4bbbf1b2ad0e9db42d6e7e4e2b0c3a7f01";

    fn events(actor: &str, count: usize) -> Vec<Event> {
        (0..count)
            .map(|index| Event {
                kind: "admission".to_owned(),
                actor: actor.to_owned(),
                image: Some(format!("registry.example/app:{index}")),
                digest: Some(DIGEST.to_owned()),
                decision: "allowed".to_owned(),
                ..Event::default()
            })
            .collect()
    }

    fn store_url(dir: &tempfile::TempDir) -> String {
        format!("sqlite://{}", dir.path().join("audit.db").display())
    }

    /// Runs `admissions` appends of two records each at once, and returns their outcomes.
    fn append_concurrently(writer: AuditWriter, admissions: usize) -> Vec<Result<(), String>> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let writer = Arc::new(writer);
            let tasks: Vec<_> = (0..admissions)
                .map(|index| {
                    let writer = Arc::clone(&writer);
                    tokio::spawn(async move {
                        writer.append(events(&format!("request-{index}"), 2)).await
                    })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await.unwrap());
            }
            writer.finish().await.unwrap();
            outcomes
        })
    }

    fn pending(records: usize, shared: &Arc<RwLock<()>>) -> Pending {
        Pending {
            events: events("request", records),
            outcome: oneshot::channel().0,
            _shared: Arc::clone(shared).try_read_owned().unwrap(),
        }
    }

    #[test]
    fn concurrent_appends_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let url = store_url(&dir);
        let writer =
            AuditWriter::open(&url, None, Duration::from_secs(10), Arc::default()).unwrap();
        let outcomes = append_concurrently(writer, 64);
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");

        let mut store = Store::open(&url).unwrap();
        let result = store.verify(None).unwrap();
        assert!(result.intact(), "{result:?}");
        assert_eq!(result.records, 128);
    }

    #[test]
    fn failed_batch_denies_every_admission() {
        let dir = tempfile::tempdir().unwrap();
        let url = store_url(&dir);
        let mut store = Store::open(&url).unwrap();
        store.append(&events("request-0", 1)[0]).unwrap();
        store
            .execute_raw(
                "UPDATE audit_record SET record = replace(record, 'allowed', 'denied') \
                 WHERE seq = 1",
            )
            .unwrap();
        let location = store.location().to_owned();

        let writer =
            AuditWriter::open(&url, None, Duration::from_secs(10), Arc::default()).unwrap();
        let outcomes = append_concurrently(writer, 16);
        for outcome in outcomes {
            let error = outcome.unwrap_err();
            assert!(
                error.contains("its last record cannot be extended"),
                "{error}"
            );
            assert_eq!(error.matches(&location).count(), 1, "{error}");
        }
        let stored = store.records_for_digest(DIGEST).unwrap();
        assert_eq!(stored.len(), 1, "a failed batch stores none of its records");
    }

    #[test]
    fn batches_stay_within_the_record_limit() {
        let shared = Arc::new(RwLock::new(()));
        let (queue, mut receiver) = mpsc::channel(MAX_QUEUED_ADMISSIONS);
        for records in [1000, 20, 10, 3, MAX_BATCH_RECORDS + 1, 1] {
            queue.try_send(pending(records, &shared)).unwrap();
        }
        drop(queue);

        let mut carried = None;
        let mut sizes = Vec::new();
        while let Some(batch) = next_batch(&mut receiver, &mut carried) {
            sizes.push(batch.iter().map(|p| p.events.len()).collect::<Vec<_>>());
        }
        assert_eq!(
            sizes,
            [
                vec![1000, 20],
                vec![10, 3],
                vec![MAX_BATCH_RECORDS + 1],
                vec![1]
            ]
        );
    }
}
