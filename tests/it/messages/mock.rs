//! A minimal scripted upstream shaped like Anthropic's Messages API, for the
//! native-passthrough tests: `POST /v1/messages` and
//! `/v1/messages/count_tokens`, `x-api-key` and `anthropic-version`
//! required, errors in Anthropic's shape. It records every request with
//! its raw headers and answers what the test's script says.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

pub enum Answer {
    Json(u16, Value, Vec<(&'static str, &'static str)>),
    /// Raw body pieces, each after its delay (exact framing and stalls).
    Pieces(Vec<(Duration, String)>),
}

type Script = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

struct Shared {
    key: String,
    script: Script,
    seen: Mutex<Vec<Seen>>,
}

pub struct AnthropicMock {
    /// What goes into `api_base` (no `/v1`, like Anthropic's own).
    pub api_base: String,
    shared: Arc<Shared>,
}

impl AnthropicMock {
    pub async fn start(
        key: &str,
        script: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            key: key.into(),
            script: Arc::new(script),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        AnthropicMock {
            api_base: format!("http://{addr}"),
            shared,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn last(&self) -> Seen {
        self.seen()
            .pop()
            .expect("the Anthropic mock received no request")
    }
}

pub fn error(status: u16, kind: &str, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn handle(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if !matches!(path.as_str(), "/v1/messages" | "/v1/messages/count_tokens") {
        return error(404, "not_found_error", "Not found");
    }
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(s.key.as_str()) {
        return error(401, "authentication_error", "invalid x-api-key");
    }
    if headers.get("anthropic-version").is_none() {
        return error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return error(
            400,
            "invalid_request_error",
            "content-type must be application/json",
        );
    }
    let Ok(json @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            400,
            "invalid_request_error",
            "The request body is not valid JSON.",
        );
    };
    let seen = Seen {
        path,
        headers,
        body: json,
    };
    s.seen.lock().unwrap().push(seen.clone());
    match (s.script)(&seen) {
        Answer::Json(status, body, headers) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Answer::Pieces(pieces) => {
            let stream = futures_util::stream::unfold(pieces.into_iter(), |mut it| async move {
                let (delay, piece) = it.next()?;
                tokio::time::sleep(delay).await;
                Some((Ok::<_, std::convert::Infallible>(Bytes::from(piece)), it))
            });
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert(
                "content-type",
                "text/event-stream; charset=utf-8".parse().unwrap(),
            );
            r.headers_mut()
                .insert("request-id", "req_mock_stream".parse().unwrap());
            r
        }
    }
}

/// Anthropic SSE text for the given events (`event:` from each `type`).
pub fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

pub const NATIVE_TEXT: &str = "Hello from the native mock";

/// Answers like Claude would: text (or the forced tool's call), whole or
/// streamed, and token counts.
pub fn claude(seen: &Seen) -> Answer {
    if seen.path.ends_with("/count_tokens") {
        return Answer::Json(200, json!({"input_tokens": 42}), vec![]);
    }
    let model = seen.body["model"].clone();
    let tool = (seen.body.pointer("/tool_choice/type") == Some(&json!("tool")))
        .then(|| seen.body["tool_choice"]["name"].clone());
    let usage = json!({"input_tokens": 12, "output_tokens": 5});
    let (block, stop) = match &tool {
        Some(name) => (
            json!({"type": "tool_use", "id": "toolu_mock1", "name": name, "input": {"city": "Paris"}}),
            "tool_use",
        ),
        None => (json!({"type": "text", "text": NATIVE_TEXT}), "end_turn"),
    };
    if seen.body["stream"] != json!(true) {
        let message = json!({"id": "msg_mock1", "type": "message", "role": "assistant", "model": model,
            "content": [block], "stop_reason": stop, "stop_sequence": null, "usage": usage});
        return Answer::Json(200, message, vec![("request-id", "req_mock1")]);
    }
    let mut events = vec![
        json!({"type": "message_start", "message": {"id": "msg_mock1", "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        json!({"type": "ping"}),
    ];
    match &tool {
        Some(name) => {
            events.push(
                json!({"type": "content_block_start", "index": 0, "content_block":
                {"type": "tool_use", "id": "toolu_mock1", "name": name, "input": {}}}),
            );
            for part in ["{\"city\": ", "\"Paris\"}"] {
                events.push(json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": part}}));
            }
        }
        None => {
            events.push(json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}));
            for word in NATIVE_TEXT.split_inclusive(' ') {
                events.push(json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": word}}));
            }
        }
    }
    events.push(json!({"type": "content_block_stop", "index": 0}));
    events.push(
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
        "usage": {"output_tokens": 5}}),
    );
    events.push(json!({"type": "message_stop"}));
    Answer::Pieces(vec![(Duration::ZERO, sse(&events))])
}
