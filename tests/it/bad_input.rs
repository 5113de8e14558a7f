//! Bad input gets a clear OpenAI-shaped error with the right status; never a
//! panic, never a hang, and nothing is sent upstream.

use serde_json::{Value, json};

use crate::support::upstream::{Reply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY, client, error_of, read_json};

async fn setup() -> (Upstream, Gateway) {
    let up = Upstream::openai("k", script(|_| Reply::Json(200, completion("x", "ok")))).await;
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  max_request_size_mb: 0.01\nmodel_list:\n- model_name: m\n  litellm_params: {{model: openai/x, api_base: '{}', api_key: k}}\n",
        up.api_base
    ))
    .await;
    (up, gw)
}

async fn raw(
    gw: &Gateway,
    key: Option<(&str, &str)>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = client()
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body);
    if let Some((name, value)) = key {
        request = request.header(name, value);
    }
    let (status, _, json) = read_json(request.send().await.unwrap()).await;
    (status, json)
}

const OK_BODY: &str = r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;

#[tokio::test]
async fn keys_are_checked_in_every_accepted_header() {
    let (up, gw) = setup().await;
    let bearer = format!("Bearer {MASTER_KEY}");
    for header in [
        ("authorization", bearer.as_str()),
        ("api-key", MASTER_KEY),
        ("x-api-key", MASTER_KEY),
    ] {
        let (status, body) = raw(&gw, Some(header), OK_BODY).await;
        assert_eq!(status, 200, "{header:?}: {body}");
    }
    for header in [
        None,
        Some(("authorization", "Bearer sk-wrong")),
        Some(("x-api-key", "sk-wrong")),
        Some(("authorization", "Bearer ")),
    ] {
        let (status, body) = raw(&gw, header, OK_BODY).await;
        assert_eq!(status, 401, "{header:?}");
        assert_eq!(error_of(&body)["type"], "authentication_error");
        assert!(!body.to_string().contains(MASTER_KEY));
    }
    assert_eq!(up.requests().len(), 3);
}

#[tokio::test]
async fn each_malformed_request_is_a_400_naming_the_problem() {
    let (up, gw) = setup().await;
    let auth = Some(("authorization", "Bearer sk-test-master-1234"));
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("{not json", "not valid JSON", None),
        ("", "empty", None),
        ("[1,2]", "must be a JSON object", None),
        (
            r#"{"messages":[{"role":"user","content":"hi"}]}"#,
            "'model'",
            Some("model"),
        ),
        (r#"{"model":5,"messages":[]}"#, "'model'", Some("model")),
        (r#"{"model":"m"}"#, "'messages'", Some("messages")),
        (
            r#"{"model":"m","messages":"hi"}"#,
            "'messages'",
            Some("messages"),
        ),
        (r#"{"model":"m","messages":[]}"#, "empty", Some("messages")),
        (
            r#"{"model":"m","messages":[{"content":"hi"}]}"#,
            "role",
            Some("messages[0].role"),
        ),
        (
            r#"{"model":"m","messages":[{"role":"wizard","content":"hi"}]}"#,
            "wizard",
            Some("messages[0].role"),
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":5}]}"#,
            "content",
            Some("messages[0].content"),
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}"#,
            "'temperature'",
            Some("temperature"),
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#,
            "'stream'",
            Some("stream"),
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}"#,
            "'max_tokens'",
            Some("max_tokens"),
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":{}}"#,
            "'tools'",
            Some("tools"),
        ),
    ];
    for (body, says, param) in cases {
        let (status, json) = raw(&gw, auth, *body).await;
        assert_eq!(status, 400, "{body} -> {json}");
        let e = error_of(&json);
        assert_eq!(e["type"], "invalid_request_error");
        assert!(
            e["message"].as_str().unwrap().contains(says),
            "{body}: {} should mention {says}",
            e["message"]
        );
        assert_eq!(e["param"].as_str(), *param, "{body}");
    }
    assert!(
        up.requests().is_empty(),
        "bad input must never reach the upstream"
    );
}

#[tokio::test]
async fn an_unknown_model_is_400_naming_it() {
    let (up, gw) = setup().await;
    let (status, _, body) = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "gpt-17", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 400);
    let e = error_of(&body);
    assert!(e["message"].as_str().unwrap().contains("gpt-17"));
    assert_eq!(e["param"], "model");
    assert!(
        !body.to_string().contains(&up.api_base),
        "no configuration detail leaks"
    );
    assert!(up.requests().is_empty());
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let (up, gw) = setup().await;
    let auth = Some(("authorization", "Bearer sk-test-master-1234"));
    let big = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(20_000)
    );
    let (status, body) = raw(&gw, auth, big.clone()).await;
    assert_eq!(status, 413);
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("limit")
    );
    // Without a content-length (chunked), the limit holds as well.
    let chunks = futures_util::stream::iter(
        big.into_bytes()
            .chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, body) = raw(&gw, auth, reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!(status, 413, "{body}");
    assert!(up.requests().is_empty());
}

#[tokio::test]
async fn unknown_routes_are_404_in_openai_shape() {
    let (_up, gw) = setup().await;
    let (status, _, body) = gw.get("/v1/nothing-here", None).await;
    assert_eq!(status, 404);
    error_of(&body);
}

#[tokio::test]
async fn embeddings_input_is_validated() {
    let (up, gw) = setup().await;
    for (body, param) in [
        (json!({"model": "m"}), "input"),
        (json!({"model": "m", "input": 5}), "input"),
        (json!({"model": "m", "input": []}), "input"),
        (
            json!({"model": "m", "input": "x", "encoding_format": "hex"}),
            "encoding_format",
        ),
        (
            json!({"model": "m", "input": "x", "dimensions": "many"}),
            "dimensions",
        ),
    ] {
        let (status, _, json) = gw.post("/v1/embeddings", &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_of(&json)["param"], param);
    }
    assert!(up.requests().is_empty());
}
