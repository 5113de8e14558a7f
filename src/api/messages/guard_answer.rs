//! The answer rules on a native Anthropic answer, whole ([`whole`]) or
//! streamed ([`stream`]). `text` blocks are rewritten (tool inputs and
//! thinking are passed as they are). A stream is rewritten event by event,
//! one [`TextGuard`] per content block `index`: what a guard holds back (a
//! placeholder or an entity split across deltas) goes out as one more
//! `content_block_delta` just before that block's `content_block_stop`. A
//! blocked answer ends the stream with Anthropic's `error` event, which
//! names the entity type and never the value.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::guardrails::answer::{AnswerRules, Findings, TextGuard};
use crate::guardrails::openai_answer::blocked_answer;
use crate::guardrails::pii::EntityType;
use crate::providers::sse::SseSplitter;

/// A whole Anthropic Message with the rules applied to its `text` blocks;
/// any other body unchanged.
pub fn whole(rules: &AnswerRules, body: &[u8], findings: &mut Findings) -> Result<Bytes, ApiError> {
    let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(body) else {
        return Ok(Bytes::copy_from_slice(body));
    };
    let Some(Value::Array(blocks)) = message.get_mut("content") else {
        return Ok(Bytes::copy_from_slice(body));
    };
    for block in blocks {
        if block.get("type").and_then(Value::as_str) != Some("text") {
            continue;
        }
        if let Some(Value::String(text)) = block.get_mut("text") {
            *text = rules.whole(text, findings).map_err(blocked_answer)?;
        }
    }
    Ok(Bytes::from(Value::Object(message).to_string()))
}

/// A native Anthropic event stream with the rules applied; `findings` is
/// complete when it ends. Each piece is rewritten as it arrives.
pub fn stream<S, E>(
    rules: AnswerRules,
    events: S,
    findings: Arc<Mutex<Findings>>,
) -> impl Stream<Item = Result<Bytes, E>> + Send + use<S, E>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: Send,
{
    let rewriter = Rewriter {
        rules,
        sse: SseSplitter::default(),
        guards: BTreeMap::new(),
        findings,
    };
    futures_util::stream::unfold(
        (events, rewriter, false),
        |(mut events, mut r, ended)| async move {
            if ended {
                return None;
            }
            loop {
                let mut out = String::new();
                let (fed, ended) = match events.next().await {
                    Some(Ok(bytes)) => (r.feed(&bytes, &mut out), false),
                    Some(Err(e)) => return Some((Err(e), (events, r, true))),
                    None => (r.flush(&mut out), true),
                };
                if let Err(entity) = fed {
                    let event = r.block(entity);
                    return Some((Ok(Bytes::from(event)), (events, r, true)));
                }
                if !out.is_empty() {
                    return Some((Ok(Bytes::from(out)), (events, r, ended)));
                }
                if ended {
                    return None;
                }
            }
        },
    )
}

struct Rewriter {
    rules: AnswerRules,
    sse: SseSplitter,
    /// By content block index, from its first text to its stop.
    guards: BTreeMap<u64, TextGuard>,
    findings: Arc<Mutex<Findings>>,
}

impl Rewriter {
    /// The events completed by `bytes`, rewritten onto `out`.
    fn feed(&mut self, bytes: &[u8], out: &mut String) -> Result<(), EntityType> {
        for event in self.sse.push(bytes) {
            let name = event.name.as_deref();
            let Ok(Value::Object(mut data)) = serde_json::from_str::<Value>(&event.data) else {
                emit(out, name, &event.data);
                continue;
            };
            let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
            match data.get("type").and_then(Value::as_str) {
                Some("content_block_delta") => {
                    let Some(Value::String(text)) = data
                        .get_mut("delta")
                        .filter(|d| d.get("type").and_then(Value::as_str) == Some("text_delta"))
                        .and_then(|d| d.get_mut("text"))
                    else {
                        emit(out, name, &event.data);
                        continue;
                    };
                    let guard = self
                        .guards
                        .entry(index)
                        .or_insert_with(|| self.rules.stream());
                    let released = guard.push(text)?;
                    // Nothing to release yet: the event waits in the guard.
                    if !released.is_empty() {
                        *text = released;
                        emit(out, name, &Value::Object(data).to_string());
                    }
                }
                Some("content_block_stop") => {
                    self.release(index, out)?;
                    emit(out, name, &event.data);
                }
                // A block left open still gets its text before the end.
                Some("message_delta" | "message_stop" | "error") => {
                    self.flush(out)?;
                    emit(out, name, &event.data);
                }
                _ => emit(out, name, &event.data),
            }
        }
        Ok(())
    }

    /// What the block's guard still holds, as one more delta; its findings
    /// noted.
    fn release(&mut self, index: u64, out: &mut String) -> Result<(), EntityType> {
        let Some(mut guard) = self.guards.remove(&index) else {
            return Ok(());
        };
        let rest = guard.finish()?;
        if let Ok(mut f) = self.findings.lock() {
            for (entity, n) in guard.masked() {
                *f.found.entry(entity).or_default() += n;
            }
        }
        if !rest.is_empty() {
            let delta = json!({"type": "content_block_delta", "index": index,
                               "delta": {"type": "text_delta", "text": rest}});
            emit(out, Some("content_block_delta"), &delta.to_string());
        }
        Ok(())
    }

