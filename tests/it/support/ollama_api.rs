//! A strict mock of Ollama's native API (docs/api.md and docs/api/errors):
//! only `POST /api/chat` and `POST /api/embed`. Bodies are checked as
//! documented: `model` required; messages with role system, user,
//! assistant or tool, string `content`, base64 `images`, assistant
//! `tool_calls` whose `function.arguments` is an object, `tool_name` on tool
//! results; `options` with the Modelfile parameters' types; `format` "json"
//! or a schema; `think` true/false/low/medium/high; `keep_alive` a duration
//! or seconds. The real server ignores fields it does not know; this mock
//! refuses them, so an OpenAI field leaking through is caught. `stream`
//! defaults to true, as on the real server. Errors are `{"error": "…"}`.
//! What a test wants the API to say is a `Script`; accepted requests are
//! recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Recorded {
    /// Whether the request asked for a stream (Ollama's default).
    pub fn streaming(&self) -> bool {
        self.body.get("stream") != Some(&Value::Bool(false))
    }
}

/// A chat answer, sent whole or as NDJSON lines as the request asks.
pub struct Answer {
    /// The `message` of each streamed line; merged into one when not streaming.
    pub pieces: Vec<Value>,
    pub done_reason: &'static str,
    pub prompt_eval_count: u64,
    pub eval_count: u64,
}

pub enum Reply {
    Chat(Answer),
    /// Any JSON body with status 200 (e.g. an /api/embed answer).
    Json(Value),
    /// `{"error": message}` with the status and extra headers.
    Error(u16, String, Vec<(&'static str, &'static str)>),
    /// NDJSON: each value on its own line.
    Lines(Vec<Value>),
    /// Raw body bytes in pieces (which may cut a UTF-8 character), each
    /// sent after its delay.
    Chunks(Vec<(Duration, Vec<u8>)>),
    After(Duration, Box<Reply>),
}

pub type Script = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

