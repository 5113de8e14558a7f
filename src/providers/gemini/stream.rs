//! Gemini's `streamGenerateContent?alt=sse` → OpenAI chunks, event by event.
//!
//! Each Gemini event is a whole `GenerateContentResponse` carrying the next
//! piece of each candidate: text becomes `content` deltas, thoughts become
//! `reasoning_content` deltas, and a `functionCall` (sent whole) becomes one
//! tool-call chunk with its id, name and complete arguments. Gemini sends no
//! end-of-stream event, so the stream is complete when every candidate has
//! a `finishReason`: then come the usage chunk (when the client asked with
//! `stream_options.include_usage`) and `data: [DONE]`. The output depends
//! only on the events, never on how their bytes were split.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Value, json};

use super::response::{
    PartKind, candidate_index, candidates, completion_id, finish_reason, part_kind, parts,
    prompt_blocked, tool_call, usage,
};
use super::{FailureClass, Params, ProviderError, error, unix_now};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::providers::StreamDecoder;
use crate::providers::sse::SseSplitter;

pub struct GeminiStream {
    sse: SseSplitter,
    frame: Frame,
    /// Candidates the client asked for (`n`); the stream ends when this many
    /// have finished.
    expected: usize,
    choices: BTreeMap<u64, Choice>,
    /// The latest `usageMetadata` (Gemini repeats it, growing, per event).
    usage: Option<Value>,
    started: bool,
    done: bool,
}

/// What every chunk repeats.
struct Frame {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
}

#[derive(Default)]
struct Choice {
    tool_calls: usize,
    finished: bool,
}

impl GeminiStream {
    pub fn new(d: &Deployment, request: &ApiRequest) -> GeminiStream {
        let n = Params::new(d, request)
            .get("n")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        GeminiStream {
            sse: SseSplitter::default(),
            frame: Frame {
                id: String::new(),
                created: unix_now(),
                model: d.upstream_model.clone(),
                include_usage: crate::cost::ALWAYS_USAGE,
            },
            expected: n.clamp(1, 8) as usize,
            choices: BTreeMap::new(),
            usage: None,
            started: false,
            done: false,
        }
    }

    fn event(&mut self, event: &Value, out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        if !self.started {
            self.started = true;
            self.frame.id = completion_id(event);
            if let Some(m) = event.get("modelVersion").and_then(Value::as_str)
                && !m.is_empty()
            {
                self.frame.model = m.to_string();
            }
        }
        if let Some(meta) = event.get("usageMetadata").filter(|m| m.is_object()) {
            self.usage = Some(usage(Some(meta)));
        }
        let list = candidates(event);
        if list.is_empty() {
            return match prompt_blocked(event) {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        for (position, candidate) in list.iter().enumerate() {
            let index = candidate_index(candidate, position);
            let first = !self.choices.contains_key(&index);
            let choice = self.choices.entry(index).or_default();
            if choice.finished {
                continue;
            }
            if first {
                let delta = json!({"role": "assistant", "content": ""});
                out.push(self.frame.chunk(index, delta, None));
            }
            for part in parts(candidate) {
                let delta = match part_kind(part) {
                    PartKind::Text(t) if !t.is_empty() => json!({"content": t}),
                    PartKind::Thought(t) if !t.is_empty() => json!({"reasoning_content": t}),
                    PartKind::Call => {
                        let call = tool_call(&self.frame.id, index, choice.tool_calls, part);
                        let delta = json!({"tool_calls": [{"index": choice.tool_calls,
                            "id": call["id"], "type": "function", "function": call["function"]}]});
                        choice.tool_calls += 1;
                        delta
                    }
                    _ => continue,
                };
                out.push(self.frame.chunk(index, delta, None));
            }
            let reason = candidate
                .get("finishReason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty() && *r != "FINISH_REASON_UNSPECIFIED");
            if reason.is_some() {
                let finish = finish_reason(reason, choice.tool_calls > 0);
                out.push(self.frame.chunk(index, json!({}), Some(finish)));
                choice.finished = true;
            }
        }
        if self.choices.len() >= self.expected && self.choices.values().all(|c| c.finished) {
            if self.frame.include_usage {
                let usage = self.usage.take().unwrap_or_else(|| usage(None));
                out.push(self.frame.usage_chunk(usage));
            }
            out.push(Bytes::from_static(b"data: [DONE]\n\n"));
            self.done = true;
        }
        Ok(())
    }
}

impl Frame {
    fn chunk(&self, index: u64, delta: Value, finish: Option<&str>) -> Bytes {
        let mut chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        event(&chunk)
    }

    fn usage_chunk(&self, usage: Value) -> Bytes {
        event(&json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": [], "usage": usage,
        }))
    }
}

fn event(chunk: &Value) -> Bytes {
    Bytes::from(format!("data: {chunk}\n\n"))
}

impl StreamDecoder for GeminiStream {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Bytes>) -> Result<(), ProviderError> {
        for ev in self.sse.push(bytes) {
            if self.done {
                break;
            }
            let data = ev.data.trim();
            if data.is_empty() || data == "[DONE]" {
                continue;
            }
            let event: Value = serde_json::from_str(data).map_err(|_| {
                ProviderError::new(
                    FailureClass::ServerError,
                    "Gemini sent a stream event that is not JSON",
                )
            })?;
            if event.get("error").is_some_and(Value::is_object) {
                return Err(error::from_stream_event(data.as_bytes()));
            }
            self.event(&event, out)?;
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Operation;

    fn decoder(body: Value) -> GeminiStream {
        let yaml = "model_list:\n- model_name: g\n  litellm_params:\n    model: gemini/gemini-2.5-flash\n    api_key: k\n";
        let loaded = crate::config::load_str(yaml, "t.yaml").unwrap();
        let request = ApiRequest::parse(Operation::Chat, body.to_string().as_bytes()).unwrap();
        GeminiStream::new(&loaded.config.deployments[0], &request)
    }

    fn run(d: &mut GeminiStream, pieces: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for p in pieces {
            d.feed(p, &mut out).unwrap();
        }
        out.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn text_then_finish_then_usage_and_done_however_split() {
        let events = concat!(
            "data: {\"responseId\":\"r1\",\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n",
            "data: {\"responseId\":\"r1\",\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\"}],",
            "\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}\r\n\r\n"
        )
        .as_bytes();
        let body = json!({"model": "g", "stream": true, "stream_options": {"include_usage": true},
                          "messages": [{"role": "user", "content": "hi"}]});
        let mut whole = decoder(body.clone());
        let a = run(&mut whole, &[events]);
        assert!(whole.is_done());
        let mut split = decoder(body);
        let pieces: Vec<&[u8]> = events.chunks(7).collect();
        let b = run(&mut split, &pieces);
        let strip = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|e| {
                    e.replace(&whole.frame.created.to_string(), "T")
                        .replace(&split.frame.created.to_string(), "T")
                })
                .collect()
        };
        assert_eq!(strip(&a), strip(&b));
        assert_eq!(a.len(), 6, "{a:?}");
        assert!(a[0].contains("\"role\":\"assistant\"") && a[0].contains("chatcmpl-r1"));
        assert!(a[3].contains("\"finish_reason\":\"stop\""));
        assert!(a[4].contains("\"total_tokens\":5"));
        assert_eq!(a[5], "data: [DONE]\n\n");
    }
}
