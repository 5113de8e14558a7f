//! Cohere's error answers (documented statuses and `{"id", "message"}`
//! bodies) as OpenAI errors, and the mock's own strictness.

use super::*;

/// The statuses Cohere documents, what the gateway answers, and its
/// OpenAI error type and code.
const CASES: &[(u16, &str, u16, &str, &str)] = &[
    (
        429,
        "You are past the per minute request limit, please wait and try again later.",
        429,
        "rate_limit_error",
        "rate_limit_exceeded",
    ),
    (
        400,
        "invalid request: cannot specify both frequency_penalty and presence_penalty.",
        400,
        "invalid_request_error",
        "invalid_request",
    ),
    (
        400,
        "too many tokens: size limit exceeded by 11326 tokens. Try using shorter or fewer inputs.",
        400,
        "invalid_request_error",
        "context_length_exceeded",
    ),
    (
        402,
        "Please add or update your payment method to continue.",
        402,
        "invalid_request_error",
        "insufficient_quota",
    ),
    (
        404,
        "model 'command-x' not found, make sure the correct model ID was used and that you have access to the model.",
        404,
        "invalid_request_error",
        "not_found",
    ),
    (
        498,
        "invalid api token",
        401,
        "authentication_error",
        "invalid_api_key",
    ),
    (
        499,
        "request cancelled",
        503,
        "overloaded_error",
        "request_cancelled",
    ),
    (
        500,
        "internal server error, this has been reported to our developers.",
        500,
        "server_error",
        "internal_server_error",
    ),
    (
        503,
        "service unavailable",
        503,
        "overloaded_error",
        "service_unavailable",
    ),
];

#[tokio::test]
async fn upstream_errors_keep_status_and_meaning() {
    let (_api, gw) = serve(|r| {
        let ask: u16 = r.body["messages"][0]["content"]
            .as_str()
            .and_then(|c| c.split(':').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(500);
        let index: usize = r.body["messages"][0]["content"]
            .as_str()
            .and_then(|c| c.split(':').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (status, message, ..) = CASES[index];
        assert_eq!(status, ask);
        let headers = if status == 429 {
            vec![("retry-after", "7")]
        } else {
            vec![]
        };
        Reply::Error(status, message.into(), headers)
    })
    .await;
    for stream in [false, true] {
        for (i, (upstream, message, status, kind, code)) in CASES.iter().enumerate() {
            let mut request = chat(user(&format!("{upstream}:{i}")));
            request["stream"] = json!(stream);
            let (got, headers, body) = gw.post("/v1/chat/completions", &request).await;
            assert_eq!(got, *status, "{upstream}: {body}");
            let e = error_of(&body);
            assert_eq!(
                (e["type"].as_str(), e["code"].as_str()),
                (Some(*kind), Some(*code)),
                "{upstream} {message}"
            );
            assert_eq!(e["message"], *message);
            if *upstream == 429 {
                assert_eq!(headers["retry-after"], "7");
            }
        }
    }
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_error() {
    let api = CohereApi::start("co-other", script(|_| Reply::Json(text_response("no")))).await;
    let gw = Gateway::with_models(&entry(&api, "command", "")).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(user("x"))).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_of(&body)["type"], "authentication_error");
    assert_eq!(body["error"]["message"], "invalid api token");
    assert!(api.requests().is_empty());
}

/// The mock refuses what Cohere documents as refused, with Cohere's
/// messages: the gateway's translations are checked against these rules.
#[tokio::test]
async fn the_mock_is_strict_like_cohere() {
    let api = CohereApi::start(KEY, script(|_| Reply::Json(text_response("ok")))).await;
    let post = |path: &str, body: Value, key: Option<&str>| {
        let mut r = client().post(format!("{}{path}", api.api_base)).json(&body);
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let hello = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let cases = [
        ("/v2/chat", hello.clone(), None, 401, "no api key supplied"),
        (
            "/v2/chat",
            hello.clone(),
            Some("k"),
            401,
            "invalid api token",
        ),
        (
            "/v2/chat",
            json!({"messages": [{"role": "user", "content": "hi"}]}),
            Some(KEY),
            400,
            "invalid request: a model parameter is required for this endpoint.",
        ),
        (
            "/v2/chat",
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "top_p": 0.5}),
            Some(KEY),
            400,
            "invalid request: unknown field: parameter top_p is not a valid field",
        ),
        (
            "/v2/chat",
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "s"}]}),
            Some(KEY),
            400,
            "system turn must be the first in the list",
        ),
        (
            "/v2/embed",
            json!({"model": "e", "texts": ["a"], "embedding_types": ["float"]}),
            Some(KEY),
            400,
            "invalid request: valid input_type must be provided with the provided model",
        ),
        (
            "/v2/rerank",
            json!({"model": "r", "query": "q", "documents": []}),
            Some(KEY),
            400,
            "invalid request: list of documents must not be empty",
        ),
        (
            "/v2/rerank",
            json!({"model": "r", "query": "  ", "documents": ["a"]}),
            Some(KEY),
            400,
            "invalid request: query must not be empty or be only whitespace",
        ),
    ];
    for (path, body, key, status, message) in cases {
        let (got, answer) = post(path, body.clone(), key).await;
        assert_eq!(
            (got, answer["message"].as_str()),
            (status, Some(message)),
            "{body}"
        );
        assert!(answer["id"].is_string());
    }
    let too_many: Vec<String> = (0..97).map(|i| i.to_string()).collect();
    let (got, answer) = post(
        "/v2/embed",
        json!({"model": "e", "texts": too_many, "input_type": "search_query", "embedding_types": ["float"]}),
        Some(KEY),
    )
    .await;
    assert_eq!(got, 400);
    assert_eq!(
        answer,
        error_body("invalid request: total number of texts must be at most 96 - received 97")
    );
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn a_silent_upstream_times_out() {
    let api = CohereApi::start(
        KEY,
        script(|_| {
            Reply::After(
                std::time::Duration::from_secs(3),
                Box::new(Reply::Json(text_response("late"))),
            )
        }),
    )
    .await;
    let gw = Gateway::with_models(&entry(&api, "command", "    timeout: 0.3\n")).await;
    for stream in [false, true] {
        let mut request = chat(user("hi"));
        request["stream"] = json!(stream);
        let started = std::time::Instant::now();
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 504, "{body}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(error_of(&body)["code"], "timeout");
    }
}
