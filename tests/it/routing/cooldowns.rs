//! Cooldowns: a deployment failing more than `allowed_fails` times in a
//! minute is skipped for `cooldown_time`; a group with every deployment
//! cooling down answers 429 with the time to the earliest recovery.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn a_failing_deployment_cools_down_and_recovers() {
    let bad = failing(500).await;
    let good = ok("good").await;
    let gw = gateway(
        "  num_retries: 1\n  allowed_fails: 1\n  cooldown_time: 0.6\n",
        &[entry("m", "bad", &bad, ""), entry("m", "good", &good, "")],
    )
    .await;
    // Until bad has failed twice (more than allowed_fails: 1), it is picked
    // now and then; every client request still succeeds.
    for _ in 0..40 {
        let (status, _, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200, "{body}");
        if bad.requests().len() >= 2 {
            break;
        }
    }
    assert_eq!(
        bad.requests().len(),
        2,
        "bad cooled down after its second failure"
    );
    let (status, _, state) = gw.get("/router/state", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{state}");
    let bad_state = state["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "bad")
        .unwrap()
        .clone();
    assert_eq!(bad_state["healthy"], false, "{state}");
    assert_eq!(bad_state["cooldown_reason"], "server_error", "{state}");
    assert!(
        bad_state["cooldown_remaining_s"].as_f64().unwrap() <= 0.6,
        "{state}"
    );
    for _ in 0..10 {
        let (status, h, _) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200);
        assert_eq!(header(&h, "x-litellm-model-id"), "good");
    }
    assert_eq!(
        bad.requests().len(),
        2,
        "no request reaches a cooling deployment"
    );
    tokio::time::sleep(Duration::from_millis(650)).await;
    let (_, _, state) = gw.get("/router/state", Some(MASTER_KEY)).await;
    let bad_state = state["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "bad")
        .unwrap()
        .clone();
    assert_eq!(bad_state["healthy"], true, "recovered: {state}");
    for _ in 0..40 {
        gw.post("/v1/chat/completions", &ask("m")).await;
        if bad.requests().len() > 2 {
            break;
        }
    }
    assert!(bad.requests().len() > 2, "picked again after the cooldown");
}

#[tokio::test]
async fn every_deployment_cooling_down_is_429_with_retry_after() {
    let a = failing(500).await;
    let b = failing(503).await;
    let gw = gateway(
        "  allowed_fails: 0\n  cooldown_time: 0.4\n",
        &[entry("m", "a", &a, ""), entry("m", "b", &b, "")],
    )
    .await;
    let mut seen_429 = None;
    for _ in 0..20 {
        let (status, h, body) = gw.post("/v1/chat/completions", &ask("m")).await;
        if status == 429 {
            seen_429 = Some((h, body));
            break;
        }
        assert!(status == 500 || status == 503, "{status}");
    }
    let (h, body) = seen_429.expect("both deployments cooled down");
    assert_eq!(a.requests().len(), 1);
    assert_eq!(b.requests().len(), 1);
    assert_eq!(
        crate::support::error_of(&body)["code"],
        "no_deployments_available"
    );
    assert_eq!(header(&h, "retry-after"), "1");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_ne!(status, 429, "recovered after cooldown_time");
}

#[tokio::test]
async fn cooldowns_can_be_disabled_or_set_per_deployment() {
    let a = failing(500).await;
    let b = failing(500).await;
    let gw = gateway(
        "  allowed_fails: 0\n  disable_cooldowns: true\n",
        &[entry("m", "a", &a, ""), entry("m", "b", &b, "")],
    )
    .await;
    for _ in 0..10 {
        let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 500);
    }
    assert_eq!(a.requests().len() + b.requests().len(), 10);

    let gw = gateway(
        "  allowed_fails: 0\n  cooldown_time: 30\n",
        &[
            entry("m", "a", &a, "    cooldown_time: 0.2\n"),
            entry("m", "b", &b, "    cooldown_time: 0.2\n"),
        ],
    )
    .await;
    for _ in 0..4 {
        gw.post("/v1/chat/completions", &ask("m")).await;
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    assert_eq!(status, 500, "the deployment's own 0.2 s cooldown is over");
}

#[tokio::test]
async fn the_only_deployment_of_a_group_never_cools_down() {
    let up = failing(500).await;
    let gw = gateway("  allowed_fails: 0\n", &[entry("m", "only", &up, "")]).await;
    for _ in 0..5 {
        let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 500);
    }
    assert_eq!(up.requests().len(), 5);
}

#[tokio::test]
async fn allowed_fails_policy_sets_the_allowance_per_failure_class() {
    // Rate limits: 2 allowed a minute (cools on the 3rd); server errors: 0.
    let limited = Upstream::openai(
        KEY,
        script(|_| {
            Reply::Json(
                429,
                serde_json::json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
            )
        }),
    )
    .await;
    let other = ok("other").await;
    let gw = gateway(
        "  allowed_fails: 100\n  cooldown_time: 5\n  allowed_fails_policy:\n    RateLimitErrorAllowedFails: 2\n  retry_policy:\n    RateLimitErrorRetries: 0\n",
        &[entry("m", "limited", &limited, "    order: 1\n"), entry("m", "other", &other, "    order: 2\n")],
    )
    .await;
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(gw.post("/v1/chat/completions", &ask("m")).await.0);
        }
        v
    };
    assert_eq!(
        statuses,
        [429, 429, 429, 200, 200],
        "cooled down after the third rate limit"
    );
    assert_eq!(limited.requests().len(), 3);
}