pub fn script(f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Script {
    Arc::new(f)
}

struct Shared {
    key: Option<String>,
    script: Script,
    recorded: Mutex<Vec<Recorded>>,
}

pub struct OllamaApi {
    /// What goes into `api_base` (the gateway adds `/api/…`).
    pub api_base: String,
    shared: Arc<Shared>,
}

impl OllamaApi {
    /// A local server: no authentication.
    pub async fn start(script: Script) -> OllamaApi {
        OllamaApi::serve(None, script).await
    }

    /// A server behind a key (ollama.com, or a proxy): `Authorization: Bearer`.
    pub async fn with_key(key: &str, script: Script) -> OllamaApi {
        OllamaApi::serve(Some(key.to_string()), script).await
    }

    async fn serve(key: Option<String>, script: Script) -> OllamaApi {
        let shared = Arc::new(Shared {
            key,
            script,
            recorded: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        OllamaApi {
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

fn error(status: u16, message: impl Into<String>) -> Response {
    let body = json!({"error": message.into()});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if method != Method::POST || !matches!(path.as_str(), "/api/chat" | "/api/embed") {
        // Gin's answer for an unknown route, as the real server sends it.
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if let Some(key) = &s.key
        && auth != Some(format!("Bearer {key}").as_str())
    {
        return error(401, "unauthorized");
    }
    if body.is_empty() {
        return error(400, "missing request body");
    }
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(b @ Value::Object(_)) => b,
        Ok(_) => {
            return error(
                400,
                "json: cannot unmarshal into Go value of type api.ChatRequest",
            );
        }
        Err(e) => return error(400, format!("invalid character: {e}")),
    };
    let checked = if path == "/api/chat" {
        check_chat(&body)
    } else {
        check_embed(&body)
    };
    if let Err(message) = checked {
        return error(400, message);
    }
    let recorded = Recorded {
        path,
        headers,
        body,
    };
    s.recorded.lock().unwrap().push(recorded.clone());
    let streaming = recorded.streaming();
    render((s.script)(&recorded), streaming).await
}

type Check = Result<(), String>;

/// `allowed`: the documented field names, separated by spaces.
fn only(obj: &Map<String, Value>, allowed: &str, what: &str) -> Check {
    match obj.keys().find(|k| !listed(allowed, k)) {
        Some(k) => Err(format!(
            "{what}: unknown field {k:?} (Ollama would ignore it silently)"
        )),
        None => Ok(()),
    }
}

fn check_model(body: &Value) -> Check {
    match body.get("model").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => Ok(()),
        _ => Err("model is required".into()),
    }
}

fn check_chat(body: &Value) -> Check {
    let obj = body.as_object().unwrap();
    only(
        obj,
        "model messages tools format options stream keep_alive think",
        "request",
    )?;
    check_model(body)?;
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err("messages: expected an array".into());
    };
    for (i, m) in messages.iter().enumerate() {
        check_message(m, i)?;
    }
    if let Some(stream) = body.get("stream")
        && !stream.is_boolean()
    {
        return Err("stream: expected a boolean".into());
    }
    match body.get("format") {
        None | Some(Value::Object(_)) => {}
        Some(Value::String(f)) if f == "json" => {}
        Some(f) => return Err(format!("invalid format: {f}")),
    }
    match body.get("think") {
        None | Some(Value::Bool(_)) => {}
        Some(Value::String(t)) if matches!(t.as_str(), "low" | "medium" | "high") => {}
        Some(t) => {
            return Err(format!(
                "invalid think value: {t} (must be \"high\", \"medium\", \"low\", true, or false)"
            ));
        }
    }
    check_keep_alive(body)?;
    check_options(body)?;
    for (i, t) in body
        .get("tools")
        .map(|t| t.as_array().ok_or("tools: expected an array"))
        .transpose()?
        .into_iter()
        .flatten()
        .enumerate()
    {
        let f = t.get("function").unwrap_or(&Value::Null);
        if t.get("type") != Some(&json!("function"))
            || !f.get("name").is_some_and(Value::is_string)
            || !f.get("parameters").is_none_or(Value::is_object)
            || !f.get("description").is_none_or(Value::is_string)
        {
            return Err(format!("tools[{i}]: expected a function tool, got {t}"));
        }
        only(
            t.as_object().unwrap(),
            "type function",
            &format!("tools[{i}]"),
        )?;
    }
    Ok(())
}

fn check_message(m: &Value, i: usize) -> Check {
    let at = format!("messages[{i}]");
    let Some(obj) = m.as_object() else {
        return Err(format!("{at}: expected an object"));
    };
    only(
        obj,
        "role content thinking images tool_calls tool_name",
        &at,
    )?;
    let role = m.get("role").and_then(Value::as_str).unwrap_or("");
    if !matches!(role, "system" | "user" | "assistant" | "tool") {
        return Err(format!("{at}.role: invalid role {role:?}"));
    }
    if !m.get("content").is_some_and(Value::is_string) {
        return Err(format!("{at}.content: expected a string"));
    }
    if !m.get("thinking").is_none_or(Value::is_string) {
        return Err(format!("{at}.thinking: expected a string"));
    }
    if let Some(images) = m.get("images") {
        let ok = images.as_array().is_some_and(|list| {
            list.iter().all(|img| {
                img.as_str()
                    .is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok())
            })
        });
        if !ok {
            return Err(format!("{at}.images: expected base64-encoded images"));
        }
    }
    if m.get("tool_name").is_some() && (role != "tool" || !m["tool_name"].is_string()) {
        return Err(format!("{at}.tool_name: a string, on tool messages only"));
    }
    if let Some(calls) = m.get("tool_calls") {
        let Some(calls) = calls.as_array().filter(|_| role == "assistant") else {
            return Err(format!(
                "{at}.tool_calls: an array, on assistant messages only"
            ));
        };
        for (j, c) in calls.iter().enumerate() {
            if !c.pointer("/function/name").is_some_and(Value::is_string) {
                return Err(format!("{at}.tool_calls[{j}].function.name: required"));
            }
            match c.pointer("/function/arguments") {
                Some(Value::Object(_)) => {}
                Some(other) => {
                    return Err(format!(
                        "json: cannot unmarshal {} into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments",
                        if other.is_string() { "string" } else { "value" }
                    ));
                }
                None => return Err(format!("{at}.tool_calls[{j}].function.arguments: required")),
            }
        }
    }
    Ok(())
}

/// The Modelfile parameters and their types.
const INTEGER_OPTIONS: &str = "num_ctx num_predict top_k seed num_keep repeat_last_n \
    num_batch num_gpu main_gpu num_thread mirostat";
const NUMBER_OPTIONS: &str = "temperature top_p min_p typical_p repeat_penalty \
    presence_penalty frequency_penalty mirostat_tau mirostat_eta";
const BOOL_OPTIONS: &str = "penalize_newline numa low_vram vocab_only use_mmap use_mlock";

fn listed(list: &str, name: &str) -> bool {
    list.split_whitespace().any(|n| n == name)
}

fn check_options(body: &Value) -> Check {
    let Some(options) = body.get("options") else {
        return Ok(());
    };
    let Some(options) = options.as_object() else {
        return Err("options: expected an object".into());
    };
    for (k, v) in options {
        let ok = if listed(INTEGER_OPTIONS, k) {
            v.is_i64() || v.is_u64()
        } else if listed(NUMBER_OPTIONS, k) {
            v.is_number()
        } else if listed(BOOL_OPTIONS, k) {
            v.is_boolean()
        } else if k == "stop" {
            v.as_array().is_some_and(|s| s.iter().all(Value::is_string))
        } else {
            return Err(format!("invalid option provided: {k}"));
        };
        if !ok {
            return Err(format!(
                "option {k:?} must be of the type the Modelfile documents, got {v}"
            ));
        }
    }
    Ok(())
}

/// A number of seconds, or a Go duration such as "5m", "1h30m", "-1s".
fn check_keep_alive(body: &Value) -> Check {
    let valid = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        let mut rest = s;
        let mut parts = 0;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if digits == 0 {
                return false;
            }
            rest = &rest[digits..];
            let unit = ["ns", "us", "µs", "ms", "h", "m", "s"]
                .into_iter()
                .find(|u| rest.starts_with(u));
            let Some(unit) = unit else { return false };
            rest = &rest[unit.len()..];
            parts += 1;
        }
        parts > 0
    };
    match body.get("keep_alive") {
        None | Some(Value::Number(_)) => Ok(()),
        Some(Value::String(s)) if valid(s) => Ok(()),
        Some(k) => Err(format!("time: invalid duration {k}")),
    }
}

fn check_embed(body: &Value) -> Check {
    let obj = body.as_object().unwrap();
    only(
        obj,
        "model input truncate dimensions keep_alive options",
        "request",
    )?;
    check_model(body)?;
    let ok = match body.get("input") {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        _ => false,
    };
    if !ok {
        return Err("invalid input type".into());
    }
    if !body.get("truncate").is_none_or(Value::is_boolean) {
        return Err("truncate: expected a boolean".into());
    }
    if body
        .get("dimensions")
        .is_some_and(|d| d.as_u64().is_none_or(|d| d == 0))
    {
        return Err("dimensions: expected a positive integer".into());
    }
    check_keep_alive(body)?;
    check_options(body)
}

async fn render(reply: Reply, streaming: bool) -> Response {
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
        Reply::Chat(answer) if streaming => ndjson(
            answer_lines(&answer)
                .into_iter()
                .map(|l| (Duration::ZERO, format!("{l}\n").into_bytes()))
                .collect(),
        ),
        Reply::Chat(answer) => (StatusCode::OK, axum::Json(whole(&answer))).into_response(),
        Reply::Lines(lines) => ndjson(
            lines
                .into_iter()
                .map(|l| (Duration::ZERO, format!("{l}\n").into_bytes()))
                .collect(),
        ),
        Reply::Chunks(pieces) => ndjson(pieces),
        Reply::After(..) => unreachable!(),
    }
}

