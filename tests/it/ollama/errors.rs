//! Ollama's errors (`{"error": "…"}` with the HTTP status) as OpenAI
//! errors, plain and streaming; what the strict mock refuses; timeouts.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn upstream_errors_keep_status_and_meaning() {
    let (_api, gw) = serve(|r| {
        let ask = r.body["messages"][0]["content"].as_str().unwrap_or("");
        let (status, message, headers) = match ask {
            "404" => (
                404,
                "model 'llama3.3' not found, try pulling it first",
                vec![],
            ),
            "400" => (400, "llama3.3 does not support tools", vec![]),
            "long" => (400, "the input length exceeds the context length", vec![]),
            "429" => (429, "too many requests", vec![("retry-after", "5")]),
            "503" => (
                503,
                "server busy, please try again.  maximum pending requests exceeded",
                vec![],
            ),
            "502" => (502, "cloud model unreachable", vec![]),
            _ => (500, "failed to load model: out of memory", vec![]),
        };
        Reply::Error(status, message.into(), headers)
    })
    .await;
    let cases = [
        ("404", 404, "invalid_request_error", Some("model_not_found")),
        ("400", 400, "invalid_request_error", None),
        (
            "long",
            400,
            "invalid_request_error",
            Some("context_length_exceeded"),
        ),
        ("429", 429, "rate_limit_error", Some("rate_limit_exceeded")),
        ("503", 503, "overloaded_error", None),
        ("502", 502, "server_error", None),
        ("500", 500, "server_error", None),
    ];
    for stream in [false, true] {
        for (ask, status, kind, code) in cases {
            let mut request = chat(user(ask));
            request["stream"] = json!(stream);
            let (got, headers, body) = gw.post("/v1/chat/completions", &request).await;
            assert_eq!(got, status, "{ask} (stream {stream}): {body}");
            let e = error_of(&body);
            assert_eq!(
                (e["type"].as_str(), e["code"].as_str()),
                (Some(kind), code),
                "{ask}: {body}"
            );
            assert!(!e["message"].as_str().unwrap().is_empty());
            if ask == "429" {
                assert_eq!(headers["retry-after"], "5");
            }
            if ask == "404" {
                assert_eq!(
                    e["message"],
                    "model 'llama3.3' not found, try pulling it first"
                );
            }
        }
    }
}

#[tokio::test]
async fn unreadable_answers_and_slow_upstreams() {
    let (_api, gw) = serve(
        |r| match r.body["messages"][0]["content"].as_str().unwrap_or("") {
            "html" => Reply::Json(json!("<html>")),
            "error-200" => Reply::Json(json!({"error": "model runner has unexpectedly stopped"})),
            _ => Reply::After(Duration::from_secs(5), Box::new(text(&["late"], 1, 1))),
        },
    )
    .await;
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(user("html"))).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(error_of(&body)["code"], "bad_upstream_response");
    let (status, _, body) = gw
        .post("/v1/chat/completions", &chat(user("error-200")))
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        error_of(&body)["message"],
        "model runner has unexpectedly stopped"
    );

    let api = OllamaApi::start(script(|_| {
        Reply::After(Duration::from_secs(5), Box::new(text(&["late"], 1, 1)))
    }))
    .await;
    let gw = Gateway::with_models(&entry(
        &api,
        "local",
        "ollama/llama3.3",
        "    timeout: 0.2\n",
    ))
    .await;
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(user("slow"))).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(error_of(&body)["code"], "timeout");
}

#[tokio::test]
async fn rerank_is_refused() {
    let (api, gw) = serve(|_| text(&["no"], 1, 1)).await;
    let request = json!({"model": "local", "query": "q", "documents": ["a", "b"]});
    let (status, _, body) = gw.post("/v1/rerank", &request).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("rerank")
    );
    assert!(api.requests().is_empty());
}

/// The mock is as strict as documented: what the gateway never sends is
/// refused with Ollama's kind of message.
#[tokio::test]
async fn the_mock_refuses_what_ollama_refuses() {
    let api = OllamaApi::start(script(|_| text(&["ok"], 1, 1))).await;
    let client = crate::support::client();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", api.api_base))
            .json(&body)
            .send()
    };
    let cases = [
        ("/api/chat", json!({"messages": []}), "model is required"),
        (
            "/api/chat",
            json!({"model": "m", "messages": [{"role": "assistant", "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}]}),
            "cannot unmarshal string",
        ),
        (
            "/api/chat",
            json!({"model": "m", "messages": [], "options": {"num_ctx": "big"}}),
            "num_ctx",
        ),
        (
            "/api/chat",
            json!({"model": "m", "messages": [], "temperature": 0.2}),
            "unknown field \"temperature\"",
        ),
        (
            "/api/chat",
            json!({"model": "m", "messages": [{"role": "user", "content": "x", "images": ["%%%"]}]}),
            "base64",
        ),
        (
            "/api/chat",
            json!({"model": "m", "messages": [], "think": "max"}),
            "invalid think value",
        ),
        (
            "/api/embed",
            json!({"model": "m", "input": [[1, 2]]}),
            "invalid input type",
        ),
    ];
    for (path, body, expected) in cases {
        let response = post(path, body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let got: Value = response.json().await.unwrap();
        assert!(
            got["error"].as_str().unwrap().contains(expected),
            "{body}: {got}"
        );
    }
    let response = client
        .post(format!("{}/v1/chat/completions", api.api_base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(api.requests().is_empty());
}
