//! Usage of streamed answers. OpenAI-family upstreams send a stream's usage
//! only when asked (`stream_options.include_usage`), in one last chunk with
//! empty `choices`. The gateway asks for it itself, reads it, and drops
//! that chunk when the client did not ask: the client sees the stream it
//! asked for, and the gateway still knows what the call cost.
//!
//! Per provider: OpenAI, Azure OpenAI, DeepSeek, Groq and vLLM take
//! `stream_options`; Mistral and Together send usage on their last chunk
//! unasked; the translating dialects (Anthropic, Gemini, Vertex, Bedrock,
//! Cohere, Ollama) always learn it from their upstream and write the usage
//! chunk when the request's `include_usage` is set.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

use super::estimate::chars_to_tokens;
use super::usage::{Usage, event_usage};
use crate::providers::ProviderKind;

/// Whether the client asked for the usage chunk.
pub fn wants_usage(body: &Map<String, Value>) -> bool {
    body.get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The OpenAI-compatible providers that accept `stream_options` and answer
/// it with a usage chunk.
pub fn asks_usage_itself(provider: ProviderKind) -> bool {
    matches!(
        provider,
        ProviderKind::OpenAi
            | ProviderKind::Azure
            | ProviderKind::DeepSeek
            | ProviderKind::Groq
            | ProviderKind::HostedVllm
    )
}

/// The `stream_options` to send upstream instead of the client's: theirs
/// with `include_usage: true`. `None` when nothing needs changing (not a
/// stream, or the client asked already).
pub fn stream_options_with_usage(body: &Map<String, Value>) -> Option<Value> {
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    if !streaming || wants_usage(body) {
        return None;
    }
    let mut options = match body.get("stream_options") {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    options.insert("include_usage".into(), Value::Bool(true));
    Some(Value::Object(options))
}

/// Watches a stream's OpenAI events as they pass to the client: keeps the
/// last usage seen, tells which events to drop (the usage-only chunk the
/// client did not ask for) and, when asked to, counts the streamed text
/// for an estimate should no usage come.
pub struct UsageTap {
    client_wants_usage: bool,
    count_text: bool,
    usage: Option<Usage>,
    chars: u64,
}

impl UsageTap {
    pub fn new(client_wants_usage: bool) -> Self {
        UsageTap {
            client_wants_usage,
            count_text: false,
            usage: None,
            chars: 0,
        }
    }

    /// Also count the streamed characters (one small parse per chunk): for
    /// upstreams that may send no usage at all.
    pub fn counting_text(mut self) -> Self {
        self.count_text = true;
        self
    }

    /// Reads one event (`data: {…}\n\n`); `false`: do not pass it on.
    pub fn keep(&mut self, event: &[u8]) -> bool {
        if let Some(e) = event_usage(event) {
            self.usage = Some(e.usage);
            if e.usage_only && !self.client_wants_usage {
                return false;
            }
        } else if self.count_text {
            self.chars += streamed_chars(event);
        }
        true
    }

    /// The usage the stream reported, if it did.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The reported usage, else the estimate: `prompt_tokens` (the
    /// request's, from `estimate::prompt_tokens`) and the streamed text's
    /// characters / 4 (0 unless `counting_text`).
    pub fn usage_or_estimate(&self, prompt_tokens: u64) -> Usage {
        self.usage.unwrap_or(Usage {
            prompt_tokens,
            completion_tokens: chars_to_tokens(self.chars),
            estimated: true,
            ..Usage::default()
        })
    }
}

/// The characters of text in a chunk's deltas: content, reasoning and
/// tool-call arguments.
fn streamed_chars(event: &[u8]) -> u64 {
    #[derive(Deserialize)]
    struct Chunk<'a> {
        #[serde(borrow, default)]
        choices: Vec<Choice<'a>>,
    }
    #[derive(Deserialize)]
    struct Choice<'a> {
        #[serde(borrow, default)]
        delta: Option<Delta<'a>>,
    }
    #[derive(Deserialize)]
    struct Delta<'a> {
        #[serde(borrow, default)]
        content: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        reasoning_content: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        tool_calls: Option<Vec<Call<'a>>>,
    }
    #[derive(Deserialize)]
    struct Call<'a> {
        #[serde(borrow, default)]
        function: Option<Function<'a>>,
    }
    #[derive(Deserialize)]
    struct Function<'a> {
        #[serde(borrow, default)]
        arguments: Option<Cow<'a, str>>,
    }
    let data = event.trim_ascii();
    let data = data.strip_prefix(b"data:").unwrap_or(data).trim_ascii();
    let Ok(chunk) = serde_json::from_slice::<Chunk>(data) else {
        return 0;
    };
    let len = |s: &Option<Cow<str>>| s.as_ref().map_or(0, |s| s.chars().count() as u64);
    chunk
        .choices
        .iter()
        .filter_map(|c| c.delta.as_ref())
        .map(|d| {
            len(&d.content)
                + len(&d.reasoning_content)
                + d.tool_calls
                    .iter()
                    .flatten()
                    .map(|c| c.function.as_ref().map_or(0, |f| len(&f.arguments)))
                    .sum::<u64>()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USAGE_ONLY: &[u8] = b"data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n";
    const TEXT: &[u8] =
        b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}],\"usage\":null}\n\n";

    #[test]
    fn asks_for_usage_keeping_the_clients_options() {
        let body = json!({"stream": true, "stream_options": {"include_obfuscation": false}});
        assert_eq!(
            stream_options_with_usage(body.as_object().unwrap()),
            Some(json!({"include_obfuscation": false, "include_usage": true}))
        );
        let asked = json!({"stream": true, "stream_options": {"include_usage": true}});
        assert!(wants_usage(asked.as_object().unwrap()));
        assert_eq!(stream_options_with_usage(asked.as_object().unwrap()), None);
        let not_streaming = json!({"stream": false});
        assert_eq!(
            stream_options_with_usage(not_streaming.as_object().unwrap()),
            None
        );
        assert!(asks_usage_itself(ProviderKind::Azure));
        assert!(!asks_usage_itself(ProviderKind::Mistral));
    }

    #[test]
    fn drops_the_usage_chunk_the_client_did_not_ask_for() {
        let mut tap = UsageTap::new(false);
        assert!(tap.keep(TEXT));
        assert!(!tap.keep(USAGE_ONLY));
        assert!(tap.keep(b"data: [DONE]\n\n"));
        assert_eq!(tap.usage().unwrap().total_tokens(), 12);

        let mut tap = UsageTap::new(true);
        assert!(tap.keep(USAGE_ONLY));
        assert_eq!(tap.usage().unwrap().prompt_tokens, 9);
    }

    #[test]
    fn estimates_from_the_streamed_text_without_usage() {
        let mut tap = UsageTap::new(false).counting_text();
        tap.keep(TEXT);
        tap.keep(b"data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"abc\",\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n");
        // 5 + 3 + 2 = 10 characters → 3 tokens.
        let u = tap.usage_or_estimate(7);
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.estimated),
            (7, 3, true)
        );
        // Without counting, nothing is parsed and the completion is unknown.
        let mut tap = UsageTap::new(false);
        tap.keep(TEXT);
        assert_eq!(tap.usage_or_estimate(7).completion_tokens, 0);
    }
}
