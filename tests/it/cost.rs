//! Cost: real answers from the strict provider mocks, decoded by the
//! gateway, read back as usage and priced from the bundled table, against
//! costs computed by hand (each written out beside its test); and the
//! price configuration (overrides, the price file) as the config loads it.

mod anthropic;
mod bedrock;
mod config;
mod gemini;
mod openai;

use serde_json::{Value, json};
use switchyard::cost::{Price, Usage, usage_in_event};

use crate::support::sse_data;

/// The resolved price of the only deployment of `model_list`.
fn price(model_list: &str) -> Price {
    let loaded = switchyard::config::load_str(&format!("model_list:\n{model_list}"), "test.yaml")
        .unwrap_or_else(|e| panic!("{e}"));
    loaded.config.deployments[0]
        .price
        .clone()
        .expect("the model has a price")
}

/// The usage the last usage-bearing event of a relayed stream reports.
fn stream_usage(body: &str) -> Usage {
    body.split_inclusive("\n\n")
        .filter_map(|event| usage_in_event(event.as_bytes()))
        .last()
        .unwrap_or_else(|| panic!("no usage in the stream: {body}"))
}

/// The same amount of dollars, to floating-point rounding.
fn assert_usd(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1e-9),
        "cost {got} != {want}"
    );
}

fn chat(model: &str, stream: bool, include_usage: bool) -> Value {
    let mut r = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    if stream {
        r["stream"] = json!(true);
    }
    if include_usage {
        r["stream_options"] = json!({"include_usage": true});
    }
    r
}

/// The JSON of a stream's chunks (`[DONE]` left out).
fn chunks(body: &str) -> Vec<Value> {
    sse_data(body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}
