//! Gemini context caching: `promptTokenCount` includes
//! `cachedContentTokenCount`, which costs a tenth of the input price;
//! thinking tokens are output. Gemini 2.5 Pro bills prompts over 200,000
//! tokens at its long-context rates.

use serde_json::{Value, json};
use switchyard::cost::{cost, usage_in_body};

use super::{assert_usd, chat, price, stream_usage};
use crate::support::Gateway;
use crate::support::google_api::{Answer, GoogleApi, script};

fn answer(text: &str, finish: Option<&str>, usage: Value) -> Value {
    let mut candidate =
        json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({"candidates": [candidate], "usageMetadata": usage,
           "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
}

fn cached_usage() -> Value {
    json!({"promptTokenCount": 10000, "cachedContentTokenCount": 8000, "candidatesTokenCount": 100,
           "thoughtsTokenCount": 400, "totalTokenCount": 10500})
}

#[tokio::test]
async fn cached_content_costs_the_cache_price() {
    let api = GoogleApi::gemini(script(|_| {
        Answer::Json(200, answer("Hello", Some("STOP"), cached_usage()))
    }))
    .await;
    let entry = api.entry("g", "gemini-2.5-flash", "");
    let gw = Gateway::with_models(&entry).await;
    let response = gw
        .send("/v1/chat/completions", &chat("g", false, false))
        .await;
    assert_eq!(response.status(), 200);
    let u = usage_in_body(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (
            u.prompt_tokens,
            u.completion_tokens,
            u.cached_read_tokens,
            u.reasoning_tokens
        ),
        (10000, 500, 8000, 400)
    );
    // gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output (thinking
    // included): (2000 × 0.30 + 8000 × 0.03 + 500 × 2.50) / 1e6
    // = (600 + 240 + 1250) / 1e6 = $0.00209
    assert_usd(cost(&price(&entry), &u), 0.00209);
}

#[tokio::test]
async fn a_streamed_answer_with_cached_content() {
    let api = GoogleApi::gemini(script(|_| {
        Answer::Sse(vec![
            answer(
                "Hel",
                None,
                json!({"promptTokenCount": 10000, "totalTokenCount": 10000}),
            ),
            answer("lo", Some("STOP"), cached_usage()),
        ])
    }))
    .await;
    let entry = api.entry("g", "gemini-2.5-flash", "");
    let gw = Gateway::with_models(&entry).await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &chat("g", true, true))
        .await;
    assert_eq!(status, 200, "{body}");
    let u = stream_usage(&body);
    assert_eq!((u.prompt_tokens, u.cached_read_tokens), (10000, 8000));
    // As above: $0.00209.
    assert_usd(cost(&price(&entry), &u), 0.00209);
}

#[tokio::test]
async fn long_prompts_cost_the_long_context_rates() {
    let api = GoogleApi::gemini(script(|_| {
        let usage = json!({"promptTokenCount": 300000, "cachedContentTokenCount": 100000,
                           "candidatesTokenCount": 1000, "totalTokenCount": 301000});
        Answer::Json(200, answer("Done", Some("STOP"), usage))
    }))
    .await;
    let entry = api.entry("g", "gemini-2.5-pro", "");
    let gw = Gateway::with_models(&entry).await;
    let response = gw
        .send("/v1/chat/completions", &chat("g", false, false))
        .await;
    let u = usage_in_body(&response.bytes().await.unwrap()).unwrap();
    // gemini-2.5-pro over 200k prompt tokens: $2.50 input, $0.25 cached,
    // $15 output: (200000 × 2.50 + 100000 × 0.25 + 1000 × 15) / 1e6
    // = (500000 + 25000 + 15000) / 1e6 = $0.54
    assert_usd(cost(&price(&entry), &u), 0.54);
}
