//! ConverseStream → OpenAI chunks, message by message.
//!
//! The response is AWS's binary event stream (`eventstream.rs`). Events:
//! `messageStart` → the first chunk (`role: assistant`); a
//! `contentBlockStart` with `toolUse` → a tool call with its index (counting
//! tool blocks only), id and name; `contentBlockDelta` → `content`, the
//! tool call's `arguments` pieces, or `reasoning_content`; `messageStop` →
//! the finish chunk; `metadata` → the usage chunk (only when the request
//! asked with `stream_options.include_usage`), then `data: [DONE]`. The
//! structured-answer tool's input is streamed as `content`. An exception
//! message fails the stream. Unknown events and fields (Bedrock pads each
//! payload with a `p` field) are skipped. The output depends only on the
//! messages, never on how their bytes were split.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};

use super::eventstream::{Frame, FrameReader};
use super::response::{completion_id, finish_reason, usage};
use super::{JSON_TOOL, Params, ProviderError, error, not_json, request, unix_now};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::StreamDecoder;

/// What a content block (by Bedrock's block index) turns into.
#[derive(Clone, Copy)]
enum Block {
    /// A tool call, with its OpenAI `tool_calls` index.
    Tool(u64),
    /// The structured answer: its input is the message content.
    Answer,
}

pub struct Decoder {
    frames: FrameReader,
    include_usage: bool,
    json_mode: bool,
    id: String,
    model: String,
    created: u64,
    started: bool,
    blocks: HashMap<u64, Block>,
    tool_calls: u64,
    answered: bool,
    stopped: bool,
    usage: Option<Value>,
    done: bool,
}

impl Decoder {
    pub fn new(d: &Deployment, request: &ApiRequest) -> Self {
        let json_mode = matches!(request::json_schema(&Params::new(d, request)), Ok(Some(_)));
        Decoder {
            frames: FrameReader::default(),
            include_usage: crate::cost::ALWAYS_USAGE,
            json_mode,
            id: completion_id(),
            model: d.upstream_model.clone(),
            created: unix_now(),
            started: false,
            blocks: HashMap::new(),
            tool_calls: 0,
            answered: false,
            stopped: false,
            usage: None,
            done: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Bytes {
        let mut c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if self.include_usage {
            c["usage"] = Value::Null;
        }
        event(&c)
    }

    fn delta(&mut self, delta: Value, finish: Option<&str>, out: &mut Vec<Bytes>) {
        self.start(out);
        out.push(self.chunk(delta, finish));
    }

    /// The first chunk, once, before anything else.
    fn start(&mut self, out: &mut Vec<Bytes>) {
        if !self.started {
            self.started = true;
            out.push(self.chunk(json!({"role": "assistant", "content": ""}), None));
        }
    }

    fn event(
        &mut self,
        kind: &str,
        payload: &[u8],
        out: &mut Vec<Bytes>,
    ) -> Result<(), ProviderError> {
        let ev: Value =
            serde_json::from_slice(payload).map_err(|e| not_json("a stream event", &e))?;
        let index = ev
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match kind {
            "messageStart" => self.start(out),
            "contentBlockStart" => {
                let Some(tool) = ev.pointer("/start/toolUse") else {
                    return Ok(());
                };
                let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
                if self.json_mode && name == JSON_TOOL {
                    self.blocks.insert(index, Block::Answer);
                    self.answered = true;
                    return Ok(());
                }
                let i = self.tool_calls;
                self.tool_calls += 1;
                self.blocks.insert(index, Block::Tool(i));
                let id = tool.get("toolUseId").and_then(Value::as_str).unwrap_or("");
                let call = json!({"index": i, "id": id, "type": "function",
                    "function": {"name": name, "arguments": ""}});
                self.delta(json!({"tool_calls": [call]}), None, out);
            }
            "contentBlockDelta" => {
                let delta = ev.get("delta").unwrap_or(&Value::Null);
                let text = |p: &str| {
                    delta
                        .pointer(p)
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                };
                let piece = if let Some(t) = text("/text") {
                    json!({"content": t})
                } else if let Some(t) = text("/reasoningContent/text") {
                    json!({"reasoning_content": t})
                } else if let Some(input) = text("/toolUse/input") {
                    match self.blocks.get(&index) {
                        Some(Block::Tool(i)) => {
                            json!({"tool_calls": [{"index": i, "function": {"arguments": input}}]})
                        }
                        Some(Block::Answer) => json!({"content": input}),
                        None => return Ok(()),
                    }
                } else {
                    return Ok(());
                };
                self.delta(piece, None, out);
            }
            "messageStop" if !self.stopped => {
                self.stopped = true;
                let reason = ev.get("stopReason").and_then(Value::as_str);
                let finish = finish_reason(reason, self.answered && self.tool_calls == 0);
                self.delta(json!({}), Some(finish), out);
            }
            "metadata" => self.usage = Some(usage(ev.get("usage"))),
            _ => {}
        }
        if self.stopped && self.usage.is_some() {
            if self.include_usage {
                let usage = self.usage.take().unwrap_or(Value::Null);
                out.push(event(
                    &json!({"id": self.id, "object": "chat.completion.chunk",
                    "created": self.created, "model": self.model, "choices": [], "usage": usage}),
                ));
            }
            out.push(Bytes::from_static(b"data: [DONE]\n\n"));
            self.done = true;
        }
        Ok(())
    }
}

fn event(chunk: &Value) -> Bytes {
    Bytes::from(format!("data: {chunk}\n\n"))
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        if self.done {
            return Ok(());
        }
        for frame in self.frames.push(bytes)? {
            match frame {
                Frame::Event { kind, payload } => self.event(&kind, &payload, out)?,
                Frame::Exception { kind, payload } => {
                    return Err(error::from_stream_exception(&kind, &payload));
                }
                Frame::Error { code, message } => {
                    return Err(error::from_stream_error(&code, &message));
                }
            }
            if self.done {
                break;
            }
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
