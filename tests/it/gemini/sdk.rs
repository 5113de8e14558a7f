//! The OpenAI Python SDK against `gemini/` and `vertex_ai/` deployments on
//! the Google mocks (`tests/sdk/openai_via_google.py`). The script checks
//! what the SDK gets back; then this side checks what the mocks received
//! for the script's requests, found by their texts: the system instruction,
//! the roles, `generationConfig`, tools and `toolConfig`, function calls and
//! responses, `inlineData`, JSON mode's MIME type and schema, and that no
//! failed request was retried.

use serde_json::{Value, json};

use crate::sdk::{python_script, run_against};
use crate::support::Gateway;
use crate::support::google_api::{Answer, Call, GoogleApi, script};

// Must match tests/sdk/openai_via_google.py.
const GREETING: &str = "Hello from Gemini";
const THOUGHT: &str = "Thinking it over.";
const JSON_ANSWER: &str = r#"{"city": "Paris", "temperature_c": 21}"#;
const MODEL_VERSION: &str = "gemini-2.5-flash";
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const CHAT: &str = "Hi";
const STREAM: &str = "Hi, stream please";
const SYSTEM: &str = "Be brief.";
const ECHO: &str = "[scenario:echo] What is my name?";
const QUESTION: &str = "Weather in Paris?";
const STREAM_QUESTION: &str = "Weather in Paris? Stream it.";
const PARALLEL: &str = "[scenario:parallel] Weather in Paris and Bern?";
const IMAGE: &str = "What is in this image?";
const JSON_SCHEMA: &str = "Weather as JSON, with a schema.";
const JSON_PARSE: &str = "Weather as JSON, parsed.";
const JSON_OBJECT: &str = "Weather as JSON, any object.";
const PARAMS: &str = "Two answers, carefully.";
const PARAMS_ALT: &str = "One answer, briefly.";
const LENGTH: &str = "Greet me at length.";
const FILTERED: &str = "[scenario:filtered] Something unsafe.";
const CACHED: &str = "[scenario:cached] Hi again.";
const RATE_LIMIT: &str = "[scenario:rate_limit] Hi";
const OVERLOADED: &str = "[scenario:overloaded] Hi";
const INVALID: &str = "[scenario:invalid] Hi";
const SAFETY: &str = "[scenario:safety] Something unsafe.";

const GENERATE: &str = "generateContent";
const STREAM_GENERATE: &str = "streamGenerateContent";

/// A small Gemini; see the script's docstring for what it answers.
/// Embeddings are `i / 8`.
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
        method => generate(&call.body, method == STREAM_GENERATE),
    }
}

fn vector(dims: u64) -> Vec<f64> {
    (0..dims).map(|i| (i % 8) as f64 / 8.0).collect()
}

