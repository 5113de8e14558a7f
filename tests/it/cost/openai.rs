//! OpenAI's automatic prompt caching: `prompt_tokens` includes the cached
//! tokens, `prompt_tokens_details.cached_tokens` says how many, and they
//! cost half of gpt-4o's input price. Reasoning tokens are output.

use serde_json::json;
use switchyard::cost::{UsageTap, cost, usage_in_body};

use super::{assert_usd, chat, chunks, price, stream_usage};
use crate::support::Gateway;
use crate::support::upstream::{Reply, Upstream, chunk, completion, script};

const KEY: &str = "sk-openai-test";

fn entry(api: &Upstream, model: &str) -> String {
    format!(
        "- model_name: m\n  litellm_params:\n    model: openai/{model}\n    api_base: {}\n    api_key: {KEY}\n",
        api.api_base
    )
}

#[tokio::test]
async fn cached_prompt_tokens_cost_the_cached_price() {
    let api = Upstream::openai(
        KEY,
        script(|_| {
            let mut body = completion("gpt-4o-2024-08-06", "Hello");
            body["usage"] = json!({"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}});
            Reply::Json(200, body)
        }),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api, "gpt-4o-2024-08-06")).await;
    let response = gw
        .send("/v1/chat/completions", &chat("m", false, false))
        .await;
    assert_eq!(response.status(), 200);
    let u = usage_in_body(&response.bytes().await.unwrap()).unwrap();
    assert_eq!((u.prompt_tokens, u.cached_read_tokens), (2006, 1920));
    // gpt-4o: $2.50 input, $1.25 cached input, $10 output per million:
    // (86 × 2.50 + 1920 × 1.25 + 300 × 10) / 1e6 = (215 + 2400 + 3000) / 1e6
    // = $0.005615
    assert_usd(
        cost(&price(&entry(&api, "gpt-4o-2024-08-06")), &u),
        0.005615,
    );
}

#[tokio::test]
async fn reasoning_tokens_are_output_tokens() {
    let api = Upstream::openai(
        KEY,
        script(|_| {
            let mut body = completion("o4-mini", "42");
            body["usage"] = json!({"prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000,
                "prompt_tokens_details": {"cached_tokens": 512},
                "completion_tokens_details": {"reasoning_tokens": 1500}});
            Reply::Json(200, body)
        }),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api, "o4-mini")).await;
    let (status, _, body) = gw
        .post("/v1/chat/completions", &chat("m", false, false))
        .await;
    assert_eq!(status, 200, "{body}");
    let u = usage_in_body(body.to_string().as_bytes()).unwrap();
    assert_eq!((u.completion_tokens, u.reasoning_tokens), (2000, 1500));
    // o4-mini: $1.10 input, $0.275 cached, $4.40 output (reasoning included):
    // (488 × 1.10 + 512 × 0.275 + 2000 × 4.40) / 1e6 = (536.8 + 140.8 + 8800) / 1e6
    // = $0.0094776
    assert_usd(cost(&price(&entry(&api, "o4-mini")), &u), 0.0094776);
}

/// What an OpenAI stream looks like when `include_usage` was asked for.
fn stream_with_usage_chunk() -> Vec<serde_json::Value> {
    let mut usage = json!({"id": "chatcmpl-test123", "object": "chat.completion.chunk",
        "created": 1_700_000_000, "model": "gpt-4o-mini", "choices": []});
    usage["usage"] = json!({"prompt_tokens": 3000, "completion_tokens": 40, "total_tokens": 3040,
        "prompt_tokens_details": {"cached_tokens": 2048}});
    vec![
        chunk(
            "gpt-4o-mini",
            json!({"role": "assistant", "content": ""}),
            None,
        ),
        chunk("gpt-4o-mini", json!({"content": "Hi"}), None),
        chunk("gpt-4o-mini", json!({}), Some("stop")),
        usage,
    ]
}

#[tokio::test]
async fn the_usage_chunk_is_read_and_hidden_from_clients_that_did_not_ask() {
    let api = Upstream::openai(KEY, script(|_| Reply::Sse(stream_with_usage_chunk()))).await;
    let gw = Gateway::with_models(&entry(&api, "gpt-4o-mini")).await;
    // A client that asked gets the usage chunk, priced by hand:
    // gpt-4o-mini: $0.15 input, $0.075 cached, $0.60 output:
    // (952 × 0.15 + 2048 × 0.075 + 40 × 0.60) / 1e6 = (142.8 + 153.6 + 24) / 1e6
    // = $0.0003204
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &chat("m", true, true))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_usd(
        cost(&price(&entry(&api, "gpt-4o-mini")), &stream_usage(&body)),
        0.0003204,
    );
    assert_eq!(
        api.last().body["stream_options"],
        json!({"include_usage": true})
    );

    // A client that did not ask: the gateway asks upstream itself, reads the
    // usage chunk, and passes on neither it nor the `usage` fields.
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &chat("m", true, false))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["stream_options"],
        json!({"include_usage": true})
    );
    let kept = chunks(&body);
    assert_eq!(kept.len(), 3, "{body}");
    assert!(kept.iter().all(|c| c.get("usage").is_none()), "{body}");
    assert!(body.ends_with("data: [DONE]\n\n"));

    // The tap itself, on the events a client that asked received.
    let all = stream_with_usage_chunk()
        .iter()
        .map(|c| format!("data: {c}\n\n"))
        .collect::<Vec<_>>();
    let mut tap = UsageTap::new(false);
    let passed = all.iter().filter(|e| tap.keep(e.as_bytes())).count();
    assert_eq!((passed, tap.usage().unwrap().cached_read_tokens), (3, 2048));
    let mut tap = UsageTap::new(true);
    assert_eq!(all.iter().filter(|e| tap.keep(e.as_bytes())).count(), 4);
}

/// Every whole answer says what it cost in `x-litellm-response-cost`.
#[tokio::test]
async fn the_response_cost_header_is_the_priced_usage() {
    let api = Upstream::openai(
        KEY,
        script(|_| {
            let mut answer = completion("gpt-4o-mini", "Hi");
            answer["usage"] =
                json!({"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500});
            Reply::Json(200, answer)
        }),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api, "gpt-4o-mini")).await;
    let (status, headers, body) = gw
        .post("/v1/chat/completions", &chat("m", false, false))
        .await;
    assert_eq!(status, 200, "{body}");
    // gpt-4o-mini: (1000 × 0.15 + 500 × 0.60) / 1e6 = $0.00045
    let header: f64 = headers["x-litellm-response-cost"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_usd(header, 0.00045);
}
