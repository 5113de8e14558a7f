//! Non-streaming chat through OpenAI-family and Azure upstreams: what the
//! upstream receives, and what the client gets back.

use serde_json::json;

use crate::support::upstream::{Reply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY};

fn openai_entry(name: &str, model: &str, upstream: &Upstream, extra: &str) -> String {
    format!(
        "- model_name: {name}\n  litellm_params:\n    model: {model}\n    api_base: {}\n    api_key: sk-upstream-secret\n{extra}",
        upstream.api_base
    )
}

#[tokio::test]
async fn forwards_the_body_untouched_and_returns_the_upstream_answer() {
    let up = Upstream::openai(
        "sk-upstream-secret",
        script(|_| Reply::Json(200, completion("gpt-4o-2024-08-06", "Hi!"))),
    )
    .await;
    let gw = Gateway::with_models(&openai_entry("my-gpt", "openai/gpt-4o", &up, "")).await;
    let request = json!({
        "model": "my-gpt",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}
            ]}
        ],
        "n": 1, "seed": 7, "logprobs": true, "top_logprobs": 2,
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        "some_future_field": {"nested": [1, 2, 3]},
        "user": "alice"
    });
    let (status, headers, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, completion("gpt-4o-2024-08-06", "Hi!"));
    assert_eq!(headers["x-litellm-model-group"], "my-gpt");
    assert_eq!(headers["content-type"], "application/json");
    for name in [
        "x-litellm-model-id",
        "x-litellm-response-duration-ms",
        "x-litellm-overhead-duration-ms",
        "x-litellm-call-id",
    ] {
        assert!(headers.contains_key(name), "missing {name}");
    }
    let duration: f64 = headers["x-litellm-response-duration-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let overhead: f64 = headers["x-litellm-overhead-duration-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        overhead >= 0.0 && overhead <= duration,
        "{overhead} vs {duration}"
    );

    let got = up.last();
    assert_eq!(got.path, "/v1/chat/completions");
    assert_eq!(got.headers["authorization"], "Bearer sk-upstream-secret");
    let mut expected = request.clone();
    expected["model"] = json!("gpt-4o");
    assert_eq!(
        got.body, expected,
        "everything but the model name must arrive untouched"
    );
    assert!(
        !got.headers.contains_key("x-api-key"),
        "the client's key must not be forwarded"
    );
}

#[tokio::test]
async fn deployment_defaults_apply_only_where_the_request_is_silent() {
    let up = Upstream::openai(
        "sk-upstream-secret",
        script(|_| Reply::Json(200, completion("m", "ok"))),
    )
    .await;
    let extra =
        "    temperature: 0.1\n    max_tokens: 55\n    extra_headers:\n      x-tenant: acme\n";
    let gw = Gateway::with_models(&openai_entry("m", "openai/m", &up, extra)).await;
    let msgs = json!([{"role": "user", "content": "hi"}]);
    gw.post(
        "/v1/chat/completions",
        &json!({"model": "m", "messages": msgs, "temperature": 0.9}),
    )
    .await;
    let got = up.last();
    assert_eq!(got.body["temperature"], json!(0.9));
    assert_eq!(got.body["max_tokens"], json!(55));
    assert_eq!(got.headers["x-tenant"], "acme");
    gw.post(
        "/chat/completions",
        &json!({"model": "m", "messages": msgs}),
    )
    .await;
    assert_eq!(
        up.last().body["temperature"],
        json!(0.1),
        "also served without the /v1 prefix"
    );
}

