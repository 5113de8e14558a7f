//! Embeddings through Gemini's `batchEmbedContents` and Vertex AI's
//! `predict`, as floats and as base64 (what the OpenAI SDKs ask for).

use base64::Engine;
use serde_json::{Value, json};

use crate::support::error_of;
use crate::support::google_api::{Answer, GoogleApi, script};
use crate::support::{Gateway, google_api::Call};

/// A vector of `dims` values exact in f32, different for each text.
fn vector(text: &str, dims: u64) -> Vec<f64> {
    (0..dims)
        .map(|i| ((text.len() as u64 + i) % 8) as f64 / 8.0 - 0.5)
        .collect()
}

fn answer(call: &Call) -> Answer {
    if call.method() == "predict" {
        let dims = call
            .body
            .pointer("/parameters/outputDimensionality")
            .and_then(Value::as_u64)
            .unwrap_or(3);
        let predictions: Vec<Value> = call.body["instances"].as_array().unwrap().iter().map(|i| {
            let text = i["content"].as_str().unwrap();
            json!({"embeddings": {"values": vector(text, dims), "statistics": {"token_count": text.len(), "truncated": false}}})
        }).collect();
        return Answer::Json(
            200,
            json!({"predictions": predictions, "metadata": {"billableCharacterCount": 1}}),
        );
    }
    let embeddings: Vec<Value> = call.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let dims = r["outputDimensionality"].as_u64().unwrap_or(3);
            json!({"values": vector(r["content"]["parts"][0]["text"].as_str().unwrap(), dims)})
        })
        .collect();
    Answer::Json(200, json!({"embeddings": embeddings}))
}

fn floats(embedding: &Value) -> Vec<f64> {
    match embedding {
        Value::String(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        other => other
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect(),
    }
}

async fn check(api: &GoogleApi, model: &str) {
    let gw = Gateway::with_models(&api.entry("e", model, "")).await;
    for format in ["float", "base64"] {
        let request = json!({"model": "e", "input": ["hello", "hi"], "dimensions": 4, "encoding_format": format});
        let (status, _, body) = gw.post("/v1/embeddings", &request).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "list");
        assert_eq!(body["model"], model);
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        for (i, text) in ["hello", "hi"].iter().enumerate() {
            assert_eq!(data[i]["index"], i);
            assert_eq!(data[i]["object"], "embedding");
            assert_eq!(data[i]["embedding"].is_string(), format == "base64");
            assert_eq!(floats(&data[i]["embedding"]), vector(text, 4));
        }
        assert!(body["usage"]["prompt_tokens"].is_u64());
    }
    let (status, _, body) = gw
        .post("/v1/embeddings", &json!({"model": "e", "input": "one"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(floats(&body["data"][0]["embedding"]), vector("one", 3));
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "e", "input": [[1, 2, 3]]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["param"], "input");
}

#[tokio::test]
async fn gemini_embeds_through_batch_embed_contents() {
    let api = GoogleApi::gemini(script(answer)).await;
    check(&api, "gemini-embedding-001").await;
    let call = &api.requests()[0];
    assert_eq!(
        call.path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(
        call.body["requests"][0],
        json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 4})
    );
}

#[tokio::test]
async fn vertex_embeds_through_predict() {
    let api = GoogleApi::vertex(script(answer)).await;
    check(&api, "text-embedding-005").await;
    let call = &api.requests()[0];
    assert!(
        call.path
            .ends_with("/publishers/google/models/text-embedding-005:predict"),
        "{}",
        call.path
    );
    assert_eq!(
        call.body,
        json!({"instances": [{"content": "hello"}, {"content": "hi"}], "parameters": {"outputDimensionality": 4}})
    );
    assert_eq!(api.token_exchanges(), 1);
}

#[tokio::test]
async fn vertex_usage_counts_the_tokens_it_reports() {
    let api = GoogleApi::vertex(script(answer)).await;
    let gw = Gateway::with_models(&api.entry("e", "text-embedding-005", "")).await;
    let (_, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "e", "input": ["abc", "de"]}),
        )
        .await;
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );
}
