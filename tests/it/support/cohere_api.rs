//! A strict mock of Cohere's v2 API, checking what Cohere documents: only
//! `POST /v2/chat`, `/v2/embed` and `/v2/rerank`; `Authorization: Bearer
//! <key>` ("no api key supplied" / "invalid api token"); a JSON body;
//! `model` required everywhere and unknown fields refused. Chat: a
//! non-empty `messages` list of system/user/assistant/tool turns, the
//! system turn only first, no empty turns, tool calls with string arguments,
//! tool results answering an earlier call, `p` in 0.01–0.99, `k` in 0–500,
//! at most 5 `stop_sequences`, `tool_choice` REQUIRED/NONE only with tools,
//! `response_format` not with tools. Embed: `input_type` and
//! `embedding_types` required, at most 96 `texts`, `output_dimension` one of
//! 256/512/1024/1536. Rerank: a non-blank `query`, a non-empty list of
//! string `documents`. Errors have Cohere's body, `{"id", "message"}`, with
//! the documented messages. What a test wants the API to say is a
//! `Script`; every accepted request is recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod checks;

use checks::{validate_chat, validate_embed, validate_rerank};

/// One accepted request.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// `chat`, `embed` or `rerank`.
    pub endpoint: String,
    pub headers: HeaderMap,
    pub body: Value,
}

