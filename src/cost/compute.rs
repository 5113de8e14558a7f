//! Usage × price → USD.
//!
//! - Prompt: tokens read from a cache are charged at `cache_read`, tokens
//!   written to one at `cache_write`, the rest at `input` (each cache price
//!   falling back to `input` when the model has none). `prompt_tokens`
//!   counts the cached tokens too (see `usage.rs`); should an upstream
//!   report more cached tokens than prompt tokens, it counted them beside
//!   the prompt, and the whole prompt is charged as uncached input.
//! - Output: reasoning tokens at `reasoning` where a model prices them
//!   apart, else every completion token at `output`.
//! - Rerank: each search unit at `per_query`.
//! - A prompt over 200,000 tokens is charged at the model's `above_200k`
//!   rates, all of the request's tokens, as Anthropic and Google bill it.

use super::price::{LONG_CONTEXT_THRESHOLD, Price};
use super::usage::Usage;

/// The rates that apply to a prompt of `prompt_tokens`.
struct Rates {
    input: f64,
    output: f64,
    cache_read: f64,
    cache_write: f64,
}

fn rates(price: &Price, prompt_tokens: u64) -> Rates {
    let base = Rates {
        input: price.input,
        output: price.output,
        cache_read: price.cache_read.unwrap_or(price.input),
        cache_write: price.cache_write.unwrap_or(price.input),
    };
    match &price.above_200k {
        Some(long) if prompt_tokens > LONG_CONTEXT_THRESHOLD => {
            let input = long.input.unwrap_or(base.input);
            Rates {
                input,
                output: long.output.unwrap_or(base.output),
                cache_read: long.cache_read.or(price.cache_read).unwrap_or(input),
                cache_write: long.cache_write.or(price.cache_write).unwrap_or(input),
            }
        }
        _ => base,
    }
}

/// What `usage` costs at `price`, in USD.
pub fn cost(price: &Price, usage: &Usage) -> f64 {
    let r = rates(price, usage.prompt_tokens);
    let cached = usage
        .cached_read_tokens
        .saturating_add(usage.cache_write_tokens);
    let uncached = if cached <= usage.prompt_tokens {
        usage.prompt_tokens - cached
    } else {
        usage.prompt_tokens
    };
    let prompt = uncached as f64 * r.input
        + usage.cached_read_tokens as f64 * r.cache_read
        + usage.cache_write_tokens as f64 * r.cache_write;
    let completion = match price.reasoning {
        Some(reasoning) => {
            let thinking = usage.reasoning_tokens.min(usage.completion_tokens);
            (usage.completion_tokens - thinking) as f64 * r.output + thinking as f64 * reasoning
        }
        None => usage.completion_tokens as f64 * r.output,
    };
    let queries = usage.search_units as f64 * price.per_query.unwrap_or(0.0);
    prompt + completion + queries
}

/// The most a request can cost: every prompt token at the dearest prompt
/// rate (a cache write costs more than input), `max_output_tokens` at the
/// dearest output rate, one search unit. For budget reservations, which
/// must never be below what the request turns out to cost.
pub fn worst_case(price: &Price, prompt_tokens: u64, max_output_tokens: u64) -> f64 {
    let r = rates(price, prompt_tokens);
    let prompt_rate = r.input.max(r.cache_write).max(r.cache_read);
    let output_rate = r.output.max(price.reasoning.unwrap_or(0.0));
    prompt_tokens as f64 * prompt_rate
        + max_output_tokens as f64 * output_rate
        + price.per_query.unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::price::LongContext;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-9)
    }

    fn sonnet() -> Price {
        Price {
            input: 3e-6,
            output: 15e-6,
            cache_read: Some(0.3e-6),
            cache_write: Some(3.75e-6),
            above_200k: Some(LongContext {
                input: Some(6e-6),
                output: Some(22.5e-6),
                cache_read: Some(0.6e-6),
                cache_write: Some(7.5e-6),
            }),
            ..Price::default()
        }
    }

    #[test]
    fn cache_reads_and_writes_at_their_own_prices() {
        // 20 uncached + 1000 read + 300 written = 1320 prompt tokens, 5 out:
        // (20×3 + 1000×0.30 + 300×3.75 + 5×15) / 1e6 = 1560 / 1e6 = $0.00156.
        let u = Usage {
            prompt_tokens: 1320,
            completion_tokens: 5,
            cached_read_tokens: 1000,
            cache_write_tokens: 300,
            ..Usage::default()
        };
        assert!(
            close(cost(&sonnet(), &u), 0.00156),
            "{}",
            cost(&sonnet(), &u)
        );
    }

    #[test]
    fn without_cache_prices_cached_tokens_are_input() {
        let p = Price {
            input: 1e-6,
            output: 2e-6,
            ..Price::default()
        };
        let u = Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
            cached_read_tokens: 60,
            ..Usage::default()
        };
        assert!(close(cost(&p, &u), 100.0 * 1e-6 + 10.0 * 2e-6));
    }

    #[test]
    fn cached_counts_reported_beside_the_prompt() {
        // 10 prompt tokens but 40 read: the prompt did not include them.
        let u = Usage {
            prompt_tokens: 10,
            cached_read_tokens: 40,
            ..Usage::default()
        };
        assert!(close(cost(&sonnet(), &u), 10.0 * 3e-6 + 40.0 * 0.3e-6));
    }

    #[test]
    fn reasoning_priced_apart_only_when_the_model_does() {
        let mut p = Price {
            input: 0.0,
            output: 0.6e-6,
            ..Price::default()
        };
        let u = Usage {
            completion_tokens: 1000,
            reasoning_tokens: 800,
            ..Usage::default()
        };
        assert!(close(cost(&p, &u), 1000.0 * 0.6e-6));
        p.reasoning = Some(3.5e-6);
        assert!(close(cost(&p, &u), 200.0 * 0.6e-6 + 800.0 * 3.5e-6));
    }

    #[test]
    fn long_prompts_are_charged_at_the_long_rates() {
        let u = Usage {
            prompt_tokens: 250_000,
            completion_tokens: 1000,
            cached_read_tokens: 50_000,
            ..Usage::default()
        };
        // (200000×6 + 50000×0.6 + 1000×22.5) / 1e6 = 1,252,500 / 1e6 = $1.2525
        assert!(close(cost(&sonnet(), &u), 1.2525));
        let short = Usage {
            prompt_tokens: 200_000,
            ..Usage::default()
        };
        assert!(close(cost(&sonnet(), &short), 0.6));
    }

    #[test]
    fn rerank_search_units() {
        let p = Price {
            per_query: Some(0.002),
            ..Price::default()
        };
        let u = Usage {
            search_units: 3,
            ..Usage::default()
        };
        assert!(close(cost(&p, &u), 0.006));
    }

    #[test]
    fn worst_case_bounds_every_outcome() {
        let p = sonnet();
        // 1000 prompt tokens all written to the cache (3.75) + 4096 out (15).
        assert!(close(
            worst_case(&p, 1000, 4096),
            1000.0 * 3.75e-6 + 4096.0 * 15e-6
        ));
        for (read, write) in [(0, 0), (1000, 0), (0, 1000), (500, 500)] {
            let u = Usage {
                prompt_tokens: 1000,
                completion_tokens: 4096,
                cached_read_tokens: read,
                cache_write_tokens: write,
                ..Usage::default()
            };
            assert!(cost(&p, &u) <= worst_case(&p, 1000, 4096) + 1e-15);
        }
    }
}