fn google_error(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

/// The `NAME` of the last `[scenario:NAME]` in the request's turns.
fn scenario(body: &Value) -> &str {
    texts(body)
        .filter_map(|t| t.split_once("[scenario:")?.1.split_once(']'))
        .map(|(name, _)| name)
        .last()
        .unwrap_or("")
}

/// The text parts of the request's turns.
fn texts(body: &Value) -> impl Iterator<Item = &str> {
    body["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|turn| turn["parts"].as_array().into_iter().flatten())
        .filter_map(|part| part["text"].as_str())
}

fn generate(body: &Value, stream: bool) -> Answer {
    let scenario = scenario(body);
    let failure = match scenario {
        "rate_limit" => {
            let mut e = google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
            );
            e["error"]["details"] = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                            "retryDelay": "1.5s"}]);
            Some((429, e))
        }
        // Google has no 529 (Anthropic's "overloaded"): an overloaded model
        // answers 503 UNAVAILABLE.
        "overloaded" => Some((
            503,
            google_error(
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
            ),
        )),
        "invalid" => Some((
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
            ),
        )),
        _ => None,
    };
    if let Some((status, error)) = failure {
        return Answer::Json(status, error);
    }
    if scenario == "safety" {
        // A blocked prompt: 200, no candidates, the reason in promptFeedback.
        let blocked = json!({
            "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]},
            "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
            "modelVersion": MODEL_VERSION, "responseId": "blocked-1",
        });
        return if stream {
            Answer::Sse(vec![blocked])
        } else {
            Answer::Json(200, blocked)
        };
    }
    let config = &body["generationConfig"];
    let n = config["candidateCount"].as_u64().unwrap_or(1);
    let thoughts = config.pointer("/thinkingConfig/includeThoughts") == Some(&json!(true));
    let mut candidates: Vec<(Vec<Value>, &str)> =
        (0..n).map(|i| reply(body, scenario, i)).collect();
    let mut output = 0;
    let mut thought_tokens = 0;
    for (parts, _) in &mut candidates {
        output += parts.len() as u64;
        if thoughts && !parts.is_empty() {
            parts.insert(0, json!({"text": THOUGHT, "thought": true}));
            thought_tokens += 1;
        }
    }
    let (prompt, cached) = if scenario == "cached" {
        (1200, 1024)
    } else {
        (6, 0)
    };
    let mut usage = json!({"promptTokenCount": prompt, "candidatesTokenCount": output,
                           "totalTokenCount": prompt + output + thought_tokens});
    if cached > 0 {
        usage["cachedContentTokenCount"] = json!(cached);
    }
    if thought_tokens > 0 {
        usage["thoughtsTokenCount"] = json!(thought_tokens);
    }
    let response = |candidates: Vec<Value>| {
        json!({"candidates": candidates, "usageMetadata": usage,
               "modelVersion": MODEL_VERSION, "responseId": "resp-1"})
    };
    if !stream {
        let candidates = candidates
            .into_iter()
            .enumerate()
            .map(|(i, (parts, finish))| {
                let mut c = json!({"finishReason": finish, "index": i});
                if !parts.is_empty() {
                    c["content"] = json!({"role": "model", "parts": parts});
                }
                c
            });
        return Answer::Json(200, response(candidates.collect()));
    }
    // One event per part of each candidate; its last part carries the finish
    // reason (a candidate without parts finishes in the first event).
    let steps = candidates
        .iter()
        .map(|(p, _)| p.len().max(1))
        .max()
        .unwrap_or(1);
    let events = (0..steps).map(|k| {
        let list = candidates
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| k < p.len().max(1))
            .map(|(i, (parts, finish))| {
                let mut c = json!({"index": i});
                if let Some(part) = parts.get(k) {
                    c["content"] = json!({"role": "model", "parts": [part]});
                }
                if k + 1 == parts.len().max(1) {
                    c["finishReason"] = json!(finish);
                }
                c
            });
        response(list.collect())
    });
    Answer::Sse(events.collect())
}

