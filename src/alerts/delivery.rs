//! The background task that posts queued alerts, one alert at a time (so
//! each destination sees them in the order they were raised), to every
//! destination at once. A failed post is retried with a growing pause;
//! after the last attempt it is logged and counted, never raised.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::sync::{mpsc, oneshot};

use super::counters::Counts;
use super::payload::{Format, Raised, body};

/// How alerts are queued, retried and drained.
#[derive(Clone, Debug)]
pub struct AlerterOptions {
    /// Alerts that may wait; beyond this `send` drops them.
    pub capacity: usize,
    /// Posts per alert and destination before giving up.
    pub attempts: u32,
    /// The pause before the first retry; each later one is four times longer.
    pub backoff: Duration,
    /// One post, from connecting to the end of the answer.
    pub request_timeout: Duration,
    /// How long `flush` waits for the queue to empty.
    pub flush_timeout: Duration,
}

impl Default for AlerterOptions {
    fn default() -> Self {
        AlerterOptions {
            // Alerts are once per scope and period: a thousand waiting means
            // the destination is down, not that alerts are busy.
            capacity: 1_000,
            attempts: 3,
            backoff: Duration::from_secs(1),
            request_timeout: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(5),
        }
    }
}

/// Slack asks senders over its rate to wait `retry-after`; longer waits
/// than this are cut short (the alert would be stale anyway).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Where to post, and which body it takes.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub format: Format,
    pub url: reqwest::Url,
}

impl Target {
    /// For logs: the kind and the host, never the path (it is the secret).
    fn label(&self) -> String {
        let kind = match self.format {
            Format::Slack => "Slack webhook",
            Format::Generic => "alert webhook",
        };
        format!("{kind} at {}", self.url.host_str().unwrap_or("?"))
    }
}

pub(super) struct Sender {
    pub client: reqwest::Client,
    pub targets: Vec<Target>,
    pub options: AlerterOptions,
    pub counts: Arc<Counts>,
}

/// Delivers until told to stop (or until every handle is gone), then
/// delivers what is still queued and ends.
pub(super) async fn run(
    sender: Sender,
    mut queue: mpsc::Receiver<Raised>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            next = queue.recv() => match next {
                Some(raised) => sender.deliver(&raised).await,
                None => return,
            },
        }
    }
    queue.close();
    while let Some(raised) = queue.recv().await {
        sender.deliver(&raised).await;
    }
}

impl Sender {
    async fn deliver(&self, raised: &Raised) {
        let posts = self.targets.iter().map(|target| async move {
            let body = Bytes::from(body(target.format, raised));
            self.post_with_retries(target, body).await
        });
        for delivered in join_all(posts).await {
            let counter = if delivered {
                &self.counts.delivered
            } else {
                &self.counts.failed
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.counts.queued.fetch_sub(1, Ordering::Relaxed);
    }

    async fn post_with_retries(&self, target: &Target, body: Bytes) -> bool {
        let attempts = self.options.attempts.max(1);
        let mut pause = self.options.backoff;
        for attempt in 1..=attempts {
            let failure = match self.post(target, body.clone()).await {
                Ok(()) => return true,
                Err(failure) => failure,
            };
            let label = target.label();
            if !failure.retryable {
                tracing::error!("budget alert to the {label} refused: {}", failure.why);
                return false;
            }
            if attempt == attempts {
                tracing::error!(
                    "budget alert to the {label} failed {attempts} times, giving up: {}",
                    failure.why
                );
                return false;
            }
            tracing::warn!(
                "budget alert to the {label} failed (attempt {attempt}): {}",
                failure.why
            );
            tokio::time::sleep(failure.retry_after.unwrap_or(pause)).await;
            pause *= 4;
        }
        false
    }

    async fn post(&self, target: &Target, body: Bytes) -> Result<(), Failure> {
        let sent = self
            .client
            .post(target.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .timeout(self.options.request_timeout)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Connection refused, timeouts, TLS: worth another try.
            Err(e) => {
                return Err(Failure {
                    retryable: true,
                    retry_after: None,
                    why: e.without_url().to_string(),
                });
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        Err(Failure {
            // A 4xx other than these means the URL or the body is wrong
            // (Slack: 404 no_service, 410 channel_is_archived, 400
            // invalid_payload); sending it again cannot help.
            retryable: status.is_server_error() || matches!(status.as_u16(), 408 | 429),
            retry_after,
            why: format!("HTTP {status}: {}", text.trim()),
        })
    }
}

struct Failure {
    retryable: bool,
    retry_after: Option<Duration>,
    why: String,
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}
