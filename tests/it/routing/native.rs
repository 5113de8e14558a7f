//! `/v1/messages` to Anthropic deployments passes through natively; its
//! retries move to another Anthropic deployment of the group and count
//! towards cooldowns like any other route.

use super::*;
use crate::support::anthropic_api::{
    AnthropicApi, Reply as AReply, script as ascript, text_message,
};

const ANT_KEY: &str = "sk-ant-test";

fn ant_entry(api: &AnthropicApi, id: &str) -> String {
    format!(
        "- model_name: claude\n  litellm_params:\n    model: anthropic/claude-sonnet-4-5\n    api_base: {}\n    api_key: {ANT_KEY}\n    order: {}\n  model_info:\n    id: {id}\n",
        api.api_base,
        if id == "overloaded" { 1 } else { 2 }
    )
}

#[tokio::test]
async fn native_messages_retry_on_another_anthropic_deployment() {
    let overloaded = AnthropicApi::start(
        ANT_KEY,
        ascript(|_| AReply::Error(529, "overloaded_error", "Overloaded".into(), vec![])),
    )
    .await;
    let fine =
        AnthropicApi::start(ANT_KEY, ascript(|_| AReply::Message(text_message("hello")))).await;
    let gw = gateway(
        "  num_retries: 1\n",
        &[
            ant_entry(&overloaded, "overloaded"),
            ant_entry(&fine, "fine"),
        ],
    )
    .await;
    let body = serde_json::json!({"model": "claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let (status, h, answer) = gw.post("/v1/messages", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(header(&h, "x-litellm-model-id"), "fine");
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "1");
    assert_eq!((overloaded.requests().len(), fine.requests().len()), (1, 1));

    let gw = gateway(
        "  num_retries: 0\n",
        &[
            ant_entry(&overloaded, "overloaded"),
            ant_entry(&fine, "fine"),
        ],
    )
    .await;
    let (status, _, _) = gw.post("/v1/messages", &body).await;
    assert_eq!(status, 529, "no retries: the upstream's answer as it is");
}

/// When every Anthropic deployment of the group fails, its fallback group
/// answers (here an OpenAI one), translated back into Anthropic's shape.
#[tokio::test]
async fn native_messages_fall_back_to_another_group() {
    let overloaded = AnthropicApi::start(
        ANT_KEY,
        ascript(|_| AReply::Error(529, "overloaded_error", "Overloaded".into(), vec![])),
    )
    .await;
    let backup = ok("from the backup").await;
    let gw = gateway(
        "  num_retries: 0\n  fallbacks: [{claude: [backup]}]\n",
        &[
            ant_entry(&overloaded, "overloaded"),
            entry("backup", "backup", &backup, ""),
        ],
    )
    .await;
    let body = serde_json::json!({"model": "claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let (status, h, answer) = gw.post("/v1/messages", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "message", "{answer}");
    assert_eq!(answer["content"][0]["text"], "from the backup", "{answer}");
    assert_eq!(header(&h, "x-litellm-model-group"), "backup");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "1");
    assert_eq!(
        (overloaded.requests().len(), backup.requests().len()),
        (1, 1)
    );
    // A client error is the client's: passed through, no fallback.
    let bad = AnthropicApi::start(
        ANT_KEY,
        ascript(|_| AReply::Error(400, "invalid_request_error", "bad".into(), vec![])),
    )
    .await;
    let gw = gateway(
        "  fallbacks: [{claude: [backup]}]\n",
        &[
            ant_entry(&bad, "bad"),
            entry("backup", "backup", &backup, ""),
        ],
    )
    .await;
    let (status, _, answer) = gw.post("/v1/messages", &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["type"], "invalid_request_error", "{answer}");
    assert_eq!(backup.requests().len(), 1);
}

/// A rate-limited only deployment is retried after the provider's
/// `retry-after`, as on the OpenAI routes.
#[tokio::test]
async fn native_messages_wait_for_retry_after() {
    let seen = Arc::new(AtomicUsize::new(0));
    let limited = AnthropicApi::start(
        ANT_KEY,
        ascript(move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                AReply::Error(
                    429,
                    "rate_limit_error",
                    "Number of requests has exceeded your rate limit".into(),
                    vec![("retry-after", "1")],
                )
            } else {
                AReply::Message(text_message("after waiting"))
            }
        }),
    )
    .await;
    let gw = gateway("  num_retries: 1\n", &[ant_entry(&limited, "limited")]).await;
    let body = serde_json::json!({"model": "claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let started = std::time::Instant::now();
    let (status, h, answer) = gw.post("/v1/messages", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(950));
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "1");
    assert_eq!(limited.requests().len(), 2);
}
