//! Fallbacks: other groups after a group failed, in order, by failure class,
//! per request, and switched off per request.

use serde_json::json;

use super::*;

#[tokio::test]
async fn fallbacks_answer_when_the_group_fails() {
    let down = failing(500).await;
    let backup = ok("from the backup").await;
    let gw = gateway(
        "  num_retries: 1\n  fallbacks:\n    - main: [backup]\n",
        &[
            entry("main", "down", &down, ""),
            entry("backup", "b", &backup, ""),
        ],
    )
    .await;
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("main")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "from the backup");
    assert_eq!(header(&h, "x-litellm-model-group"), "backup");
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "1");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "1");
    assert_eq!(down.requests().len(), 2);
    assert_eq!(backup.requests().len(), 1);
}

#[tokio::test]
async fn fallbacks_go_in_order_up_to_max_fallbacks() {
    let a = failing(500).await;
    let b = failing(502).await;
    let c = ok("third").await;
    let entries = [
        entry("a", "a", &a, ""),
        entry("b", "b", &b, ""),
        entry("c", "c", &c, ""),
    ];
    let gw = gateway("  fallbacks:\n    - a: [b, c]\n", &entries).await;
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("a")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "2");
    assert_eq!(
        (a.requests().len(), b.requests().len(), c.requests().len()),
        (1, 1, 1)
    );

    let gw = gateway(
        "  max_fallbacks: 1\n  fallbacks:\n    - a: [b, c]\n",
        &entries,
    )
    .await;
    let (status, h, _) = gw.post("/v1/chat/completions", &ask("a")).await;
    assert_eq!(status, 502, "the last error, from b");
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "1");
    assert_eq!(c.requests().len(), 1, "c was not tried");
}

#[tokio::test]
async fn context_window_and_content_policy_errors_have_their_own_fallbacks() {
    let small = Upstream::openai(KEY, script(|r| {
        if r.body["messages"][0]["content"] == "long" {
            Reply::Json(400, json!({"error": {"message": "This model's maximum context length is 8192 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}))
        } else {
            Reply::Json(400, json!({"error": {"message": "Your request was rejected as a result of our safety system.", "type": "invalid_request_error", "param": null, "code": "content_policy_violation"}}))
        }
    }))
    .await;
    let big = ok("big window").await;
    let lenient = ok("lenient").await;
    let generic = ok("generic").await;
    let gw = gateway(
        "  fallbacks:\n    - small: [generic]\n  context_window_fallbacks:\n    - small: [big]\n  content_policy_fallbacks:\n    - small: [lenient]\n",
        &[entry("small", "s", &small, ""), entry("big", "b", &big, ""), entry("lenient", "l", &lenient, ""), entry("generic", "g", &generic, "")],
    )
    .await;
    let long = json!({"model": "small", "messages": [{"role": "user", "content": "long"}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &long).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "big window");
    let (status, _, body) = gw.post("/v1/chat/completions", &ask("small")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "lenient");
    assert_eq!(generic.requests().len(), 0);
}

#[tokio::test]
async fn bad_requests_do_not_fall_back() {
    let strict = failing(400).await;
    let backup = ok("never").await;
    let gw = gateway(
        "  default_fallbacks: [backup]\n",
        &[
            entry("m", "s", &strict, ""),
            entry("backup", "b", &backup, ""),
        ],
    )
    .await;
    let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 400);
    assert_eq!(backup.requests().len(), 0);
}

#[tokio::test]
async fn default_fallbacks_apply_to_every_group() {
    let down = failing(503).await;
    let backup = ok("default").await;
    let gw = gateway(
        "  default_fallbacks: [backup]\n",
        &[
            entry("m", "d", &down, ""),
            entry("backup", "b", &backup, ""),
        ],
    )
    .await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body), "default");
}

#[tokio::test]
async fn request_fallbacks_and_disable_fallbacks_are_the_gateways_own() {
    let down = failing(500).await;
    let backup = ok("per request").await;
    let gw = gateway(
        "  fallbacks:\n    - m: [backup]\n",
        &[
            entry("m", "d", &down, ""),
            entry("backup", "b", &backup, ""),
            entry("other", "o", &backup, ""),
        ],
    )
    .await;
    let mut body = ask("m");
    body["disable_fallbacks"] = json!(true);
    let (status, h, _) = gw.post("/v1/chat/completions", &body).await;
    assert_eq!(status, 500);
    assert_eq!(header(&h, "x-litellm-attempted-fallbacks"), "0");
    assert_eq!(backup.requests().len(), 0);

    let mut body = ask("m");
    body["fallbacks"] = json!(["other"]);
    let (status, h, _) = gw.post("/v1/chat/completions", &body).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "x-litellm-model-group"), "other");
    let sent = backup.last().body;
    for k in ["fallbacks", "disable_fallbacks", "num_retries"] {
        assert!(sent.get(k).is_none(), "{k} was forwarded: {sent}");
    }
    assert!(
        down.requests()
            .iter()
            .all(|r| r.body.get("disable_fallbacks").is_none())
    );
}

#[tokio::test]
async fn a_cooled_down_group_still_falls_back() {
    let a = failing(500).await;
    let b = failing(500).await;
    let backup = ok("backup").await;
    let gw = gateway(
        "  allowed_fails: 0\n  cooldown_time: 5\n  fallbacks:\n    - m: [backup]\n",
        &[
            entry("m", "a", &a, ""),
            entry("m", "b", &b, ""),
            entry("backup", "k", &backup, ""),
        ],
    )
    .await;
    for _ in 0..4 {
        let (status, _, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(text_of(&body), "backup");
    }
    assert_eq!(
        (a.requests().len(), b.requests().len()),
        (1, 1),
        "both cooled down after one failure"
    );
}

#[tokio::test]
async fn retries_in_a_wildcard_group_keep_passing_the_model_through() {
    let up = failing_first(1, 500).await;
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\nrouter_settings:\n  num_retries: 1\nmodel_list:\n- model_name: '*'\n  litellm_params:\n    model: openai/*\n    api_base: {}\n    api_key: {KEY}\n",
        up.api_base
    ))
    .await;
    let (status, h, body) = gw.post("/v1/chat/completions", &ask("gpt-4o-mini")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&h, "x-litellm-attempted-retries"), "1");
    let models: Vec<_> = up
        .requests()
        .iter()
        .map(|r| r.body["model"].clone())
        .collect();
    assert_eq!(models, [json!("gpt-4o-mini"), json!("gpt-4o-mini")]);
}
