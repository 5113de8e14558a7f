//! `drop_params`: a parameter a provider cannot express is a 400 naming it
//! and the provider, or is dropped when `drop_params` is set in the request,
//! on the deployment or in `litellm_settings`. OpenAI-family upstreams get
//! every parameter, but never the gateway's own `drop_params` switch.

use serde_json::json;

use crate::support::anthropic_api::{self, AnthropicApi, Reply, text_message};
use crate::support::upstream::{Reply as OpenAiReply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY, error_of};

fn ask(extra: serde_json::Value) -> serde_json::Value {
    let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "logit_bias": {"50256": -100}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn unsupported_parameters_are_refused_or_dropped() {
    let api = AnthropicApi::start(
        "sk-ant",
        anthropic_api::script(|_| Reply::Message(text_message("ok"))),
    )
    .await;
    for (litellm_settings, deployment_flag, request_flag, expect) in [
        ("", "", json!({}), 400),
        ("", "", json!({"drop_params": true}), 200),
        ("", "\n    drop_params: true", json!({}), 200),
        (
            "litellm_settings:\n  drop_params: true\n",
            "",
            json!({}),
            200,
        ),
        (
            "litellm_settings:\n  drop_params: true\n",
            "\n    drop_params: false",
            json!({}),
            400,
        ),
    ] {
        let gw = Gateway::start(&format!(
            "{litellm_settings}general_settings:\n  master_key: {MASTER_KEY}\nmodel_list:\n- model_name: m\n  litellm_params:\n    model: anthropic/claude-x\n    api_base: {}\n    api_key: sk-ant{deployment_flag}\n",
            api.api_base
        ))
        .await;
        let before = api.requests().len();
        let (status, _, body) = gw
            .post("/v1/chat/completions", &ask(request_flag.clone()))
            .await;
        assert_eq!(
            status, expect,
            "{litellm_settings} {deployment_flag} {request_flag}: {body}"
        );
        if expect == 400 {
            let e = error_of(&body);
            assert_eq!(e["param"], "logit_bias");
            assert!(e["message"].as_str().unwrap().contains("anthropic"), "{e}");
            assert_eq!(api.requests().len(), before);
        } else {
            let sent = api.last().body;
            assert!(
                sent.get("logit_bias").is_none() && sent.get("drop_params").is_none(),
                "{sent}"
            );
        }
    }
}

#[tokio::test]
async fn openai_upstreams_get_every_parameter_but_not_the_switch() {
    let up = Upstream::openai(
        "k",
        script(|_| OpenAiReply::Json(200, completion("m", "ok"))),
    )
    .await;
    let gw = Gateway::with_models(&format!(
        "- model_name: m\n  litellm_params: {{model: openai/m, api_base: '{}', api_key: k}}\n",
        up.api_base
    ))
    .await;
    let (status, _, _) = gw
        .post("/v1/chat/completions", &ask(json!({"drop_params": true})))
        .await;
    assert_eq!(status, 200);
    let sent = up.last().body;
    assert_eq!(sent["logit_bias"], json!({"50256": -100}));
    assert!(sent.get("drop_params").is_none());
}

#[tokio::test]
async fn rerank_requests_are_validated() {
    let gw = Gateway::with_models("- model_name: m\n  litellm_params: {model: mock/m}\n").await;
    for (body, param) in [
        (json!({"model": "m", "documents": ["a"]}), "query"),
        (
            json!({"model": "m", "query": 5, "documents": ["a"]}),
            "query",
        ),
        (json!({"model": "m", "query": "q"}), "documents"),
        (
            json!({"model": "m", "query": "q", "documents": []}),
            "documents",
        ),
        (
            json!({"model": "m", "query": "q", "documents": [1]}),
            "documents",
        ),
        (
            json!({"model": "m", "query": "q", "documents": ["a"], "top_n": "3"}),
            "top_n",
        ),
    ] {
        let (status, _, json) = gw.post("/v1/rerank", &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_of(&json)["param"], param, "{body}");
    }
}
