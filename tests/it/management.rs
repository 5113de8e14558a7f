//! LiteLLM's management API over HTTP: keys, teams, users, customers and
//! budgets on SQLite and PostgreSQL, the keys authenticating (or not) on
//! `/v1/chat/completions`, roles, validation, and instances sharing one
//! database.

mod lifecycle;
mod others;
mod refresh;
mod roles;
mod validation;

use serde_json::{Value, json};

use crate::support::databases::TestDb;
use crate::support::{Gateway, MASTER_KEY, client};

/// A gateway with the master key, one mock model group (cleared for
/// internal data, the class the script's key carries) and the given
/// database (`None`: in memory); refreshes its accounts every 200 ms.
pub async fn start(db: Option<&TestDb>) -> Gateway {
    let database = db.map_or(String::new(), |db| {
        format!("  database_url: '{}'\n", db.url)
    });
    Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n{database}  accounts_refresh_interval: 0.2\n\
         model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: mock/gpt-4o\n\
         \x20   model_info:\n      max_data_class: internal\n"
    ))
    .await
}

/// Every answer a test received, to check afterwards what was shown.
#[derive(Default)]
pub struct Transcript(Vec<(String, String)>);

impl Transcript {
    /// Asserts that `secret` was shown by `allowed` routes only.
    pub fn assert_only_in(&self, secret: &str, allowed: &[&str]) {
        for (path, body) in &self.0 {
            if body.contains(secret) {
                assert!(
                    allowed.iter().any(|a| path.starts_with(a)),
                    "{path} showed the plaintext key: {body}"
                );
            }
        }
    }
}

/// One call with `key` (none: no auth header); status and JSON body.
pub async fn call(
    gw: &Gateway,
    key: Option<&str>,
    path: &str,
    body: Option<Value>,
    transcript: Option<&mut Transcript>,
) -> (u16, Value) {
    let mut request = match &body {
        Some(b) => client().post(gw.url(path)).json(b),
        None => client().get(gw.url(path)),
    };
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    if let Some(t) = transcript {
        t.0.push((path.to_string(), text.clone()));
    }
    let json =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
    (status, json)
}

/// POST with the master key; asserts a 200 and returns the body.
pub async fn admin(gw: &Gateway, path: &str, body: Value) -> Value {
    let (status, json) = call(gw, Some(MASTER_KEY), path, Some(body), None).await;
    assert_eq!(status, 200, "{path}: {json}");
    json
}

/// GET with the master key; asserts a 200 and returns the body.
pub async fn admin_get(gw: &Gateway, path: &str) -> Value {
    let (status, json) = call(gw, Some(MASTER_KEY), path, None, None).await;
    assert_eq!(status, 200, "{path}: {json}");
    json
}

/// A chat completion with `key`; its status and body.
pub async fn chat(gw: &Gateway, key: &str) -> (u16, Value) {
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    call(gw, Some(key), "/v1/chat/completions", Some(body), None).await
}

/// Asserts an OpenAI-shaped error with this status (and `param`, if given).
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_param: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    let e = crate::support::error_of(body);
    if let Some(param) = want_param {
        assert_eq!(e["param"], param, "{body}");
    }
}
