//! Anthropic's event stream as OpenAI chunks, event by event.
//!
//! `message_start` → the first chunk (`role: assistant`); `text_delta` →
//! `content`; `thinking_delta` → `reasoning_content`; a `tool_use` block →
//! a tool call whose `index` counts tool_use blocks only, with id and name
//! on its first delta and `input_json_delta` as argument deltas;
//! `message_delta` → the stop reason and output tokens, kept until
//! `message_stop`, which sends the finish chunk, the usage chunk (only when
//! the request asked `stream_options.include_usage`) and `[DONE]`. An
//! `error` event fails the stream. `ping` and unknown events are skipped.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};

use super::JSON_TOOL;
use super::request::Params;
use super::response::{Usage, finish_reason};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::openai_shape::ChunkWriter;
use crate::providers::sse::SseSplitter;
use crate::providers::{FailureClass, ProviderError, StreamDecoder};

/// What a content block (by Anthropic's block index) turns into.
#[derive(Clone, Copy)]
enum Block {
    Text,
    Thinking,
    /// A tool call, with its OpenAI `tool_calls` index.
    Tool(u64),
    /// The structured answer: its JSON is the message content.
    Answer,
    Other,
}

pub(super) struct Decoder {
    sse: SseSplitter,
    json_mode: bool,
    chunks: ChunkWriter,
    blocks: HashMap<u64, Block>,
    tool_calls: u64,
    stop_reason: Option<String>,
    usage: Usage,
    done: bool,
}

impl Decoder {
    pub(super) fn new(d: &Deployment, request: &ApiRequest) -> Self {
        Decoder {
            sse: SseSplitter::default(),
            json_mode: Params::new(d, request).json_schema().is_some(),
            chunks: ChunkWriter::new(&d.upstream_model, crate::cost::ALWAYS_USAGE),
            blocks: HashMap::new(),
            tool_calls: 0,
            stop_reason: None,
            usage: Usage::default(),
            done: false,
        }
    }

    fn event(&mut self, ev: &Value, out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        let str_at = |p: &str| ev.pointer(p).and_then(Value::as_str).unwrap_or("");
        match ev.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                if let Some(m) = ev.get("message") {
                    if let Some(id) = m.get("id").filter(|v| v.is_string()) {
                        self.chunks.id = id.clone();
                    }
                    if let Some(model) = m.get("model").filter(|v| v.is_string()) {
                        self.chunks.model = model.clone();
                    }
                    self.usage.update(m.get("usage"));
                }
                self.chunks.start(out);
            }
            "content_block_start" => {
                let Some(index) = ev.get("index").and_then(Value::as_u64) else {
                    return Ok(());
                };
                let block = match str_at("/content_block/type") {
                    "text" => Block::Text,
                    "thinking" => Block::Thinking,
                    "tool_use" if self.json_mode && str_at("/content_block/name") == JSON_TOOL => {
                        Block::Answer
                    }
                    "tool_use" => {
                        self.tool_calls += 1;
                        Block::Tool(self.tool_calls - 1)
                    }
                    _ => Block::Other,
                };
                self.blocks.insert(index, block);
                match block {
                    Block::Text => self.text(str_at("/content_block/text"), "content", out),
                    Block::Thinking => {
                        self.text(str_at("/content_block/thinking"), "reasoning_content", out);
                    }
                    Block::Tool(i) => {
                        let call = json!({"index": i, "id": str_at("/content_block/id"), "type": "function",
                            "function": {"name": str_at("/content_block/name"), "arguments": ""}});
                        self.chunks.delta(json!({"tool_calls": [call]}), None, out);
                    }
                    Block::Answer | Block::Other => {}
                }
            }
            "content_block_delta" => {
                let block = ev
                    .get("index")
                    .and_then(Value::as_u64)
                    .and_then(|i| self.blocks.get(&i).copied())
                    .unwrap_or(Block::Other);
                match (block, str_at("/delta/type")) {
                    (Block::Text, "text_delta") => self.text(str_at("/delta/text"), "content", out),
                    (Block::Thinking, "thinking_delta") => {
                        self.text(str_at("/delta/thinking"), "reasoning_content", out);
                    }
                    (Block::Answer, "input_json_delta") => {
                        self.text(str_at("/delta/partial_json"), "content", out);
                    }
                    (Block::Tool(i), "input_json_delta") => {
                        let args = str_at("/delta/partial_json");
                        if !args.is_empty() {
                            let call = json!({"index": i, "function": {"arguments": args}});
                            self.chunks.delta(json!({"tool_calls": [call]}), None, out);
                        }
                    }
                    _ => {} // signature_delta, citations_delta, …
                }
            }
            "message_delta" => {
                if let Some(reason) = ev.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(reason.to_string());
                }
                self.usage.update(ev.get("usage"));
            }
            "message_stop" => {
                let finish = finish_reason(self.stop_reason.as_deref(), self.tool_calls > 0);
                self.chunks.delta(json!({}), Some(finish), out);
                if self.chunks.include_usage {
                    out.push(self.chunks.chunk(json!([]), Some(self.usage.to_openai())));
                }
                out.push(Bytes::from_static(b"data: [DONE]\n\n"));
                self.done = true;
            }
            "error" => {
                return Err(super::error_from(None, ev).unwrap_or_else(|| {
                    ProviderError::new(
                        FailureClass::ServerError,
                        "Anthropic's stream reported an error without details",
                    )
                }));
            }
            _ => {} // ping, and event types added later
        }
        Ok(())
    }

    fn text(&mut self, text: &str, field: &str, out: &mut Vec<Bytes>) {
        if !text.is_empty() {
            self.chunks.delta(json!({ field: text }), None, out);
        }
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
