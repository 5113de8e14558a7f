//! A model's prices (USD per token) and the partial entries they are made
//! of: the bundled table, a user's price file, `model_info` and a
//! deployment's `litellm_params` each say some fields; the most specific
//! source wins field by field.

use serde::Deserialize;
use serde_json::{Map, Value};

/// Prompts longer than this are billed at a model's `above_200k` rates
/// where it has them (Gemini 2.5 Pro, Claude with the 1M-token context).
pub const LONG_CONTEXT_THRESHOLD: u64 = 200_000;

/// What one call of a model costs, per token in USD.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Price {
    /// Prompt tokens read neither from nor into a cache. Embedding models
    /// have only this price.
    pub input: f64,
    pub output: f64,
    /// Prompt tokens read from a cache; `None`: charged as `input`.
    pub cache_read: Option<f64>,
    /// Prompt tokens written into a cache (Anthropic's and Bedrock's
    /// 5-minute writes); `None`: charged as `input`.
    pub cache_write: Option<f64>,
    /// Reasoning tokens, where a provider prices them apart from output;
    /// `None`: they are output tokens like any other.
    pub reasoning: Option<f64>,
    /// Per search unit (a rerank query of up to 100 documents, Cohere's unit).
    pub per_query: Option<f64>,
    /// The rates of prompts over [`LONG_CONTEXT_THRESHOLD`] tokens.
    pub above_200k: Option<LongContext>,
    pub max_input_tokens: Option<u64>,
    pub max_output_tokens: Option<u64>,
}

/// Long-prompt rates; a field left out keeps the base rate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LongContext {
    pub input: Option<f64>,
    pub output: Option<f64>,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
}

/// Some of a price's fields, named as LiteLLM names them in its price map
/// and in `litellm_params` / `model_info`, so that a LiteLLM user's custom
/// prices read the same here. Unknown fields are ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PriceEntry {
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    pub cache_read_input_token_cost: Option<f64>,
    pub cache_creation_input_token_cost: Option<f64>,
    pub output_cost_per_reasoning_token: Option<f64>,
    pub input_cost_per_query: Option<f64>,
    pub input_cost_per_token_above_200k_tokens: Option<f64>,
    pub output_cost_per_token_above_200k_tokens: Option<f64>,
    pub cache_read_input_token_cost_above_200k_tokens: Option<f64>,
    pub cache_creation_input_token_cost_above_200k_tokens: Option<f64>,
    pub max_input_tokens: Option<u64>,
    pub max_output_tokens: Option<u64>,
    /// LiteLLM's older name for `max_output_tokens`.
    pub max_tokens: Option<u64>,
    /// Other names of the same model (ours; LiteLLM repeats entries instead).
    pub aliases: Vec<String>,
}

/// The cost fields a deployment may set in `litellm_params` (else
/// `model_info`), in LiteLLM's names.
pub const OVERRIDE_KEYS: &[&str] = &[
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "output_cost_per_reasoning_token",
];