/// Candidate `i`'s parts (without thoughts) and finish reason.
fn reply(body: &Value, scenario: &str, i: u64) -> (Vec<Value>, &'static str) {
    if scenario == "filtered" {
        return (Vec::new(), "SAFETY");
    }
    let contents = body["contents"].as_array().unwrap();
    let last = contents.last().unwrap()["parts"].as_array().unwrap();
    let results: Vec<String> = last
        .iter()
        .filter_map(|p| p.get("functionResponse"))
        .map(|r| {
            format!(
                "It is {} in {}.",
                r["response"]["sky"].as_str().unwrap_or("?"),
                r["response"]["city"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let mode = body.pointer("/toolConfig/functionCallingConfig/mode");
    let text = if !results.is_empty() {
        results.join(" ")
    } else if body.get("tools").is_some() && mode != Some(&json!("NONE")) {
        let call =
            |city: &str| json!({"functionCall": {"name": "get_weather", "args": {"city": city}}});
        return if scenario == "parallel" {
            (
                vec![
                    json!({"text": "Checking both."}),
                    call("Paris"),
                    call("Bern"),
                ],
                "STOP",
            )
        } else {
            (vec![call("Paris")], "STOP")
        };
    } else if body["generationConfig"]["responseMimeType"] == "application/json" {
        JSON_ANSWER.to_string()
    } else if scenario == "echo" {
        let roles: Vec<&str> = contents
            .iter()
            .map(|c| c["role"].as_str().unwrap())
            .collect();
        let system: Vec<&str> = body
            .pointer("/systemInstruction/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect();
        format!("roles={}; system={}", roles.join(","), system.join("|"))
    } else if last.iter().any(|p| p.get("inlineData").is_some()) {
        let media: Vec<String> = last
            .iter()
            .filter_map(|p| p.get("inlineData"))
            .map(|d| {
                format!(
                    "{} inline ({} base64 chars)",
                    d["mimeType"].as_str().unwrap(),
                    d["data"].as_str().unwrap().len()
                )
            })
            .collect();
        media.join("; ")
    } else if i == 0 {
        GREETING.to_string()
    } else {
        format!("{GREETING} #{i}")
    };
    // A word is a token: the answer stops at maxOutputTokens.
    let limit = body["generationConfig"]["maxOutputTokens"]
        .as_u64()
        .unwrap_or(u64::MAX) as usize;
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    let finish = if words.len() > limit {
        "MAX_TOKENS"
    } else {
        "STOP"
    };
    let parts = words
        .into_iter()
        .take(limit)
        .map(|w| json!({"text": w}))
        .collect();
    (parts, finish)
}

/// The bodies of the `method` requests `api` received whose turns hold a
/// text part that is `text`.
fn received(api: &GoogleApi, method: &str, text: &str) -> Vec<Value> {
    api.requests()
        .into_iter()
        .filter(|c| c.method() == method && texts(&c.body).any(|t| t == text))
        .map(|c| c.body)
        .collect()
}

/// The one `method` request with `text`.
fn one(api: &GoogleApi, method: &str, text: &str) -> Value {
    let mut bodies = received(api, method, text);
    assert_eq!(
        bodies.len(),
        1,
        "{method} requests with {text:?}: {bodies:#?}"
    );
    bodies.pop().unwrap()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

/// What the mock behind one deployment received from the script.
fn check_received(api: &GoogleApi, vertex: bool) {
    let prefix = if vertex {
        "/v1/projects/test-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:"
    } else {
        "/v1beta/models/gemini-2.5-flash:"
    };
    let requests = api.requests();
    for call in requests
        .iter()
        .filter(|c| matches!(c.method(), GENERATE | STREAM_GENERATE))
    {
        assert!(call.path.starts_with(prefix), "{}", call.path);
        if vertex {
            assert!(
                call.headers["authorization"]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer ya29.test-only-token-")
            );
        } else {
            assert_eq!(call.headers["x-goog-api-key"], "test-key");
        }
        if call.method() == STREAM_GENERATE {
            assert_eq!(call.query.as_deref(), Some("alt=sse"));
        }
    }

    // Chat and streaming: the message as the only turn, nothing else.
    assert_eq!(one(api, GENERATE, CHAT), json!({"contents": [user(CHAT)]}));
    let streamed = received(api, STREAM_GENERATE, STREAM);
    assert_eq!(streamed.len(), 2, "{streamed:#?}"); // raw and the stream helper
    for body in streamed {
        assert_eq!(body, json!({"contents": [user(STREAM)]}));
    }

    // System + multi-turn.
    assert_eq!(
        one(api, GENERATE, ECHO),
        json!({"systemInstruction": {"parts": [{"text": SYSTEM}]}, "contents": [
            user("My name is Ada."),
            {"role": "model", "parts": [{"text": "Hello Ada!"}]},
            user(ECHO),
        ]})
    );

    // Tools round trip: the declaration in Google's schema subset, the call
    // forced, then the call and its result sent back.
    let declarations = json!([{"functionDeclarations": [{"name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}]);
    let round_trip = received(api, GENERATE, QUESTION);
    assert_eq!(round_trip.len(), 2, "{round_trip:#?}");
    assert_eq!(
        round_trip[0],
        json!({"contents": [user(QUESTION)], "tools": declarations,
               "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}})
    );
    assert_eq!(
        round_trip[1],
        json!({"tools": declarations, "contents": [
            user(QUESTION),
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
                "response": {"city": "Paris", "sky": "sunny"}}}]},
        ]})
    );
    assert_eq!(
        one(api, STREAM_GENERATE, STREAM_QUESTION)["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
    );
    // Parallel calls: both results in one user turn, in the calls' order.
    let parallel = received(api, STREAM_GENERATE, PARALLEL);
    assert_eq!(parallel.len(), 2, "{parallel:#?}");
    assert!(parallel[0].get("toolConfig").is_none(), "{}", parallel[0]);
    let call =
        |city: &str| json!({"functionCall": {"name": "get_weather", "args": {"city": city}}});
    let result = |city: &str, sky: &str| json!({"functionResponse": {"name": "get_weather", "response": {"city": city, "sky": sky}}});
    assert_eq!(
        parallel[1]["contents"],
        json!([
            user(PARALLEL),
            {"role": "model", "parts": [{"text": "Checking both."}, call("Paris"), call("Bern")]},
            {"role": "user", "parts": [result("Paris", "sunny"), result("Bern", "rainy")]},
        ])
    );

    // An image as inlineData, the text beside it.
    assert_eq!(
        one(api, GENERATE, IMAGE)["contents"],
        json!([{"role": "user", "parts": [{"text": IMAGE}, {"inlineData": {"mimeType": "image/png", "data": PNG}}]}])
    );

    // JSON mode: the MIME type, and the schema in Google's subset.
    let weather = json!({"type": "OBJECT", "properties": {"city": {"type": "STRING", "description": "The city."},
        "temperature_c": {"type": "INTEGER"}}, "required": ["city", "temperature_c"]});
    let json_config = json!({"responseMimeType": "application/json", "responseSchema": weather});
    assert_eq!(
        one(api, GENERATE, JSON_SCHEMA)["generationConfig"],
        json_config
    );
    assert_eq!(
        one(api, STREAM_GENERATE, JSON_SCHEMA)["generationConfig"],
        json_config
    );
    // parse() sends pydantic's schema (titles, strict: no extra properties).
    assert_eq!(
        one(api, GENERATE, JSON_PARSE)["generationConfig"],
        json!({"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT", "title": "Weather",
            "properties": {"city": {"type": "STRING", "title": "City"},
                           "temperature_c": {"type": "INTEGER", "title": "Temperature C"}},
            "required": ["city", "temperature_c"]}})
    );
    assert_eq!(
        one(api, GENERATE, JSON_OBJECT)["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );

    // Parameters.
    assert_eq!(
        one(api, GENERATE, PARAMS)["generationConfig"],
        json!({"temperature": 0.3, "topP": 0.8, "topK": 20, "stopSequences": ["END", "DONE"], "maxOutputTokens": 64,
               "candidateCount": 2, "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
               "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}})
    );
    assert_eq!(
        one(api, GENERATE, PARAMS_ALT)["generationConfig"],
        json!({"maxOutputTokens": 32, "stopSequences": ["END"], "thinkingConfig": {"thinkingBudget": 0}})
    );

    // Stop reasons: max_tokens reached the mock (plain, parse() and streamed).
    let length = received(api, GENERATE, LENGTH);
    assert_eq!(length.len(), 2, "{length:#?}");
    assert_eq!(length[0]["generationConfig"], json!({"maxOutputTokens": 2}));
    assert_eq!(length[1]["generationConfig"]["maxOutputTokens"], 2);
    assert_eq!(
        one(api, STREAM_GENERATE, LENGTH)["generationConfig"],
        json!({"maxOutputTokens": 2})
    );
    assert_eq!(received(api, GENERATE, FILTERED).len(), 2); // plain and parse()
    assert_eq!(received(api, STREAM_GENERATE, FILTERED).len(), 1);
    assert_eq!(received(api, GENERATE, CACHED).len(), 1);
    assert_eq!(received(api, STREAM_GENERATE, CACHED).len(), 1);

    // Errors: each request reached the mock once (max_retries=0, and the
    // gateway does not retry a lone deployment).
    for text in [RATE_LIMIT, OVERLOADED, INVALID, SAFETY] {
        for method in [GENERATE, STREAM_GENERATE] {
            assert_eq!(one(api, method, text), json!({"contents": [user(text)]}));
        }
    }
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
    check_received(&gemini, false);
    check_received(&vertex, true);
    assert_eq!(vertex.token_exchanges(), 1);
}
