//! Load: ~2000 requests against a group where one deployment fails half
//! the time. With a healthy deployment to retry on, no client sees a
//! failure, and every client request is accounted for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flaky_deployment_is_invisible_to_clients() {
    let count = Arc::new(AtomicUsize::new(0));
    let flaky = {
        let count = count.clone();
        Upstream::openai(
            KEY,
            script(move |_| {
                if count.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
                    Reply::Json(500, json!({"error": {"message": "flaky", "type": "server_error", "param": null, "code": null}}))
                } else {
                    Reply::Json(200, completion("gpt-4o", "flaky ok"))
                }
            }),
        )
        .await
    };
    let healthy = ok("healthy ok").await;
    let gw = Arc::new(
        gateway(
            "  num_retries: 2\n  allowed_fails: 3\n  cooldown_time: 0.3\n",
            &[
                entry("m", "flaky", &flaky, ""),
                entry("m", "healthy", &healthy, ""),
            ],
        )
        .await,
    );
    let n = 2000;
    let results: Vec<u16> = futures_util::stream::iter(0..n)
        .map(|_| {
            let gw = gw.clone();
            async move { gw.post("/v1/chat/completions", &ask("m")).await.0 }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let successes = results.iter().filter(|s| **s == 200).count();
    let errors = results.iter().filter(|s| **s != 200).count();
    assert_eq!(successes + errors, n);
    assert_eq!(
        errors,
        0,
        "statuses: {:?}",
        results.iter().filter(|s| **s != 200).collect::<Vec<_>>()
    );
    let flaky_ok = flaky.requests().len() / 2;
    assert!(healthy.requests().len() + flaky_ok >= n - 1);
}

/// A 429 storm on one deployment: clients never see it while the other
/// deployment is healthy; the limited one cools down for rate limits, and
/// the retries went straight to the healthy one (no retry-after wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_storm_cools_the_deployment_down() {
    let limited = Upstream::openai(
        KEY,
        script(|_| {
            Reply::JsonWithHeaders(
                429,
                json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                vec![("retry-after", "30")],
            )
        }),
    )
    .await;
    let healthy = ok("healthy ok").await;
    let gw = Arc::new(
        gateway(
            "  num_retries: 1\n  allowed_fails: 2\n  cooldown_time: 5\n",
            &[
                entry("m", "limited", &limited, ""),
                entry("m", "healthy", &healthy, ""),
            ],
        )
        .await,
    );
    let started = std::time::Instant::now();
    let results: Vec<u16> = futures_util::stream::iter(0..200)
        .map(|_| {
            let gw = gw.clone();
            async move { gw.post("/v1/chat/completions", &ask("m")).await.0 }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no retry-after waits"
    );
    // Concurrent requests may have reached it before the cooldown began.
    let hits = limited.requests().len();
    assert!((3..=3 + 16).contains(&hits), "limited got {hits}");
    assert_eq!(healthy.requests().len(), 200);
    let (_, _, state) = gw
        .get("/router/state", Some(crate::support::MASTER_KEY))
        .await;
    let d = state["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "limited")
        .unwrap();
    assert_eq!(d["healthy"], false, "{state}");
    assert_eq!(d["cooldown_reason"], "rate_limited", "{state}");
    assert!(d["cooldown_remaining_s"].as_f64().unwrap() <= 5.0);
}
