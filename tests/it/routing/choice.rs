//! Selection by strategy and constraint: latency, cost, usage, `rpm` and
//! `max_parallel_requests` caps, `order`, tags, wildcards and aliases.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::support::{client, read_json};

async fn after(ms: u64, text: &'static str) -> Upstream {
    Upstream::openai(
        KEY,
        script(move |_| {
            Reply::After(
                Duration::from_millis(ms),
                Box::new(Reply::Json(200, completion("gpt-4o", text))),
            )
        }),
    )
    .await
}

async fn ids(gw: &Gateway, n: usize, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let (status, h, b) = gw.post("/v1/chat/completions", body).await;
        assert_eq!(status, 200, "{b}");
        out.push(header(&h, "x-litellm-model-id").to_string());
    }
    out
}

#[tokio::test]
async fn latency_based_routing_prefers_the_fastest() {
    let slow = after(120, "slow").await;
    let fast = after(0, "fast").await;
    let gw = gateway(
        "  routing_strategy: latency-based-routing\n",
        &[entry("m", "slow", &slow, ""), entry("m", "fast", &fast, "")],
    )
    .await;
    // Unmeasured deployments count as fastest: both get measured first.
    ids(&gw, 4, &ask("m")).await;
    assert_eq!(slow.requests().len(), 1, "slow was measured once");
    let later = ids(&gw, 10, &ask("m")).await;
    assert!(later.iter().all(|id| id == "fast"), "{later:?}");
}

#[tokio::test]
async fn cost_based_routing_prefers_the_cheapest() {
    let dear = ok("dear").await;
    let cheap = ok("cheap").await;
    let gw = gateway(
        "  routing_strategy: cost-based-routing\n",
        &[
            entry("m", "dear", &dear, "    input_cost_per_token: 0.00001\n    output_cost_per_token: 0.00003\n"),
            format!(
                "- model_name: m\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: {KEY}\n  model_info:\n    id: cheap\n    input_cost_per_token: 0.000001\n    output_cost_per_token: 0.000002\n",
                cheap.api_base
            ),
        ],
    )
    .await;
    let got = ids(&gw, 8, &ask("m")).await;
    assert!(got.iter().all(|id| id == "cheap"), "{got:?}");
}

#[tokio::test]
async fn usage_based_routing_spreads_by_headroom() {
    let a = ok("a").await;
    let b = ok("b").await;
    let gw = gateway(
        "  routing_strategy: usage-based-routing-v2\n",
        &[
            entry("m", "a", &a, "    rpm: 100\n"),
            entry("m", "b", &b, "    rpm: 100\n"),
        ],
    )
    .await;
    ids(&gw, 10, &ask("m")).await;
    assert_eq!((a.requests().len(), b.requests().len()), (5, 5));
}

#[tokio::test]
async fn a_deployment_at_its_rpm_is_skipped_and_then_the_group_is_full() {
    let a = ok("a").await;
    let b = ok("b").await;
    let gw = gateway(
        "",
        &[
            entry("m", "a", &a, "    rpm: 2\n"),
            entry("m", "b", &b, "    rpm: 1\n"),
        ],
    )
    .await;
    let got = ids(&gw, 3, &ask("m")).await;
    assert_eq!((a.requests().len(), b.requests().len()), (2, 1), "{got:?}");
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        crate::support::error_of(&body)["code"],
        "no_deployments_available"
    );
    assert!(h.contains_key("retry-after"));
}

#[tokio::test]
async fn max_parallel_requests_and_order() {
    let first = after(300, "first").await;
    let second = ok("second").await;
    let gw = std::sync::Arc::new(
        gateway(
            "",
            &[
                entry(
                    "m",
                    "first",
                    &first,
                    "    order: 1\n    max_parallel_requests: 1\n",
                ),
                entry("m", "second", &second, "    order: 2\n"),
            ],
        )
        .await,
    );
    let busy = {
        let gw = gw.clone();
        tokio::spawn(async move { gw.post("/v1/chat/completions", &ask("m")).await })
    };
    tokio::time::sleep(Duration::from_millis(80)).await;
    let (_, h, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(
        header(&h, "x-litellm-model-id"),
        "second",
        "first is at its max_parallel_requests"
    );
    let (_, h, _) = busy.await.unwrap();
    assert_eq!(
        header(&h, "x-litellm-model-id"),
        "first",
        "order 1 goes first"
    );
}

#[tokio::test]
async fn tags_pick_deployments_then_default_then_a_clear_400() {
    let paid = ok("paid").await;
    let free = ok("free").await;
    let fallback = ok("default").await;
    let gw = gateway(
        "  enable_tag_filtering: true\n",
        &[
            entry("m", "paid", &paid, "    tags: [paid]\n"),
            entry("m", "free", &free, "    tags: [free]\n"),
            entry("m", "default", &fallback, "    tags: [default]\n"),
        ],
    )
    .await;
    let mut body = ask("m");
    body["tags"] = json!(["free"]);
    assert!(ids(&gw, 4, &body).await.iter().all(|id| id == "free"));
    assert!(
        free.last().body.get("tags").is_none(),
        "tags are not forwarded"
    );
    let mut body = ask("m");
    body["metadata"] = json!({"tags": ["nothing-has-this"]});
    assert!(ids(&gw, 4, &body).await.iter().all(|id| id == "default"));
    for _ in 0..4 {
        let r = client()
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth(crate::support::MASTER_KEY)
            .header("x-litellm-tags", "paid, other")
            .json(&ask("m"))
            .send()
            .await
            .unwrap();
        let (status, h, _) = read_json(r).await;
        assert_eq!(status, 200);
        assert_eq!(header(&h, "x-litellm-model-id"), "paid");
    }

    let gw = gateway(
        "  enable_tag_filtering: true\n",
        &[entry("m", "paid", &paid, "    tags: [paid]\n")],
    )
    .await;
    let mut body = ask("m");
    body["tags"] = json!(["free"]);
    let (status, _, body) = gw.post("/v1/chat/completions", &body).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        crate::support::error_of(&body)["code"],
        "no_deployment_for_tags"
    );
}