#[tokio::test]
async fn tools_and_tool_results_pass_through() {
    let answer = json!({
        "id": "chatcmpl-t", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null, "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}]}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
    });
    let reply = answer.clone();
    let up = Upstream::openai(
        "sk-upstream-secret",
        script(move |_| Reply::Json(200, reply.clone())),
    )
    .await;
    let gw = Gateway::with_models(&openai_entry("gpt", "openai/gpt-4o", &up, "")).await;
    let request = json!({
        "model": "gpt",
        "messages": [
            {"role": "user", "content": "weather in Bern?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "sunny"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false
    });
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!((status, body), (200, answer));
    assert_eq!(up.last().body["tools"], request["tools"]);
    assert_eq!(up.last().body["messages"], request["messages"]);
}

#[tokio::test]
async fn azure_uses_its_deployment_url_api_version_and_api_key_header() {
    let up = Upstream::azure(
        "azure-secret",
        "my-gpt4o",
        script(|_| Reply::Json(200, completion("gpt-4o", "from azure"))),
    )
    .await;
    let entry = format!(
        "- model_name: az\n  litellm_params:\n    model: azure/my-gpt4o\n    api_base: {}\n    api_key: azure-secret\n    api_version: \"2024-10-21\"\n",
        up.api_base
    );
    let gw = Gateway::with_models(&entry).await;
    let (status, _, body) = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "az", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "from azure");
    let got = up.last();
    assert_eq!(got.path, "/openai/deployments/my-gpt4o/chat/completions");
    assert_eq!(got.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(got.headers["api-key"], "azure-secret");
    assert!(!got.headers.contains_key("authorization"));
}

#[tokio::test]
async fn azure_errors_keep_their_status_and_message() {
    let up = Upstream::azure(
        "azure-secret",
        "real-deployment",
        script(|_| Reply::Json(200, completion("x", "never"))),
    )
    .await;
    let entry = format!(
        "- model_name: az\n  litellm_params:\n    model: azure/missing-deployment\n    api_base: {}\n    api_key: azure-secret\n",
        up.api_base
    );
    let gw = Gateway::with_models(&entry).await;
    let (status, _, body) = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "az", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 404);
    let e = crate::support::error_of(&body);
    assert_eq!(e["code"], "DeploymentNotFound");
    assert!(e["message"].as_str().unwrap().contains("does not exist"));
}

#[tokio::test]
async fn weights_balance_a_model_group() {
    let a = Upstream::openai("k", script(|_| Reply::Json(200, completion("a", "a")))).await;
    let b = Upstream::openai("k", script(|_| Reply::Json(200, completion("b", "b")))).await;
    let entries = format!(
        "- model_name: g\n  litellm_params: {{model: openai/a, api_base: '{}', api_key: k, weight: 9}}\n  model_info: {{id: dep-a}}\n- model_name: g\n  litellm_params: {{model: openai/b, api_base: '{}', api_key: k, weight: 1}}\n  model_info: {{id: dep-b}}\n",
        a.api_base, b.api_base
    );
    let gw = Gateway::with_models(&entries).await;
    let mut to_a = 0;
    for _ in 0..200 {
        let (status, headers, _) = gw
            .post(
                "/v1/chat/completions",
                &json!({"model": "g", "messages": [{"role": "user", "content": "x"}]}),
            )
            .await;
        assert_eq!(status, 200);
        if headers["x-litellm-model-id"] == "dep-a" {
            to_a += 1;
        }
    }
    assert_eq!(to_a + b.requests().len(), 200);
    assert_eq!(to_a, a.requests().len());
    // 9:1 split: with 200 draws, fewer than 150 to A happens with p < 1e-6.
    assert!(
        (150..200).contains(&to_a),
        "{to_a} of 200 went to the weight-9 deployment"
    );
}

#[tokio::test]
async fn openai_compatible_providers_use_their_base_and_bearer_auth() {
    let up = Upstream::openai(
        "k",
        script(|r| Reply::Json(200, completion(r.body["model"].as_str().unwrap(), "ok"))),
    )
    .await;
    let mut entries = String::new();
    for provider in ["mistral", "deepseek", "groq", "together_ai", "hosted_vllm"] {
        entries.push_str(&format!(
            "- model_name: {provider}-m\n  litellm_params: {{model: {provider}/vendor/model-x, api_base: '{}', api_key: k}}\n",
            up.api_base
        ));
    }
    let gw = Gateway::with_models(&entries).await;
    for provider in ["mistral", "deepseek", "groq", "together_ai", "hosted_vllm"] {
        let (status, _, body) =
            gw.post("/v1/chat/completions", &json!({"model": format!("{provider}-m"), "messages": [{"role": "user", "content": "x"}]})).await;
        assert_eq!(status, 200, "{provider}: {body}");
        assert_eq!(up.last().body["model"], "vendor/model-x", "{provider}");
    }
}

#[tokio::test]
async fn models_and_health() {
    let gw = Gateway::with_models("- model_name: a\n  litellm_params: {model: mock/a}\n- model_name: b\n  litellm_params: {model: mock/b}\n- model_name: a\n  litellm_params: {model: mock/a2}\n").await;
    let key = Some(MASTER_KEY);
    let (status, _, body) = gw.get("/v1/models", key).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(body["data"][0]["object"], "model");
    assert!(body["data"][0]["created"].is_u64() && body["data"][0]["owned_by"].is_string());
    let (status, _, one) = gw.get("/models/b", key).await;
    assert_eq!((status, one["id"].as_str()), (200, Some("b")));
    assert_eq!(gw.get("/v1/models/zzz", key).await.0, 404);
    assert_eq!(
        gw.get("/v1/models", None).await.0,
        401,
        "listing models needs a key"
    );
    let (status, _, live) = gw.get("/health/liveliness", None).await;
    assert_eq!((status, live), (200, json!("I'm alive!")));
    let (status, _, ready) = gw.get("/health/readiness", None).await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("healthy")));
}
