//! Anthropic prompt caching: cache reads at a tenth of the input price,
//! 5-minute cache writes at 1.25 times it.

use serde_json::json;
use switchyard::cost::{cost, usage_in_body};

use super::{assert_usd, chat, chunks, price, stream_usage};
use crate::support::Gateway;
use crate::support::anthropic_api::{AnthropicApi, Reply, events, message, script};

const KEY: &str = "sk-ant-test";

/// Claude Sonnet 4.5 by its dated name: $3 input, $3.75 cache write,
/// $0.30 cache read, $15 output per million tokens.
fn entry(api: &AnthropicApi) -> String {
    format!(
        "- model_name: claude\n  litellm_params:\n    model: anthropic/claude-sonnet-4-5-20250929\n    api_base: {}\n    api_key: {KEY}\n",
        api.api_base
    )
}

#[tokio::test]
async fn a_message_with_cache_reads_and_writes() {
    let usage = json!({"input_tokens": 20, "output_tokens": 5,
        "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300});
    let api = AnthropicApi::start(
        KEY,
        script(move |_| {
            Reply::Message(message(
                json!([{"type": "text", "text": "ok"}]),
                "end_turn",
                usage.clone(),
            ))
        }),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api)).await;
    let response = gw
        .send("/v1/chat/completions", &chat("claude", false, false))
        .await;
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let u = usage_in_body(&body).unwrap();
    assert_eq!(
        (
            u.prompt_tokens,
            u.completion_tokens,
            u.cached_read_tokens,
            u.cache_write_tokens
        ),
        (1320, 5, 1000, 300)
    );
    assert!(!u.estimated);
    // 20 uncached × $3 + 1000 read × $0.30 + 300 written × $3.75 + 5 out × $15
    // = (60 + 300 + 1125 + 75) / 1e6 = $0.00156
    assert_usd(cost(&price(&entry(&api)), &u), 0.00156);
}

#[tokio::test]
async fn a_stream_with_cache_reads_and_writes() {
    let text = (
        json!({"type": "text", "text": ""}),
        vec![json!({"type": "text_delta", "text": "Hi"})],
    );
    let usage = json!({"input_tokens": 12, "output_tokens": 2,
        "cache_read_input_tokens": 4000, "cache_creation_input_tokens": 2000});
    let api = AnthropicApi::start(
        KEY,
        script(move |_| Reply::Events(events(vec![text.clone()], "end_turn", usage.clone()))),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api)).await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &chat("claude", true, true))
        .await;
    assert_eq!(status, 200, "{body}");
    let last = chunks(&body).pop().unwrap();
    assert_eq!(last["usage"]["cache_creation_input_tokens"], 2000);
    let u = stream_usage(&body);
    assert_eq!(
        (
            u.prompt_tokens,
            u.completion_tokens,
            u.cached_read_tokens,
            u.cache_write_tokens
        ),
        (6012, 2, 4000, 2000)
    );
    // (12 × 3 + 4000 × 0.30 + 2000 × 3.75 + 2 × 15) / 1e6
    // = (36 + 1200 + 7500 + 30) / 1e6 = $0.008766
    assert_usd(cost(&price(&entry(&api)), &u), 0.008766);
}
