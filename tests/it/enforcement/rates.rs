//! Rate limits per key, team, user, end user and model-per-key: `rpm`,
//! `tpm` and `max_parallel_requests`; 429 with `retry-after` and OpenAI's
//! `x-ratelimit-*` headers, which successful answers carry too. The master
//! key is never limited.

use serde_json::{Value, json};

use super::{Reply, away_from_minute_edge, chat, chat_as, new_key, post, start};
use crate::management::admin;
use crate::support::databases::{BOTH, TestDb};
use crate::support::{Gateway, MASTER_KEY};

/// A 200 whose headers report `remaining` of an `rpm` of `limit`.
fn assert_admitted(reply: &Reply, limit: u64, remaining: u64) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("x-ratelimit-limit-requests"),
        Some(limit.to_string().as_str()),
        "{:?}",
        reply.headers
    );
    assert_eq!(
        reply.header("x-ratelimit-remaining-requests"),
        Some(remaining.to_string().as_str()),
        "{:?}",
        reply.headers
    );
}

/// A 429 `rate_limit_exceeded` whose headers report nothing left of
/// `limit` in `dimension` (`requests` or `tokens`), with a whole number of
/// seconds to wait.
fn assert_limited(reply: &Reply, dimension: &str, limit: u64) {
    reply.assert_refused(429, "rate_limit_error", Some("rate_limit_exceeded"));
    let retry_after = reply.header("retry-after").expect("retry-after");
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("retry-after must be whole seconds: {retry_after:?}"));
    assert!(seconds >= 1, "retry-after {seconds}");
    let header = |what: &str| format!("x-ratelimit-{what}-{dimension}");
    assert_eq!(
        reply.header(&header("limit")),
        Some(limit.to_string().as_str()),
        "{:?}",
        reply.headers
    );
    assert_eq!(
        reply.header(&header("remaining")),
        Some("0"),
        "{:?}",
        reply.headers
    );
    assert!(
        reply.header(&header("reset")).is_some(),
        "{:?}",
        reply.headers
    );
}

/// Two requests of `m` admitted under an `rpm` of 2, the third refused.
async fn two_then_limited(gw: &Gateway, keys: [&str; 3], user: Option<&str>) {
    let send = |key: &str| {
        let key = key.to_string();
        async move {
            match user {
                Some(user) => chat_as(gw, &key, "m", user).await,
                None => chat(gw, &key, "m").await,
            }
        }
    };
    assert_admitted(&send(keys[0]).await, 2, 1);
    assert_admitted(&send(keys[1]).await, 2, 0);
    assert_limited(&send(keys[2]).await, "requests", 2);
}

#[tokio::test]
async fn a_keys_rpm_limit() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"rpm_limit": 2})).await;
        let other = new_key(&gw, json!({})).await;
        away_from_minute_edge().await;
        two_then_limited(&gw, [&key, &key, &key], None).await;
        // Another key is not held back, and says nothing of limits it has not.
        let free = chat(&gw, &other, "m").await;
        assert_eq!(free.status, 200, "{kind:?}: {}", free.body);
        assert_eq!(free.header("x-ratelimit-limit-requests"), None);
    }
}

#[tokio::test]
async fn a_teams_rpm_limit_counts_every_key_of_the_team() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        admin(&gw, "/team/new", json!({"team_id": "t", "rpm_limit": 2})).await;
        let first = new_key(&gw, json!({"team_id": "t"})).await;
        let second = new_key(&gw, json!({"team_id": "t"})).await;
        away_from_minute_edge().await;
        two_then_limited(&gw, [&first, &second, &first], None).await;
    }
}

#[tokio::test]
async fn a_users_rpm_limit_counts_every_key_of_the_user() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let user = admin(&gw, "/user/new", json!({"user_id": "u", "rpm_limit": 2})).await;
        let first = user["key"].as_str().unwrap().to_string();
        let second = new_key(&gw, json!({"user_id": "u"})).await;
        away_from_minute_edge().await;
        two_then_limited(&gw, [&first, &second, &second], None).await;
    }
}