#[tokio::test]
async fn wildcards_pass_the_model_through_and_aliases_resolve() {
    let up = ok("wild").await;
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\nrouter_settings:\n  model_group_alias:\n    fast: exact\nmodel_list:\n- model_name: openai/*\n  litellm_params:\n    model: openai/*\n    api_base: {base}\n    api_key: {KEY}\n- model_name: exact\n  litellm_params:\n    model: openai/gpt-exact\n    api_base: {base}\n    api_key: {KEY}\n",
        base = up.api_base
    ))
    .await;
    let (status, h, body) = gw
        .post("/v1/chat/completions", &ask("openai/gpt-4o-mini"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(up.last().body["model"], "gpt-4o-mini");
    assert_eq!(header(&h, "x-litellm-model-group"), "openai/*");
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("fast")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(up.last().body["model"], "gpt-exact");
    assert_eq!(header(&h, "x-litellm-model-group"), "exact");
    let (status, _, _) = gw
        .post("/v1/chat/completions", &ask("anthropic/claude"))
        .await;
    assert_eq!(status, 400, "no wildcard matches");
}

#[tokio::test]
async fn a_deployment_over_its_tpm_is_skipped() {
    // Each answer uses 12 tokens (the mock's usage).
    let small = ok("small").await;
    let big = ok("big").await;
    let gw = gateway(
        "",
        &[
            entry("m", "small", &small, "    tpm: 20\n    order: 1\n"),
            entry("m", "big", &big, "    tpm: 1000000\n    order: 2\n"),
        ],
    )
    .await;
    let got = ids(&gw, 4, &ask("m")).await;
    assert_eq!(
        got,
        ["small", "small", "big", "big"],
        "24 tokens ≥ tpm 20 after two answers"
    );
    let (_, _, state) = gw.get("/router/state", Some(MASTER_KEY)).await;
    let d = state["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "small")
        .unwrap();
    assert_eq!(d["tokens_this_minute"], 24, "{state}");
}

/// A stream's tokens count towards `tpm` too, once its usage chunk has
/// passed (the gateway asks an OpenAI upstream for it itself).
#[tokio::test]
async fn a_streams_tokens_count_towards_tpm() {
    let streamed = |text: &'static str| {
        Upstream::openai(
            KEY,
            script(move |r| {
                assert_eq!(r.body["stream_options"]["include_usage"], true);
                let mut usage = crate::support::upstream::chunk("gpt-4o", json!({}), None);
                usage["choices"] = json!([]);
                usage["usage"] =
                    json!({"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12});
                Reply::Sse(vec![
                    crate::support::upstream::chunk(
                        "gpt-4o",
                        json!({"content": text}),
                        Some("stop"),
                    ),
                    usage,
                ])
            }),
        )
    };
    let small = streamed("small").await;
    let big = streamed("big").await;
    let gw = gateway(
        "",
        &[
            entry("m", "small", &small, "    tpm: 20\n    order: 1\n"),
            entry("m", "big", &big, "    tpm: 1000000\n    order: 2\n"),
        ],
    )
    .await;
    let mut body = ask("m");
    body["stream"] = json!(true);
    let mut got = Vec::new();
    for _ in 0..4 {
        let (status, h, text) = gw.post_stream("/v1/chat/completions", &body).await;
        assert_eq!(status, 200, "{text}");
        assert!(!text.contains("usage"), "not asked for: {text}");
        got.push(header(&h, "x-litellm-model-id").to_string());
    }
    assert_eq!(got, ["small", "small", "big", "big"]);
}
