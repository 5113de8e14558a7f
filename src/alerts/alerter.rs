//! The handle the request path sends alerts through. `send` never waits:
//! it puts the alert on a bounded queue (a full queue drops it, counts it
//! and warns) and a background task posts it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::context::AlertContext;
use super::counters::{AlertCounters, Counts};
use super::delivery::{self, AlerterOptions, Sender, Target};
use super::payload::{Format, Raised};
use crate::config::{AlertSettings, Secret};
use crate::limits::{Alert, Budgets};

/// Cheap to clone; every clone feeds the same queue.
#[derive(Clone)]
pub struct Alerter {
    /// `None`: alerts are off (no destination, or `alert_types` leaves
    /// budget alerts out) and `send` does nothing.
    shared: Option<Arc<Shared>>,
}

struct Shared {
    queue: mpsc::Sender<Raised>,
    counts: Arc<Counts>,
    /// Taken by the first `flush`, and held while it drains so that a
    /// concurrent call waits for the drain too.
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
    flush_timeout: Duration,
}

impl Alerter {
    /// Starts the background sender on the current tokio runtime. `client`
    /// is the gateway's pooled client (`Transport::client`).
    pub fn new(settings: &AlertSettings, client: reqwest::Client) -> Alerter {
        Alerter::with_options(settings, client, AlerterOptions::default())
    }

    pub fn with_options(
        settings: &AlertSettings,
        client: reqwest::Client,
        options: AlerterOptions,
    ) -> Alerter {
        let targets = targets(settings);
        if !settings.budget_alerts || targets.is_empty() {
            return Alerter::disabled();
        }
        // Without a runtime there is nowhere to send from; say so rather
        // than panic in `tokio::spawn`.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("budget alerts are off: the alert sender needs a tokio runtime");
            return Alerter::disabled();
        };
        let (queue, queued) = mpsc::channel(options.capacity.max(1));
        let (stop_tx, stop_rx) = oneshot::channel();
        let counts = Arc::new(Counts::new());
        let flush_timeout = options.flush_timeout;
        let sender = Sender {
            client,
            targets,
            options,
            counts: counts.clone(),
        };
        // The task holds no queue sender: should every handle go without a
        // `flush`, the queue closes and the task still sends what is left.
        let task = runtime.spawn(delivery::run(sender, queued, stop_rx));
        Alerter {
            shared: Some(Arc::new(Shared {
                queue,
                counts,
                stop: Mutex::new(Some((stop_tx, task))),
                flush_timeout,
            })),
        }
    }

    /// An alerter that sends nothing.
    pub fn disabled() -> Alerter {
        Alerter { shared: None }
    }

    /// Whether alerts go anywhere; when not, the caller need not build an
    /// `AlertContext` at all.
    pub fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }

    /// Queues one alert; never waits.
    pub fn send(&self, alert: Alert, context: AlertContext) {
        let Some(shared) = &self.shared else {
            return;
        };
        let raised = Raised {
            alert,
            context,
            at: unix_now(),
        };
        // Counted before it is sent, so the task never subtracts first.
        shared.counts.queued.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = shared.queue.try_send(raised) {
            shared.counts.queued.fetch_sub(1, Ordering::Relaxed);
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "the alert queue is full",
                mpsc::error::TrySendError::Closed(_) => "the alert sender has shut down",
            };
            shared.counts.drop_alerts(1, why);
        }
    }

    /// Queues what `Reservation::settle` returned, each with its scope's
    /// period start from `budgets`.
    pub fn send_settled(&self, alerts: Vec<Alert>, context: &AlertContext, budgets: &Budgets) {
        if self.shared.is_none() {
            return;
        }
        for alert in alerts {
            let period_start = budgets.usage(&alert.scope).and_then(|u| u.period_start);
            let context = AlertContext {
                period_start,
                ..context.clone()
            };
            self.send(alert, context);
        }
    }

    pub fn counters(&self) -> AlertCounters {
        self.shared
            .as_ref()
            .map(|s| s.counts.snapshot())
            .unwrap_or_default()
    }

    /// For shutdown: closes the queue and waits, up to the flush timeout,
    /// until every alert queued before has been posted (or given up).
    /// What is left then is counted as dropped. Later sends are dropped;
    /// later calls return once the first has finished.
    pub async fn flush(&self) -> AlertCounters {
        let Some(shared) = &self.shared else {
            return AlertCounters::default();
        };
        let mut stop = shared.stop.lock().await;
        if let Some((signal, mut task)) = stop.take() {
            let _ = signal.send(());
            match tokio::time::timeout(shared.flush_timeout, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("the alert sender failed: {e}"),
                Err(_) => {
                    task.abort();
                    // Wait for the abort, so no post finishes after the count.
                    let _ = task.await;
                    let left = shared.counts.queued.swap(0, Ordering::Relaxed);
                    if left > 0 {
                        let why = "shutdown's time for sending alerts ran out";
                        shared.counts.drop_alerts(left, why);
                    }
                }
            }
        }
        shared.counts.snapshot()
    }
}

/// The configured destinations whose URL parses (config checked them).
fn targets(settings: &AlertSettings) -> Vec<Target> {
    let configured: [(&Option<Secret>, Format); 2] = [
        (&settings.slack_webhook_url, Format::Slack),
        (&settings.webhook_url, Format::Generic),
    ];
    configured
        .into_iter()
        .filter_map(|(url, format)| {
            let url = reqwest::Url::parse(url.as_ref()?.expose()).ok()?;
            Some(Target { format, url })
        })
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
