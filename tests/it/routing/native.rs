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
