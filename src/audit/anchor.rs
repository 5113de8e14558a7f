//! Anchors: the chain's head (seq, hash, time) copied outside the database
//! every N records or M minutes, to an append-only JSON Lines file and/or an
//! HTTP webhook. Whoever rewrites the database must then also rewrite every
//! copy of the anchors to go unnoticed; a tail cut off the log is caught by
//! an anchor that names a record no longer there.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::chain::Head;
use crate::spend::dates::rfc3339;

/// When and where to anchor. Nothing is anchored without a sink.
#[derive(Clone, Debug, Default)]
pub struct AnchorOptions {
    /// Anchor once this many records were appended since the last anchor
    /// (0: not by count).
    pub every_records: u64,
    /// Anchor at least this often while records arrive (None: not by time).
    pub every: Option<Duration>,
    /// Lines are appended, one JSON object each; the file is created.
    pub file: Option<PathBuf>,
    /// Each anchor is POSTed as a JSON object.
    pub webhook: Option<String>,
    /// The client for the webhook (the gateway's shared one).
    pub client: Option<reqwest::Client>,
}

/// One line of the anchor file, and the webhook's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub time_ms: i64,
    /// The same instant, RFC 3339 UTC, for people.
    pub time: String,
}

/// Decides when the head is due and writes it to the sinks.
pub struct Anchorer {
    options: AnchorOptions,
    anchored_seq: i64,
    anchored_at: Instant,
}

impl Anchorer {
    pub fn new(options: AnchorOptions) -> Anchorer {
        Anchorer {
            options,
            anchored_seq: 0,
            anchored_at: Instant::now(),
        }
    }

    /// Anchors `head` when it is new and due by count or by time, or when
    /// `force` (shutdown) says so. A sink that fails is logged and left:
    /// the next anchor covers the same records.
    pub async fn offer(&mut self, head: &Head, force: bool) {
        let sinks = self.options.file.is_some() || self.options.webhook.is_some();
        if !sinks || head.seq <= self.anchored_seq {
            return;
        }
        let by_count = self.options.every_records > 0
            && (head.seq - self.anchored_seq) as u64 >= self.options.every_records;
        let by_time = self
            .options
            .every
            .is_some_and(|every| self.anchored_at.elapsed() >= every);
        if !(force || by_count || by_time) {
            return;
        }
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let anchor = Anchor {
            seq: head.seq,
            hash: head.hash.clone(),
            time_ms,
            time: rfc3339(time_ms),
        };
        self.anchored_seq = head.seq;
        self.anchored_at = Instant::now();
        if let Some(path) = self.options.file.clone() {
            let line = anchor.clone();
            let written = tokio::task::spawn_blocking(move || append_line(&path, &line)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("audit anchor {} not written: {e}", anchor.seq),
                Err(e) => tracing::error!("audit anchor {} not written: {e}", anchor.seq),
            }
        }
        if let Some(url) = self.options.webhook.clone() {
            let client = self.options.client.clone();
            let sent = async move { post(client.as_ref(), &url, &anchor).await };
            if force {
                // Shutdown: the process must not end before it is sent.
                sent.await;
            } else {
                // A slow webhook must not hold up the batches behind it.
                tokio::spawn(sent);
            }
        }
    }
}

/// One line, appended and synced: an anchor that is not on disk is no anchor.
fn append_line(path: &Path, anchor: &Anchor) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(anchor).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(&line)?;
    file.sync_data()
}

/// POSTs one anchor. The URL is never logged: a webhook URL often carries
/// its credential (as the alert webhooks' do).
async fn post(client: Option<&reqwest::Client>, url: &str, anchor: &Anchor) {
    let seq = anchor.seq;
    let Some(client) = client else {
        tracing::error!("audit anchor {seq} not sent: the webhook has no HTTP client");
        return;
    };
    let body = serde_json::to_vec(anchor).unwrap_or_default();
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => tracing::error!("audit anchor {seq}: the webhook answered {}", r.status()),
        Err(e) => tracing::error!(
            "audit anchor {seq}: the webhook failed: {}",
            e.without_url()
        ),
    }
}

/// The anchors of a file, in the order written; a line that does not parse
/// is an error naming its line number.
pub fn read_file(path: &Path) -> Result<Vec<Anchor>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read anchors {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: not an anchor: {e}", path.display(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: i64) -> Head {
        Head {
            seq,
            hash: format!("h{seq}"),
        }
    }

    #[tokio::test]
    async fn anchors_by_count_and_when_forced_never_twice() {
        let path = std::env::temp_dir().join(format!("sy-anchor-{:08x}", fastrand::u32(..)));
        let mut anchorer = Anchorer::new(AnchorOptions {
            every_records: 3,
            file: Some(path.clone()),
            ..AnchorOptions::default()
        });
        anchorer.offer(&head(2), false).await; // not due
        anchorer.offer(&head(3), false).await; // due by count
        anchorer.offer(&head(4), false).await; // not due
        anchorer.offer(&head(5), true).await; // forced
        anchorer.offer(&head(5), true).await; // nothing new
        let anchors = read_file(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let seqs: Vec<i64> = anchors.iter().map(|a| a.seq).collect();
        assert_eq!(seqs, [3, 5]);
        assert_eq!(anchors[1].hash, "h5");
        assert!(anchors[1].time.ends_with('Z'), "{}", anchors[1].time);
    }

    #[tokio::test]
    async fn anchors_are_posted_to_the_webhook() {
        use axum::routing::post;
        use tokio::sync::mpsc;

        let (tx, mut rx) = mpsc::unbounded_channel::<(String, Anchor)>();
        let app = axum::Router::new().route(
            "/anchors",
            post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                    let kind = headers["content-type"].to_str().unwrap().to_string();
                    let _ = tx.send((kind, serde_json::from_slice(&body).unwrap()));
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/anchors", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        crate::transport::install_tls_provider();
        let mut anchorer = Anchorer::new(AnchorOptions {
            every_records: 1,
            webhook: Some(url),
            client: Some(reqwest::Client::new()),
            ..AnchorOptions::default()
        });
        anchorer.offer(&head(7), false).await;
        let (kind, anchor) = rx.recv().await.unwrap();
        assert_eq!(kind, "application/json");
        assert_eq!((anchor.seq, anchor.hash.as_str()), (7, "h7"));
    }

    #[tokio::test]
    async fn anchors_by_time() {
        let path = std::env::temp_dir().join(format!("sy-anchor-{:08x}", fastrand::u32(..)));
        let mut anchorer = Anchorer::new(AnchorOptions {
            every: Some(Duration::from_millis(30)),
            file: Some(path.clone()),
            ..AnchorOptions::default()
        });
        anchorer.offer(&head(1), false).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        anchorer.offer(&head(2), false).await;
        let anchors = read_file(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(anchors.iter().map(|a| a.seq).collect::<Vec<_>>(), [2]);
    }
}
