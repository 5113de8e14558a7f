//! The built-in `mock/` provider: an OpenAI-compatible upstream that lives
//! inside the process, so the gateway answers without any provider key or
//! network. Answers are deterministic; latency, per-chunk delay and injected
//! errors come from the deployment's `mock_*` settings. `switchyard
//! mock-server` serves the same answers over HTTP (for the benchmark).

use crate::providers::openai_shape::unix_now;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::MockSettings;
use crate::transport::{ByteStream, UpstreamResponse};

pub const API_BASE: &str = "mock://local";

/// Answers one encoded OpenAI request, as an OpenAI server would.
pub async fn respond(settings: &MockSettings, path: &str, body: &[u8]) -> UpstreamResponse {
    if !settings.latency.is_zero() {
        tokio::time::sleep(settings.latency).await;
    }
    if let Some(status) = settings.error_status
        && fastrand::f64() < settings.error_rate
    {
        return injected_error(status, settings.error_message.as_deref());
    }
    let request: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                "We could not parse the JSON body of your request.",
            );
        }
    };
    if path.ends_with("/embeddings") {
        return json_response(embeddings(&request));
    }
    if !path.ends_with("/chat/completions") {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            &format!("Invalid URL (POST {path})"),
        );
    }
    let answer = Answer::new(settings, &request);
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = request
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        sse_response(answer.chunks(include_usage), settings.chunk_delay)
    } else {
        json_response(answer.completion())
    }
}

/// What the mock says to one chat request.
struct Answer {
    id: String,
    model: String,
    text: String,
    tool_call: Option<(String, String)>,
    n: usize,
    prompt_tokens: u64,
}