/// An end user limited through a budget row, as LiteLLM does it.
async fn limited_customer(gw: &Gateway, id: &str) {
    let budget = json!({"budget_id": format!("b-{id}"), "rpm_limit": 2});
    admin(gw, "/budget/new", budget).await;
    let customer = json!({"user_id": id, "budget_id": format!("b-{id}")});
    admin(gw, "/customer/new", customer).await;
}

#[tokio::test]
async fn an_end_users_rpm_limit_across_keys() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        limited_customer(&gw, "acme").await;
        let first = new_key(&gw, json!({})).await;
        let second = new_key(&gw, json!({})).await;
        away_from_minute_edge().await;
        two_then_limited(&gw, [&first, &second, &first], Some("acme")).await;
        // The same key for another end user, or for none, is not limited.
        let other = chat_as(&gw, &first, "m", "globex").await;
        assert_eq!(other.status, 200, "{kind:?}: {}", other.body);
        let none = chat(&gw, &first, "m").await;
        assert_eq!(none.status, 200, "{kind:?}: {}", none.body);
    }
}

#[tokio::test]
async fn a_keys_model_rpm_limit_holds_back_that_model_only() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"model_rpm_limit": {"m": 1}})).await;
        away_from_minute_edge().await;
        assert_admitted(&chat(&gw, &key, "m").await, 1, 0);
        assert_limited(&chat(&gw, &key, "m").await, "requests", 1);
        for _ in 0..3 {
            let other = chat(&gw, &key, "n").await;
            assert_eq!(other.status, 200, "{kind:?}: {}", other.body);
        }
    }
}

/// A chat request of `t` (answers of 12 tokens: 4 of prompt, 8 of
/// completion) without `max_tokens`, so that the tokens the gateway
/// estimates before the call are the prompt's alone.
fn twelve_tokens() -> Value {
    json!({"model": "t", "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn a_keys_tpm_limit_counts_the_answers_tokens() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"tpm_limit": 20})).await;
        away_from_minute_edge().await;
        let body = twelve_tokens();
        let send = || post(&gw, &key, "/v1/chat/completions", &body);
        let first = send().await;
        assert_eq!(first.status, 200, "{kind:?}: {}", first.body);
        assert_eq!(first.body["usage"]["total_tokens"], 12, "{}", first.body);
        assert_eq!(first.header("x-ratelimit-limit-tokens"), Some("20"));
        assert_eq!(first.header("x-ratelimit-remaining-tokens"), Some("8"));
        // 12 of 20 used: one more request still fits, then 24 are used.
        let second = send().await;
        assert_eq!(second.status, 200, "{kind:?}: {}", second.body);
        assert_limited(&send().await, "tokens", 20);
    }
}

#[tokio::test]
async fn max_parallel_requests_refuses_the_second_concurrent_request() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"max_parallel_requests": 1})).await;
        // `slow` answers after 500 ms: the two overlap.
        let (a, b) = tokio::join!(chat(&gw, &key, "slow"), chat(&gw, &key, "slow"));
        let (admitted, refused) = if a.status == 200 { (a, b) } else { (b, a) };
        assert_eq!(admitted.status, 200, "{kind:?}: {}", admitted.body);
        refused.assert_refused(429, "rate_limit_error", Some("rate_limit_exceeded"));
        let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!(retry_after >= 1, "{kind:?}: retry-after {retry_after}");
        // The slot is free again once the first has answered.
        let after = chat(&gw, &key, "slow").await;
        assert_eq!(after.status, 200, "{kind:?}: {}", after.body);
    }
}

#[tokio::test]
async fn the_master_key_is_never_limited() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        limited_customer(&gw, "acme").await;
        away_from_minute_edge().await;
        for i in 0..5 {
            let reply = chat_as(&gw, MASTER_KEY, "m", "acme").await;
            assert_eq!(reply.status, 200, "{kind:?}: request {i}: {}", reply.body);
        }
    }
}
