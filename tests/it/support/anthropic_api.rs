//! A strict mock of Anthropic's Messages API, checking what the real API
//! documents: only `POST /v1/messages`; `x-api-key` and `anthropic-version`
//! headers; `model`, `max_tokens` and `messages` required; messages that
//! start with a user turn and alternate user/assistant (no `system` role);
//! tool results that answer the tool uses of the turn before, and tool uses
//! answered in the turn after; image sources; a thinking budget of at least
//! 1024 below `max_tokens`. Errors have Anthropic's body,
//! `{"type": "error", "error": {"type", "message"}}`. What a test wants the
//! API to say is a `Script`; every accepted request is recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One accepted request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
}

pub enum Reply {
    /// A Message (or any JSON body) with status 200.
    Message(Value),
    /// An Anthropic error: status, error type, message, extra headers.
    Error(u16, &'static str, String, Vec<(&'static str, &'static str)>),
    /// An event stream: each `(event name, data)` as `event: …\ndata: …\n\n`.
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

pub struct AnthropicApi {
    /// What goes into `api_base` (no `/v1`: the gateway adds `/v1/messages`).
    pub api_base: String,
    shared: Arc<Shared>,
}

impl AnthropicApi {
    pub async fn start(key: &str, script: Script) -> AnthropicApi {
        let shared = Arc::new(Shared {
            key: key.to_string(),
            script,
            recorded: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        AnthropicApi {
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

pub fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011mock"})
}

fn error(status: u16, kind: &str, message: impl Into<String>) -> Response {
    let body = error_body(kind, &message.into());
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn invalid(message: impl Into<String>) -> Response {
    error(400, "invalid_request_error", message)
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST || uri.path() != "/v1/messages" {
        return error(404, "not_found_error", "Not Found");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("x-api-key") {
        None => return error(401, "authentication_error", "x-api-key header is required"),
        Some(k) if k != s.key => return error(401, "authentication_error", "invalid x-api-key"),
        Some(_) => {}
    }
    if header("anthropic-version").is_none() {
        return invalid("anthropic-version: header is required");
    }
    if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        return invalid("Content-Type must be application/json");
    }
    let Ok(body @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The request body is not valid JSON.");
    };
    if let Err(message) = validate(&body) {
        return invalid(message);
    }
    let recorded = Recorded { headers, body };
    s.recorded.lock().unwrap().push(recorded.clone());
    render((s.script)(&recorded)).await
}

/// The checks the real API makes, each returning its kind of message.
fn validate(body: &Value) -> Result<(), String> {
    if !body.get("model").is_some_and(Value::is_string) {
        return Err("model: Field required".into());
    }
    let Some(max_tokens) = body.get("max_tokens").and_then(Value::as_u64) else {
        return Err("max_tokens: Field required".into());
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err("messages: Field required".into());
    };
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    if let Some(system) = body.get("system")
        && !(system.is_string() || system.is_array())
    {
        return Err("system: Input should be a valid string or list".into());
    }
    let mut pending_tool_uses: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let expected = if i % 2 == 0 { "user" } else { "assistant" };
        if role == "system" {
            return Err(format!(
                "messages.{i}.role: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role."
            ));
        }
        if role != expected {
            return Err(format!(
                "messages: roles must alternate between \"user\" and \"assistant\", starting with \"user\" (messages.{i} is {role:?})"
            ));
        }
        let blocks: Vec<Value> = match m.get("content") {
            Some(Value::String(_)) => Vec::new(),
            Some(Value::Array(b)) if !b.is_empty() => b.clone(),
            _ => return Err(format!("messages.{i}.content: Field required")),
        };
        let mut answered = Vec::new();
        let mut uses = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            match (role, b.get("type").and_then(Value::as_str).unwrap_or("")) {
                (_, "text") => {
                    if b.get("text")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        return Err(format!("{at}.text: text content blocks must be non-empty"));
                    }
                }
                (_, "image" | "document") => check_source(b, &at)?,
                ("assistant", "tool_use") => {
                    let ok = b.get("id").is_some_and(Value::is_string)
                        && b.get("name").is_some_and(Value::is_string)
                        && b.get("input").is_some_and(Value::is_object);
                    if !ok {
                        return Err(format!("{at}: tool_use needs id, name and an object input"));
                    }
                    uses.push(b["id"].as_str().unwrap().to_string());
                }
                ("user", "tool_result") => {
                    let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                    if !pending_tool_uses.iter().any(|u| u == id) {
                        return Err(format!(
                            "{at}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                        ));
                    }
                    answered.push(id.to_string());
                }
                (_, other) => {
                    return Err(format!(
                        "{at}.type: unexpected block type {other:?} in a {role} message"
                    ));
                }
            }
        }
        if role == "user"
            && let Some(missing) = pending_tool_uses.iter().find(|u| !answered.contains(u))
        {
            return Err(format!(
                "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}"
            ));
        }
        pending_tool_uses = uses;
    }
    if let Some(budget) = body.pointer("/thinking/budget_tokens") {
        let b = budget.as_u64().unwrap_or(0);
        if b < 1024 || b >= max_tokens {
            return Err(format!(
                "thinking.budget_tokens: must be at least 1024 and less than max_tokens ({b} vs {max_tokens})"
            ));
        }
    }
    if let Some(tools) = body.get("tools") {
        for (i, t) in tools.as_array().into_iter().flatten().enumerate() {
            if !t.get("name").is_some_and(Value::is_string)
                || !t.get("input_schema").is_some_and(Value::is_object)
            {
                return Err(format!("tools.{i}: name and input_schema are required"));
            }
        }
    }
    if let Some(choice) = body.get("tool_choice") {
        if body.get("tools").is_none() {
            return Err("tool_choice may only be specified while providing tools".into());
        }
        match choice.get("type").and_then(Value::as_str) {
            Some("auto" | "any" | "none") => {}
            Some("tool") if choice.get("name").is_some_and(Value::is_string) => {}
            _ => return Err(format!("tool_choice: invalid {choice}")),
        }
    }
    Ok(())
}

fn check_source(block: &Value, at: &str) -> Result<(), String> {
    let source = block.get("source").unwrap_or(&Value::Null);
    let ok = match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            source.get("media_type").is_some_and(Value::is_string)
                && source.get("data").is_some_and(Value::is_string)
        }
        Some("url") => source
            .get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u.starts_with("http")),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{at}.source: invalid source {source}"))
    }
}

async fn render(reply: Reply) -> Response {
    let mut reply = reply;
    while let Reply::After(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Message(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Reply::Error(status, kind, message, headers) => {
            let mut r = error(status, kind, message);
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Reply::Events(events) => event_stream(
            events
                .into_iter()
                .map(|(name, data)| (Duration::ZERO, format!("event: {name}\ndata: {data}\n\n")))
                .collect(),
        ),
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
    r.headers_mut().insert(
        "content-type",
        "text/event-stream; charset=utf-8".parse().unwrap(),
    );
    r
}

/// A Message with the given content blocks.
pub fn message(content: Value, stop_reason: &str, usage: Value) -> Value {
    json!({"id": "msg_01mock", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
           "content": content, "stop_reason": stop_reason, "stop_sequence": null, "usage": usage})
}

/// A Message with one text block.
pub fn text_message(text: &str) -> Value {
    message(
        json!([{"type": "text", "text": text}]),
        "end_turn",
        json!({"input_tokens": 12, "output_tokens": 4}),
    )
}

/// The events of a streamed Message: `message_start`, then each content
/// block (`(block, deltas)`), then `message_delta` and `message_stop`.
pub fn events(
    blocks: Vec<(Value, Vec<Value>)>,
    stop_reason: &str,
    usage: Value,
) -> Vec<(&'static str, Value)> {
    let mut out = vec![(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_01mock", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1,
                      "cache_read_input_tokens": usage.get("cache_read_input_tokens").cloned().unwrap_or(json!(0)),
                      "cache_creation_input_tokens": usage.get("cache_creation_input_tokens").cloned().unwrap_or(json!(0))}}}),
    )];
    out.push(("ping", json!({"type": "ping"})));
    for (index, (block, deltas)) in blocks.into_iter().enumerate() {
        out.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": block}),
        ));
        for delta in deltas {
            out.push((
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        out.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    out.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": usage["output_tokens"]}}),
    ));
    out.push(("message_stop", json!({"type": "message_stop"})));
    out
}

/// The raw bytes of an event stream.
pub fn raw(events: &[(&'static str, Value)]) -> String {
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

/// A streamed "Hello" (12 input + 4 cache-read, 2 output tokens).
pub fn hello_events() -> Vec<(&'static str, Value)> {
    let text = (
        json!({"type": "text", "text": ""}),
        vec![
            json!({"type": "text_delta", "text": "Hel"}),
            json!({"type": "text_delta", "text": "lo"}),
        ],
    );
    events(
        vec![text],
        "end_turn",
        json!({"input_tokens": 12, "output_tokens": 2, "cache_read_input_tokens": 4}),
    )
}

/// A streamed text and two tool calls, get_weather {"city": "Bern"} and get_time {}.
pub fn tool_events() -> Vec<(&'static str, Value)> {
    let text = (
        json!({"type": "text", "text": ""}),
        vec![json!({"type": "text_delta", "text": "Checking."})],
    );
    let weather = (
        json!({"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}),
        ["", "{\"ci", "ty\": \"Bern\"}"]
            .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
            .to_vec(),
    );
    let time = (
        json!({"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}),
        vec![json!({"type": "input_json_delta", "partial_json": "{}"})],
    );
    events(
        vec![text, weather, time],
        "tool_use",
        json!({"input_tokens": 40, "output_tokens": 30}),
    )
}
