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

use super::response::{completion_id, error_in, finish_reason, tool_call, usage};
use crate::config::Deployment;
use crate::providers::openai_shape::ChunkWriter;
use crate::providers::{ProviderError, StreamDecoder};

pub(super) struct NdjsonDecoder {
    buf: Vec<u8>,
    chunks: ChunkWriter,
    tool_calls: u64,
    done: bool,
}

impl NdjsonDecoder {
    pub(super) fn new(d: &Deployment) -> Self {
        NdjsonDecoder {
            buf: Vec::new(),
            chunks: ChunkWriter::new(&d.upstream_model, crate::cost::ALWAYS_USAGE)
                // Ollama sends no id: each answer gets its own.
                .with_id(completion_id()),
            tool_calls: 0,
            done: false,
        }
    }

    fn line(&mut self, obj: &Value, out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        if let Some(e) = error_in(obj) {
            return Err(e);
        }
        if let Some(model) = obj.get("model").filter(|m| m.is_string()) {
            self.chunks.model = model.clone();
        }
        self.chunks.start(out);
        let text = |name: &str| {
            obj.pointer(&format!("/message/{name}"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        if let Some(thinking) = text("thinking") {
            self.chunks
                .delta(json!({"reasoning_content": thinking}), None, out);
        }
        if let Some(content) = text("content") {
            self.chunks.delta(json!({"content": content}), None, out);
        }
        let calls = obj
            .pointer("/message/tool_calls")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for call in calls {
            let index = self.tool_calls;
            self.tool_calls += 1;
            let mut call = tool_call(call, self.chunks.id.as_str().unwrap_or_default(), index);
            call["index"] = index.into();
            self.chunks.delta(json!({"tool_calls": [call]}), None, out);
        }
        if obj.get("done").and_then(Value::as_bool) == Some(true) {
            let reason = obj.get("done_reason").and_then(Value::as_str);
            let finish = finish_reason(reason, self.tool_calls > 0);
            self.chunks.delta(json!({}), Some(finish), out);
            if self.chunks.include_usage {
                out.push(self.chunks.chunk(json!([]), Some(usage(obj))));
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
