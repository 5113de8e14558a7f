//! Network rules: the caller's address (the socket peer, or the
//! `X-Forwarded-For` a trusted proxy sends) raises the data class or limits
//! the model groups; `allowed_ips` refuses everyone else.

use serde_json::{Value, json};

use crate::support::upstream::{Reply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY, client, read_json};

const KEY: &str = "sk-up";

async fn ok() -> Upstream {
    Upstream::openai(
        KEY,
        script(|_| Reply::Json(200, completion("gpt-4o", "ok"))),
    )
    .await
}

fn entry(group: &str, id: &str, up: &Upstream, class: &str) -> String {
    format!(
        "- model_name: {group}\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: {KEY}\n  model_info:\n    id: {id}\n    max_data_class: {class}\n",
        up.api_base
    )
}

async fn ask(gw: &Gateway, model: &str, forwarded: Option<&str>) -> (u16, Value, String) {
    let mut request = client()
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(MASTER_KEY)
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}));
    if let Some(ip) = forwarded {
        request = request.header("x-forwarded-for", ip);
    }
    let (status, headers, body) = read_json(request.send().await.unwrap()).await;
    let id = headers
        .get("x-litellm-model-id")
        .map_or(String::new(), |v| v.to_str().unwrap().to_string());
    (status, body, id)
}

#[tokio::test]
async fn a_network_rule_raises_the_class_and_limits_the_groups() {
    let (us, eu, local) = (ok().await, ok().await, ok().await);
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\ncompliance:\n  trusted_proxies: [127.0.0.1]\n  network_rules:\n    - {{cidr: 10.20.0.0/16, min_class: confidential}}\n    - {{cidr: [10.30.0.0/16, 'fd00::/8'], allowed_models: [onprem]}}\nmodel_list:\n{}{}{}",
        entry("m", "us", &us, "internal"),
        entry("m", "eu", &eu, "confidential"),
        entry("onprem", "local", &local, "secret"),
    ))
    .await;
    // From the accounting subnet (through the trusted proxy): confidential.
    for _ in 0..15 {
        let (status, body, id) = ask(&gw, "m", Some("198.51.100.7, 10.20.1.2")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(id, "eu");
    }
    assert_eq!(us.requests().len(), 0);
    // From another site: only the on-premises group.
    let (status, body, _) = ask(&gw, "m", Some("10.30.4.5")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "network_model_not_allowed");
    let (status, _, id) = ask(&gw, "onprem", Some("10.30.4.5")).await;
    assert_eq!((status, id.as_str()), (200, "local"));
    // A client cannot pick its address: the left of the header is ignored
    // when the proxy appended the real one.
    let (status, _, _) = ask(&gw, "m", Some("10.20.1.2, 10.30.4.5")).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn allowed_ips_refuses_every_other_caller() {
    let up = ok().await;
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  allowed_ips: [10.0.0.0/8]\nmodel_list:\n{}",
        entry("m", "m", &up, "public")
    ))
    .await;
    let (status, body, _) = ask(&gw, "m", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "ip_not_allowed");
    // Without a trusted proxy, X-Forwarded-For is not believed.
    let (status, _, _) = ask(&gw, "m", Some("10.1.2.3")).await;
    assert_eq!(status, 403);
    assert_eq!(up.requests().len(), 0);
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  allowed_ips: [127.0.0.1, '::1']\nmodel_list:\n{}",
        entry("m", "m", &up, "public")
    ))
    .await;
    let (status, body, _) = ask(&gw, "m", None).await;
    assert_eq!(status, 200, "{body}");
}
