//! Usage in Anthropic's own shape, for the native `/v1/messages`
//! pass-through: `input_tokens` is only the prompt after the last cache
//! breakpoint, so the cache reads and writes are added to it to make
//! `prompt_tokens` (every prompt token, as everywhere else).

use serde::Deserialize;

use super::usage::{Count, Usage, WireUsage, count, has_usage, trim};

fn anthropic(u: &WireUsage) -> Usage {
    let read = count(u.cache_read_input_tokens);
    let write = count(u.cache_creation_input_tokens);
    Usage {
        prompt_tokens: count(u.input_tokens)
            .saturating_add(read)
            .saturating_add(write),
        completion_tokens: count(u.output_tokens),
        cached_read_tokens: read,
        cache_write_tokens: write,
        ..Usage::default()
    }
}

/// The usage of an Anthropic Message (the native `/v1/messages` answer).
pub fn usage_in_anthropic_body(body: &[u8]) -> Option<Usage> {
    #[derive(Deserialize)]
    struct Message {
        usage: Option<WireUsage>,
    }
    let message: Message = serde_json::from_slice(body).ok()?;
    Some(anthropic(&message.usage?))
}

/// Accumulates the usage of an Anthropic event stream (the native
/// pass-through): `message_start` carries the prompt counts, each
/// `message_delta` the output tokens so far (and, on newer API versions,
/// the prompt counts again). A count given later replaces an earlier one.
#[derive(Default)]
pub struct AnthropicStreamUsage {
    input: Option<u64>,
    output: u64,
    read: u64,
    write: u64,
}

impl AnthropicStreamUsage {
    /// Reads one event (`event:` and `data:` lines, or the data alone).
    pub fn feed(&mut self, event: &[u8]) {
        #[derive(Deserialize)]
        struct Event {
            message: Option<Message>,
            usage: Option<WireUsage>,
        }
        #[derive(Deserialize)]
        struct Message {
            usage: Option<WireUsage>,
        }
        if !has_usage(event) {
            return;
        }
        let data = event
            .split(|&b| b == b'\n')
            .find_map(|line| line.strip_prefix(b"data:"))
            .map_or(trim(event), trim);
        let Ok(ev) = serde_json::from_slice::<Event>(data) else {
            return;
        };
        for u in [ev.message.and_then(|m| m.usage), ev.usage]
            .into_iter()
            .flatten()
        {
            let set = |c: Count, into: &mut u64| {
                if c.is_some() {
                    *into = count(c);
                }
            };
            if u.input_tokens.is_some() {
                self.input = Some(count(u.input_tokens));
            }
            set(u.output_tokens, &mut self.output);
            set(u.cache_read_input_tokens, &mut self.read);
            set(u.cache_creation_input_tokens, &mut self.write);
        }
    }

    /// The usage so far; `None` before `message_start` said the prompt's.
    pub fn usage(&self) -> Option<Usage> {
        let input = self.input?;
        Some(Usage {
            prompt_tokens: input.saturating_add(self.read).saturating_add(self.write),
            completion_tokens: self.output,
            cached_read_tokens: self.read,
            cache_write_tokens: self.write,
            ..Usage::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn anthropic_counts_add_the_cache_to_the_prompt() {
        let m = serde_json::to_vec(&json!({"type": "message", "content": [],
            "usage": {"input_tokens": 20, "output_tokens": 5,
                      "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300}}))
        .unwrap();
        let u = usage_in_anthropic_body(&m).unwrap();
        assert_eq!(
            (
                u.prompt_tokens,
                u.completion_tokens,
                u.cached_read_tokens,
                u.cache_write_tokens
            ),
            (1320, 5, 1000, 300)
        );
    }

    #[test]
    fn anthropic_stream_usage_accumulates() {
        let mut acc = AnthropicStreamUsage::default();
        acc.feed(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1,\"cache_read_input_tokens\":4,\"cache_creation_input_tokens\":0}}}\n\n");
        acc.feed(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
        acc.feed(b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":9}}\n\n");
        let u = acc.usage().unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.cached_read_tokens),
            (16, 9, 4)
        );
    }
}
