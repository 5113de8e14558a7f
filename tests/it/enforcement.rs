//! Issue 6's enforcement, black-box over real HTTP, every rule on SQLite and
//! on PostgreSQL: model access, allowed routes, rate limits, budgets, the
//! spend the gateway reports, a race of 50 callers against one budget, and
//! blocked end users.
//!
//! Prices are pinned on the mock deployments so that every cost is known in
//! advance. The mock counts a prompt of one "hi" message as 4 tokens
//! (characters / 4 rounded up, plus 3 per message) and an answer as its
//! number of words.

mod access;
mod alerting;
mod budgets;
mod end_users;
mod race;
mod rates;
mod spend;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::management::admin;
use crate::support::databases::TestDb;
use crate::support::{Gateway, MASTER_KEY, client, error_of, read_json};

/// Ten words: a completion of 10 tokens.
const TEN_WORDS: &str = "one two three four five six seven eight nine ten";

/// What one request of `m`, `n` or `race` costs: no charge for the prompt,
/// 10 completion tokens at $0.00001. Requests send `max_tokens: 10`, so the
/// worst case the gateway reserves equals the real cost exactly.
pub const COST: f64 = 0.0001;

/// What one request of `p` costs: 4 prompt tokens at $0.000001 and 10
/// completion tokens at $0.000002.
pub const P_COST: f64 = 4.0 * 0.000001 + 10.0 * 0.000002;

/// The model groups every test here may use.
pub fn models() -> String {
    let priced = |name: &str, extra: &str| {
        format!(
            "  - model_name: {name}\n    litellm_params:\n      model: mock/{name}\n\
             \x20     mock_response: '{TEN_WORDS}'\n      input_cost_per_token: 0\n\
             \x20     output_cost_per_token: 0.00001\n{extra}"
        )
    };
    [
        priced("m", ""),
        priced("n", ""),
        // Slow enough that concurrent requests are all in flight together.
        priced("race", "      mock_latency_ms: 200\n"),
        priced("slow", "      mock_latency_ms: 500\n"),
        // Answers of 12 tokens: a 4-token prompt and 8 words.
        "  - model_name: t\n    litellm_params:\n      model: mock/t\n\
         \x20     mock_response: 'one two three four five six seven eight'\n"
            .to_string(),
        format!(
            "  - model_name: p\n    litellm_params:\n      model: mock/p\n\
             \x20     mock_response: '{TEN_WORDS}'\n      input_cost_per_token: 0.000001\n\
             \x20     output_cost_per_token: 0.000002\n"
        ),
    ]
    .concat()
}

/// A gateway on `db` with the model groups above.
pub async fn start(db: &TestDb) -> Gateway {
    start_with(db, &models(), "").await
}

/// A gateway on `db` with this `model_list` body and more top-level YAML.
pub async fn start_with(db: &TestDb, model_list: &str, more: &str) -> Gateway {
    Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  database_url: '{}'\n\
         \x20 proxy_batch_write_at: 0.2\nmodel_list:\n{model_list}{more}",
        db.url
    ))
    .await
}

/// `/key/generate` with `body`; the plaintext key.
pub async fn new_key(gw: &Gateway, body: Value) -> String {
    let generated = admin(gw, "/key/generate", body).await;
    generated["key"].as_str().unwrap().to_string()
}

/// One answer: status, headers, JSON body.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// A header that must be there, as a number.
    pub fn number(&self, name: &str) -> f64 {
        let value = self
            .header(name)
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers));
        value
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {value:?} is not a number: {e}"))
    }

    /// Asserts an OpenAI-shaped error with this status, type and code.
    pub fn assert_refused(&self, status: u16, error_type: &str, code: Option<&str>) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        let e = error_of(&self.body);
        assert_eq!(e["type"], error_type, "{}", self.body);
        if let Some(code) = code {
            assert_eq!(e["code"], code, "{}", self.body);
        }
        e
    }
}

/// The body of a chat request to `model`, `max_tokens` 10 (see `COST`).
pub fn chat_body(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10})
}

/// POSTs `body` to `path` with `key`.
pub async fn post(gw: &Gateway, key: &str, path: &str, body: &Value) -> Reply {
    let response = client()
        .post(gw.url(path))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = read_json(response).await;
    Reply {
        status,
        headers,
        body,
    }
}

/// A chat completion of `model` with `key`.
pub async fn chat(gw: &Gateway, key: &str, model: &str) -> Reply {
    post(gw, key, "/v1/chat/completions", &chat_body(model)).await
}

/// A chat completion of `model` with `key` for the end user `user`.
pub async fn chat_as(gw: &Gateway, key: &str, model: &str, user: &str) -> Reply {
    let mut body = chat_body(model);
    body["user"] = json!(user);
    post(gw, key, "/v1/chat/completions", &body).await
}

/// Asserts a 200 and returns the reply.
pub fn ok(reply: Reply) -> Reply {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

/// Costs are sums of small binary fractions: equal to within a femto-dollar.
pub fn assert_cost(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-12, "{what}: {got} != {want}");
}

/// Waits until `read` gives `want` (the writer flushes every 0.2 s), at
/// most 5 s; the last value read.
pub async fn flushed<F, Fut>(want: f64, mut read: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = f64>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let got = read().await;
        if (got - want).abs() < 1e-12 || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rate windows are clock minutes, and the previous minute's count slides
/// out as the next one goes on: a test that crossed a minute's edge could
/// see one request more admitted. Starts a rate test with at least 8 s left
/// in the minute (a test takes well under one).
pub async fn away_from_minute_edge() {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 60_000;
    if ms > 52_000 {
        tokio::time::sleep(Duration::from_millis(60_000 - ms as u64 + 100)).await;
    }
}
