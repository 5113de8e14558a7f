//! Cohere's v2 chat event stream as OpenAI chunks, event by event.
//!
//! Cohere sends `event: <type>` / `data: {"type": <type>, …}` pairs:
//! `message-start` → the first chunk (`role: assistant`, Cohere's id);
//! `content-start`/`content-delta` text → `content`, thinking →
//! `reasoning_content`; `tool-plan-delta` → `content` (the plan is what the
//! model says before calling tools); `tool-call-start` → a tool call with its
//! `index` (counted over tool calls), id and name; `tool-call-delta` →
//! argument deltas; `message-end` → the finish chunk, the usage chunk (only
//! when the request asked `stream_options.include_usage`) and `[DONE]`, or,
//! with `finish_reason: ERROR`, an error. `content-end`, `tool-call-end`,
//! `citation-*`, `debug` and unknown events are skipped. Cohere sends no
//! `[DONE]` of its own: `message-end` ends the stream.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};

use super::response::{Usage, finish_reason};
use crate::config::Deployment;
use crate::providers::openai_shape::ChunkWriter;
use crate::providers::sse::SseSplitter;
use crate::providers::{ProviderError, StreamDecoder};

pub(super) struct Decoder {
    sse: SseSplitter,
    chunks: ChunkWriter,
    /// OpenAI `tool_calls` index by Cohere's tool-call `index`.
    tools: HashMap<u64, u64>,
    tool_calls: u64,
    done: bool,
}

impl Decoder {
    pub(super) fn new(d: &Deployment) -> Self {
        Decoder {
            sse: SseSplitter::default(),
            chunks: ChunkWriter::new(&d.upstream_model, crate::cost::ALWAYS_USAGE),
            tools: HashMap::new(),
            tool_calls: 0,
            done: false,
        }
    }

    fn text(&mut self, text: Option<&str>, field: &str, out: &mut Vec<Bytes>) {
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            self.chunks.delta(json!({ field: text }), None, out);
        }
    }

    fn event(&mut self, ev: &Value, out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        let str_at = |p: &str| ev.pointer(p).and_then(Value::as_str);
        match ev.get("type").and_then(Value::as_str).unwrap_or("") {
            "message-start" => {
                if let Some(id) = ev.get("id").filter(|v| v.is_string()) {
                    self.chunks.id = id.clone();
                }
                self.chunks.start(out);
            }
            "content-start" | "content-delta" => {
                self.text(str_at("/delta/message/content/text"), "content", out);
                self.text(
                    str_at("/delta/message/content/thinking"),
                    "reasoning_content",
                    out,
                );
            }
            "tool-plan-delta" => self.text(str_at("/delta/message/tool_plan"), "content", out),
            "tool-call-start" => {
                let index = self.tool_calls;
                self.tool_calls += 1;
                if let Some(cohere) = ev.get("index").and_then(Value::as_u64) {
                    self.tools.insert(cohere, index);
                }
                let call = json!({"index": index, "id": str_at("/delta/message/tool_calls/id").unwrap_or(""),
                "type": "function", "function": {
                    "name": str_at("/delta/message/tool_calls/function/name").unwrap_or(""),
                    "arguments": str_at("/delta/message/tool_calls/function/arguments").unwrap_or(""),
                }});
                self.chunks.delta(json!({"tool_calls": [call]}), None, out);
            }
            "tool-call-delta" => {
                // Without an index, the deltas belong to the latest call.
                let index = match ev.get("index").and_then(Value::as_u64) {
                    Some(cohere) => self.tools.get(&cohere).copied(),
                    None => self.tool_calls.checked_sub(1),
                };
                let args = str_at("/delta/message/tool_calls/function/arguments");
                if let (Some(index), Some(args)) = (index, args.filter(|a| !a.is_empty())) {
                    let call = json!({"index": index, "function": {"arguments": args}});
                    self.chunks.delta(json!({"tool_calls": [call]}), None, out);
                }
            }
            "message-end" => {
                let finish = finish_reason(
                    str_at("/delta/finish_reason"),
                    self.tool_calls > 0,
                    str_at("/delta/error"),
                )?;
                self.chunks.delta(json!({}), Some(finish), out);
                if self.chunks.include_usage {
                    let usage = Usage::read(ev.pointer("/delta/usage")).to_openai();
                    out.push(self.chunks.chunk(json!([]), Some(usage)));
                }
                out.push(Bytes::from_static(b"data: [DONE]\n\n"));
                self.done = true;
            }
            _ => {} // content-end, tool-call-end, citation-start/-end, debug, later additions
        }
        Ok(())
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        for ev in self.sse.push(bytes) {
            if self.done {
                break;
            }
            // The data names its type; the `event:` line is the fallback.
            let Ok(mut data) = serde_json::from_str::<Value>(&ev.data) else {
                continue;
            };
            if let (Some(obj), Some(name)) = (data.as_object_mut(), ev.name) {
                obj.entry("type").or_insert(Value::String(name));
            }
            self.event(&data, out)?;
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