pub enum Reply {
    /// A JSON body with status 200.
    Json(Value),
    /// A Cohere error: status, message, extra headers.
    Error(u16, String, Vec<(&'static str, &'static str)>),
    /// An event stream: each `(event type, data)` as
    /// `event: <type>\ndata: {"type": <type>, …}\n\n`.
    Events(Vec<(&'static str, Value)>),
    /// Raw body pieces of an event stream, each sent after its delay.
    Chunks(Vec<(Duration, String)>),
    After(Duration, Box<Reply>),
}

pub type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

pub fn script(f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Script {
    Arc::new(f)
}

struct Shared {
    key: String,
    script: Script,
    recorded: Mutex<Vec<Recorded>>,
}

pub struct CohereApi {
    /// What goes into `api_base` (no `/v2`: the gateway adds it).
    pub api_base: String,
    shared: Arc<Shared>,
}

impl CohereApi {
    pub async fn start(key: &str, script: Script) -> CohereApi {
        let shared = Arc::new(Shared {
            key: key.to_string(),
            script,
            recorded: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        CohereApi {
            api_base: format!("http://{addr}"),
            shared,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    pub fn last(&self) -> Recorded {
        self.requests().pop().expect("the API received no request")
    }
}

pub fn error_body(message: &str) -> Value {
    json!({"id": "0b6a3f2e-mock", "message": message})
}

fn error(status: u16, message: impl Into<String>) -> Response {
    let body = error_body(&message.into());
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn invalid(message: impl Into<String>) -> Response {
    error(400, message)
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = match (method, uri.path()) {
        (Method::POST, "/v2/chat") => "chat",
        (Method::POST, "/v2/embed") => "embed",
        (Method::POST, "/v2/rerank") => "rerank",
        (_, path) => return error(404, format!("{path} not found")),
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let token = header("authorization").and_then(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
    });
    match token {
        None => return error(401, "no api key supplied"),
        Some(k) if k != s.key => return error(401, "invalid api token"),
        Some(_) => {}
    }
    if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        return invalid("invalid request: Content-Type must be application/json");
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return invalid("invalid request: the body is not a valid JSON object");
    };
    let checked = match endpoint {
        "chat" => validate_chat(&fields),
        "embed" => validate_embed(&fields),
        _ => validate_rerank(&fields),
    };
    if let Err(message) = checked {
        return invalid(message);
    }
    let recorded = Recorded {
        endpoint: endpoint.to_string(),
        headers,
        body: Value::Object(fields),
    };
    s.recorded.lock().unwrap().push(recorded.clone());
    render((s.script)(&recorded)).await
}

async fn render(reply: Reply) -> Response {
    let mut reply = reply;
    while let Reply::After(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Json(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Reply::Error(status, message, headers) => {
            let mut r = error(status, message);
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Reply::Events(events) => event_stream(vec![(Duration::ZERO, raw(&events))]),
        Reply::Chunks(pieces) => event_stream(pieces),
        Reply::After(..) => unreachable!(),
    }
}

fn event_stream(pieces: Vec<(Duration, String)>) -> Response {
    let stream = futures_util::stream::unfold(pieces.into_iter(), |mut it| async move {
        let (delay, piece) = it.next()?;
        tokio::time::sleep(delay).await;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(piece)), it))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    r
}

/// The raw bytes of an event stream, each data naming its type.
pub fn raw(events: &[(&'static str, Value)]) -> String {
    events
        .iter()
        .map(|(name, data)| {
            let mut data = data.clone();
            data["type"] = json!(name);
            format!("event: {name}\ndata: {data}\n\n")
        })
        .collect()
}

/// Usage as Cohere reports it: billed units, and (larger, as they include
/// Cohere's own prompt template) the tokens processed.
pub fn usage(input: u64, output: u64) -> Value {
    json!({"billed_units": {"input_tokens": input, "output_tokens": output},
           "tokens": {"input_tokens": input + 200, "output_tokens": output + 1}})
}

/// A chat response with the given message fields.
pub fn response(message: Value, finish_reason: &str, usage: Value) -> Value {
    let mut m = json!({"role": "assistant"});
    for (k, v) in message.as_object().unwrap() {
        m[k] = v.clone();
    }
    json!({"id": "c14c80c3-mock", "finish_reason": finish_reason, "message": m, "usage": usage})
}

/// A chat response with one text item (12 + 4 billed tokens).
pub fn text_response(text: &str) -> Value {
    response(
        json!({"content": [{"type": "text", "text": text}]}),
        "COMPLETE",
        usage(12, 4),
    )
}

/// A streamed text in `pieces`, then `message-end` with `finish_reason`.
pub fn text_events(
    pieces: &[&str],
    finish_reason: &str,
    usage: Value,
) -> Vec<(&'static str, Value)> {
    let mut out = vec![
        (
            "message-start",
            json!({"id": "c14c80c3-mock", "delta": {"message": {"role": "assistant", "content": [],
                "tool_plan": "", "tool_calls": [], "citations": []}}}),
        ),
        (
            "content-start",
            json!({"index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ),
    ];
    for p in pieces {
        out.push((
            "content-delta",
            json!({"index": 0, "delta": {"message": {"content": {"text": p}}}}),
        ));
    }
    out.push(("content-end", json!({"index": 0})));
    out.push((
        "message-end",
        json!({"delta": {"finish_reason": finish_reason, "usage": usage}}),
    ));
    out
}

/// A streamed tool plan and two tool calls: get_weather {"city": "Bern"}
/// and get_time {} (40 + 30 billed tokens).
pub fn tool_events() -> Vec<(&'static str, Value)> {
    let start = |i: u64, id: &str, name: &str| {
        json!({"index": i, "delta": {"message": {"tool_calls": {"id": id, "type": "function",
            "function": {"name": name, "arguments": ""}}}}})
    };
    let args = |i: u64, a: &str| json!({"index": i, "delta": {"message": {"tool_calls": {"function": {"arguments": a}}}}});
    vec![
        (
            "message-start",
            json!({"id": "c14c80c3-tools", "delta": {"message": {"role": "assistant"}}}),
        ),
        (
            "tool-plan-delta",
            json!({"delta": {"message": {"tool_plan": "I will check "}}}),
        ),
        (
            "tool-plan-delta",
            json!({"delta": {"message": {"tool_plan": "both."}}}),
        ),
        ("tool-call-start", start(0, "get_weather_a1", "get_weather")),
        ("tool-call-delta", args(0, "{\"ci")),
        ("tool-call-delta", args(0, "ty\": \"Bern\"}")),
        ("tool-call-end", json!({"index": 0})),
        ("tool-call-start", start(1, "get_time_b2", "get_time")),
        ("tool-call-delta", args(1, "{}")),
        ("tool-call-end", json!({"index": 1})),
        (
            "message-end",
            json!({"delta": {"finish_reason": "TOOL_CALL", "usage": usage(40, 30)}}),
        ),
    ]
}

/// A vector of `dims` values exact in f32, different for each text.
pub fn vector(text: &str, dims: u64) -> Vec<f64> {
    (0..dims)
        .map(|i| ((text.len() as u64 + i) % 8) as f64 / 8.0 - 0.5)
        .collect()
}

/// What Cohere answers an embed request: float vectors (3 dimensions
/// unless `output_dimension`), one billed token per text character.
pub fn embed_response(body: &Value) -> Value {
    let dims = body["output_dimension"].as_u64().unwrap_or(3);
    let texts: Vec<&str> = body["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let floats: Vec<Vec<f64>> = texts.iter().map(|t| vector(t, dims)).collect();
    let tokens: usize = texts.iter().map(|t| t.len()).sum();
    json!({"id": "e0b3-mock", "embeddings": {"float": floats}, "texts": texts,
           "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
           "response_type": "embeddings_by_type"})
}

/// What Cohere answers a rerank request: documents that mention a word of
/// the query rank first (score 0.9 - 0.1 × position), the rest after;
/// `top_n` of them.
pub fn rerank_response(body: &Value) -> Value {
    let words: Vec<String> = body["query"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let docs = body["documents"].as_array().unwrap();
    let mut order: Vec<(usize, bool)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = d.as_str().unwrap().to_lowercase();
            (i, words.iter().any(|w| d.contains(w.as_str())))
        })
        .collect();
    order.sort_by_key(|(i, hit)| (!hit, *i));
    let top_n = body["top_n"].as_u64().map_or(docs.len(), |n| n as usize);
    let results: Vec<Value> = order
        .iter()
        .take(top_n)
        .enumerate()
        .map(|(pos, (i, _))| json!({"index": i, "relevance_score": 0.9 - 0.1 * pos as f64}))
        .collect();
    json!({"id": "r3r4-mock", "results": results,
           "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}})
}
