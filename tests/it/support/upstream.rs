//! Upstream mocks that follow OpenAI's and Azure OpenAI's documented HTTP
//! API: their paths, auth headers, JSON bodies, SSE framing ending in
//! `data: [DONE]`, and their error bodies. What a test wants the upstream
//! to say is a `Script`; everything the gateway sent is recorded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

/// What the upstream answers.
pub enum Reply {
    Json(u16, Value),
    JsonWithHeaders(u16, Value, Vec<(&'static str, &'static str)>),
    /// OpenAI SSE: each value as `data: …`, then `data: [DONE]`.
    Sse(Vec<Value>),
    /// Raw body pieces, each sent after its delay (exact framing tests).
    Chunks(Vec<(Duration, String)>),
    /// Waits, then answers.
    After(Duration, Box<Reply>),
    /// A 200 with `content_type` whose body sends these pieces and then
    /// breaks off: the connection is torn down mid-response, as when the
    /// upstream crashes or a proxy resets it.
    Reset(&'static str, Vec<String>),
}

pub type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

pub fn script(f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Script {
    Arc::new(f)
}

enum Api {
    OpenAi { key: String },
    Azure { key: String, deployment: String },
}

struct Shared {
    api: Api,
    script: Script,
    recorded: Mutex<Vec<Recorded>>,
    /// Streamed bodies dropped before their last piece was sent: the
    /// gateway (or its client) went away mid-stream.
    streams_cut: AtomicUsize,
    streams_finished: AtomicUsize,
    /// Requests whose handler was dropped before it answered: the caller
    /// closed the connection while the upstream was still "thinking".
    abandoned: AtomicUsize,
}

pub struct Upstream {
    /// What goes into `api_base`.
    pub api_base: String,
    shared: Arc<Shared>,
}

impl Upstream {
    /// OpenAI: `POST /v1/chat/completions`, `POST /v1/embeddings`,
    /// `Authorization: Bearer <key>`. `api_base` ends in `/v1`.
    pub async fn openai(key: &str, script: Script) -> Upstream {
        Upstream::start(Api::OpenAi { key: key.into() }, script, "/v1").await
    }

    /// Azure OpenAI: `POST /openai/deployments/{deployment}/chat/completions?api-version=…`
    /// with an `api-key` header. `api_base` is the resource endpoint.
    pub async fn azure(key: &str, deployment: &str, script: Script) -> Upstream {
        Upstream::start(
            Api::Azure {
                key: key.into(),
                deployment: deployment.into(),
            },
            script,
            "",
        )
        .await
    }

    async fn start(api: Api, script: Script, base_path: &str) -> Upstream {
        let shared = Arc::new(Shared {
            api,
            script,
            recorded: Mutex::new(Vec::new()),
            streams_cut: AtomicUsize::new(0),
            streams_finished: AtomicUsize::new(0),
            abandoned: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Upstream {
            api_base: format!("http://{addr}{base_path}"),
            shared,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .expect("the upstream received no request")
    }

    pub fn streams_cut(&self) -> usize {
        self.shared.streams_cut.load(Ordering::SeqCst)
    }

    pub fn abandoned(&self) -> usize {
        self.shared.abandoned.load(Ordering::SeqCst)
    }

    pub fn streams_finished(&self) -> usize {
        self.shared.streams_finished.load(Ordering::SeqCst)
    }
}

fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn azure_error(status: u16, code: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Checks path, auth and body as the real API does, then runs the script.
async fn handle(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    match &s.api {
        Api::OpenAi { key } => {
            if !matches!(path.as_str(), "/v1/chat/completions" | "/v1/embeddings") {
                return openai_error(
                    404,
                    &format!("Invalid URL (POST {path})"),
                    "invalid_request_error",
                    None,
                );
            }
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if auth != format!("Bearer {key}") {
                return openai_error(
                    401,
                    "Incorrect API key provided: sk-wro***ong. You can find your API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    Some("invalid_api_key"),
                );
            }
        }
        Api::Azure { key, deployment } => {
            let Some(rest) = path.strip_prefix("/openai/deployments/") else {
                return azure_error(404, "404", "Resource not found");
            };
            let (dep, op) = rest.split_once('/').unwrap_or((rest, ""));
            if !matches!(op, "chat/completions" | "embeddings") {
                return azure_error(404, "404", "Resource not found");
            }
            if !query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .any(|p| p.starts_with("api-version=") && p.len() > 12)
            {
                return azure_error(404, "404", "Resource not found");
            }
            if headers.get("api-key").and_then(|v| v.to_str().ok()) != Some(key.as_str()) {
                return azure_error(
                    401,
                    "401",
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
                );
            }
            if dep != deployment {
                return azure_error(
                    404,
                    "DeploymentNotFound",
                    "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
                );
            }
        }
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return openai_error(
            400,
            "Invalid Content-Type header, expected application/json",
            "invalid_request_error",
            None,
        );
    }
    let Ok(json @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return openai_error(
            400,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            None,
        );
    };
    let recorded = Recorded {
        path,
        query,
        headers,
        body: json,
    };
    s.recorded.lock().unwrap().push(recorded.clone());
    let reply = (s.script)(&recorded);
    let mut guard = Unanswered(Some(s.clone()));
    let response = render(reply, s.clone()).await;
    guard.0 = None;
    response
}

/// Counts a handler dropped before it produced its response.
struct Unanswered(Option<Arc<Shared>>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn render(reply: Reply, s: Arc<Shared>) -> Response {
    let mut reply = reply;
    while let Reply::After(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Json(status, body) => {
            (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
        }
        Reply::JsonWithHeaders(status, body, headers) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Reply::Sse(events) => {
            let mut pieces: Vec<(Duration, String)> = events
                .iter()
                .map(|e| (Duration::ZERO, format!("data: {e}\n\n")))
                .collect();
            pieces.push((Duration::ZERO, "data: [DONE]\n\n".into()));
            sse(pieces, s)
        }
        Reply::Chunks(pieces) => sse(pieces, s),
        Reply::Reset(content_type, pieces) => {
            let items = pieces.into_iter().map(|p| Ok(Bytes::from(p)));
            // The pieces go out on the wire before the connection breaks.
            let reset = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "mock upstream resets the connection",
                ))
            });
            let body = futures_util::StreamExt::chain(futures_util::stream::iter(items), reset);
            let mut r = Response::new(Body::from_stream(body));
            r.headers_mut()
                .insert("content-type", content_type.parse().unwrap());
            r
        }
        Reply::After(..) => unreachable!(),
    }
}

/// Counts a stream as cut when it is dropped before its last piece.
struct StreamGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.shared.streams_finished
        } else {
            &self.shared.streams_cut
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

fn sse(pieces: Vec<(Duration, String)>, shared: Arc<Shared>) -> Response {
    let guard = StreamGuard {
        shared,
        finished: false,
    };
    let stream = futures_util::stream::unfold(
        (pieces.into_iter(), guard),
        |(mut it, mut guard)| async move {
            let (delay, piece) = it.next()?;
            tokio::time::sleep(delay).await;
            if it.len() == 0 {
                guard.finished = true;
            }
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(piece)),
                (it, guard),
            ))
        },
    );
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        "content-type",
        "text/event-stream; charset=utf-8".parse().unwrap(),
    );
    r
}

/// An OpenAI chat completion with one text answer.
pub fn completion(model: &str, text: &str) -> Value {
    json!({
        "id": "chatcmpl-test123", "object": "chat.completion", "created": 1_700_000_000, "model": model,
        "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    })
}

/// One OpenAI stream chunk with the given delta.
pub fn chunk(model: &str, delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-test123", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
           "system_fingerprint": "fp_test",
           "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
}
