//! Which deployments a request of each class may reach, through the
//! primary group, retries and fallbacks; the key's floor; tags.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::support::upstream::{Reply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY, client, read_json};

const KEY: &str = "sk-up";

struct Sites {
    us: Upstream,
    eu: Upstream,
    local: Upstream,
    backup: Upstream,
    gw: Gateway,
}

async fn answering(status: u16) -> Upstream {
    Upstream::openai(
        KEY,
        script(move |r| {
            if status == 200 {
                Reply::Json(200, completion(r.body["model"].as_str().unwrap_or("m"), "ok"))
            } else {
                Reply::Json(
                    status,
                    json!({"error": {"message": "down", "type": "server_error", "param": null, "code": null}}),
                )
            }
        }),
    )
    .await
}

fn entry(group: &str, id: &str, up: &Upstream, region: &str, class: &str) -> String {
    format!(
        "- model_name: {group}\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: {KEY}\n  model_info:\n    id: {id}\n    region: {region}\n    max_data_class: {class}\n",
        up.api_base
    )
}

/// The three sites; `eu_local_status` is what the EU and local mocks answer.
async fn sites(eu_local_status: u16) -> Sites {
    let (us, backup) = (answering(200).await, answering(200).await);
    let (eu, local) = (
        answering(eu_local_status).await,
        answering(eu_local_status).await,
    );
    let gw = Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\nrouter_settings:\n  num_retries: 2\n  fallbacks: [{{m: [us-backup]}}]\ncompliance:\n  tag_classes: {{client-data: confidential}}\nmodel_list:\n{}{}{}{}",
        entry("m", "us", &us, "us", "internal"),
        entry("m", "eu", &eu, "eu", "confidential"),
        entry("m", "local", &local, "local", "secret"),
        entry("us-backup", "us-backup", &backup, "us", "internal"),
    ))
    .await;
    Sites {
        us,
        eu,
        local,
        backup,
        gw,
    }
}

async fn ask(gw: &Gateway, key: &str, class: Option<&str>, body: Value) -> (u16, HeaderMap, Value) {
    let mut request = client()
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&body);
    if let Some(class) = class {
        request = request.header("x-switchyard-data-class", class);
    }
    read_json(request.send().await.unwrap()).await
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

fn counts(s: &Sites) -> (usize, usize, usize, usize) {
    (
        s.us.requests().len(),
        s.eu.requests().len(),
        s.local.requests().len(),
        s.backup.requests().len(),
    )
}

#[tokio::test]
async fn internal_requests_may_use_every_site_confidential_ones_only_eu_and_local() {
    let s = sites(200).await;
    for _ in 0..60 {
        let (status, _, body) = ask(&s.gw, MASTER_KEY, Some("internal"), chat("m")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (us, eu, local, _) = counts(&s);
    assert!(
        us > 0 && eu > 0 && local > 0,
        "internal spreads: {us} {eu} {local}"
    );
    for _ in 0..40 {
        let (status, h, body) = ask(&s.gw, MASTER_KEY, Some("confidential"), chat("m")).await;
        assert_eq!(status, 200, "{body}");
        assert_ne!(h["x-litellm-model-id"], "us");
    }
    assert_eq!(
        s.us.requests().len(),
        us,
        "the US site received nothing confidential"
    );
    for _ in 0..10 {
        let (status, h, _) = ask(&s.gw, MASTER_KEY, Some("secret"), chat("m")).await;
        assert_eq!(status, 200);
        assert_eq!(h["x-litellm-model-id"], "local");
    }
}

#[tokio::test]
async fn a_fallback_never_crosses_the_class_even_when_the_admitted_sites_are_down() {
    let s = sites(500).await;
    let (status, h, body) = ask(&s.gw, MASTER_KEY, Some("confidential"), chat("m")).await;
    assert_eq!(status, 500, "the admitted sites' own error: {body}");
    assert_eq!(h["x-litellm-attempted-fallbacks"], "0");
    let (us, eu, local, backup) = counts(&s);
    assert_eq!((us, backup), (0, 0), "nothing reached the US");
    assert_eq!(eu + local, 3, "the retries stayed within EU and local");
    // An internal request may fall back to the US group.
    let (status, h, body) = ask(&s.gw, MASTER_KEY, Some("internal"), chat("us-backup")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h["x-litellm-model-id"], "us-backup");
}

#[tokio::test]
async fn no_admitted_deployment_is_a_403_naming_class_and_group_and_nothing_is_sent() {
    let s = sites(200).await;
    let (status, _, body) = ask(&s.gw, MASTER_KEY, Some("confidential"), chat("us-backup")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["type"], "data_class_violation");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("confidential") && message.contains("us-backup"),
        "{message}"
    );
    assert_eq!(counts(&s), (0, 0, 0, 0));
    let (status, _, body) = ask(&s.gw, MASTER_KEY, Some("top-secret"), chat("m")).await;
    assert_eq!(status, 400, "an unknown class: {body}");
    assert_eq!(body["error"]["param"], "metadata.data_class");
}

#[tokio::test]
async fn a_client_cannot_lower_its_keys_floor_and_tags_raise_the_class() {
    let s = sites(200).await;
    let (_, _, generated) =
        s.gw.post("/key/generate", &json!({"data_class": "confidential"}))
            .await;
    let key = generated["key"].as_str().unwrap().to_string();
    for class in [None, Some("public"), Some("internal")] {
        for _ in 0..15 {
            let (status, h, body) = ask(&s.gw, &key, class, chat("m")).await;
            assert_eq!(status, 200, "{body}");
            assert_ne!(
                h["x-litellm-model-id"], "us",
                "{class:?} cannot lower the floor"
            );
        }
    }
    let (_, h, _) = ask(&s.gw, &key, Some("secret"), chat("m")).await;
    assert_eq!(
        h["x-litellm-model-id"], "local",
        "a client may raise its class"
    );
    let mut tagged = chat("m");
    tagged["tags"] = json!(["client-data"]);
    for _ in 0..20 {
        let (status, h, body) = ask(&s.gw, MASTER_KEY, None, tagged.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_ne!(h["x-litellm-model-id"], "us", "client-data is confidential");
    }
    let mut metadata = chat("m");
    metadata["metadata"] = json!({"data_class": "secret"});
    let (_, h, _) = ask(&s.gw, MASTER_KEY, None, metadata).await;
    assert_eq!(h["x-litellm-model-id"], "local");
    assert_eq!(s.us.requests().len(), 0);
}

#[test]
fn an_unknown_class_in_the_config_is_an_error_with_its_line() {
    let yaml = "compliance:\n  data_classes: [open, closed]\n  default_class: closed\n  tag_classes: {x: nope}\nmodel_list:\n- model_name: m\n  litellm_params: {model: mock/m}\n  model_info: {max_data_class: secret}\n";
    let errors = switchyard::config::load_str(yaml, "c.yaml")
        .err()
        .unwrap()
        .to_string();
    assert!(
        errors.contains("c.yaml:4: compliance.tag_classes.x:"),
        "{errors}"
    );
    assert!(
        errors.contains("c.yaml:8: model_list[0].model_info.max_data_class:"),
        "{errors}"
    );
}
