//! Embeddings through OpenAI-family upstreams and the mock provider.

use base64::Engine;
use serde_json::json;

use crate::support::Gateway;
use crate::support::upstream::{Reply, Upstream, script};

#[tokio::test]
async fn embeddings_pass_through_with_float_and_base64() {
    let up = Upstream::openai("k", script(|r| {
        let data = if r.body["encoding_format"] == "base64" { json!("AACAPwAAAEA=") } else { json!([1.0, 2.0]) };
        Reply::Json(200, json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": data}],
            "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}}))
    }))
    .await;
    let gw = Gateway::with_models(&format!(
        "- model_name: emb\n  litellm_params: {{model: openai/text-embedding-3-small, api_base: '{}', api_key: k}}\n",
        up.api_base
    ))
    .await;
    for format in ["float", "base64"] {
        let request =
            json!({"model": "emb", "input": ["hello"], "encoding_format": format, "dimensions": 2});
        let (status, _, body) = gw.post("/v1/embeddings", &request).await;
        assert_eq!(status, 200, "{body}");
        let got = up.last();
        assert_eq!(got.path, "/v1/embeddings");
        assert_eq!(
            got.body,
            json!({"model": "text-embedding-3-small", "input": ["hello"], "encoding_format": format, "dimensions": 2})
        );
        let expected = if format == "base64" {
            json!("AACAPwAAAEA=")
        } else {
            json!([1.0, 2.0])
        };
        assert_eq!(body["data"][0]["embedding"], expected);
    }
}

#[tokio::test]
async fn azure_embeddings_use_the_deployment_path() {
    let up = Upstream::azure("az", "emb-dep", script(|_| {
        Reply::Json(200, json!({"object": "list", "data": [], "model": "x", "usage": {"prompt_tokens": 0, "total_tokens": 0}}))
    }))
    .await;
    let gw = Gateway::with_models(&format!(
        "- model_name: emb\n  litellm_params: {{model: azure/emb-dep, api_base: '{}', api_key: az, api_version: 2024-10-21}}\n",
        up.api_base
    ))
    .await;
    let (status, _, _) = gw
        .post("/embeddings", &json!({"model": "emb", "input": "x"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(up.last().path, "/openai/deployments/emb-dep/embeddings");
}

#[tokio::test]
async fn the_mock_provider_embeds_deterministically_in_both_formats() {
    let gw = Gateway::with_models("- model_name: emb\n  litellm_params: {model: mock/emb}\n").await;
    let (_, _, floats) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "emb", "input": ["a", "b"], "dimensions": 4}),
        )
        .await;
    let (_, _, again) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "emb", "input": ["a", "b"], "dimensions": 4}),
        )
        .await;
    assert_eq!(floats, again);
    let v: Vec<f64> = serde_json::from_value(floats["data"][0]["embedding"].clone()).unwrap();
    assert_eq!(v.len(), 4);
    assert_ne!(
        floats["data"][0]["embedding"],
        floats["data"][1]["embedding"]
    );
    let (_, _, b64) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "emb", "input": ["a"], "dimensions": 4, "encoding_format": "base64"}),
        )
        .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f64> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
        .collect();
    for (a, b) in decoded.iter().zip(&v) {
        assert!((a - b).abs() < 1e-6);
    }
}
