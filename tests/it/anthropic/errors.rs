//! Errors, refusals and timeouts from the Anthropic mock; the mock's own
//! strictness. (The OpenAI Python SDK end to end is in `sdk.rs`.)

use super::*;

#[tokio::test]
async fn upstream_errors_keep_status_and_meaning() {
    let (_api, gw) = serve(|r| {
        let msg = r.body["messages"][0]["content"].as_str().unwrap_or("");
        match msg {
            "429" => Reply::Error(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit".into(),
                vec![("retry-after", "7")],
            ),
            "529" => Reply::Error(529, "overloaded_error", "Overloaded".into(), vec![]),
            "long" => Reply::Error(
                400,
                "invalid_request_error",
                "prompt is too long: 208310 tokens > 200000 maximum".into(),
                vec![],
            ),
            _ => Reply::Error(500, "api_error", "Internal server error".into(), vec![]),
        }
    })
    .await;
    let cases = [
        ("429", 429, "rate_limit_error", "rate_limit_exceeded"),
        ("529", 529, "overloaded_error", "overloaded_error"),
        (
            "long",
            400,
            "invalid_request_error",
            "context_length_exceeded",
        ),
        ("other", 500, "server_error", "api_error"),
    ];
    for stream in [false, true] {
        for (ask, status, kind, code) in cases {
            let mut request = chat(user(ask));
            request["stream"] = json!(stream);
            let (got, headers, body) = gw.post("/v1/chat/completions", &request).await;
            assert_eq!(got, status, "{ask}: {body}");
            let e = error_of(&body);
            assert_eq!(
                (e["type"].as_str(), e["code"].as_str()),
                (Some(kind), Some(code)),
                "{ask}"
            );
            if ask == "429" {
                assert_eq!(headers["retry-after"], "7");
            }
        }
    }
    // A wrong key: the strict API answers 401 authentication_error.
    let api = AnthropicApi::start(
        "sk-ant-other",
        script(|_| Reply::Message(text_message("no"))),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api, "claude", "")).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(user("x"))).await;
    assert_eq!(status, 401);
    assert_eq!(error_of(&body)["type"], "authentication_error");
    assert_eq!(body["error"]["message"], "invalid x-api-key");
}

#[tokio::test]
async fn embeddings_are_refused_with_a_clear_error() {
    let (api, gw) = serve(|_| Reply::Message(text_message("no"))).await;
    let (status, _, body) = gw
        .post("/v1/embeddings", &json!({"model": "claude", "input": "x"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("no embeddings API"),
        "{body}"
    );
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn the_mock_api_is_strict() {
    let api = AnthropicApi::start(KEY, script(|_| Reply::Message(text_message("ok")))).await;
    let url = format!("{}/v1/messages", api.api_base);
    let ok =
        json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]});
    let send = |key: Option<&str>, version: bool, body: Value| {
        let mut r = client().post(&url).json(&body);
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        if version {
            r = r.header("anthropic-version", "2023-06-01");
        }
        async move { crate::support::read_json(r.send().await.unwrap()).await }
    };
    assert_eq!(send(Some(KEY), true, ok.clone()).await.0, 200);
    let (status, _, body) = send(None, true, ok.clone()).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (401, Some("authentication_error"))
    );
    assert_eq!(send(Some("wrong"), true, ok.clone()).await.0, 401);
    assert_eq!(send(Some(KEY), false, ok.clone()).await.0, 400);
    let bad_bodies = [
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
        json!({"max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}),
        json!({"model": "m", "max_tokens": 1}),
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]}),
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "assistant", "content": "x"}]}),
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]}),
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}]}),
    ];
    for body in bad_bodies {
        let (status, _, answer) = send(Some(KEY), true, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["type"], "error");
        assert_eq!(answer["error"]["type"], "invalid_request_error");
    }
    assert_eq!(api.requests().len(), 1);
}

#[tokio::test]
async fn a_silent_upstream_times_out() {
    let api = AnthropicApi::start(
        KEY,
        script(|_| {
            Reply::After(
                Duration::from_secs(3),
                Box::new(Reply::Events(hello_events())),
            )
        }),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api, "claude", "    stream_timeout: 0.3\n")).await;
    let mut request = chat(user("hi"));
    request["stream"] = json!(true);
    let started = Instant::now();
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 504, "{body}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(error_of(&body)["code"], "timeout");
}
