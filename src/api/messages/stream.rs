//! OpenAI chunk events translated into Anthropic's event stream as they
//! arrive, by a small state machine:
//!
//! ```text
//! message_start
//!   (content_block_start, content_block_delta…, content_block_stop)…
//! message_delta (stop_reason, usage)
//! message_stop
//! ```
//!
//! Reasoning deltas open a `thinking` block, text deltas a `text` block and
//! each tool call a `tool_use` block fed with `input_json_delta`s; a change
//! of kind closes the open block. The first choice is translated (Anthropic
//! has no `n`). `message_start` goes out with the first chunk; the finish
//! reason and the usage (the last chunk, as `include_usage` was asked for)
//! go into the closing `message_delta`, sent at `[DONE]`. An OpenAI error
//! event, or a stream that ends without `[DONE]`, ends it with one Anthropic
//! `error` event instead. The output depends only on the events, never on
//! how their bytes were split.

use std::collections::VecDeque;
use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::response::{Context, reasoning_of, usage};
use crate::pipeline::EventStream;
use crate::providers::sse::SseSplitter;

#[derive(Clone, Copy, PartialEq)]
enum Block {
    Text,
    Thinking,
    /// A tool call, by its OpenAI `index`.
    Tool(u64),
}

pub struct Translator {
    ctx: Context,
    sse: SseSplitter,
    started: bool,
    /// The open block and its Anthropic index.
    open: Option<(Block, usize)>,
    next_index: usize,
    /// Anthropic block index of each OpenAI tool call index seen.
    tools: Vec<(u64, usize)>,
    stop: Option<(&'static str, Option<String>)>,
    usage: Option<Value>,
    /// `[DONE]` or an error was translated: the rest is ignored.
    done: bool,
}

impl Translator {
    pub fn new(ctx: Context) -> Translator {
        Translator {
            ctx,
            sse: SseSplitter::default(),
            started: false,
            open: None,
            next_index: 0,
            tools: Vec::new(),
            stop: None,
            usage: None,
            done: false,
        }
    }

    /// Feeds OpenAI event bytes; Anthropic events are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut String) {
        for event in self.sse.push(bytes) {
            if self.done {
                return;
            }
            let data = event.data.trim();
            if data == "[DONE]" {
                self.complete(out);
                continue;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            match chunk.get("error") {
                Some(error) => self.fail(error, out),
                None => self.chunk(&chunk, out),
            }
        }
    }

    /// The OpenAI stream has ended.
    pub fn finish(&mut self, out: &mut String) {
        if !self.done {
            self.done = true;
            out.push_str(&super::error_event(
                "api_error",
                "The upstream stream ended before it was complete.",
            ));
        }
    }

    fn chunk(&mut self, chunk: &Value, out: &mut String) {
        if !self.started {
            self.start(chunk, out);
        }
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
            return;
        };
        let Some(choice) = choices
            .iter()
            .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        else {
            return;
        };
        if let Some(delta) = choice.get("delta") {
            if let Some(thinking) = reasoning_of(delta) {
                let index = self.ensure(Block::Thinking, out);
                emit_delta(
                    out,
                    index,
                    json!({"type": "thinking_delta", "thinking": thinking}),
                );
            }
            if let Some(text) = delta.get("content").and_then(Value::as_str)
                && !text.is_empty()
            {
                let index = self.ensure(Block::Text, out);
                emit_delta(out, index, json!({"type": "text_delta", "text": text}));
            }
            for (position, call) in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.tool_delta(position as u64, call, out);
            }
        }
        if let Some(finish) = choice.get("finish_reason").and_then(Value::as_str) {
            self.stop = Some(self.ctx.stop(finish, choice.get("stop_reason")));
            self.close(out);
        }
    }

    fn start(&mut self, chunk: &Value, out: &mut String) {
        self.started = true;
        let message = json!({
            "id": self.ctx.message_id(chunk.get("id").and_then(Value::as_str)),
            "type": "message",
            "role": "assistant",
            "model": self.ctx.model_of(chunk),
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        });
        emit(
            out,
            "message_start",
            &json!({"type": "message_start", "message": message}),
        );
    }

    fn tool_delta(&mut self, position: u64, call: &Value, out: &mut String) {
        let tool = call
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position);
        let index = match self.tools.iter().find(|(t, _)| *t == tool) {
            // A later piece of a call already open (or, rarely, one that
            // another block interrupted: its pieces keep its index).
            Some((_, index)) => *index,
            None => {
                self.close(out);
                let index = self.next_index;
                self.next_index += 1;
                self.tools.push((tool, index));
                self.open = Some((Block::Tool(tool), index));
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("toolu_{index}"), str::to_string);
                let name = call
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let block = json!({"type": "tool_use", "id": id, "name": name, "input": {}});
                emit(
                    out,
                    "content_block_start",
                    &json!({"type": "content_block_start", "index": index, "content_block": block}),
                );
                index
            }
        };
        if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str)
            && !args.is_empty()
        {
            emit_delta(
                out,
                index,
                json!({"type": "input_json_delta", "partial_json": args}),
            );
        }
    }

    /// The index of an open block of this kind, opening one if needed.
    fn ensure(&mut self, kind: Block, out: &mut String) -> usize {
        if let Some((open, index)) = self.open
            && open == kind
        {
            return index;
        }
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((kind, index));
        let block = match kind {
            Block::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
            _ => json!({"type": "text", "text": ""}),
        };
        emit(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
        index
    }

    fn close(&mut self, out: &mut String) {
        if let Some((_, index)) = self.open.take() {
            emit(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            );
        }
    }

    fn complete(&mut self, out: &mut String) {
        if !self.started {
            self.start(&Value::Null, out);
        }
        self.close(out);
        self.done = true;
        let (reason, sequence) = self.stop.take().unwrap_or(("end_turn", None));
        let delta = json!({
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": sequence},
            "usage": usage(self.usage.as_ref()),
        });
        emit(out, "message_delta", &delta);
        emit(out, "message_stop", &json!({"type": "message_stop"}));
    }

    fn fail(&mut self, error: &Value, out: &mut String) {
        self.done = true;
        let given = error.get("type").and_then(Value::as_str).unwrap_or("");
        let code = error.get("code").and_then(Value::as_str).unwrap_or("");
        let kind = match (given, code) {
            (_, "stream_timeout" | "timeout") => "timeout_error",
            ("server_error" | "api_connection_error", _) => "api_error",
            _ => super::known_type(given).unwrap_or("api_error"),
        };
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("The upstream failed.");
        out.push_str(&super::error_event(kind, message));
    }
}

