//! The answer rules ([`AnswerRules`]) applied to an answer in the OpenAI
//! schema: a whole chat body (`choices[].message.content`) or its stream
//! (`choices[].delta.content`, one [`TextGuard`] per choice index). A
//! stream is rewritten event by event; what a guard holds back is released
//! in a later event of the same choice, at the latest in the one carrying
//! its `finish_reason` (or, if none comes, in an event added before
//! `[DONE]`). A blocked answer ends the stream with an error event.
//! Tool-call arguments are passed as they are.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use serde_json::{Map, Value};

use super::answer::{AnswerRules, Findings, TextGuard};
use super::pii::EntityType;
use crate::api::error::ApiError;
use crate::pipeline::EventStream;
use crate::relay::error_event;

/// The refusal of an answer a `post_call` guardrail blocked.
pub fn blocked_answer(entity: EntityType) -> ApiError {
    ApiError::invalid(format!(
        "The answer was blocked by the pii guardrail: it contains {} data.",
        entity.name()
    ))
    .with_code("pii_blocked")
}

/// A whole chat body with the rules applied to each choice's content; the
/// body unchanged when it is not a chat completion.
pub fn whole(rules: &AnswerRules, body: &[u8], findings: &mut Findings) -> Result<Bytes, ApiError> {
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(body) else {
        return Ok(Bytes::copy_from_slice(body));
    };
    let Some(Value::Array(choices)) = answer.get_mut("choices") else {
        return Ok(Bytes::copy_from_slice(body));
    };
    for choice in choices {
        if let Some(Value::String(text)) = choice.pointer_mut("/message/content") {
            *text = rules.whole(text, findings).map_err(blocked_answer)?;
        }
    }
    Ok(Bytes::from(Value::Object(answer).to_string()))
}

/// The stream with the rules applied; `findings` is complete when it ends.
pub fn stream(
    rules: AnswerRules,
    events: EventStream,
    findings: Arc<Mutex<Findings>>,
) -> EventStream {
    Box::pin(Guarded {
        events,
        rules,
        guards: Vec::new(),
        envelope: Map::new(),
        ready: VecDeque::new(),
        findings,
        ended: false,
    })
}

struct Guarded {
    events: EventStream,
    rules: AnswerRules,
    /// By choice index; `None` before its first text and once finished.
    guards: Vec<Option<TextGuard>>,
    /// `id`, `object`, `created` and `model` of the last chunk, for a chunk
    /// the gateway adds.
    envelope: Map<String, Value>,
    ready: VecDeque<Bytes>,
    findings: Arc<Mutex<Findings>>,
    ended: bool,
}

impl Guarded {
    fn guard(&mut self, index: usize) -> &mut TextGuard {
        if self.guards.len() <= index {
            self.guards.resize_with(index + 1, || None);
        }
        self.guards[index].get_or_insert_with(|| self.rules.stream())
    }

    /// One event from upstream: rewritten onto `ready`.
    fn take(&mut self, event: Bytes) -> Result<(), EntityType> {
        let Some(data) = event.strip_prefix(b"data: ") else {
            self.ready.push_back(event);
            return Ok(());
        };
        if data.trim_ascii().starts_with(b"[DONE]") {
            self.flush()?;
            self.ready.push_back(event);
            return Ok(());
        }
        let Ok(Value::Object(mut chunk)) = serde_json::from_slice::<Value>(data) else {
            self.ready.push_back(event);
            return Ok(());
        };
        let Some(Value::Array(choices)) = chunk.get_mut("choices") else {
            self.ready.push_back(event);
            return Ok(());
        };
        for choice in choices.iter_mut() {
            let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            let finished = choice.get("finish_reason").is_some_and(|r| !r.is_null());
            let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) else {
                continue;
            };
            let guard = self.guard(index);
            let mut text = match delta.get("content") {
                Some(Value::String(t)) => guard.push(t)?,
                _ => String::new(),
            };
            if finished {
                text.push_str(&guard.finish()?);
                self.note(index);
            }
            if !text.is_empty() || delta.get("content").is_some_and(Value::is_string) {
                delta.insert("content".into(), Value::String(text));
            }
        }
        for k in ["id", "object", "created", "model"] {
            if let Some(v) = chunk.get(k) {
                self.envelope.insert(k.to_string(), v.clone());
            }
        }
        self.ready
            .push_back(Bytes::from(format!("data: {}\n\n", Value::Object(chunk))));
        Ok(())
    }

    /// What the choices that never finished still hold, as one more chunk.
    fn flush(&mut self) -> Result<(), EntityType> {
        let mut choices = Vec::new();
        for index in 0..self.guards.len() {
            let Some(guard) = self.guards[index].as_mut() else {
                continue;
            };
            let text = guard.finish()?;
            self.note(index);
            if !text.is_empty() {
                choices.push(serde_json::json!({
                    "index": index, "delta": {"content": text}, "finish_reason": null
                }));
            }
        }
        if !choices.is_empty() {
            let mut chunk = self.envelope.clone();
            chunk.insert("choices".into(), Value::Array(choices));
            self.ready
                .push_back(Bytes::from(format!("data: {}\n\n", Value::Object(chunk))));
        }
        Ok(())
    }

    /// The choice is done: what its guard masked goes to the findings.
    fn note(&mut self, index: usize) {
        if let Some(guard) = self.guards.get_mut(index).and_then(Option::take)
            && let Ok(mut f) = self.findings.lock()
        {
            for (entity, n) in guard.masked() {
                *f.found.entry(entity).or_default() += n;
            }
        }
    }

    fn block(&mut self, entity: EntityType) {
        if let Ok(mut f) = self.findings.lock() {
            f.blocked = Some(entity);
            *f.found.entry(entity).or_default() += 1;
        }
        self.ready.clear();
        self.ready.push_back(error_event(blocked_answer(entity)));
        self.ended = true;
    }
}

