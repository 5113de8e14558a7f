//! Budgets at key, team, user, end-user and model-per-key level: over
//! budget is a 429 of type `budget_exceeded`; `budget_duration` gives the
//! budget back when its period ends; `soft_budget` never refuses.
//!
//! Each request of `m` or `n` costs `COST` ($0.0001) and reserves exactly
//! that beforehand. A budget of $0.00025 therefore admits two requests: the
//! third's worst case would take the spend to $0.0003.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{COST, Reply, chat, chat_as, new_key, ok, start};
use crate::management::admin;
use crate::support::databases::{BOTH, TestDb};

const BUDGET: f64 = 0.00025;

fn assert_over_budget(reply: &Reply) {
    reply.assert_refused(429, "budget_exceeded", None);
}

#[tokio::test]
async fn a_keys_max_budget() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"max_budget": BUDGET})).await;
        let other = new_key(&gw, json!({})).await;
        for _ in 0..2 {
            let reply = ok(chat(&gw, &key, "m").await);
            super::assert_cost(reply.number("x-litellm-response-cost"), COST, "cost");
        }
        assert_over_budget(&chat(&gw, &key, "m").await);
        assert_over_budget(&chat(&gw, &key, "n").await);
        // Someone else's budget is not touched.
        ok(chat(&gw, &other, "m").await);
    }
}

#[tokio::test]
async fn the_keys_of_a_team_spend_the_teams_budget_together() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        admin(
            &gw,
            "/team/new",
            json!({"team_id": "t", "max_budget": BUDGET}),
        )
        .await;
        let first = new_key(&gw, json!({"team_id": "t"})).await;
        let second = new_key(&gw, json!({"team_id": "t"})).await;
        ok(chat(&gw, &first, "m").await);
        ok(chat(&gw, &second, "m").await);
        assert_over_budget(&chat(&gw, &first, "m").await);
        assert_over_budget(&chat(&gw, &second, "m").await);
    }
}

#[tokio::test]
async fn a_users_budget_covers_every_key_of_the_user() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let user = admin(
            &gw,
            "/user/new",
            json!({"user_id": "u", "max_budget": BUDGET}),
        )
        .await;
        let first = user["key"].as_str().unwrap().to_string();
        let second = new_key(&gw, json!({"user_id": "u"})).await;
        ok(chat(&gw, &first, "m").await);
        ok(chat(&gw, &second, "m").await);
        assert_over_budget(&chat(&gw, &first, "m").await);
        assert_over_budget(&chat(&gw, &second, "m").await);
    }
}

#[tokio::test]
async fn an_end_users_budget_across_keys() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let customer = json!({"user_id": "acme", "max_budget": BUDGET});
        admin(&gw, "/customer/new", customer).await;
        let first = new_key(&gw, json!({})).await;
        let second = new_key(&gw, json!({})).await;
        ok(chat_as(&gw, &first, "m", "acme").await);
        ok(chat_as(&gw, &second, "m", "acme").await);
        assert_over_budget(&chat_as(&gw, &first, "m", "acme").await);
        // The keys themselves still work, for another end user or none.
        ok(chat_as(&gw, &first, "m", "globex").await);
        ok(chat(&gw, &second, "m").await);
    }
}

#[tokio::test]
async fn a_keys_model_max_budget_holds_back_that_model_only() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        // LiteLLM's shape; $0.00015 affords one request of m.
        let limits = json!({"m": {"budget_limit": 0.00015, "time_period": "1d"}});
        let key = new_key(&gw, json!({"model_max_budget": limits})).await;
        ok(chat(&gw, &key, "m").await);
        assert_over_budget(&chat(&gw, &key, "m").await);
        for _ in 0..3 {
            ok(chat(&gw, &key, "n").await);
        }
    }
}

#[tokio::test]
async fn a_budget_comes_back_when_its_period_ends() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        // $0.00015 a period: one request, then refusals until the reset.
        let body = json!({"max_budget": 0.00015, "budget_duration": "2s"});
        let key = new_key(&gw, body).await;
        let created = Instant::now();
        ok(chat(&gw, &key, "m").await);
        assert_over_budget(&chat(&gw, &key, "m").await);
        let reset = loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let reply = chat(&gw, &key, "m").await;
            if reply.status == 200 {
                break created.elapsed();
            }
            assert_over_budget(&reply);
            assert!(
                created.elapsed() < Duration::from_secs(5),
                "{kind:?}: the 2 s budget never came back"
            );
        };
        assert!(
            reset >= Duration::from_millis(900),
            "{kind:?}: reset after {reset:?}, before its period could end"
        );
    }
}

#[tokio::test]
async fn a_soft_budget_never_refuses() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({"soft_budget": COST})).await;
        for _ in 0..4 {
            ok(chat(&gw, &key, "m").await);
        }
    }
}

/// `router_settings.tag_budget_config`: requests tagged `project-x` share
/// its budget whatever key sends them; untagged requests are not held to
/// it; and a restarted gateway remembers what the tag spent (seeded from
/// the spend logs).
#[tokio::test]
async fn a_tag_budget_holds_across_keys_and_restarts() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let tag_budget = format!(
            "router_settings:\n  tag_budget_config:\n    project-x: {{budget_limit: {BUDGET}, time_period: 1d}}\n"
        );
        let gw = super::start_with(&db, &super::models(), &tag_budget).await;
        let (a, b) = (new_key(&gw, json!({})).await, new_key(&gw, json!({})).await);
        let tagged = |model: &str| {
            let mut body = super::chat_body(model);
            body["tags"] = json!(["project-x"]);
            body
        };
        ok(super::post(&gw, &a, "/v1/chat/completions", &tagged("m")).await);
        ok(super::post(&gw, &b, "/v1/chat/completions", &tagged("m")).await);
        let refused = super::post(&gw, &a, "/v1/chat/completions", &tagged("m")).await;
        assert_over_budget(&refused);
        assert!(
            refused.body.to_string().contains("project-x"),
            "{}",
            refused.body
        );
        ok(chat(&gw, &a, "m").await);
        // After the flush, a new gateway on the same database still refuses.
        tokio::time::sleep(Duration::from_millis(600)).await;
        drop(gw);
        let gw = super::start_with(&db, &super::models(), &tag_budget).await;
        assert_over_budget(&super::post(&gw, &b, "/v1/chat/completions", &tagged("m")).await);
        ok(chat(&gw, &b, "m").await);
    }
}
