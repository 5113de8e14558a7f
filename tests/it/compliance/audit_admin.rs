//! With `compliance.audit` on, every management call that changes something
//! leaves one `admin_action` record (refused ones too) naming the route,
//! the caller and the status, with every key replaced by its hash; anchors
//! reach a webhook by count and by time; bad anchor settings are config
//! errors with file, line and key.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::support::databases::{BOTH, Db, TestDb};
use crate::support::{Gateway, MASTER_KEY, client, read_json};
use switchyard::audit::{Anchor, AuditRecord};
use switchyard::auth::hash_key;
use switchyard::store::Store;

const SECRET: &str = "audit-secret-for-tests-only";

fn config(db: &TestDb, audit_extra: &str) -> String {
    format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  database_url: '{}'\n\
         compliance:\n  audit:\n    secret: {SECRET}\n{audit_extra}\
         model_list:\n- {{model_name: m, litellm_params: {{model: mock/m, mock_response: ok}}}}\n",
        db.url
    )
}

/// POSTs `body` with `key` (none: no auth header).
async fn call(gw: &Gateway, key: Option<&str>, path: &str, body: Value) -> (u16, Value) {
    let mut request = client().post(gw.url(path)).json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let (status, _, body) = read_json(request.send().await.unwrap()).await;
    (status, body)
}

/// The records once there are `n` (the writer batches every second).
async fn records(store: &Store, n: usize) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    for _ in 0..100 {
        records = switchyard::audit::records(store).await.unwrap();
        if records.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    records
}

fn json_of(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("kept in plaintext")).unwrap()
}

#[tokio::test]
async fn admin_actions_are_recorded_with_route_caller_and_status_and_no_key() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = Gateway::start(&config(&db, "")).await;
        let master = Some(MASTER_KEY);

        let (s, _) = call(&gw, master, "/team/new", json!({"team_id": "t-audit"})).await;
        assert_eq!(s, 200, "{kind:?}");
        let (s, user) = call(
            &gw,
            master,
            "/user/new",
            json!({"user_id": "u-audit", "user_role": "internal_user"}),
        )
        .await;
        assert_eq!(s, 200, "{kind:?}: {user}");
        let (s, made) = call(
            &gw,
            master,
            "/key/generate",
            json!({"user_id": "u-audit", "team_id": "t-audit", "key_alias": "audited"}),
        )
        .await;
        assert_eq!(s, 200, "{kind:?}: {made}");
        let key = made["key"].as_str().unwrap().to_string();
        let token = hash_key(&key);
        let (s, _) = call(
            &gw,
            master,
            "/team/update",
            json!({"team_id": "t-audit", "max_budget": 10}),
        )
        .await;
        assert_eq!(s, 200, "{kind:?}");
        // An internal user may not make keys: refused, and recorded.
        let chosen = "sk-chosen-by-a-non-admin-1234";
        let (s, _) = call(&gw, Some(&key), "/key/generate", json!({"key": chosen})).await;
        assert_eq!(s, 403, "{kind:?}");
        // The plaintext in the path is a secret too.
        let (s, renewed) = call(&gw, master, &format!("/key/{key}/regenerate"), json!({})).await;
        assert_eq!(s, 200, "{kind:?}: {renewed}");
        let new_key = renewed["key"].as_str().unwrap().to_string();
        let (s, _) = call(&gw, None, "/team/new", json!({"team_id": "nobody"})).await;
        assert_eq!(s, 401, "{kind:?}");
        // A read that is a POST leaves no record.
        let (s, _) = call(&gw, master, "/budget/info", json!({"budgets": []})).await;
        assert_ne!(s, 0);
        let (s, _) = call(
            &gw,
            master,
            "/user/delete",
            json!({"user_ids": ["u-audit"]}),
        )
        .await;
        assert_eq!(s, 200, "{kind:?}");

        let store = Store::open(&db.url).await.unwrap();
        let all = records(&store, 9).await;
        assert_eq!(
            all.len(),
            9,
            "{kind:?}: the config load and 8 admin actions"
        );
        let admin: Vec<&AuditRecord> = all.iter().filter(|r| r.kind == "admin_action").collect();
        let routes: Vec<&str> = admin
            .iter()
            .map(|r| r.model_group.as_deref().unwrap())
            .collect();
        assert_eq!(
            routes,
            [
                "/team/new",
                "/user/new",
                "/key/generate",
                "/team/update",
                "/key/generate",
                "/key/{key}/regenerate",
                "/team/new",
                "/user/delete"
            ],
            "{kind:?}"
        );
        for r in &admin {
            assert_eq!(r.caller_addr.as_deref(), Some("127.0.0.1"), "{kind:?}");
            assert!(r.request_id.is_some(), "{kind:?}");
            assert!(r.response_hmac.is_some(), "{kind:?}: hashed as well");
        }
        let status = |r: &AuditRecord| json_of(r.response_plaintext.as_deref())["status"].clone();
        let by_master = |r: &&&AuditRecord| r.user_id.as_deref() == Some("master_key");

        let generated = admin[2];
        assert!(by_master(&&generated) && generated.key_hash.is_none());
        let outcome = json_of(generated.response_plaintext.as_deref());
        assert_eq!(outcome, json!({"status": 200, "token": token}), "{kind:?}");
        let asked = json_of(generated.prompt_plaintext.as_deref());
        assert_eq!(asked["team_id"], "t-audit", "{kind:?}: {asked}");

        let updated = admin[3];
        assert!(by_master(&&updated));
        assert_eq!(status(updated), 200);
        assert_eq!(
            json_of(updated.prompt_plaintext.as_deref())["max_budget"],
            10
        );

        let refused = admin[4];
        assert_eq!(
            (
                refused.key_hash.as_deref(),
                refused.user_id.as_deref(),
                refused.team_id.as_deref()
            ),
            (Some(token.as_str()), Some("u-audit"), Some("t-audit")),
            "{kind:?}: the caller is the virtual key"
        );
        let outcome = json_of(refused.response_plaintext.as_deref());
        assert_eq!(outcome["status"], 403, "{kind:?}");
        assert_eq!(outcome["error"]["type"], "permission_error", "{outcome}");
        assert_eq!(
            json_of(refused.prompt_plaintext.as_deref()),
            json!({"key": format!("sha256:{}", hash_key(chosen))}),
            "{kind:?}: the chosen key, as its hash"
        );

        let regenerated = admin[5];
        let asked = json_of(regenerated.prompt_plaintext.as_deref());
        assert_eq!(
            asked["path_params"]["key"],
            format!("sha256:{token}"),
            "{kind:?}"
        );
        let outcome = json_of(regenerated.response_plaintext.as_deref());
        assert_eq!(outcome["token"], hash_key(&new_key), "{kind:?}");

        let unauthenticated = admin[6];
        assert_eq!(
            (
                unauthenticated.user_id.as_deref(),
                unauthenticated.key_hash.as_deref()
            ),
            (None, None)
        );
        assert_eq!(status(unauthenticated), 401, "{kind:?}");

        let deleted = admin[7];
        assert!(by_master(&&deleted));
        assert_eq!(status(deleted), 200, "{kind:?}");
        assert_eq!(
            json_of(deleted.prompt_plaintext.as_deref()),
            json!({"user_ids": ["u-audit"]})
        );

        // No plaintext key in any column of any record.
        let user_key = user["key"].as_str().unwrap_or("sk-none-made").to_string();
        for r in &all {
            let text = serde_json::to_string(r).unwrap();
            for secret in [
                key.as_str(),
                new_key.as_str(),
                chosen,
                MASTER_KEY,
                &user_key,
            ] {
                assert!(
                    !text.contains(secret),
                    "{kind:?}: {secret} in record {}: {text}",
                    r.seq
                );
            }
        }
        let verdict = switchyard::audit::verify(&store, &[]).await.unwrap();
        assert!(verdict.is_ok(), "{kind:?}: {verdict:?}");
    }
}

