//! The OpenAI Python SDK against `gemini/` and `vertex_ai/` deployments on
//! the Google mocks (`tests/sdk/openai_via_google.py`).

use serde_json::{Value, json};

use crate::sdk::{python_script, run_against};
use crate::support::Gateway;
use crate::support::google_api::{Answer, Call, GoogleApi, script, usage};

const GREETING: &str = "Hello from Gemini";
const TOOL_ANSWER: &str = "It is sunny in Paris.";

/// A small Gemini that greets, calls `get_weather` when it has tools, and
/// reports the weather once it has the result; embeddings are `i / 8`.
fn brain(call: &Call) -> Answer {
    match call.method() {
        "batchEmbedContents" => {
            let embeddings: Vec<Value> = call.body["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| json!({"values": vector(r["outputDimensionality"].as_u64().unwrap_or(8))}))
                .collect();
            Answer::Json(200, json!({"embeddings": embeddings}))
        }
        "predict" => {
            let dims = call
                .body
                .pointer("/parameters/outputDimensionality")
                .and_then(Value::as_u64)
                .unwrap_or(8);
            let predictions: Vec<Value> = call.body["instances"].as_array().unwrap().iter()
                .map(|_| json!({"embeddings": {"values": vector(dims), "statistics": {"token_count": 2}}}))
                .collect();
            Answer::Json(200, json!({"predictions": predictions}))
        }
        method => {
            let last = call.body["contents"].as_array().unwrap().last().unwrap();
            let answered = last["parts"][0].get("functionResponse").is_some();
            let parts = if answered {
                vec![json!({"text": TOOL_ANSWER})]
            } else if call.body.get("tools").is_some() {
                vec![json!({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}})]
            } else {
                GREETING
                    .split_inclusive(' ')
                    .map(|w| json!({"text": w}))
                    .collect()
            };
            if method == "streamGenerateContent" {
                let n = parts.len();
                let events = parts.into_iter().enumerate().map(|(i, part)| {
                    let mut candidate = json!({"content": {"role": "model", "parts": [part]}});
                    if i + 1 == n {
                        candidate["finishReason"] = json!("STOP");
                    }
                    json!({"candidates": [candidate], "usageMetadata": usage(6, 3), "modelVersion": "gemini-2.5-flash"})
                });
                return Answer::Sse(events.collect());
            }
            Answer::Json(
                200,
                json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
                                     "usageMetadata": usage(6, 3), "modelVersion": "gemini-2.5-flash"}),
            )
        }
    }
}

fn vector(dims: u64) -> Vec<f64> {
    (0..dims).map(|i| (i % 8) as f64 / 8.0).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_against_gemini_and_vertex() {
    let gemini = GoogleApi::gemini(script(brain)).await;
    let vertex = GoogleApi::vertex(script(brain)).await;
    let models = [
        gemini.entry("gemini-chat", "gemini-2.5-flash", ""),
        vertex.entry("vertex-chat", "gemini-2.5-flash", ""),
        gemini.entry("gemini-embed", "gemini-embedding-001", ""),
        vertex.entry("vertex-embed", "text-embedding-005", ""),
    ]
    .concat();
    let gw = Gateway::with_models(&models).await;
    run_against(
        &gw,
        python_script("openai_via_google.py"),
        "the OpenAI Python SDK against Google",
    )
    .await;
    assert_eq!(vertex.token_exchanges(), 1);
}
