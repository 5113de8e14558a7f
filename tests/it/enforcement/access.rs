//! What a key may call: the models of the key, its team and its user (an
//! empty list is every model), fallbacks that never reach a model the key
//! may not call, and `allowed_routes`.

use serde_json::json;

use super::{Reply, chat, new_key, ok, post, start, start_with};
use crate::management::admin;
use crate::support::databases::{BOTH, TestDb};
use crate::support::upstream::{Reply as UpstreamReply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY};

/// A 403 of `error_type` naming `model`, with `param` "model".
fn assert_denied(reply: &Reply, error_type: &str, model: &str) {
    let e = reply.assert_refused(403, error_type, None);
    assert_eq!(e["param"], "model", "{}", reply.body);
    let message = e["message"].as_str().unwrap();
    assert!(
        message
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == model),
        "the message must name the model {model}: {message}"
    );
}

#[tokio::test]
async fn a_key_calls_only_its_models() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let only_m = new_key(&gw, json!({"models": ["m"]})).await;
        ok(chat(&gw, &only_m, "m").await);
        assert_denied(
            &chat(&gw, &only_m, "n").await,
            "key_model_access_denied",
            "n",
        );

        // An empty list is every model.
        let any = new_key(&gw, json!({"models": []})).await;
        ok(chat(&gw, &any, "m").await);
        ok(chat(&gw, &any, "n").await);
    }
}

#[tokio::test]
async fn a_key_calls_only_its_teams_models() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        admin(&gw, "/team/new", json!({"team_id": "t-m", "models": ["m"]})).await;
        let key = new_key(&gw, json!({"team_id": "t-m"})).await;
        ok(chat(&gw, &key, "m").await);
        assert_denied(&chat(&gw, &key, "n").await, "team_model_access_denied", "n");

        admin(&gw, "/team/new", json!({"team_id": "t-all", "models": []})).await;
        let key = new_key(&gw, json!({"team_id": "t-all"})).await;
        ok(chat(&gw, &key, "n").await);
    }
}

#[tokio::test]
async fn a_key_calls_only_its_users_models() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let user = admin(&gw, "/user/new", json!({"user_id": "u-m", "models": ["m"]})).await;
        let key = user["key"].as_str().unwrap();
        ok(chat(&gw, key, "m").await);
        assert_denied(&chat(&gw, key, "n").await, "user_model_access_denied", "n");
    }
}

#[tokio::test]
async fn a_fallback_never_reaches_a_model_the_key_may_not_call() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let failing = Upstream::openai(
            "sk-a",
            script(|_| {
                UpstreamReply::Json(
                    500,
                    json!({"error": {"message": "The server had an error", "type": "server_error",
                                     "param": null, "code": null}}),
                )
            }),
        )
        .await;
        let fallback = Upstream::openai(
            "sk-b",
            script(|r| {
                UpstreamReply::Json(200, completion(r.body["model"].as_str().unwrap(), "b"))
            }),
        )
        .await;
        let entry = |group: &str, api_base: &str, key: &str| {
            format!(
                "  - model_name: {group}\n    litellm_params:\n      model: openai/gpt-4o\n\
                 \x20     api_base: {api_base}\n      api_key: {key}\n"
            )
        };
        let model_list =
            entry("a", &failing.api_base, "sk-a") + &entry("b", &fallback.api_base, "sk-b");
        let gw: Gateway = start_with(
            &db,
            &model_list,
            "router_settings:\n  fallbacks: [{a: [b]}]\n",
        )
        .await;

        let key = new_key(&gw, json!({"models": ["a"]})).await;
        let refused = chat(&gw, &key, "a").await;
        assert_eq!(failing.requests().len(), 1, "{kind:?}: a was called once");
        assert!(
            fallback.requests().is_empty(),
            "{kind:?}: the fallback b was called for a key that may not use it"
        );
        // b is skipped, not refused: the client learns why a failed.
        assert_eq!(
            refused.status, 500,
            "{kind:?}: a's own error: {}",
            refused.body
        );

        // The fallback is there for a caller who may use b.
        let answered = chat(&gw, MASTER_KEY, "a").await;
        assert_eq!(answered.status, 200, "{kind:?}: {}", answered.body);
        assert_eq!(answered.header("x-litellm-model-group"), Some("b"));
        assert_eq!(fallback.requests().len(), 1, "{kind:?}");
    }
}

#[tokio::test]
async fn a_key_calls_only_its_allowed_routes() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"allowed_routes": ["/v1/embeddings"]})).await;
        let refused = chat(&gw, &key, "m").await;
        refused.assert_refused(403, "permission_error", Some("route_not_allowed"));
        let embedded = post(
            &gw,
            &key,
            "/v1/embeddings",
            &json!({"model": "m", "input": "hello"}),
        )
        .await;
        assert_eq!(embedded.status, 200, "{kind:?}: {}", embedded.body);
    }
}
