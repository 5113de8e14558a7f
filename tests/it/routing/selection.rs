//! Selection: least-busy picks the deployment with fewest requests in
//! flight; weights split traffic within statistical bounds.

use std::time::Duration;

use super::*;

async fn slow(text: &'static str) -> Upstream {
    Upstream::openai(
        KEY,
        script(move |_| {
            Reply::After(
                Duration::from_millis(300),
                Box::new(Reply::Json(200, completion("gpt-4o", text))),
            )
        }),
    )
    .await
}

#[tokio::test]
async fn least_busy_picks_the_idle_deployment() {
    let a = slow("a").await;
    let b = slow("b").await;
    let gw = std::sync::Arc::new(
        gateway(
            "  routing_strategy: least-busy\n",
            &[entry("m", "a", &a, ""), entry("m", "b", &b, "")],
        )
        .await,
    );
    let first = {
        let gw = gw.clone();
        tokio::spawn(async move { gw.post("/v1/chat/completions", &ask("m")).await })
    };
    tokio::time::sleep(Duration::from_millis(80)).await;
    let (_, h2, _) = gw.post("/v1/chat/completions", &ask("m")).await;
    let (_, h1, _) = first.await.unwrap();
    assert_ne!(
        header(&h1, "x-litellm-model-id"),
        header(&h2, "x-litellm-model-id"),
        "the second request goes to the deployment with nothing in flight"
    );
    assert_eq!((a.requests().len(), b.requests().len()), (1, 1));
}

#[tokio::test]
async fn weights_hold_within_statistical_bounds() {
    let heavy = ok("heavy").await;
    let light = ok("light").await;
    let gw = gateway(
        "  routing_strategy: simple-shuffle\n",
        &[
            entry("m", "heavy", &heavy, "    weight: 3\n"),
            entry("m", "light", &light, "    weight: 1\n"),
        ],
    )
    .await;
    let n = 400;
    for _ in 0..n {
        let (status, _, _) = gw.post("/v1/chat/completions", &ask("m")).await;
        assert_eq!(status, 200);
    }
    // Binomial(400, 0.75): mean 300, sd ≈ 8.7; ±5 sd.
    let h = heavy.requests().len();
    assert!((257..=343).contains(&h), "heavy got {h} of {n}");
    assert_eq!(h + light.requests().len(), n);
}
