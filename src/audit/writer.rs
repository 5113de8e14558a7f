//! The background audit writer, on the spend writer's pattern: the request
//! path only puts an entry on a bounded queue (never waiting: a full queue
//! drops it, counts it and warns); one task takes entries off in batches,
//! computes the keyed hashes, chains them onto the stored head and appends
//! each batch in one transaction, every `interval` or as soon as a batch is
//! full, then offers the new head to the anchors. `shutdown` writes all
//! that is queued, and anchors the final head, before it returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::anchor::{AnchorOptions, Anchorer};
use super::chain::Head;
use super::record::{AuditEntry, AuditRecord};
use super::rows;
use super::secret::AuditSecret;
use crate::store::Store;

/// How the writer queues, batches and anchors.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// Write at least this often.
    pub interval: Duration,
    /// Entries that may wait; beyond this the request path drops them.
    pub capacity: usize,
    /// Records per transaction; a full batch is written at once.
    pub max_batch: usize,
    /// Attempts per batch before its records are counted as dropped.
    pub attempts: u32,
    pub anchors: AnchorOptions,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            interval: Duration::from_secs(1),
            capacity: 10_000,
            max_batch: 1_000,
            attempts: 5,
            anchors: AnchorOptions::default(),
        }
    }
}

/// What the writer has done so far, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditCounters {
    pub written: u64,
    /// Lost: queue full, writer shut down, or a batch that kept failing.
    pub dropped: u64,
    /// Accepted and not yet written or dropped.
    pub pending: u64,
}

/// A handle to the writer; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct AuditWriter {
    shared: Arc<Shared>,
}

struct Shared {
    queue: mpsc::Sender<AuditEntry>,
    counts: Arc<Counts>,
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

struct Counts {
    written: AtomicU64,
    dropped: AtomicU64,
    pending: AtomicU64,
    /// Milliseconds since `epoch` of the last drop warning, plus one.
    last_warned_ms: AtomicU64,
    epoch: Instant,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

impl AuditWriter {
    /// Starts the writer task on the current tokio runtime. `secret` keys
    /// the hashes of prompts and responses.
    pub fn start(store: Store, secret: AuditSecret, options: AuditOptions) -> AuditWriter {
        let (queue, entries) = mpsc::channel(options.capacity.max(1));
        let (stop_tx, stop_rx) = oneshot::channel();
        let counts = Arc::new(Counts {
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            last_warned_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        let task = Task {
            store,
            secret,
            anchors: Anchorer::new(options.anchors.clone()),
            options,
            counts: counts.clone(),
            head: None,
        };
        let task = tokio::spawn(task.run(entries, stop_rx));
        AuditWriter {
            shared: Arc::new(Shared {
                queue,
                counts,
                stop: Mutex::new(Some((stop_tx, task))),
            }),
        }
    }

    /// Queues one entry; never waits. A full or closed queue drops it.
    pub fn record(&self, entry: AuditEntry) {
        let counts = &self.shared.counts;
        counts.pending.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.shared.queue.try_send(entry) {
            counts.pending.fetch_sub(1, Ordering::Relaxed);
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "the audit queue is full",
                mpsc::error::TrySendError::Closed(_) => "the audit writer has shut down",
            };
            counts.drop_records(1, why);
        }
    }

    pub fn counters(&self) -> AuditCounters {
        let c = &self.shared.counts;
        AuditCounters {
            written: c.written.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            pending: c.pending.load(Ordering::Relaxed),
        }
    }

    /// Closes the queue and returns once every entry queued before has been
    /// written (or counted as dropped) and the head anchored. Later calls
    /// return once the first has finished.
    pub async fn shutdown(&self) {
        let mut stop = self.shared.stop.lock().await;
        let Some((signal, task)) = stop.take() else {
            return;
        };
        let _ = signal.send(());
        if let Err(e) = task.await {
            tracing::error!("the audit writer task failed: {e}");
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
            tracing::warn!("{why}: audit records dropped ({total} so far)");
        }
    }
}

struct Task {
    store: Store,
    secret: AuditSecret,
    anchors: Anchorer,
    options: AuditOptions,
    counts: Arc<Counts>,
    /// The head after this writer's last append (None before the first).
    head: Option<Head>,
}

impl Task {
    /// Batches until told to stop, then drains the queue and anchors.
    async fn run(
        mut self,
        mut entries: mpsc::Receiver<AuditEntry>,
        mut stop: oneshot::Receiver<()>,
    ) {
        let max_batch = self.options.max_batch.max(1);
        let mut batch = Vec::with_capacity(max_batch);
        let mut ticker = tokio::time::interval(self.options.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let room = max_batch - batch.len();
            tokio::select! {
                _ = &mut stop => break,
                received = entries.recv_many(&mut batch, room) => {
                    if received == 0 {
                        break;
                    }
                    if batch.len() >= max_batch {
                        self.flush(&mut batch).await;
                    }
                }
                _ = ticker.tick() => {
                    self.flush(&mut batch).await;
                    // A quiet spell still gets its anchor when one is due by time.
                    if let Some(head) = &self.head {
                        self.anchors.offer(head, false).await;
                    }
                }
            }
        }
        // Nothing new gets in from here; what is queued is still written.
        entries.close();
        loop {
            let room = max_batch - batch.len();
            if entries.recv_many(&mut batch, room).await == 0 {
                break;
            }
            if batch.len() >= max_batch {
                self.flush(&mut batch).await;
            }
        }
        self.flush(&mut batch).await;
        if let Some(head) = &self.head {
            self.anchors.offer(head, true).await;
        }
    }

    /// Appends the batch, retrying with a growing pause (each attempt
    /// re-reads the head, so a lost race with another process is retried
    /// from where that process left the chain).
    async fn flush(&mut self, batch: &mut Vec<AuditEntry>) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let mut records: Vec<AuditRecord> = batch
            .drain(..)
            .map(|e| AuditRecord::from_entry(e, &self.secret))
            .collect();
        let attempts = self.options.attempts.max(1);
        let mut pause = Duration::from_millis(50);
        for attempt in 1..=attempts {
            match rows::append(&self.store, &mut records).await {
                Ok(head) => {
                    self.counts.written.fetch_add(n, Ordering::Relaxed);
                    self.counts.pending.fetch_sub(n, Ordering::Relaxed);
                    self.anchors.offer(&head, false).await;
                    self.head = Some(head);
                    return;
                }
                Err(e) if attempt < attempts => {
                    tracing::warn!("appending {n} audit records failed (attempt {attempt}): {e}");
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
                Err(e) => {
                    tracing::error!("appending {n} audit records failed {attempt} times: {e}");
                }
            }
        }
        self.counts.pending.fetch_sub(n, Ordering::Relaxed);
        self.counts
            .drop_records(n, "an audit batch could not be written");
    }
}
