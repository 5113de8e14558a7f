//! The `cohere/` (and `cohere_chat/`) provider against a strict mock of
//! Cohere's v2 API: requests translated (asserted on what the API
//! received), answers, streams and errors translated back into OpenAI's
//! shapes, embeddings and rerank, and the official OpenAI Python SDK on top.
//! Property tests of the pure translators (stream splits, arbitrary bytes
//! and JSON) live beside them, in `src/providers/cohere/props.rs`.

mod chat;
mod embed_rerank;
mod errors;
mod sdk;
mod streaming;

use serde_json::{Value, json};

use crate::sdk::{python_script, run_against};
use crate::support::cohere_api::{
    CohereApi, Recorded, Reply, embed_response, error_body, raw, rerank_response, response, script,
    text_events, text_response, tool_events, usage,
};
use crate::support::{Gateway, client, error_of, sse_data};

const KEY: &str = "co-test";

fn entry(api: &CohereApi, name: &str, extra: &str) -> String {
    format!(
        "- model_name: {name}\n  litellm_params:\n    model: cohere/command-r-plus\n    api_base: {}\n    api_key: {KEY}\n{extra}",
        api.api_base
    )
}

async fn serve(reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> (CohereApi, Gateway) {
    let api = CohereApi::start(KEY, script(reply)).await;
    let gw = Gateway::with_models(&entry(&api, "command", "")).await;
    (api, gw)
}

fn chat(messages: Value) -> Value {
    json!({"model": "command", "messages": messages})
}

fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

/// The JSON chunks of an OpenAI event stream (without `[DONE]`).
fn chunks(body: &str) -> Vec<Value> {
    sse_data(body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

fn deltas(chunks: &[Value]) -> Vec<(Value, Value)> {
    chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0"))
        .map(|c| (c["delta"].clone(), c["finish_reason"].clone()))
        .collect()
}

#[tokio::test]
async fn chat_is_translated_both_ways() {
    let (api, gw) = serve(|_| Reply::Json(text_response("Hi there"))).await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &chat(user("Hello"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-litellm-model-group"], "command");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["id"], "c14c80c3-mock");
    assert_eq!(body["model"], "command-r-plus");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        body["choices"],
        json!([{"index": 0, "message": {"role": "assistant", "content": "Hi there"},
                "logprobs": null, "finish_reason": "stop"}])
    );
    // Billed units, not the larger token counts.
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16})
    );
    let sent = api.last();
    assert_eq!(sent.endpoint, "chat");
    assert_eq!(sent.headers["authorization"], "Bearer co-test");
    assert_eq!(sent.headers["content-type"], "application/json");
    assert_eq!(
        sent.body,
        json!({"model": "command-r-plus", "messages": [{"role": "user", "content": "Hello"}]})
    );
}

#[tokio::test]
async fn cohere_chat_prefix_and_a_versioned_api_base_work_too() {
    let api = CohereApi::start(KEY, script(|_| Reply::Json(text_response("ok")))).await;
    let gw = Gateway::with_models(&format!(
        "- model_name: r\n  litellm_params:\n    model: cohere_chat/command-r\n    api_base: {}/v2/\n    api_key: {KEY}\n",
        api.api_base
    ))
    .await;
    let (status, _, body) = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "r", "messages": user("x")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.last().body["model"], "command-r");
}

#[tokio::test]
async fn system_messages_lead_and_turns_keep_their_order() {
    let (api, gw) = serve(|_| Reply::Json(text_response("Ada."))).await;
    let messages = json!([
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "user", "content": [{"type": "text", "text": "I live in Bern."}]},
        {"role": "assistant", "content": "Noted."},
        {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
        {"role": "user", "content": "What is my name?"},
    ]);
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(messages)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "Ada.");
    assert_eq!(
        api.last().body["messages"],
        json!([
            {"role": "system", "content": "Be terse.\n\nUse metric units."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "user", "content": [{"type": "text", "text": "I live in Bern."}]},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "What is my name?"},
        ])
    );
}
