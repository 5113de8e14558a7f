//! Embeddings through `/v2/embed` (floats and base64, dimensions,
//! input_type) and rerank through `/v2/rerank` (top_n, return_documents,
//! object documents), over the gateway's `/v1/embeddings` and `/v1/rerank`.

use base64::Engine;

use super::*;
use crate::support::cohere_api::vector;

async fn serve_both() -> (CohereApi, Gateway) {
    let api = CohereApi::start(
        KEY,
        script(|r| match r.endpoint.as_str() {
            "embed" => Reply::Json(embed_response(&r.body)),
            "rerank" => Reply::Json(rerank_response(&r.body)),
            _ => Reply::Json(text_response("chat")),
        }),
    )
    .await;
    let models = format!(
        "- model_name: embed\n  litellm_params:\n    model: cohere/embed-v4.0\n    api_base: {base}\n    api_key: {KEY}\n  model_info:\n    mode: embedding\n\
         - model_name: rerank\n  litellm_params:\n    model: cohere/rerank-v3.5\n    api_base: {base}\n    api_key: {KEY}\n",
        base = api.api_base
    );
    let gw = Gateway::with_models(&models).await;
    (api, gw)
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

#[tokio::test]
async fn embeddings_as_floats_and_base64() {
    let (api, gw) = serve_both().await;
    let texts = ["hello", "goodbye world"];
    for (format, dims) in [
        (None, None),
        (Some("float"), Some(256)),
        (Some("base64"), Some(512)),
    ] {
        let mut request = json!({"model": "embed", "input": texts});
        if let Some(f) = format {
            request["encoding_format"] = json!(f);
        }
        if let Some(d) = dims {
            request["dimensions"] = json!(d);
        }
        let (status, _, body) = gw.post("/v1/embeddings", &request).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(body["object"], "list");
        assert_eq!(body["model"], "embed-v4.0");
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 18, "total_tokens": 18})
        );
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        for (i, item) in data.iter().enumerate() {
            assert_eq!(
                (item["object"].as_str(), item["index"].as_u64()),
                (Some("embedding"), Some(i as u64))
            );
            assert_eq!(item["embedding"].is_string(), format == Some("base64"));
            assert_eq!(
                floats(&item["embedding"]),
                vector(texts[i], dims.unwrap_or(3))
            );
        }
        let mut expected = json!({"model": "embed-v4.0", "texts": texts, "input_type": "search_document",
                                  "embedding_types": ["float"]});
        if let Some(d) = dims {
            expected["output_dimension"] = json!(d);
        }
        assert_eq!(api.last().body, expected);
    }
}

#[tokio::test]
async fn embedding_input_type_can_be_chosen_and_tokens_are_refused() {
    let (api, gw) = serve_both().await;
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": "what is bern?", "input_type": "search_query"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.last().body["input_type"], "search_query");
    assert_eq!(api.last().body["texts"], json!(["what is bern?"]));
    let before = api.requests().len();
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": [[1, 2, 3]]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["param"], "input");
    // A dimension Cohere does not offer is Cohere's 400, passed on.
    let (status, _, body) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": "x", "dimensions": 100}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("output_dimension")
    );
    // Embeddings are not streamed.
    let (status, _, _) = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": "x", "stream": true}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(api.requests().len(), before);
}

const DOCS: [&str; 4] = [
    "Carson City is the capital city of the American state of Nevada.",
    "Capital punishment has existed in the United States since before it was a country.",
    "Washington, D.C. is the capital of the United States.",
    "Bern is the federal city of Switzerland.",
];

#[tokio::test]
async fn rerank_with_top_n_and_documents() {
    let (api, gw) = serve_both().await;
    let request = json!({"model": "rerank", "query": "Switzerland federal", "documents": DOCS,
                         "top_n": 2, "max_tokens_per_doc": 512});
    let (status, _, body) = gw.post("/v1/rerank", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "r3r4-mock");
    assert_eq!(
        body["results"],
        json!([{"index": 3, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.8}])
    );
    assert_eq!(body["meta"]["billed_units"]["search_units"], 1);
    assert_eq!(
        api.last().body,
        json!({"model": "rerank-v3.5", "query": "Switzerland federal", "documents": DOCS,
               "top_n": 2, "max_tokens_per_doc": 512})
    );
    // return_documents: the text sent for each result is returned with it.
    let mut request = request;
    request["return_documents"] = json!(true);
    let (status, _, body) = gw.post("/v1/rerank", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["document"], json!({"text": DOCS[3]}));
    assert_eq!(body["results"][1]["document"], json!({"text": DOCS[0]}));
    assert!(api.last().body.get("return_documents").is_none());
}

#[tokio::test]
async fn rerank_object_documents_are_sent_as_text() {
    let (api, gw) = serve_both().await;
    let documents = json!([
        {"text": "Bern is the federal city.", "body": "Bern, CH", "id": "a"},
        {"title": "Nevada", "body": "Carson City is its capital."},
    ]);
    let request = json!({"model": "rerank", "query": "capital", "documents": documents, "return_documents": true});
    let (status, _, body) = gw.post("/v1/rerank", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["documents"],
        json!([
            "Bern is the federal city.",
            "title: Nevada\nbody: Carson City is its capital."
        ])
    );
    assert_eq!(
        body["results"][0],
        json!({"index": 1, "relevance_score": 0.9, "document": {"text": "title: Nevada\nbody: Carson City is its capital."}})
    );
    let mut request = request;
    request["rank_fields"] = json!(["body"]);
    gw.post("/v1/rerank", &request).await;
    assert_eq!(
        api.last().body["documents"],
        json!(["body: Bern, CH", "body: Carson City is its capital."])
    );
}

#[tokio::test]
async fn rerank_parameters_cohere_v2_lacks_are_refused_or_dropped() {
    let (api, gw) = serve_both().await;
    let mut request =
        json!({"model": "rerank", "query": "capital", "documents": DOCS, "max_chunks_per_doc": 10});
    let (status, _, body) = gw.post("/v1/rerank", &request).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body)["param"], "max_chunks_per_doc");
    assert!(api.requests().is_empty());
    request["drop_params"] = json!(true);
    let (status, _, body) = gw.post("/v1/rerank", &request).await;
    assert_eq!(status, 200, "{body}");
    assert!(api.last().body.get("max_chunks_per_doc").is_none());
}