impl PriceEntry {
    /// `self` where it says something, else `under`.
    pub fn over(&self, under: &PriceEntry) -> PriceEntry {
        fn pick<T: Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
            a.or(b)
        }
        PriceEntry {
            input_cost_per_token: pick(self.input_cost_per_token, under.input_cost_per_token),
            output_cost_per_token: pick(self.output_cost_per_token, under.output_cost_per_token),
            cache_read_input_token_cost: pick(
                self.cache_read_input_token_cost,
                under.cache_read_input_token_cost,
            ),
            cache_creation_input_token_cost: pick(
                self.cache_creation_input_token_cost,
                under.cache_creation_input_token_cost,
            ),
            output_cost_per_reasoning_token: pick(
                self.output_cost_per_reasoning_token,
                under.output_cost_per_reasoning_token,
            ),
            input_cost_per_query: pick(self.input_cost_per_query, under.input_cost_per_query),
            input_cost_per_token_above_200k_tokens: pick(
                self.input_cost_per_token_above_200k_tokens,
                under.input_cost_per_token_above_200k_tokens,
            ),
            output_cost_per_token_above_200k_tokens: pick(
                self.output_cost_per_token_above_200k_tokens,
                under.output_cost_per_token_above_200k_tokens,
            ),
            cache_read_input_token_cost_above_200k_tokens: pick(
                self.cache_read_input_token_cost_above_200k_tokens,
                under.cache_read_input_token_cost_above_200k_tokens,
            ),
            cache_creation_input_token_cost_above_200k_tokens: pick(
                self.cache_creation_input_token_cost_above_200k_tokens,
                under.cache_creation_input_token_cost_above_200k_tokens,
            ),
            max_input_tokens: pick(self.max_input_tokens, under.max_input_tokens),
            max_output_tokens: pick(
                self.max_output_tokens.or(self.max_tokens),
                under.max_output_tokens.or(under.max_tokens),
            ),
            max_tokens: None,
            aliases: Vec::new(),
        }
    }

    /// The price, when the entry names at least one of input, output or
    /// per-query cost (an entry of limits alone prices nothing).
    pub fn resolve(&self) -> Option<Price> {
        if self.input_cost_per_token.is_none()
            && self.output_cost_per_token.is_none()
            && self.input_cost_per_query.is_none()
        {
            return None;
        }
        let long = LongContext {
            input: self.input_cost_per_token_above_200k_tokens,
            output: self.output_cost_per_token_above_200k_tokens,
            cache_read: self.cache_read_input_token_cost_above_200k_tokens,
            cache_write: self.cache_creation_input_token_cost_above_200k_tokens,
        };
        Some(Price {
            input: self.input_cost_per_token.unwrap_or(0.0),
            output: self.output_cost_per_token.unwrap_or(0.0),
            cache_read: self.cache_read_input_token_cost,
            cache_write: self.cache_creation_input_token_cost,
            reasoning: self.output_cost_per_reasoning_token,
            per_query: self.input_cost_per_query,
            above_200k: (long != LongContext::default()).then_some(long),
            max_input_tokens: self.max_input_tokens,
            max_output_tokens: self.max_output_tokens.or(self.max_tokens),
        })
    }

    /// The limits LiteLLM users put in `model_info` (`max_input_tokens`,
    /// `max_output_tokens`, `max_tokens`); its cost fields reach a
    /// deployment through the config's own parsing of the overrides.
    pub fn limits_in(model_info: &Map<String, Value>) -> PriceEntry {
        let whole = |k: &str| model_info.get(k).and_then(Value::as_u64);
        PriceEntry {
            max_input_tokens: whole("max_input_tokens"),
            max_output_tokens: whole("max_output_tokens").or_else(|| whole("max_tokens")),
            ..PriceEntry::default()
        }
    }

    /// Every price is a number of at least 0; says which is not.
    pub fn check(&self) -> Result<(), String> {
        let fields = [
            ("input_cost_per_token", self.input_cost_per_token),
            ("output_cost_per_token", self.output_cost_per_token),
            (
                "cache_read_input_token_cost",
                self.cache_read_input_token_cost,
            ),
            (
                "cache_creation_input_token_cost",
                self.cache_creation_input_token_cost,
            ),
            (
                "output_cost_per_reasoning_token",
                self.output_cost_per_reasoning_token,
            ),
            ("input_cost_per_query", self.input_cost_per_query),
        ];
        match fields
            .iter()
            .find(|(_, v)| v.is_some_and(|v| !(v.is_finite() && v >= 0.0)))
        {
            Some((name, v)) => Err(format!("{name} must be at least 0 (got {v:?})")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(v: Value) -> PriceEntry {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_more_specific_entry_wins_field_by_field() {
        let bundled = entry(
            json!({"input_cost_per_token": 3e-6, "output_cost_per_token": 15e-6,
            "cache_read_input_token_cost": 3e-7, "max_output_tokens": 64000}),
        );
        let deployment = entry(json!({"output_cost_per_token": 1e-5}));
        let p = deployment.over(&bundled).resolve().unwrap();
        assert_eq!(
            (p.input, p.output, p.cache_read, p.max_output_tokens),
            (3e-6, 1e-5, Some(3e-7), Some(64000))
        );
        assert_eq!(p.cache_write, None);
    }

    #[test]
    fn limits_alone_price_nothing() {
        assert_eq!(entry(json!({"max_input_tokens": 8191})).resolve(), None);
        let rerank = entry(json!({"input_cost_per_query": 0.002}))
            .resolve()
            .unwrap();
        assert_eq!((rerank.input, rerank.per_query), (0.0, Some(0.002)));
    }

    #[test]
    fn long_context_rates_only_when_given() {
        let p = entry(
            json!({"input_cost_per_token": 1.25e-6, "output_cost_per_token": 1e-5,
            "input_cost_per_token_above_200k_tokens": 2.5e-6}),
        )
        .resolve()
        .unwrap();
        assert_eq!(p.above_200k.unwrap().input, Some(2.5e-6));
        let p = entry(json!({"input_cost_per_token": 1e-6}))
            .resolve()
            .unwrap();
        assert!(p.above_200k.is_none());
    }

    #[test]
    fn negative_prices_are_refused() {
        let e = entry(json!({"input_cost_per_token": -1.0}));
        assert!(e.check().unwrap_err().contains("input_cost_per_token"));
        assert!(entry(json!({"output_cost_per_token": 0.0})).check().is_ok());
    }

    #[test]
    fn max_tokens_is_the_output_limit() {
        let p = entry(json!({"input_cost_per_token": 1e-6, "max_tokens": 4096}))
            .resolve()
            .unwrap();
        assert_eq!(p.max_output_tokens, Some(4096));
        let info = json!({"max_input_tokens": 1000, "max_tokens": 10});
        let limits = PriceEntry::limits_in(info.as_object().unwrap());
        assert_eq!(
            (limits.max_input_tokens, limits.max_output_tokens),
            (Some(1000), Some(10))
        );
    }
}