    /// Every block still held, released.
    fn flush(&mut self, out: &mut String) -> Result<(), EntityType> {
        let open: Vec<u64> = self.guards.keys().copied().collect();
        for index in open {
            self.release(index, out)?;
        }
        Ok(())
    }

    /// The `error` event that ends a blocked answer.
    fn block(&mut self, entity: EntityType) -> String {
        if let Ok(mut f) = self.findings.lock() {
            f.blocked = Some(entity);
            *f.found.entry(entity).or_default() += 1;
        }
        self.guards.clear();
        super::error_event("invalid_request_error", &blocked_answer(entity).message)
    }
}

fn emit(out: &mut String, name: Option<&str>, data: &str) {
    if let Some(name) = name {
        out.push_str("event: ");
        out.push_str(name);
        out.push('\n');
    }
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;
    use crate::guardrails::pii::{Action, Mapping, PiiPolicy};

    #[test]
    fn whole_messages_have_their_text_blocks_rewritten() {
        let mut mapping = Mapping::default();
        mapping.placeholder(EntityType::Email, "anna@example.ch");
        let rules = AnswerRules {
            restore: Some(Arc::new(mapping)),
            post_call: None,
        };
        let message = json!({"type": "message", "content": [
            {"type": "text", "text": "To [EMAIL_1]."},
            {"type": "tool_use", "id": "t", "name": "n", "input": {"to": "[EMAIL_1]"}}
        ], "usage": {"input_tokens": 3, "output_tokens": 2}});
        let out = whole(
            &rules,
            message.to_string().as_bytes(),
            &mut Findings::default(),
        )
        .unwrap();
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(out["content"][0]["text"], "To anna@example.ch.");
        assert_eq!(out["content"][1]["input"]["to"], "[EMAIL_1]");
        assert_eq!(out["usage"], message["usage"]);
    }

    fn event(data: Value) -> String {
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap()
        )
    }

    fn delta(index: u64, text: &str) -> String {
        event(json!({"type": "content_block_delta", "index": index,
                     "delta": {"type": "text_delta", "text": text}}))
    }

    async fn run(rules: AnswerRules, pieces: Vec<String>) -> (String, Findings) {
        let findings = Arc::new(Mutex::new(Findings::default()));
        let input = futures_util::stream::iter(
            pieces
                .into_iter()
                .map(|p| Ok::<_, Infallible>(Bytes::from(p))),
        );
        let out: Vec<Bytes> = stream(rules, input, findings.clone())
            .map(Result::unwrap)
            .collect()
            .await;
        let text = out.iter().map(|b| String::from_utf8_lossy(b)).collect();
        let f = findings.lock().unwrap().clone();
        (text, f)
    }

    fn text_of(body: &str) -> String {
        body.split("\n\n")
            .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter(|v| v["delta"]["type"] == "text_delta")
            .filter_map(|v| v["delta"]["text"].as_str().map(str::to_string))
            .collect()
    }

    #[tokio::test]
    async fn held_text_is_released_just_before_its_block_stops() {
        let rules = AnswerRules {
            post_call: Some(PiiPolicy::all(Action::Mask)),
            ..AnswerRules::default()
        };
        let stop = event(json!({"type": "content_block_stop", "index": 0}));
        let message_stop = event(json!({"type": "message_stop"}));
        // Split mid-event too: the rewriter waits for whole events.
        let all = format!(
            "{}{}{}{stop}{message_stop}",
            delta(0, "Mail anna.mu"),
            delta(0, "ster@example.ch"),
            delta(0, " now")
        );
        let (cut, rest) = all.split_at(30);
        let (out, f) = run(rules, vec![cut.to_string(), rest.to_string()]).await;
        assert_eq!(text_of(&out), "Mail [EMAIL_1] now");
        assert!(!out.contains("anna"), "{out}");
        let released = out.rfind("content_block_delta").unwrap();
        assert!(released < out.find("content_block_stop").unwrap(), "{out}");
        assert!(out.ends_with(&message_stop), "{out}");
        assert_eq!(f.found.get(&EntityType::Email), Some(&1));
    }

    #[tokio::test]
    async fn a_blocked_entity_ends_the_stream_with_an_anthropic_error() {
        let mut policy = PiiPolicy::default();
        policy.actions.insert(EntityType::Card, Action::Block);
        let rules = AnswerRules {
            post_call: Some(policy),
            ..AnswerRules::default()
        };
        let pieces = vec![
            delta(0, "Card 4111 1111 "),
            delta(0, "1111 1111 it is"),
            event(json!({"type": "content_block_stop", "index": 0})),
            event(json!({"type": "message_stop"})),
        ];
        let (out, f) = run(rules, pieces).await;
        assert!(!out.contains("4111"), "{out}");
        assert!(!out.contains("message_stop"), "{out}");
        let last = out.trim_end().rsplit("\n\n").next().unwrap();
        assert!(last.starts_with("event: error\ndata: "), "{last}");
        let data: Value = serde_json::from_str(last.split_once("data: ").unwrap().1).unwrap();
        assert_eq!(data["type"], "error");
        assert_eq!(data["error"]["type"], "invalid_request_error");
        assert!(data["error"]["message"].as_str().unwrap().contains("CARD"));
        assert_eq!(f.blocked, Some(EntityType::Card));
    }
}
