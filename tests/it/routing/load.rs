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
