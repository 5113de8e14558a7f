//! Google's errors reach the client OpenAI-shaped, classified by their
//! canonical status, with their HTTP status and any retry hint.

use serde_json::{Value, json};

use super::{gateway, user};
use crate::support::error_of;
use crate::support::google_api::{Answer, GoogleApi, script};

fn google(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

#[tokio::test]
async fn google_statuses_become_openai_error_types() {
    for (code, status, kind) in [
        (400, "INVALID_ARGUMENT", "invalid_request_error"),
        (403, "PERMISSION_DENIED", "authentication_error"),
        (404, "NOT_FOUND", "invalid_request_error"),
        (500, "INTERNAL", "server_error"),
        (503, "UNAVAILABLE", "overloaded_error"),
        (504, "DEADLINE_EXCEEDED", "timeout_error"),
    ] {
        let api = GoogleApi::gemini(script(move |_| {
            Answer::Json(code, google(code, status, "upstream says no"))
        }))
        .await;
        let gw = gateway(&api, "").await;
        let (got, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
        assert_eq!(got, code, "{status}: {body}");
        let e = error_of(&body);
        assert_eq!(e["type"], kind, "{status}");
        assert_eq!(e["message"], "upstream says no");
        assert_eq!(e["code"], status);
    }
}

#[tokio::test]
async fn rate_limits_keep_or_derive_retry_after() {
    let with_header = GoogleApi::gemini(script(|_| {
        Answer::JsonWithHeaders(
            429,
            google(429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
            vec![("retry-after", "12")],
        )
    }))
    .await;
    let gw = gateway(&with_header, "").await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "12");
    assert_eq!(error_of(&body)["type"], "rate_limit_error");

    let with_retry_info = GoogleApi::gemini(script(|_| {
        let mut body = google(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota.",
        );
        body["error"]["details"] =
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "21.4s"}]);
        Answer::Json(429, body)
    }))
    .await;
    let gw = gateway(&with_retry_info, "").await;
    let (status, headers, _) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "22");
}

#[tokio::test]
async fn context_window_errors_and_bad_keys_are_recognised() {
    let api = GoogleApi::gemini(script(|_| {
        Answer::Json(400, google(400, "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."))
    }))
    .await;
    let gw = gateway(&api, "").await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["code"], "context_length_exceeded");

    // The real mock rejects the key: 400 API_KEY_INVALID upstream, 401 here.
    let api = GoogleApi::gemini(script(|_| Answer::Json(200, json!({})))).await;
    let entry = api
        .entry("g", "gemini-2.5-flash", "")
        .replace("api_key: test-key", "api_key: wrong-key");
    let gw = crate::support::Gateway::with_models(&entry).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 401, "{body}");
    let e = error_of(&body);
    assert_eq!(e["type"], "authentication_error");
    assert!(!e["message"].as_str().unwrap().contains("wrong-key"));
    assert!(api.requests().is_empty());

    // A model the upstream does not have: its 404 passes through.
    let api = GoogleApi::gemini(script(|_| Answer::Json(200, json!({})))).await;
    let gw = crate::support::Gateway::with_models(&api.entry("g", "models/gemini-9/x", "")).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(error_of(&body)["code"], "NOT_FOUND");
}

/// The mock refuses what Google refuses, so the tests above passing means
/// the gateway's requests are ones Google accepts.
#[tokio::test]
async fn the_mock_is_as_strict_as_google() {
    let api = GoogleApi::gemini(script(|_| Answer::Json(200, json!({})))).await;
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent",
        api.api_base
    );
    let ok = json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}]});
    for (body, needle) in [
        (ok.clone(), ""),
        (
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"max_tokens": 5}}),
            "max_tokens",
        ),
        (
            json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
            "valid role",
        ),
        (
            json!({"contents": [{"role": "user", "parts": []}]}),
            "parts",
        ),
        (json!({"contents": []}), "contents is not specified"),
        (
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "tools": [{"functionDeclarations": [{"name": "f",
            "parameters": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}}]}]}),
            "additionalProperties",
        ),
    ] {
        let response = crate::support::client()
            .post(&url)
            .header("x-goog-api-key", "test-key")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if needle.is_empty() {
            assert_eq!(status, 200, "{text}");
        } else {
            assert_eq!(status, 400, "{body}");
            assert!(
                text.contains(needle) && text.contains("INVALID_ARGUMENT"),
                "{text}"
            );
        }
    }
    let no_key = crate::support::client()
        .post(&url)
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status().as_u16(), 403);
}