impl Answer {
    fn new(settings: &MockSettings, request: &Value) -> Answer {
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("mock")
            .to_string();
        let messages = request
            .get("messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .map(message_text)
            .unwrap_or_default();
        let text = request
            .get("mock_response")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| settings.response.clone())
            .unwrap_or_else(|| {
                let said: String = last_user.chars().take(200).collect();
                format!("Hello from the Switchyard mock model {model}. You said: {said}")
            });
        let prompt_chars: usize = messages.iter().map(|m| message_text(m).len()).sum();
        let digest = Sha256::digest(serde_json::to_vec(messages).unwrap_or_default());
        let id = format!("chatcmpl-mock{}", hex(&digest[..12]));
        Answer {
            id,
            model,
            text,
            tool_call: forced_tool(request),
            n: request
                .get("n")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 16) as usize,
            prompt_tokens: (prompt_chars as u64).div_ceil(4) + 3 * messages.len() as u64,
        }
    }

    fn completion_tokens(&self) -> u64 {
        self.text.split_whitespace().count() as u64
    }

    fn usage(&self) -> Value {
        let completion = self.completion_tokens() * self.n as u64;
        json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
               "total_tokens": self.prompt_tokens + completion})
    }

    fn completion(&self) -> Value {
        let choices: Vec<Value> = (0..self.n)
            .map(|i| {
                let (message, finish) = match &self.tool_call {
                    Some((name, call_id)) => (
                        json!({"role": "assistant", "content": null, "tool_calls": [
                            {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}]}),
                        "tool_calls",
                    ),
                    None => (json!({"role": "assistant", "content": self.text, "refusal": null}), "stop"),
                };
                json!({"index": i, "message": message, "logprobs": null, "finish_reason": finish})
            })
            .collect();
        json!({"id": self.id, "object": "chat.completion", "created": unix_now(), "model": self.model,
               "choices": choices, "usage": self.usage(), "system_fingerprint": "fp_switchyard_mock"})
    }

    fn chunk(&self, index: usize, delta: Value, finish: Option<&str>) -> Value {
        json!({"id": self.id, "object": "chat.completion.chunk", "created": unix_now(), "model": self.model,
               "system_fingerprint": "fp_switchyard_mock",
               "choices": [{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    }

    /// OpenAI's chunk sequence: role, content pieces, finish, optional usage.
    fn chunks(&self, include_usage: bool) -> Vec<Value> {
        let mut out = Vec::new();
        for i in 0..self.n {
            out.push(self.chunk(i, json!({"role": "assistant", "content": ""}), None));
            match &self.tool_call {
                Some((name, call_id)) => {
                    out.push(self.chunk(
                        i,
                        json!({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                        "function": {"name": name, "arguments": ""}}]}),
                        None,
                    ));
                    out.push(self.chunk(
                        i,
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                        None,
                    ));
                    out.push(self.chunk(i, json!({}), Some("tool_calls")));
                }
                None => {
                    for word in self.text.split_inclusive(' ') {
                        out.push(self.chunk(i, json!({"content": word}), None));
                    }
                    out.push(self.chunk(i, json!({}), Some("stop")));
                }
            }
        }
        if include_usage {
            for c in &mut out {
                c["usage"] = Value::Null;
            }
            out.push(json!({"id": self.id, "object": "chat.completion.chunk", "created": unix_now(), "model": self.model,
                "system_fingerprint": "fp_switchyard_mock", "choices": [], "usage": self.usage()}));
        }
        out
    }
}

/// The tool a request forces (`tool_choice` "required" or a named function).
fn forced_tool(request: &Value) -> Option<(String, String)> {
    let first_tool = || {
        request
            .pointer("/tools/0/function/name")
            .and_then(Value::as_str)
    };
    let name = match request.get("tool_choice")? {
        Value::String(s) if s == "required" => first_tool()?,
        Value::Object(_) => request
            .pointer("/tool_choice/function/name")
            .and_then(Value::as_str)?,
        _ => return None,
    };
    Some((
        name.to_string(),
        format!("call_mock_{}", hex(&Sha256::digest(name.as_bytes())[..8])),
    ))
}

fn message_text(message: &Value) -> String {
    match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn embeddings(request: &Value) -> Value {
    let inputs: Vec<String> = match request.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let dims = request
        .get("dimensions")
        .and_then(Value::as_u64)
        .unwrap_or(16)
        .clamp(1, 4096) as usize;
    let base64 = request.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let mut tokens = 0;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            tokens += (text.len() as u64).div_ceil(4).max(1);
            let vector = vector_for(text, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    json!({"object": "list", "data": data, "model": request.get("model").cloned().unwrap_or(Value::Null),
           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
}

/// A unit vector that depends only on the text.
fn vector_for(text: &str, dims: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..dims)
        .map(|i| {
            let h = Sha256::digest(format!("{i}:{text}").as_bytes());
            (u16::from_le_bytes([h[0], h[1]]) as f32 / 32767.5) - 1.0
        })
        .collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_headers(content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers
}

fn json_response(value: Value) -> UpstreamResponse {
    let body: ByteStream = Box::pin(futures_util::stream::once(async move {
        Ok(Bytes::from(value.to_string()))
    }));
    UpstreamResponse {
        status: StatusCode::OK,
        headers: json_headers("application/json"),
        body,
    }
}

fn sse_response(chunks: Vec<Value>, delay: Duration) -> UpstreamResponse {
    let events = chunks
        .into_iter()
        .map(|c| format!("data: {c}\n\n"))
        .chain(std::iter::once("data: [DONE]\n\n".to_string()));
    let body: ByteStream = Box::pin(
        futures_util::stream::iter(events).then(move |e| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok(Bytes::from(e))
        }),
    );
    UpstreamResponse {
        status: StatusCode::OK,
        headers: json_headers("text/event-stream"),
        body,
    }
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> UpstreamResponse {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    let mut response = json_response(body);
    response.status = status;
    response
}

/// The error an OpenAI server sends for `status`.
fn injected_error(status: u16, message: Option<&str>) -> UpstreamResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (kind, code, default) = match status.as_u16() {
        429 => (
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached for requests (mock).",
        ),
        401 => (
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided (mock).",
        ),
        404 => (
            "invalid_request_error",
            Some("model_not_found"),
            "The model does not exist (mock).",
        ),
        400 => ("invalid_request_error", None, "Bad request (mock)."),
        503 => (
            "server_error",
            None,
            "The engine is currently overloaded, please try again later (mock).",
        ),
        _ => (
            "server_error",
            None,
            "The server had an error while processing your request (mock).",
        ),
    };
    let mut response = error(status, kind, code, message.unwrap_or(default));
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