impl Stream for Guarded {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if self.ended {
                return Poll::Ready(None);
            }
            match self.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => {
                    if let Err(entity) = self.take(event) {
                        self.block(entity);
                    }
                }
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => {
                    self.ended = true;
                    if let Err(entity) = self.flush() {
                        self.block(entity);
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::guardrails::pii::{Action, PiiPolicy};

    fn chunk(content: &str, finish: Option<&str>) -> Bytes {
        let c = serde_json::json!({
            "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]
        });
        Bytes::from(format!("data: {c}\n\n"))
    }

    fn texts(events: &[Bytes]) -> String {
        events
            .iter()
            .filter_map(|e| e.strip_prefix(b"data: "))
            .filter_map(|d| serde_json::from_slice::<Value>(d).ok())
            .filter_map(|v| {
                v.pointer("/choices/0/delta/content")?
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    }

    async fn run(rules: AnswerRules, input: Vec<Bytes>) -> (Vec<Bytes>, Findings) {
        let findings = Arc::new(Mutex::new(Findings::default()));
        let events: EventStream = Box::pin(futures_util::stream::iter(input.into_iter().map(Ok)));
        let out: Vec<Bytes> = stream(rules, events, findings.clone())
            .map(|e| e.unwrap())
            .collect()
            .await;
        let f = findings.lock().unwrap().clone();
        (out, f)
    }

    #[tokio::test]
    async fn masks_entities_split_across_chunks_and_releases_at_the_finish() {
        let rules = AnswerRules {
            post_call: Some(PiiPolicy::all(Action::Mask)),
            ..AnswerRules::default()
        };
        let input = vec![
            chunk("Write to anna.mu", None),
            chunk("ster@example.ch soon", None),
            chunk("", Some("stop")),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ];
        let (out, f) = run(rules, input).await;
        assert_eq!(texts(&out), "Write to [EMAIL_1] soon");
        assert!(
            out.iter()
                .all(|e| !String::from_utf8_lossy(e).contains("anna"))
        );
        assert_eq!(
            out.last().unwrap(),
            &Bytes::from_static(b"data: [DONE]\n\n")
        );
        assert_eq!(f.found.get(&EntityType::Email), Some(&1));
    }

    #[tokio::test]
    async fn a_stream_without_finish_reason_is_flushed_before_done() {
        let rules = AnswerRules {
            post_call: Some(PiiPolicy::all(Action::Mask)),
            ..AnswerRules::default()
        };
        let input = vec![
            chunk("call +41 44 668 18 00", None),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ];
        let (out, _) = run(rules, input).await;
        assert_eq!(texts(&out), "call [PHONE_1]");
        assert_eq!(out.len(), 3);
    }

    #[tokio::test]
    async fn a_blocked_entity_ends_the_stream_with_an_error_event() {
        let mut policy = PiiPolicy::default();
        policy.actions.insert(EntityType::Card, Action::Block);
        let rules = AnswerRules {
            post_call: Some(policy),
            ..AnswerRules::default()
        };
        let input = vec![
            chunk("Card 4111 1111 ", None),
            chunk("1111 1111 it is", Some("stop")),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ];
        let (out, f) = run(rules, input).await;
        let last = String::from_utf8_lossy(out.last().unwrap()).into_owned();
        assert!(
            last.contains("pii_blocked") && last.contains("CARD"),
            "{last}"
        );
        assert!(
            out.iter()
                .all(|e| !String::from_utf8_lossy(e).contains("4111"))
        );
        assert_eq!(f.blocked, Some(EntityType::Card));
    }

    #[test]
    fn whole_bodies_have_each_choice_rewritten() {
        let rules = AnswerRules {
            post_call: Some(PiiPolicy::all(Action::Mask)),
            ..AnswerRules::default()
        };
        let body = br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"IP 192.168.10.7"}}]}"#;
        let mut f = Findings::default();
        let out = whole(&rules, body, &mut f).unwrap();
        assert!(String::from_utf8_lossy(&out).contains("IP [IP_1]"));
        assert_eq!(f.found.get(&EntityType::Ip), Some(&1));
    }
}
