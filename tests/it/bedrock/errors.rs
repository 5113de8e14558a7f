//! Bedrock's errors reach the client OpenAI-shaped, classified by their AWS
//! error type, with their HTTP status and message.

use super::{gateway, user};
use crate::support::bedrock_api::{Answer, BedrockApi, script};
use crate::support::error_of;

#[tokio::test]
async fn aws_error_types_become_openai_error_types() {
    for (status, kind, openai_type, code) in [
        (
            429,
            "ThrottlingException",
            "rate_limit_error",
            "ThrottlingException",
        ),
        (
            503,
            "ServiceUnavailableException",
            "overloaded_error",
            "ServiceUnavailableException",
        ),
        (
            429,
            "ModelNotReadyException",
            "overloaded_error",
            "ModelNotReadyException",
        ),
        (
            400,
            "ValidationException",
            "invalid_request_error",
            "ValidationException",
        ),
        (
            403,
            "AccessDeniedException",
            "authentication_error",
            "AccessDeniedException",
        ),
        (
            404,
            "ResourceNotFoundException",
            "invalid_request_error",
            "ResourceNotFoundException",
        ),
        (
            408,
            "ModelTimeoutException",
            "timeout_error",
            "ModelTimeoutException",
        ),
        (
            500,
            "InternalServerException",
            "server_error",
            "InternalServerException",
        ),
        (
            424,
            "ModelErrorException",
            "server_error",
            "ModelErrorException",
        ),
    ] {
        let api = BedrockApi::start(script(move |_| {
            Answer::Error(status, kind, "Bedrock says no.".into())
        }))
        .await;
        let gw = gateway(&api, "").await;
        let (got, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
        assert_eq!(got, status, "{kind}: {body}");
        let e = error_of(&body);
        assert_eq!(e["type"], openai_type, "{kind}");
        assert_eq!(e["code"], code, "{kind}");
        assert_eq!(e["message"], "Bedrock says no.");
    }
}

#[tokio::test]
async fn a_prompt_over_the_context_window_is_context_length_exceeded() {
    for message in [
        "Input is too long for requested model.",
        "The model returned the following errors: prompt is too long: 210000 tokens > 200000 maximum",
    ] {
        let api = BedrockApi::start(script(move |_| {
            Answer::Error(400, "ValidationException", message.into())
        }))
        .await;
        let gw = gateway(&api, "").await;
        let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
        assert_eq!(status, 400);
        let e = error_of(&body);
        assert_eq!(e["code"], "context_length_exceeded", "{message}");
        assert_eq!(e["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn bedrock_validation_of_the_request_reaches_the_client() {
    // A conversation must start with a user turn; the mock refuses it as
    // Bedrock does, and the message passes through.
    let api = BedrockApi::start(script(|_| unreachable!("refused before the script"))).await;
    let gw = gateway(&api, "").await;
    let request =
        serde_json::json!({"model": "b", "messages": [{"role": "assistant", "content": "Hi"}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 400, "{body}");
    let e = error_of(&body);
    assert_eq!(e["code"], "ValidationException");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("must start with a user message")
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let api = BedrockApi::start(script(|_| unreachable!())).await;
    let yaml = api
        .entry("b", "amazon.nova-lite-v1:0", "")
        .replace(&api.endpoint, &closed);
    let gw = crate::support::Gateway::with_models(&yaml).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 502, "{body}");
}
