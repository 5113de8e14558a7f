//! The background spend writer. The request path only puts a record on a
//! bounded queue (never waiting: a full queue drops the record, counts it
//! and warns); one task takes records off in batches and writes each batch
//! in one transaction, every `batch_write_interval` or as soon as a batch
//! is full. `shutdown` writes everything still queued before it returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::batch;
use super::record::SpendRecord;
use crate::store::Store;

/// How the writer queues and batches.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Flush at least this often (`general_settings.proxy_batch_write_at`).
    pub interval: Duration,
    /// Records that may wait; beyond this the request path drops them.
    pub capacity: usize,
    /// Records per transaction; a full batch is written at once.
    pub max_batch: usize,
    /// Attempts per batch before its records are counted as dropped.
    pub attempts: u32,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            // LiteLLM's `proxy_batch_write_at` default; the gateway passes
            // the configured value.
            interval: Duration::from_secs(10),
            capacity: 10_000,
            max_batch: 2_000,
            attempts: 3,
        }
    }
}

/// What the writer has done so far, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpendCounters {
    /// Records written (a request id logged twice counts once).
    pub written: u64,
    /// Records lost: queue full, queue closed, or a batch that kept failing.
    pub dropped: u64,
    /// Records accepted and not yet written or dropped.
    pub pending: u64,
}

/// A handle to the writer; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct SpendWriter {
    shared: Arc<Shared>,
}

struct Shared {
    queue: mpsc::Sender<SpendRecord>,
    counts: Arc<Counts>,
    /// Taken by the first `shutdown`, and held while it drains so that a
    /// concurrent call waits for the drain too.
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

struct Counts {
    written: AtomicU64,
    dropped: AtomicU64,
    pending: AtomicU64,
    /// When the last drop warning was logged (milliseconds since `epoch`,
    /// plus one: 0 is never), to log at most one per `WARN_EVERY` however
    /// fast records are dropped.
    last_warned_ms: AtomicU64,
    epoch: Instant,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

impl SpendWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(store: Store, options: WriterOptions) -> SpendWriter {
        let (queue, records) = mpsc::channel(options.capacity.max(1));
        let (stop_tx, stop_rx) = oneshot::channel();
        let counts = Arc::new(Counts {
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            last_warned_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        // The task holds no sender: should every handle go without a
        // `shutdown`, the queue closes and the task still writes what is left.
        let task = tokio::spawn(run(store, options, records, stop_rx, counts.clone()));
        SpendWriter {
            shared: Arc::new(Shared {
                queue,
                counts,
                stop: Mutex::new(Some((stop_tx, task))),
            }),
        }
    }

    /// Queues one record; never waits. A full or closed queue drops it.
    pub fn record(&self, record: SpendRecord) {
        let counts = &self.shared.counts;
        // Counted before it is sent, so the writer never subtracts first.
        counts.pending.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.shared.queue.try_send(record) {
            counts.pending.fetch_sub(1, Ordering::Relaxed);
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "the spend queue is full",
                mpsc::error::TrySendError::Closed(_) => "the spend writer has shut down",
            };
            counts.drop_records(1, why);
        }
    }

    pub fn counters(&self) -> SpendCounters {
        let c = &self.shared.counts;
        SpendCounters {
            written: c.written.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            pending: c.pending.load(Ordering::Relaxed),
        }
    }

    /// Closes the queue and returns once every record queued before has
    /// been written (or, after its retries, counted as dropped). Records
    /// offered afterwards are dropped. Later calls return once the first
    /// has finished.
    pub async fn shutdown(&self) {
        let mut stop = self.shared.stop.lock().await;
        let Some((signal, task)) = stop.take() else {
            return;
        };
        let _ = signal.send(());
        if let Err(e) = task.await {
            tracing::error!("the spend writer task failed: {e}");
        }
    }
}

impl Counts {
    fn drop_records(&self, n: u64, why: &str) {
        let total = self.dropped.fetch_add(n, Ordering::Relaxed) + n;
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last_warned_ms.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= WARN_EVERY.as_millis() as u64;
        if due
            && self
                .last_warned_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!("{why}: spend records dropped ({total} so far)");
        }
    }
}

/// The writer task: batches until told to stop, then drains the queue.
async fn run(
    store: Store,
    options: WriterOptions,
    mut records: mpsc::Receiver<SpendRecord>,
    mut stop: oneshot::Receiver<()>,
    counts: Arc<Counts>,
) {
    let max_batch = options.max_batch.max(1);
    let mut batch = Vec::with_capacity(max_batch);
    let mut ticker = tokio::time::interval(options.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let room = max_batch - batch.len();
        tokio::select! {
            _ = &mut stop => break,
            received = records.recv_many(&mut batch, room) => {
                if received == 0 {
                    break;
                }
                if batch.len() >= max_batch {
                    flush(&store, &options, &mut batch, &counts).await;
                }
            }
            _ = ticker.tick() => flush(&store, &options, &mut batch, &counts).await,
        }
    }
    // Nothing new gets in from here; what is queued is still delivered.
    records.close();
    loop {
        let room = max_batch - batch.len();
        if records.recv_many(&mut batch, room).await == 0 {
            break;
        }
        if batch.len() >= max_batch {
            flush(&store, &options, &mut batch, &counts).await;
        }
    }
    flush(&store, &options, &mut batch, &counts).await;
}

/// Writes the batch, retrying a failed transaction with a growing pause;
/// after the last attempt its records are counted as dropped and logged.
async fn flush(
    store: &Store,
    options: &WriterOptions,
    batch: &mut Vec<SpendRecord>,
    counts: &Counts,
) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len() as u64;
    let mut pause = Duration::from_millis(100);
    for attempt in 1..=options.attempts.max(1) {
        match batch::write(store, batch).await {
            Ok(inserted) => {
                counts.written.fetch_add(inserted as u64, Ordering::Relaxed);
                counts.pending.fetch_sub(n, Ordering::Relaxed);
                batch.clear();
                return;
            }
            Err(e) if attempt < options.attempts => {
                tracing::warn!("writing {n} spend records failed (attempt {attempt}): {e}");
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
            Err(e) => {
                tracing::error!("writing {n} spend records failed {attempt} times: {e}");
            }
        }
    }
    counts.pending.fetch_sub(n, Ordering::Relaxed);
    counts.drop_records(n, "a spend batch could not be written");
    batch.clear();
}
