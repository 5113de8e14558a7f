//! Claude on Bedrock through a cross-region inference profile: Converse's
//! `cacheReadInputTokens` and `cacheWriteInputTokens` reach the OpenAI
//! usage, and the model is priced by Anthropic's entry.

use serde_json::{Value, json};
use switchyard::cost::{cost, usage_in_body};

use super::{assert_usd, chat, price, stream_usage};
use crate::support::Gateway;
use crate::support::bedrock_api::{Answer, BedrockApi, Event, script};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fn cached_usage() -> Value {
    json!({"inputTokens": 50, "outputTokens": 20, "totalTokens": 4070,
           "cacheReadInputTokens": 3000, "cacheWriteInputTokens": 1000})
}

// Claude Sonnet 4.5: (50 × 3 + 3000 × 0.30 + 1000 × 3.75 + 20 × 15) / 1e6
// = (150 + 900 + 3750 + 300) / 1e6 = $0.0051
const COST: f64 = 0.0051;

#[tokio::test]
async fn converse_cache_reads_and_writes() {
    let api = BedrockApi::start(script(|_| {
        Answer::Json(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
            "stopReason": "end_turn", "usage": cached_usage(), "metrics": {"latencyMs": 9},
        }))
    }))
    .await;
    let entry = api.entry("b", MODEL, "");
    let gw = Gateway::with_models(&entry).await;
    let response = gw
        .send("/v1/chat/completions", &chat("b", false, false))
        .await;
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["usage"]["cache_creation_input_tokens"], 1000);
    let u = usage_in_body(&body).unwrap();
    assert_eq!(
        (u.prompt_tokens, u.cached_read_tokens, u.cache_write_tokens),
        (4050, 3000, 1000)
    );
    assert_usd(cost(&price(&entry), &u), COST);
}

#[tokio::test]
async fn converse_stream_cache_reads_and_writes() {
    let api = BedrockApi::start(script(|_| {
        Answer::Events(vec![
            Event::Event("messageStart", json!({"role": "assistant"})),
            Event::Event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "ok"}}),
            ),
            Event::Event("contentBlockStop", json!({"contentBlockIndex": 0})),
            Event::Event("messageStop", json!({"stopReason": "end_turn"})),
            Event::Event(
                "metadata",
                json!({"usage": cached_usage(), "metrics": {"latencyMs": 9}}),
            ),
        ])
    }))
    .await;
    let entry = api.entry("b", MODEL, "");
    let gw = Gateway::with_models(&entry).await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &chat("b", true, true))
        .await;
    assert_eq!(status, 200, "{body}");
    let u = stream_usage(&body);
    assert_eq!((u.cached_read_tokens, u.cache_write_tokens), (3000, 1000));
    assert_usd(cost(&price(&entry), &u), COST);
}
