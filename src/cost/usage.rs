//! Token usage as the gateway's answers report it: OpenAI's `usage` object,
//! which every dialect decodes to (see each provider's `response.rs`).
//! Anthropic's own shape, for the native `/v1/messages` pass-through, is
//! read in `anthropic_usage.rs`.
//!
//! Conventions, per provider, as the decoders leave them:
//!
//! - `prompt_tokens` counts every prompt token, cached or not (OpenAI's
//!   convention). OpenAI's and Gemini's own counts already do; Anthropic's
//!   `input_tokens` and Bedrock's `inputTokens` leave the cache reads and
//!   writes out, so their decoders add them in.
//! - Cache reads: `prompt_tokens_details.cached_tokens` (OpenAI, Gemini's
//!   `cachedContentTokenCount`), `cache_read_input_tokens` (Anthropic,
//!   Bedrock, as LiteLLM names it), `prompt_cache_hit_tokens` (DeepSeek).
//! - Cache writes: `cache_creation_input_tokens` (Anthropic, Bedrock's
//!   `cacheWriteInputTokens`). OpenAI, Gemini and DeepSeek charge nothing
//!   extra for writing their caches and report none.
//! - `completion_tokens` includes reasoning tokens (OpenAI's convention;
//!   Gemini's decoder adds `thoughtsTokenCount`, Anthropic counts thinking
//!   in `output_tokens`); `completion_tokens_details.reasoning_tokens` says
//!   how many of them were reasoning.

use serde::Deserialize;
use serde::de::IgnoredAny;

/// The tokens (and rerank search units) one answer used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Every prompt token, including those read from or written to a cache.
    pub prompt_tokens: u64,
    /// Every generated token, including reasoning.
    pub completion_tokens: u64,
    pub cached_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    /// Rerank queries billed (Cohere's `search_units`).
    pub search_units: u64,
    /// The provider gave no usage: these are the gateway's estimate
    /// (`estimate.rs`).
    pub estimated: bool,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// A count: providers send integers, Cohere's billed units are floats.
pub(super) type Count = Option<f64>;

pub(super) fn count(c: Count) -> u64 {
    // `as` saturates: a negative or NaN count is 0.
    c.map_or(0, |v| v as u64)
}

