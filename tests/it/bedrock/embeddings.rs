//! Embeddings through InvokeModel: Amazon Titan (one text per call) and
//! Cohere Embed (a batch), as floats or base64.

use base64::Engine;
use serde_json::json;

use crate::support::bedrock_api::{Answer, BedrockApi, script};
use crate::support::{Gateway, error_of};

const TITAN: &str = "amazon.titan-embed-text-v2:0";
const COHERE: &str = "cohere.embed-english-v3";

fn vector(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i + seed) % 8) as f64 / 8.0 - 0.25)
        .collect()
}

fn embeddings_api() -> impl Fn(&crate::support::bedrock_api::Call) -> Answer + Send + Sync + 'static
{
    |call| {
        if call.model.starts_with("amazon.titan") {
            let dims = call.body["dimensions"].as_u64().unwrap_or(8) as usize;
            Answer::Json(
                json!({"embedding": vector(dims, 0), "inputTextTokenCount": 5,
                                "embeddingsByType": {"float": vector(dims, 0)}}),
            )
        } else {
            let n = call.body["texts"].as_array().unwrap().len();
            let list: Vec<Vec<f64>> = (0..n).map(|i| vector(4, i)).collect();
            Answer::Json(
                json!({"id": "emb-1", "embeddings": {"float": list}, "texts": call.body["texts"],
                                "response_type": "embeddings_by_type"}),
            )
        }
    }
}

async fn gateway(api: &BedrockApi) -> Gateway {
    Gateway::with_models(&(api.entry("titan", TITAN, "") + &api.entry("cohere", COHERE, ""))).await
}

fn floats(b64: &str) -> Vec<f64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
        .collect()
}

#[tokio::test]
async fn titan_embeds_one_text_as_floats_or_base64() {
    let api = BedrockApi::start(script(embeddings_api())).await;
    let gw = gateway(&api).await;
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "titan", "input": "hello", "dimensions": 256}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let call = api.last();
    assert_eq!(call.action, "invoke");
    assert_eq!(call.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    assert_eq!(
        call.body,
        json!({"inputText": "hello", "normalize": true, "dimensions": 256})
    );
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], TITAN);
    assert_eq!(body["data"][0]["object"], "embedding");
    assert_eq!(body["data"][0]["embedding"], json!(vector(256, 0)));
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );

    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "titan", "input": ["hello"], "encoding_format": "base64"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        floats(body["data"][0]["embedding"].as_str().unwrap()),
        vector(8, 0)
    );

    // Titan takes one text per call: several are refused, not fanned out.
    let before = api.requests().len();
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "titan", "input": ["a", "b"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let e = error_of(&body);
    assert_eq!(e["param"], "input");
    assert!(e["message"].as_str().unwrap().contains("one by one"));
    assert_eq!(api.requests().len(), before);
}

#[tokio::test]
async fn cohere_embeds_a_batch_as_floats_or_base64() {
    let api = BedrockApi::start(script(embeddings_api())).await;
    let gw = gateway(&api).await;
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "cohere", "input": ["a", "b", "c"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body,
        json!({"texts": ["a", "b", "c"], "input_type": "search_document", "embedding_types": ["float"]})
    );
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (i, item) in data.iter().enumerate() {
        assert_eq!(item["index"], i);
        assert_eq!(item["embedding"], json!(vector(4, i)));
    }

    let (status, _, body) = gw
        .post("/v1/embeddings", &json!({"model": "cohere", "input": ["q"], "encoding_format": "base64", "input_type": "search_query"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.last().body["input_type"], "search_query");
    assert_eq!(
        floats(body["data"][0]["embedding"].as_str().unwrap()),
        vector(4, 0)
    );
}

#[tokio::test]
async fn the_plain_cohere_shape_and_unsupported_models() {
    let api = BedrockApi::start(script(|_| {
        Answer::Json(json!({"id": "e", "embeddings": [[0.5, -0.5]], "texts": ["x"], "response_type": "embeddings_floats"}))
    }))
    .await;
    let gw = Gateway::with_models(
        &(api.entry("cohere", COHERE, "")
            + &api.entry("claude", crate::support::bedrock_api::CLAUDE, "")),
    )
    .await;
    let (status, _, body) = gw
        .post("/v1/embeddings", &json!({"model": "cohere", "input": "x"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["embedding"], json!([0.5, -0.5]));

    let (status, _, body) = gw
        .post("/v1/embeddings", &json!({"model": "claude", "input": "x"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("amazon.titan-embed")
    );
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "cohere", "input": [[1, 2, 3]]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}
