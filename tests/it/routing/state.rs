//! `GET /router/state` and `GET /health`: admin-only views of the router.

use super::*;

#[tokio::test]
async fn router_state_needs_the_master_key_and_shows_counters() {
    let up = ok("fine").await;
    let gw = gateway("", &[entry("m", "d1", &up, "    rpm: 100\n")]).await;
    let (status, _, _) = gw.get("/router/state", None).await;
    assert_eq!(status, 401);
    let (status, _, _) = gw.get("/router/state", Some("sk-wrong")).await;
    assert_eq!(status, 401);
    for _ in 0..3 {
        gw.post("/v1/chat/completions", &ask("m")).await;
    }
    let (status, _, state) = gw.get("/router/state", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{state}");
    let d = &state["deployments"][0];
    assert_eq!(d["id"], "d1");
    assert_eq!(d["model_name"], "m");
    assert_eq!(d["healthy"], true);
    assert_eq!(d["in_flight"], 0);
    assert_eq!(d["requests_this_minute"], 3, "{state}");
    assert!(d["latency_avg_ms"].as_f64().unwrap() > 0.0, "{state}");
    assert_eq!(d["recent_failures"], serde_json::json!([]));
}

#[tokio::test]
async fn health_calls_every_deployment() {
    let up = ok("pong").await;
    let down = failing(500).await;
    let gw = gateway(
        "",
        &[entry("m", "up", &up, ""), entry("m", "down", &down, "")],
    )
    .await;
    let (status, _, _) = gw.get("/health", None).await;
    assert_eq!(status, 401);
    let (status, _, body) = gw.get("/health", Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["healthy_count"], 1, "{body}");
    assert_eq!(body["unhealthy_count"], 1, "{body}");
    assert_eq!(body["healthy_endpoints"][0]["id"], "up");
    assert_eq!(body["unhealthy_endpoints"][0]["id"], "down");
    assert!(
        body["unhealthy_endpoints"][0]["error"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    assert_eq!(up.last().body["max_tokens"], 1);
    assert!(!body.to_string().contains(KEY), "no secret in the report");
}