fn ndjson(pieces: Vec<(Duration, Vec<u8>)>) -> Response {
    let stream = futures_util::stream::unfold(pieces.into_iter(), |mut it| async move {
        let (delay, piece) = it.next()?;
        tokio::time::sleep(delay).await;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(piece)), it))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", "application/x-ndjson".parse().unwrap());
    r
}

const MODEL: &str = "llama3.3";
const CREATED_AT: &str = "2025-07-07T20:22:19.184789Z";

fn final_fields(answer: &Answer, out: &mut Value) {
    out["done"] = json!(true);
    out["done_reason"] = json!(answer.done_reason);
    out["total_duration"] = json!(4_883_583_458u64);
    out["load_duration"] = json!(1_334_875);
    out["prompt_eval_count"] = json!(answer.prompt_eval_count);
    out["prompt_eval_duration"] = json!(342_546_000);
    out["eval_count"] = json!(answer.eval_count);
    out["eval_duration"] = json!(4_535_599_000u64);
}

/// The lines of a streamed answer: one per piece, then the final one.
pub fn answer_lines(answer: &Answer) -> Vec<Value> {
    let mut lines: Vec<Value> = answer
        .pieces
        .iter()
        .map(|m| {
            let mut message = json!({"role": "assistant", "content": ""});
            for (k, v) in m.as_object().into_iter().flatten() {
                message[k] = v.clone();
            }
            json!({"model": MODEL, "created_at": CREATED_AT, "message": message, "done": false})
        })
        .collect();
    let mut last = json!({"model": MODEL, "created_at": CREATED_AT,
        "message": {"role": "assistant", "content": ""}});
    final_fields(answer, &mut last);
    lines.push(last);
    lines
}

/// The answer as one `/api/chat` body (`stream: false`).
pub fn whole(answer: &Answer) -> Value {
    let (mut content, mut thinking, mut calls) = (String::new(), String::new(), Vec::new());
    for m in &answer.pieces {
        content.push_str(m["content"].as_str().unwrap_or(""));
        thinking.push_str(m["thinking"].as_str().unwrap_or(""));
        calls.extend(m["tool_calls"].as_array().cloned().unwrap_or_default());
    }
    let mut message = json!({"role": "assistant", "content": content});
    if !thinking.is_empty() {
        message["thinking"] = json!(thinking);
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let mut out = json!({"model": MODEL, "created_at": CREATED_AT, "message": message});
    final_fields(answer, &mut out);
    out
}

/// Text in pieces, ending with `done_reason: stop`.
pub fn text(pieces: &[&str], prompt: u64, eval: u64) -> Reply {
    Reply::Chat(Answer {
        pieces: pieces.iter().map(|p| json!({"content": p})).collect(),
        done_reason: "stop",
        prompt_eval_count: prompt,
        eval_count: eval,
    })
}

/// A tool call as Ollama sends it: arguments as an object, no id.
pub fn call(name: &str, arguments: Value) -> Value {
    json!({"function": {"name": name, "arguments": arguments}})
}

/// An /api/embed answer with the given vectors.
pub fn embeddings(vectors: Value, prompt_eval_count: u64) -> Reply {
    Reply::Json(json!({"model": "nomic-embed-text", "embeddings": vectors,
        "total_duration": 14_143_917, "load_duration": 1_019_500,
        "prompt_eval_count": prompt_eval_count}))
}
