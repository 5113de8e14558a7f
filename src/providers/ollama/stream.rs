//! Ollama's NDJSON stream as OpenAI chunks, line by line.
//!
//! Lines are split out of the bytes as they arrive (a line may be cut
//! anywhere, even inside a UTF-8 character). The first object sends the
//! first chunk (`role: assistant`); `message.thinking` becomes
//! `reasoning_content`, `message.content` `content`, and each of
//! `message.tool_calls` (Ollama sends a call whole) one tool call delta
//! with its id, name and arguments. The object with `done: true` sends the
//! finish chunk, the usage chunk (only when the request asked
//! `stream_options.include_usage`) and `[DONE]`. An `{"error": …}` line
//! fails the stream; blank and unreadable lines are skipped.

use bytes::Bytes;
use serde_json::{Value, json};

use super::response::{completion_id, error_in, finish_reason, now, tool_call, usage};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::{ProviderError, StreamDecoder};

pub(super) struct NdjsonDecoder {
    buf: Vec<u8>,
    include_usage: bool,
    id: String,
    model: Value,
    created: u64,
    started: bool,
    tool_calls: u64,
    done: bool,
}

impl NdjsonDecoder {
    pub(super) fn new(d: &Deployment, request: &ApiRequest) -> Self {
        NdjsonDecoder {
            buf: Vec::new(),
            include_usage: request.include_usage,
            id: completion_id(),
            model: Value::String(d.upstream_model.clone()),
            created: now(),
            started: false,
            tool_calls: 0,
            done: false,
        }
    }

    fn chunk(&self, choices: Value, usage: Option<Value>) -> Bytes {
        let mut c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices});
        if self.include_usage {
            c["usage"] = usage.unwrap_or(Value::Null);
        }
        let mut event = b"data: ".to_vec();
        // Serializing a Value cannot fail.
        event.extend_from_slice(&serde_json::to_vec(&c).unwrap_or_default());
        event.extend_from_slice(b"\n\n");
        Bytes::from(event)
    }

    /// The first chunk, once, before anything else.
    fn start(&mut self, out: &mut Vec<Bytes>) {
        if !self.started {
            self.started = true;
            let first = json!([{"index": 0, "delta": {"role": "assistant", "content": ""},
                "logprobs": null, "finish_reason": null}]);
            out.push(self.chunk(first, None));
        }
    }

    fn delta(&self, delta: Value, finish: Option<&str>, out: &mut Vec<Bytes>) {
        let choices =
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        out.push(self.chunk(choices, None));
    }

    fn line(&mut self, obj: &Value, out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        if let Some(e) = error_in(obj) {
            return Err(e);
        }
        if let Some(model) = obj.get("model").filter(|m| m.is_string()) {
            self.model = model.clone();
        }
        self.start(out);
        let text = |name: &str| {
            obj.pointer(&format!("/message/{name}"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        if let Some(thinking) = text("thinking") {
            self.delta(json!({"reasoning_content": thinking}), None, out);
        }
        if let Some(content) = text("content") {
            self.delta(json!({"content": content}), None, out);
        }
        let calls = obj
            .pointer("/message/tool_calls")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for call in calls {
            let index = self.tool_calls;
            self.tool_calls += 1;
            let mut call = tool_call(call, &self.id, index);
            call["index"] = index.into();
            self.delta(json!({"tool_calls": [call]}), None, out);
        }
        if obj.get("done").and_then(Value::as_bool) == Some(true) {
            let reason = obj.get("done_reason").and_then(Value::as_str);
            let finish = finish_reason(reason, self.tool_calls > 0);
            self.delta(json!({}), Some(finish), out);
            if self.include_usage {
                out.push(self.chunk(json!([]), Some(usage(obj))));
            }
            out.push(Bytes::from_static(b"data: [DONE]\n\n"));
            self.done = true;
        }
        Ok(())
    }
}

impl StreamDecoder for NdjsonDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        if self.done {
            return Ok(());
        }
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(end) = self.buf[start..].iter().position(|b| *b == b'\n') {
            let line = &self.buf[start..start + end];
            start += end + 1;
            let parsed = serde_json::from_slice::<Value>(line.trim_ascii());
            if let Ok(obj @ Value::Object(_)) = parsed {
                if let Err(e) = self.line(&obj, out) {
                    self.buf.clear();
                    return Err(e);
                }
                if self.done {
                    self.buf.clear();
                    return Ok(());
                }
            }
        }
        self.buf.drain(..start);
        // The last object may come without its newline before the
        // connection closes: a complete `done` object is taken at once
        // (nothing after it counts, so this cannot change the output).
        if self.buf.trim_ascii_end().ends_with(b"}")
            && let Ok(obj) = serde_json::from_slice::<Value>(self.buf.trim_ascii())
            && obj.get("done").and_then(Value::as_bool) == Some(true)
        {
            self.buf.clear();
            self.line(&obj, out)?;
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