/// The fields of a `usage` object, in OpenAI's and Anthropic's names.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct WireUsage {
    prompt_tokens: Count,
    completion_tokens: Count,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
    pub(super) cache_read_input_tokens: Count,
    pub(super) cache_creation_input_tokens: Count,
    prompt_cache_hit_tokens: Count,
    pub(super) input_tokens: Count,
    pub(super) output_tokens: Count,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct PromptDetails {
    cached_tokens: Count,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CompletionDetails {
    reasoning_tokens: Count,
}

impl WireUsage {
    /// OpenAI's shape (what the gateway answers on its OpenAI routes).
    fn openai(&self) -> Usage {
        let details = self.prompt_tokens_details.as_ref();
        Usage {
            prompt_tokens: count(self.prompt_tokens),
            completion_tokens: count(self.completion_tokens),
            cached_read_tokens: count(
                self.cache_read_input_tokens
                    .or(details.and_then(|d| d.cached_tokens))
                    .or(self.prompt_cache_hit_tokens),
            ),
            cache_write_tokens: count(self.cache_creation_input_tokens),
            reasoning_tokens: count(
                self.completion_tokens_details
                    .as_ref()
                    .and_then(|d| d.reasoning_tokens),
            ),
            search_units: 0,
            estimated: false,
        }
    }
}

/// What the gateway reads of an answer body: its usage, and Cohere's
/// billed units (rerank answers carry `meta.billed_units.search_units`).
#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    meta: Option<Meta>,
    /// Groq reports stream usage under `x_groq` too.
    #[serde(default)]
    x_groq: Option<XGroq>,
    #[serde(default)]
    choices: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    billed_units: Option<BilledUnits>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct BilledUnits {
    search_units: Count,
    input_tokens: Count,
    output_tokens: Count,
}

#[derive(Deserialize)]
struct XGroq {
    #[serde(default)]
    usage: Option<WireUsage>,
}

impl Body {
    fn usage(self) -> Option<Usage> {
        let billed = self.meta.and_then(|m| m.billed_units);
        let usage = self
            .usage
            .or_else(|| self.x_groq.and_then(|x| x.usage))
            .map(|u| u.openai());
        match (usage, billed) {
            (Some(mut u), Some(b)) => {
                u.search_units = count(b.search_units);
                Some(u)
            }
            (Some(u), None) => Some(u),
            (None, Some(b)) => Some(Usage {
                prompt_tokens: count(b.input_tokens),
                completion_tokens: count(b.output_tokens),
                search_units: count(b.search_units),
                ..Usage::default()
            }),
            (None, None) => None,
        }
    }
}

/// The usage of an OpenAI-shaped answer body (chat completion, embeddings
/// list, rerank); `None` when it reports none (or is not JSON). Only
/// `usage`, `meta` and `x_groq` are read into memory; the rest is skipped.
pub fn usage_in_body(body: &[u8]) -> Option<Usage> {
    serde_json::from_slice::<Body>(body).ok()?.usage()
}

/// What one stream event says about usage.
pub(super) struct EventUsage {
    pub usage: Usage,
    /// The chunk carries nothing else: `choices` is empty or absent (the
    /// chunk OpenAI sends last when asked for `include_usage`).
    pub usage_only: bool,
}

/// The usage in one OpenAI SSE event (`data: {…}`, with or without the
/// `data:` prefix); `None` for the events without one, found cheaply:
/// an event that does not contain `"usage"` followed by something other
/// than `null` is never parsed. Runs on every chunk of every stream.
pub fn usage_in_event(event: &[u8]) -> Option<Usage> {
    event_usage(event).map(|e| e.usage)
}

pub(super) fn event_usage(event: &[u8]) -> Option<EventUsage> {
    if !has_usage(event) {
        return None;
    }
    let data = trim(event);
    let data = data.strip_prefix(b"data:").map_or(data, trim);
    let body: Body = serde_json::from_slice(data).ok()?;
    let usage_only = body.choices.as_ref().is_none_or(Vec::is_empty);
    Some(EventUsage {
        usage: body.usage()?,
        usage_only,
    })
}

/// Whether `"usage"` occurs with a value other than `null`. A quote inside
/// a JSON string is escaped, so text that merely mentions "usage" does not
/// match.
pub(super) fn has_usage(event: &[u8]) -> bool {
    const KEY: &[u8] = b"\"usage\"";
    let mut rest = event;
    while let Some(at) = find(rest, KEY) {
        let after = trim(&rest[at + KEY.len()..]);
        if let Some(value) = after.strip_prefix(b":")
            && !trim(value).starts_with(b"null")
        {
            return true;
        }
        rest = &rest[at + KEY.len()..];
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn openai_body_with_cached_and_reasoning_tokens() {
        let b = body(
            json!({"id": "x", "choices": [{"message": {"content": "hi"}}],
            "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 192}}}),
        );
        let u = usage_in_body(&b).unwrap();
        assert_eq!(
            (
                u.prompt_tokens,
                u.completion_tokens,
                u.cached_read_tokens,
                u.reasoning_tokens
            ),
            (2006, 300, 1920, 192)
        );
        assert_eq!((u.cache_write_tokens, u.estimated), (0, false));
    }

    #[test]
    fn litellm_cache_fields_and_deepseek_hits() {
        let u = usage_in_body(&body(
            json!({"usage": {"prompt_tokens": 115, "completion_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 100},
            "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5}}),
        ))
        .unwrap();
        assert_eq!((u.cached_read_tokens, u.cache_write_tokens), (100, 5));
        let u = usage_in_body(&body(
            json!({"usage": {"prompt_tokens": 50, "completion_tokens": 1,
            "prompt_cache_hit_tokens": 40, "prompt_cache_miss_tokens": 10}}),
        ))
        .unwrap();
        assert_eq!(u.cached_read_tokens, 40);
    }

    #[test]
    fn bodies_without_usage() {
        assert_eq!(usage_in_body(&body(json!({"choices": []}))), None);
        assert_eq!(usage_in_body(&body(json!({"usage": null}))), None);
        assert_eq!(usage_in_body(b"not json"), None);
        let rerank = body(json!({"results": [], "meta": {"billed_units": {"search_units": 1.0}}}));
        assert_eq!(usage_in_body(&rerank).unwrap().search_units, 1);
        let embed = body(json!({"data": [], "usage": {"prompt_tokens": 8, "total_tokens": 8}}));
        assert_eq!(usage_in_body(&embed).unwrap().prompt_tokens, 8);
    }

    #[test]
    fn events_without_usage_are_not_parsed() {
        assert!(!has_usage(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"usage\"}}]}\n\n"
        ));
        assert!(!has_usage(br#"data: {"choices":[],"usage":null}"#));
        assert!(!has_usage(
            br#"data: {"choices":[{"delta":{"content":"\"usage\": 5"}}]}"#
        ));
        assert!(has_usage(
            br#"data: {"choices":[],"usage" : {"prompt_tokens":1}}"#
        ));
        assert_eq!(usage_in_event(b"data: [DONE]\n\n"), None);
    }

    #[test]
    fn usage_chunk_of_a_stream() {
        let ev = b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\
            \"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,\
            \"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n";
        let e = event_usage(ev).unwrap();
        assert!(e.usage_only);
        assert_eq!((e.usage.prompt_tokens, e.usage.cached_read_tokens), (9, 4));
        // Mistral puts usage on its last content chunk.
        let last = br#"data: {"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#;
        let e = event_usage(last).unwrap();
        assert!(!e.usage_only);
        assert_eq!(e.usage.completion_tokens, 2);
        let groq = br#"data: {"choices":[{"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":7,"completion_tokens":1}}}"#;
        assert_eq!(usage_in_event(groq).unwrap().prompt_tokens, 7);
    }
}