fn emit(out: &mut String, name: &str, data: &Value) {
    out.push_str("event: ");
    out.push_str(name);
    out.push_str("\ndata: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

fn emit_delta(out: &mut String, index: usize, delta: Value) {
    let data = json!({"type": "content_block_delta", "index": index, "delta": delta});
    emit(out, "content_block_delta", &data);
}

/// The translated stream: each upstream piece as soon as it has been read.
pub fn translate(
    events: EventStream,
    translator: Translator,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let state = (events, translator, VecDeque::<Bytes>::new(), false);
    futures_util::stream::unfold(
        state,
        |(mut events, mut t, mut ready, mut ended)| async move {
            loop {
                if let Some(b) = ready.pop_front() {
                    return Some((Ok(b), (events, t, ready, ended)));
                }
                if ended {
                    return None;
                }
                let mut out = String::new();
                match events.next().await {
                    Some(Ok(bytes)) => t.feed(&bytes, &mut out),
                    None => {
                        t.finish(&mut out);
                        ended = true;
                    }
                }
                if t.done {
                    // Nothing more will be translated: let the upstream go.
                    ended = true;
                }
                if !out.is_empty() {
                    ready.push_back(Bytes::from(out));
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn translator() -> Translator {
        let req = json!({"model": "m", "stop_sequences": ["END"]});
        let mut ctx = Context::new(req.as_object().unwrap());
        ctx.fallback_id = "msg_fixed".into();
        Translator::new(ctx)
    }

    fn run(pieces: &[&[u8]]) -> String {
        let mut t = translator();
        let mut out = String::new();
        for p in pieces {
            t.feed(p, &mut out);
        }
        t.finish(&mut out);
        out
    }

    fn names(out: &str) -> Vec<&str> {
        out.lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect()
    }

    const TOOL_STREAM: &str = concat!(
        "data: {\"id\":\"chatcmpl-1\",\"model\":\"g\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hm\"}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn blocks_open_and_close_in_order() {
        let out = run(&[TOOL_STREAM.as_bytes()]);
        assert_eq!(
            names(&out),
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert!(out.contains(r#""id":"msg_1""#));
        assert!(out.contains(r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_a","name":"f","input":{}}}"#));
        assert!(out.contains(r#""delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":7,"output_tokens":3"#));
    }

    #[test]
    fn errors_and_truncation_end_with_an_error_event() {
        let out = run(&[b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"slow\",\"type\":\"timeout_error\",\"code\":\"stream_timeout\"}}\n\ndata: [DONE]\n\n"]);
        assert!(out.ends_with("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"timeout_error\",\"message\":\"slow\"}}\n\n"), "{out}");
        assert_eq!(names(&out).last(), Some(&"error"));
        let out = run(&[b"data: {\"choices\":[]}\n\n"]);
        assert!(out.contains("\"type\":\"api_error\""));
        let out = run(&[b"data: [DONE]\n\n"]);
        assert_eq!(
            names(&out),
            ["message_start", "message_delta", "message_stop"]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512),
                                       cut in any::<prop::sample::Index>()) {
            let at = cut.index(bytes.len() + 1);
            run(&[&bytes[..at], &bytes[at..]]);
        }

        #[test]
        fn output_does_not_depend_on_the_split(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let bytes = TOOL_STREAM.as_bytes();
            let pieces =
                crate::testing::split_at_points(bytes, cuts.iter().map(|c| c.index(bytes.len() + 1)));
            prop_assert_eq!(run(&pieces), run(&[bytes]));
        }

        #[test]
        fn event_shaped_garbage_is_split_invariant(
            events in prop::collection::vec(prop_oneof![
                Just("data: [DONE]".to_string()),
                "data: \\{\"choices\":\\[\\{\"delta\":\\{\"content\":\"[a-z ]{0,5}\"\\}\\}\\]\\}",
                "data: \\{\"choices\":\\[\\{\"delta\":\\{\"tool_calls\":\\[\\{\"index\":[0-2],\"function\":\\{\"arguments\":\"[a-z{}]{0,4}\"\\}\\}\\]\\}\\}\\]\\}",
                "data: \\{\"choices\":\\[\\{\"delta\":\\{\"reasoning\":\"[a-z]{0,4}\"\\},\"finish_reason\":\"(stop|length)\"\\}\\]\\}",
                "data: \\{\"error\":\\{\"message\":\"[a-z]{1,5}\"\\}\\}",
                "[ -~]{0,20}",
            ], 0..12),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let text: String = events.iter().map(|e| format!("{e}\n\n")).collect();
            let bytes = text.as_bytes();
            let pieces =
                crate::testing::split_at_points(bytes, cuts.iter().map(|c| c.index(bytes.len() + 1)));
            prop_assert_eq!(run(&pieces), run(&[bytes]));
        }
    }
}
