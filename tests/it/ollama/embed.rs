//! `/v1/embeddings` to an Ollama deployment: `POST /api/embed` with the
//! input, `dimensions`, `truncate` and `keep_alive`; the vectors back as
//! OpenAI's list, float or base64 (little-endian f32).

use base64::Engine;

use super::*;
use crate::support::ollama_api::embeddings;

async fn serve_embed() -> (OllamaApi, Gateway) {
    let api = OllamaApi::start(script(|r| {
        let n = r.body["input"].as_array().map_or(1, Vec::len);
        let vectors: Vec<Value> = (0..n)
            .map(|i| json!([0.5 + i as f64, -2.0, 0.010071029]))
            .collect();
        embeddings(Value::Array(vectors), 8)
    }))
    .await;
    let gw = Gateway::with_models(&entry(&api, "embed", "ollama/nomic-embed-text", "")).await;
    (api, gw)
}

#[tokio::test]
async fn float_embeddings_with_the_documented_parameters() {
    let (api, gw) = serve_embed().await;
    let request = json!({"model": "embed", "input": ["Why is the sky blue?", "Why is the grass green?"],
        "encoding_format": "float", "dimensions": 3, "truncate": false, "keep_alive": "1h", "num_ctx": 512});
    let (status, _, body) = gw.post("/v1/embeddings", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last();
    assert_eq!(sent.path, "/api/embed");
    assert_eq!(
        sent.body,
        json!({"model": "nomic-embed-text", "input": ["Why is the sky blue?", "Why is the grass green?"],
               "truncate": false, "dimensions": 3, "keep_alive": "1h", "options": {"num_ctx": 512}})
    );
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "nomic-embed-text");
    assert_eq!(
        body["data"],
        json!([
            {"object": "embedding", "index": 0, "embedding": [0.5, -2.0, 0.010071029]},
            {"object": "embedding", "index": 1, "embedding": [1.5, -2.0, 0.010071029]},
        ])
    );
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 8, "total_tokens": 8})
    );
}

#[tokio::test]
async fn base64_embeddings_are_little_endian_f32() {
    let (api, gw) = serve_embed().await;
    let (status, _, body) = gw
        .post("/v1/embeddings", &json!({"model": "embed", "input": "Why is the sky blue?", "encoding_format": "base64"}))
        .await;
    assert_eq!(status, 200, "{body}");
    // A single string stays a string; nothing else is sent.
    assert_eq!(
        api.last().body,
        json!({"model": "nomic-embed-text", "input": "Why is the sky blue?"})
    );
    let b64 = body["data"][0]["embedding"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let floats: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(floats, vec![0.5, -2.0, 0.010071029]);
}

#[tokio::test]
async fn token_inputs_and_unknown_parameters_are_refused() {
    let (api, gw) = serve_embed().await;
    let cases = [
        (json!({"model": "embed", "input": [[1, 2, 3]]}), "input"),
        (
            json!({"model": "embed", "input": "x", "user": "u", "task_type": "q"}),
            "task_type",
        ),
        (
            json!({"model": "embed", "input": "x", "truncate": "no"}),
            "truncate",
        ),
    ];
    for (request, param) in cases {
        let (status, _, body) = gw.post("/v1/embeddings", &request).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_eq!(error_of(&body)["param"], param, "{body}");
    }
    assert!(api.requests().is_empty());
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": "x", "task_type": "q", "drop_params": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body,
        json!({"model": "nomic-embed-text", "input": "x"})
    );
}

#[tokio::test]
async fn embedding_errors_keep_their_status() {
    let api = OllamaApi::start(script(|_| {
        Reply::Error(
            400,
            "the input length exceeds the context length".into(),
            vec![],
        )
    }))
    .await;
    let gw = Gateway::with_models(&entry(&api, "embed", "ollama/nomic-embed-text", "")).await;
    let request = json!({"model": "embed", "input": "long", "truncate": false});
    let (status, _, body) = gw.post("/v1/embeddings", &request).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body)["code"], "context_length_exceeded");
}
