//! Wrong requests: 400s naming the field, 404s for unknown ids, all in
//! OpenAI's error shape.

use serde_json::{Value, json};

use super::{admin, assert_error, call, start};
use crate::support::{Gateway, MASTER_KEY};

async fn post(gw: &Gateway, path: &str, body: Value) -> (u16, Value) {
    call(gw, Some(MASTER_KEY), path, Some(body), None).await
}

async fn get(gw: &Gateway, path: &str) -> (u16, Value) {
    call(gw, Some(MASTER_KEY), path, None, None).await
}

#[tokio::test]
async fn bad_fields_are_400s_naming_the_field() {
    let gw = start(None).await;
    admin(
        &gw,
        "/team/new",
        json!({"team_id": "narrow", "models": ["gpt-4o"]}),
    )
    .await;
    admin(&gw, "/key/generate", json!({"key_alias": "taken"})).await;
    for (path, body, param) in [
        ("/key/generate", json!({"max_budget": -5}), "max_budget"),
        ("/key/generate", json!({"max_budget": "lots"}), "max_budget"),
        ("/key/generate", json!({"rpm_limit": 1.5}), "rpm_limit"),
        ("/key/generate", json!({"duration": "forever"}), "duration"),
        (
            "/key/generate",
            json!({"budget_duration": "1y"}),
            "budget_duration",
        ),
        ("/key/generate", json!({"models": "gpt-4o"}), "models"),
        ("/key/generate", json!({"metadata": [1]}), "metadata"),
        (
            "/key/generate",
            json!({"model_tpm_limit": {"gpt-4o": -1}}),
            "model_tpm_limit",
        ),
        ("/key/generate", json!({"team_id": "nobody"}), "team_id"),
        (
            "/key/generate",
            json!({"team_id": "narrow", "models": ["gpt-4o", "o3"]}),
            "models",
        ),
        ("/key/generate", json!({"key_alias": "taken"}), "key_alias"),
        ("/key/generate", json!({"key": "not-an-sk-key"}), "key"),
        ("/key/update", json!({"max_budget": 1}), "key"),
        ("/team/new", json!({"team_id": "narrow"}), "team_id"),
        (
            "/team/new",
            json!({"members_with_roles": [{"role": "owner", "user_id": "u"}]}),
            "members_with_roles",
        ),
        ("/team/member_add", json!({"team_id": "narrow"}), "member"),
        ("/user/new", json!({"user_role": "superuser"}), "user_role"),
        ("/user/new", json!({"teams": ["nobody"]}), "teams"),
        ("/customer/new", json!({}), "user_id"),
        (
            "/customer/new",
            json!({"user_id": "c", "budget_id": "nobody"}),
            "budget_id",
        ),
        (
            "/customer/new",
            json!({"user_id": "c", "allowed_model_region": "mars"}),
            "allowed_model_region",
        ),
        (
            "/customer/new",
            json!({"user_id": "c", "default_model": "nope"}),
            "default_model",
        ),
        (
            "/customer/new",
            json!({"user_id": "c", "max_budget": 1, "budget_id": "b"}),
            "max_budget",
        ),
        ("/budget/new", json!({"tpm_limit": -1}), "tpm_limit"),
        ("/budget/info", json!({}), "budgets"),
    ] {
        let (s, answer) = post(&gw, path, body.clone()).await;
        assert_error(s, &answer, 400, Some(param));
        assert_eq!(
            answer["error"]["type"], "invalid_request_error",
            "{path} {body}: {answer}"
        );
    }
    for (path, param) in [
        ("/key/list?page=0", "page"),
        ("/key/list?size=1000", "size"),
        ("/user/list?role=x", "role"),
    ] {
        let (s, answer) = get(&gw, path).await;
        assert_error(s, &answer, 400, Some(param));
    }
    // Nothing was created by the refused requests.
    let (_, keys) = get(&gw, "/key/list").await;
    assert_eq!(keys["total_count"], 1, "{keys}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400() {
    let gw = start(None).await;
    let response = crate::support::client()
        .post(gw.url("/key/generate"))
        .bearer_auth(MASTER_KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (s, _, body) = crate::support::read_json(response).await;
    assert_error(s, &body, 400, None);
}

#[tokio::test]
async fn unknown_ids_are_404s() {
    let gw = start(None).await;
    for path in [
        "/key/info?key=sk-unknown",
        "/team/info?team_id=nobody",
        "/user/info?user_id=nobody",
        "/customer/info?end_user_id=nobody",
    ] {
        let (s, answer) = get(&gw, path).await;
        assert_error(s, &answer, 404, None);
    }
    for (path, body) in [
        ("/key/update", json!({"key": "sk-unknown", "max_budget": 1})),
        ("/key/delete", json!({"keys": ["sk-unknown"]})),
        ("/key/delete", json!({"key_aliases": ["nobody"]})),
        ("/key/block", json!({"key": "sk-unknown"})),
        ("/key/regenerate", json!({"key": "sk-unknown"})),
        ("/team/update", json!({"team_id": "nobody"})),
        ("/team/delete", json!({"team_ids": ["nobody"]})),
        ("/team/block", json!({"team_id": "nobody"})),
        (
            "/team/member_add",
            json!({"team_id": "nobody", "member": {"user_id": "u"}}),
        ),
        ("/user/update", json!({"user_id": "nobody"})),
        ("/user/delete", json!({"user_ids": ["nobody"]})),
        ("/customer/update", json!({"user_id": "nobody"})),
        ("/customer/delete", json!({"user_ids": ["nobody"]})),
        ("/customer/unblock", json!({"user_ids": ["nobody"]})),
        ("/budget/update", json!({"budget_id": "nobody"})),
        ("/budget/delete", json!({"id": "nobody"})),
        ("/budget/info", json!({"budgets": ["nobody"]})),
    ] {
        let (s, answer) = post(&gw, path, body).await;
        assert_error(s, &answer, 404, None);
    }
}

#[tokio::test]
async fn a_delete_naming_one_unknown_key_deletes_nothing() {
    let gw = start(None).await;
    let key = admin(&gw, "/key/generate", json!({})).await;
    let token = key["token"].as_str().unwrap();
    let (s, answer) = post(&gw, "/key/delete", json!({"keys": [token, "sk-unknown"]})).await;
    assert_error(s, &answer, 404, Some("key"));
    let (s, _) = get(&gw, &format!("/key/info?key={token}")).await;
    assert_eq!(s, 200, "the known key is still there");
}

#[tokio::test]
async fn management_needs_a_key_and_refuses_unknown_ones() {
    let gw = start(None).await;
    let (s, answer) = call(&gw, None, "/key/list", None, None).await;
    assert_error(s, &answer, 401, None);
    let (s, answer) = call(
        &gw,
        Some("sk-wrong"),
        "/key/generate",
        Some(json!({})),
        None,
    )
    .await;
    assert_error(s, &answer, 401, None);
}
