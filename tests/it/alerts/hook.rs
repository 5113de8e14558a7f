//! A webhook receiver on loopback that records every post as it arrives
//! (before answering) and answers as the test scripts it: by path and by
//! how many posts that path has had.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One post as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub content_type: Option<String>,
    pub body: Value,
}

/// What the receiver answers.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// 429 with `retry-after: 0`.
    RateLimited,
    /// Never answers (within any test's patience).
    Hang,
}

type Script = Arc<dyn Fn(&str, usize) -> Answer + Send + Sync>;

struct Shared {
    script: Script,
    received: Mutex<Vec<Received>>,
}

pub struct Hook {
    base: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Hook {
    /// `script(path, n)`: the answer to the `n`-th post (from 0) to `path`.
    pub async fn start(script: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> Hook {
        let shared = Arc::new(Shared {
            script: Arc::new(script),
            received: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hook { base, shared, task }
    }

    /// Answers 200 to everything.
    pub async fn ok() -> Hook {
        Hook::start(|_, _| Answer::Status(200)).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The bodies posted to `path`, in order.
    pub fn bodies(&self, path: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .map(|r| r.body)
            .collect()
    }

    /// Waits (up to 5 s) until at least `n` posts have arrived.
    pub async fn wait_for(&self, n: usize) {
        for _ in 0..500 {
            if self.received().len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} posts, got {:?}", self.received());
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let n = {
        let mut received = shared.received.lock().unwrap();
        let n = received.iter().filter(|r| r.path == path).count();
        received.push(Received {
            path: path.clone(),
            content_type,
            body,
        });
        n
    };
    match (shared.script)(&path, n) {
        Answer::Status(code) => (StatusCode::from_u16(code).unwrap(), "answer").into_response(),
        Answer::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "rate_limited",
        )
            .into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            StatusCode::OK.into_response()
        }
    }
}
