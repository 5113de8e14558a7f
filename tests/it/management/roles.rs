//! Who may call the management API: the master key and proxy_admin users
//! change; proxy_admin_viewer users read; other keys neither, except their
//! own key's and user's info.

use serde_json::{Value, json};

use super::{admin, assert_error, call, chat, start};
use crate::support::Gateway;

/// A key of a new user with `role` (none: a key without a user).
async fn key_with_role(gw: &Gateway, role: Option<&str>) -> String {
    let body = match role {
        Some(role) => {
            let user_id = format!("user-{role}");
            admin(
                gw,
                "/user/new",
                json!({"user_id": user_id, "user_role": role}),
            )
            .await
        }
        None => admin(gw, "/key/generate", json!({})).await,
    };
    body["key"].as_str().unwrap().to_string()
}

async fn status(gw: &Gateway, key: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(gw, Some(key), path, body, None).await
}

#[tokio::test]
async fn a_key_without_admin_role_cannot_manage() {
    let gw = start(None).await;
    for role in [None, Some("internal_user"), Some("internal_user_viewer")] {
        let key = key_with_role(&gw, role).await;
        assert_eq!(chat(&gw, &key).await.0, 200, "{role:?} keys call models");
        let (s, body) = status(&gw, &key, "/key/generate", Some(json!({}))).await;
        assert_error(s, &body, 403, None);
        let (s, body) = status(&gw, &key, "/key/list", None).await;
        assert_error(s, &body, 403, None);
        let (s, body) = status(&gw, &key, "/team/new", Some(json!({"team_id": "x"}))).await;
        assert_error(s, &body, 403, None);
        let (s, body) = status(&gw, &key, "/customer/list", None).await;
        assert_error(s, &body, 403, None);
        // Its own key's info, though, it may read.
        let (s, own) = status(&gw, &key, "/key/info", None).await;
        assert_eq!(s, 200, "{role:?}: {own}");
    }
}

#[tokio::test]
async fn a_key_cannot_read_another_keys_info_without_a_viewer_role() {
    let gw = start(None).await;
    let mine = key_with_role(&gw, Some("internal_user")).await;
    let other = admin(&gw, "/key/generate", json!({})).await;
    let path = format!("/key/info?key={}", other["token"].as_str().unwrap());
    let (s, body) = status(&gw, &mine, &path, None).await;
    assert_error(s, &body, 403, None);
    // Its own user, yes; another user, no.
    let (s, own) = status(&gw, &mine, "/user/info", None).await;
    assert_eq!(
        (s, &own["user_id"]),
        (200, &json!("user-internal_user")),
        "{own}"
    );
    admin(
        &gw,
        "/user/new",
        json!({"user_id": "bob", "auto_create_key": false}),
    )
    .await;
    let (s, body) = status(&gw, &mine, "/user/info?user_id=bob", None).await;
    assert_error(s, &body, 403, None);
}

#[tokio::test]
async fn a_viewer_reads_everything_and_changes_nothing() {
    let gw = start(None).await;
    let viewer = key_with_role(&gw, Some("proxy_admin_viewer")).await;
    let other = admin(&gw, "/key/generate", json!({"key_alias": "other"})).await;
    admin(&gw, "/team/new", json!({"team_id": "t1"})).await;
    admin(
        &gw,
        "/budget/new",
        json!({"budget_id": "b1", "max_budget": 5}),
    )
    .await;

    let token = other["token"].as_str().unwrap();
    for path in [
        format!("/key/info?key={token}"),
        "/key/list".to_string(),
        "/team/list".to_string(),
        "/team/info?team_id=t1".to_string(),
        "/user/list".to_string(),
        "/customer/list".to_string(),
        "/budget/list".to_string(),
    ] {
        let (s, body) = status(&gw, &viewer, &path, None).await;
        assert_eq!(s, 200, "{path}: {body}");
    }
    let (s, body) = status(
        &gw,
        &viewer,
        "/budget/info",
        Some(json!({"budgets": ["b1"]})),
    )
    .await;
    assert_eq!(s, 200, "{body}");

    for (path, body) in [
        ("/key/generate", json!({})),
        ("/key/update", json!({"key": token, "max_budget": 1})),
        ("/key/block", json!({"key": token})),
        ("/key/delete", json!({"keys": [token]})),
        ("/key/regenerate", json!({"key": token})),
        ("/team/new", json!({"team_id": "t2"})),
        ("/team/delete", json!({"team_ids": ["t1"]})),
        ("/user/new", json!({})),
        ("/customer/new", json!({"user_id": "c"})),
        ("/budget/new", json!({})),
        ("/budget/delete", json!({"id": "b1"})),
    ] {
        let (s, answer) = status(&gw, &viewer, path, Some(body)).await;
        assert_error(s, &answer, 403, None);
    }
    // Nothing changed.
    let (_, list) = call(
        &gw,
        Some(&viewer),
        "/key/list?return_full_object=true",
        None,
        None,
    )
    .await;
    let other_now = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["token"] == token)
        .unwrap();
    assert_eq!(other_now["blocked"], false, "{list}");
}

#[tokio::test]
async fn a_proxy_admin_user_manages_like_the_master_key() {
    let gw = start(None).await;
    let root = key_with_role(&gw, Some("proxy_admin")).await;
    let (s, made) = status(
        &gw,
        &root,
        "/key/generate",
        Some(json!({"key_alias": "by-admin"})),
    )
    .await;
    assert_eq!(s, 200, "{made}");
    assert_eq!(chat(&gw, made["key"].as_str().unwrap()).await.0, 200);
    let (s, _) = status(&gw, &root, "/team/new", Some(json!({"team_id": "ops"}))).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_role_change_takes_effect_at_once() {
    let gw = start(None).await;
    let key = key_with_role(&gw, Some("internal_user")).await;
    assert_eq!(status(&gw, &key, "/key/list", None).await.0, 403);
    admin(
        &gw,
        "/user/update",
        json!({"user_id": "user-internal_user", "user_role": "proxy_admin_viewer"}),
    )
    .await;
    assert_eq!(status(&gw, &key, "/key/list", None).await.0, 200);
}

#[tokio::test]
async fn an_open_gateway_is_open_here_too() {
    let gw = Gateway::start(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: mock/gpt-4o\n",
    )
    .await;
    let (s, made) = call(
        &gw,
        None,
        "/key/generate",
        Some(json!({"key_alias": "k"})),
        None,
    )
    .await;
    assert_eq!(s, 200, "{made}");
    let (s, list) = call(&gw, None, "/key/list", None, None).await;
    assert_eq!((s, &list["total_count"]), (200, &json!(1)), "{list}");
}
