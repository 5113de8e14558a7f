//! Budget alerts through the request path: a key whose spend crosses 80 %
//! of its budget, then the budget itself, posts one alert for each
//! crossing to the Slack and generic webhooks, and none twice.

use serde_json::json;

use super::*;
use crate::alerts::hook::Hook;
use crate::support::databases::Db;

#[tokio::test]
async fn crossing_the_threshold_and_the_budget_posts_one_alert_each() {
    let hook = Hook::ok().await;
    let db = TestDb::fresh(Db::Sqlite).await;
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  database_url: '{}'\n\
         \x20 alerting: [slack, webhook]\n  slack_webhook_url: {}\n  webhook_url: {}\n\
         model_list:\n{}",
        db.url,
        hook.url("/slack"),
        hook.url("/generic"),
        models()
    ))
    .await;
    // Each request of `m` costs $0.0001: the 9th reaches 90 % of $0.001,
    // the 10th all of it, the 11th is refused.
    let key = new_key(
        &gw,
        json!({"max_budget": 0.001, "key_alias": "marketing-bot"}),
    )
    .await;
    for i in 0..8 {
        ok(chat(&gw, &key, "m").await);
        assert!(hook.received().is_empty(), "request {i}: below 80 %");
    }
    ok(chat(&gw, &key, "m").await);
    hook.wait_for(2).await;
    ok(chat(&gw, &key, "m").await);
    hook.wait_for(4).await;
    chat(&gw, &key, "m")
        .await
        .assert_refused(429, "budget_exceeded", Some("budget_exceeded"));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let events: Vec<String> = hook
        .bodies("/generic")
        .iter()
        .map(|b| b["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["threshold_crossed", "budget_crossed"]);
    let slack = hook.bodies("/slack");
    assert_eq!(slack.len(), 2);
    assert!(
        slack[0]["text"].as_str().unwrap().contains("marketing-bot"),
        "{slack:?}"
    );
    let all = serde_json::to_string(&hook.received().iter().map(|r| &r.body).collect::<Vec<_>>())
        .unwrap();
    assert!(
        !all.contains(&key),
        "the plaintext key never leaves the gateway"
    );
}
