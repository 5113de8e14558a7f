//! `/v1/embeddings` to a `mistral/` deployment (the OpenAI dialect, on the
//! OpenAI mock): the body forwarded with `model` replaced, `dimensions`
//! and `encoding_format` kept, the answer passed through, float and base64.

use base64::Engine;
use serde_json::json;

use crate::support::Gateway;
use crate::support::upstream::{Reply, Upstream, script};

#[tokio::test]
async fn mistral_embeddings_float_and_base64_with_dimensions() {
    let floats = [0.25f32, -1.5, 3.0];
    let up = Upstream::openai(
        "mistral-key",
        script(move |r| {
            let embedding = if r.body["encoding_format"] == "base64" {
                let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(floats)
            };
            Reply::Json(
                200,
                json!({"id": "emb-1", "object": "list", "model": "mistral-embed",
            "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
            "usage": {"prompt_tokens": 4, "total_tokens": 4}}),
            )
        }),
    )
    .await;
    let gw = Gateway::with_models(&format!(
        "- model_name: mistral-embed\n  litellm_params:\n    model: mistral/mistral-embed\n    api_base: {}\n    api_key: mistral-key\n",
        up.api_base
    ))
    .await;
    for format in ["float", "base64"] {
        let request = json!({"model": "mistral-embed", "input": ["Embed this sentence."],
            "encoding_format": format, "dimensions": 3});
        let (status, _, body) = gw.post("/v1/embeddings", &request).await;
        assert_eq!(status, 200, "{format}: {body}");
        let sent = up.last();
        assert_eq!(sent.path, "/v1/embeddings");
        assert_eq!(sent.headers["authorization"], "Bearer mistral-key");
        assert_eq!(
            sent.body,
            json!({"model": "mistral-embed", "input": ["Embed this sentence."],
                   "encoding_format": format, "dimensions": 3})
        );
        let got: Vec<f32> = match format {
            "float" => body["data"][0]["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect(),
            _ => base64::engine::general_purpose::STANDARD
                .decode(body["data"][0]["embedding"].as_str().unwrap())
                .unwrap()
                .chunks(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        };
        assert_eq!(got, floats);
        assert_eq!(body["model"], "mistral-embed");
        assert_eq!(body["usage"]["prompt_tokens"], 4);
    }
}
