//! The pre-call context-window check (`enable_pre_call_checks`): the
//! prompt's tokens against each deployment's `model_info.max_input_tokens`,
//! before anything is sent; `context_window_fallbacks` when no deployment
//! of the group is large enough. And A/B splits between groups.

use serde_json::json;

use super::*;

/// An entry whose `model_info` declares `max_input_tokens`.
fn sized(group: &str, id: &str, up: &Upstream, max_input_tokens: u64) -> String {
    format!(
        "- model_name: {group}\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: {KEY}\n  model_info:\n    id: {id}\n    max_input_tokens: {max_input_tokens}\n",
        up.api_base
    )
}

/// About 600 tokens of prompt (o200k: one token per repeated word).
fn long_ask(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "token ".repeat(600)}]})
}

#[tokio::test]
async fn deployments_too_small_for_the_prompt_are_skipped() {
    let small = ok("small").await;
    let large = ok("large").await;
    let gw = gateway(
        "  enable_pre_call_checks: true\n",
        &[
            sized("m", "small", &small, 100),
            sized("m", "large", &large, 128_000),
        ],
    )
    .await;
    for _ in 0..10 {
        let (status, h, body) = gw.post("/v1/chat/completions", &long_ask("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&h, "x-litellm-model-id"), "large");
    }
    assert_eq!(small.requests().len(), 0, "never sent what it cannot hold");
    // A short prompt fits both: both are used.
    for _ in 0..40 {
        let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200);
    }
    assert!(!small.requests().is_empty() && large.requests().len() > 10);
}

#[tokio::test]
async fn no_deployment_large_enough_goes_to_context_window_fallbacks_before_any_call() {
    let small = ok("small").await;
    let big = ok("big").await;
    let gw = gateway(
        "  enable_pre_call_checks: true\n  context_window_fallbacks: [{m: [big]}]\n",
        &[
            sized("m", "small", &small, 100),
            sized("big", "big", &big, 1_000_000),
        ],
    )
    .await;
    let (status, h, body) = gw.post("/v1/chat/completions", &long_ask("m")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "big");
    assert_eq!(header(&h, "x-litellm-model-group"), "big");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "1");
    assert_eq!(small.requests().len(), 0);
}

#[tokio::test]
async fn no_deployment_and_no_fallback_is_a_400_naming_the_sizes() {
    let small = ok("small").await;
    let gw = gateway(
        "  enable_pre_call_checks: true\n",
        &[sized("m", "small", &small, 100)],
    )
    .await;
    let (status, _, body) = gw.post("/v1/chat/completions", &long_ask("m")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "context_length_exceeded", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("maximum context length is 100 tokens"),
        "{message}"
    );
    assert_eq!(small.requests().len(), 0);
}

#[tokio::test]
async fn without_pre_call_checks_the_upstream_decides() {
    let small = ok("small").await;
    let gw = gateway("  num_retries: 0\n", &[sized("m", "small", &small, 100)]).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &long_ask("m")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(small.requests().len(), 1);
}

/// `model_group_alias: {ab: {splits: {a: 80, b: 20}}}` sends a share of
/// the traffic for `ab` to each group. 400 draws at p = 0.8: mean 320,
/// standard deviation 8; the bounds are five deviations wide.
#[tokio::test]
async fn an_ab_split_sends_each_group_its_share() {
    let a = ok("a").await;
    let b = ok("b").await;
    let gw = gateway(
        "  model_group_alias:\n    ab: {splits: {a: 80, b: 20}}\n",
        &[entry("a", "a", &a, ""), entry("b", "b", &b, "")],
    )
    .await;
    let mut to_a = 0;
    for _ in 0..400 {
        let (status, h, body) = gw.post("/v1/chat/completions", &ask("ab")).await;
        assert_eq!(status, 200, "{body}");
        let group = header(&h, "x-litellm-model-group");
        assert_eq!(text_of(&body), group, "the group in the header answered");
        to_a += usize::from(group == "a");
    }
    assert!((280..=360).contains(&to_a), "{to_a} of 400 went to a");
    assert_eq!(a.requests().len() + b.requests().len(), 400);
}