/// A loopback webhook: every POSTed body, parsed, with its content type;
/// answers 500 to the first and 200 after (a failing webhook is logged,
/// never fatal).
async fn webhook() -> (String, mpsc::UnboundedReceiver<(String, Anchor)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/anchors",
        axum::routing::post(move |headers: HeaderMap, body: bytes::Bytes| {
            let tx = tx.clone();
            let calls = calls.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                if let Ok(anchor) = serde_json::from_slice::<Anchor>(&body) {
                    let _ = tx.send((kind, anchor));
                }
                match calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
                    0 => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::OK,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/anchors", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Anchor)>) -> (String, Anchor) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an anchor within 10 s")
        .unwrap()
}

#[tokio::test]
async fn anchors_are_posted_to_the_webhook_by_count() {
    let db = TestDb::fresh(Db::Sqlite).await;
    let (url, mut anchors) = webhook().await;
    let gw = Gateway::start(&config(
        &db,
        &format!("    anchor_every_records: 1\n    anchor_webhook: {url}\n"),
    ))
    .await;
    let (kind, first) = next(&mut anchors).await;
    assert_eq!(kind, "application/json");
    assert_eq!(first.seq, 1, "the config load");
    // The webhook answered 500 to that one: the log goes on all the same.
    let (s, _) = call(&gw, Some(MASTER_KEY), "/team/new", json!({"team_id": "a"})).await;
    assert_eq!(s, 200);
    let (_, second) = next(&mut anchors).await;
    assert_eq!(second.seq, 2);
    let store = Store::open(&db.url).await.unwrap();
    let all = records(&store, 2).await;
    assert_eq!(
        (first.hash.as_str(), second.hash.as_str()),
        (all[0].hash.as_str(), all[1].hash.as_str())
    );
    assert!(second.time_ms >= first.time_ms && second.time_ms > 0);
    assert!(second.time.ends_with('Z'), "{}", second.time);
    let verdict = switchyard::audit::verify(&store, &[first, second])
        .await
        .unwrap();
    assert!(verdict.is_ok(), "{verdict:?}");
}

#[tokio::test]
async fn anchors_are_posted_to_the_webhook_by_time() {
    let db = TestDb::fresh(Db::Sqlite).await;
    let (url, mut anchors) = webhook().await;
    let _gw = Gateway::start(&config(
        &db,
        &format!(
            "    anchor_every_records: 1000000\n    anchor_every: 1s\n    anchor_webhook: {url}\n"
        ),
    ))
    .await;
    // Far below the count: only the time can bring it.
    let (_, anchor) = next(&mut anchors).await;
    assert_eq!(anchor.seq, 1);
}

#[test]
fn a_bad_anchor_setting_names_file_line_and_key() {
    let yaml = "\
compliance:
  audit:
    secret: audit-secret-for-tests-only
    anchor_every: every now and then
    anchor_webhook: not-a-url-but-a-secret
";
    let errors = switchyard::config::load_str(yaml, "conf/audit.yaml")
        .err()
        .expect("the config is invalid")
        .to_string();
    assert!(
        errors.contains("conf/audit.yaml:4: compliance.audit.anchor_every: must be a duration"),
        "{errors}"
    );
    assert!(
        errors
            .contains("conf/audit.yaml:5: compliance.audit.anchor_webhook: must be an http(s) URL"),
        "{errors}"
    );
    assert!(!errors.contains("not-a-url-but-a-secret"), "{errors}");
}
