//! Non-streaming chat: the request Gemini receives and the completion the
//! client gets back.

use serde_json::{Value, json};

use super::{gateway, user};
use crate::support::error_of;
use crate::support::google_api::{Answer, GoogleApi, script, text_answer, usage};

fn answer(parts: Value, finish: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}],
           "usageMetadata": usage(5, 2), "modelVersion": "gemini-2.5-flash", "responseId": "r-1"})
}

#[tokio::test]
async fn a_chat_is_one_generate_content_call_and_an_openai_completion() {
    let api = GoogleApi::gemini(script(|_| {
        let mut a = text_answer("Hello there");
        a["usageMetadata"] = json!({"promptTokenCount": 7, "candidatesTokenCount": 3, "thoughtsTokenCount": 4,
                                    "cachedContentTokenCount": 2, "totalTokenCount": 14});
        Answer::Json(200, a)
    }))
    .await;
    let gw = gateway(&api, "").await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &user("Hi")).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-litellm-model-id"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["id"], "chatcmpl-resp-1");
    assert_eq!(body["model"], "gemini-2.5-flash");
    assert_eq!(
        body["choices"][0]["message"],
        json!({"role": "assistant", "content": "Hello there", "refusal": null})
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 7, "total_tokens": 14,
               "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 4}})
    );
    let call = api.last();
    assert_eq!(call.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(call.headers["x-goog-api-key"], "test-key");
    assert_eq!(
        call.body,
        json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]})
    );
}

#[tokio::test]
async fn system_and_developer_messages_become_the_system_instruction() {
    let api = GoogleApi::gemini(script(|_| Answer::Json(200, text_answer("ok")))).await;
    let gw = gateway(&api, "").await;
    let request = json!({"model": "g", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {"role": "user", "content": [{"type": "text", "text": "How are you?"}]},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Well?"}
    ]});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        sent["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}, {"text": "Answer in French."}]})
    );
    assert_eq!(
        sent["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello!"}]},
            {"role": "user", "parts": [{"text": "How are you?"}]},
            {"role": "user", "parts": [{"text": "Well?"}]}
        ])
    );
    // Only instructions: they become the prompt, as Google needs a turn.
    let (status, _, _) = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "g", "messages": [{"role": "system", "content": "Say hi"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let sent = api.last().body;
    assert_eq!(
        sent,
        json!({"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]})
    );
}

#[tokio::test]
async fn openai_parameters_map_to_generation_config_and_deployment_defaults_apply() {
    let api = GoogleApi::gemini(script(|call| {
        let n = call.body.pointer("/generationConfig/candidateCount").and_then(Value::as_u64).unwrap_or(1);
        let candidates: Vec<Value> = (0..n)
            .map(|i| json!({"content": {"role": "model", "parts": [{"text": format!("answer {i}")}]}, "finishReason": "STOP", "index": i}))
            .collect();
        Answer::Json(200, json!({"candidates": candidates, "usageMetadata": usage(4, 4)}))
    }))
    .await;
    let gw = gateway(&api, "    temperature: 0.2\n    top_k: 40\n").await;
    let request = json!({"model": "g", "messages": [{"role": "user", "content": "x"}],
        "temperature": 0.7, "top_p": 0.9, "max_tokens": 50, "max_completion_tokens": 100, "stop": "END",
        "n": 2, "seed": 42, "presence_penalty": 0.5, "frequency_penalty": 0.25, "reasoning_effort": "low",
        "user": "u-1", "parallel_tool_calls": true});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["generationConfig"],
        json!({"temperature": 0.7, "topP": 0.9, "topK": 40, "candidateCount": 2, "presencePenalty": 0.5,
               "frequencyPenalty": 0.25, "seed": 42, "maxOutputTokens": 100, "stopSequences": ["END"],
               "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}})
    );
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    assert_eq!(
        (
            choices[1]["index"].clone(),
            choices[1]["message"]["content"].clone()
        ),
        (json!(1), json!("answer 1"))
    );

    let (status, _, _) = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "g", "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 10, "stop": ["a", "b"], "reasoning_effort": "none"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        api.last().body["generationConfig"],
        json!({"temperature": 0.2, "topK": 40, "maxOutputTokens": 10, "stopSequences": ["a", "b"],
               "thinkingConfig": {"thinkingBudget": 0}})
    );
}

#[tokio::test]
async fn json_mode_and_json_schema_become_a_response_mime_type_and_schema() {
    let api = GoogleApi::gemini(script(|_| {
        Answer::Json(200, text_answer("{\"city\":\"Bern\"}"))
    }))
    .await;
    let gw = gateway(&api, "").await;
    let mut request = user("JSON please");
    request["response_format"] = json!({"type": "json_object"});
    let (status, _, _) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200);
    assert_eq!(
        api.last().body["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );

    request["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "city", "strict": true, "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": false,
        "properties": {"city": {"type": "string", "description": "name"}, "population": {"type": ["integer", "null"]}},
        "required": ["city", "population"]}}});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "{\"city\":\"Bern\"}"
    );
    assert_eq!(
        api.last().body["generationConfig"],
        json!({"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT",
            "properties": {"city": {"type": "STRING", "description": "name"}, "population": {"type": "INTEGER", "nullable": true}},
            "required": ["city", "population"]}})
    );
}

#[tokio::test]
async fn images_become_inline_data_or_file_data() {
    let api = GoogleApi::gemini(script(|_| Answer::Json(200, text_answer("A cat.")))).await;
    let gw = gateway(&api, "").await;
    let request = json!({"model": "g", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpeg?w=200"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    ]}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["contents"][0]["parts"],
        json!([
            {"text": "What is this?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.test/cat.jpeg?w=200"}},
            {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}}
        ])
    );
    let bad = json!({"model": "g", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,raw"}}]}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &bad).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body)["param"], "messages[0].content[0]");
}

const WEATHER: &str = r#"{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}}, "required": ["city"]}}}"#;

#[tokio::test]
async fn tools_round_trip_through_function_calls_and_responses() {
    let api = GoogleApi::gemini(script(|call| {
        let last = call.body["contents"].as_array().unwrap().last().unwrap().clone();
        if last["parts"][0].get("functionResponse").is_some() {
            return Answer::Json(200, answer(json!([{"text": "Sunny in Bern, dry in Oslo."}]), "STOP"));
        }
        Answer::Json(200, answer(json!([
            {"text": "Let me check."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Bern"}}, "thoughtSignature": "c2lnLTE="},
            {"functionCall": {"name": "get_weather", "args": {"city": "Oslo", "unit": "c"}}}
        ]), "STOP"))
    }))
    .await;
    let gw = gateway(&api, "").await;
    let tools: Value = serde_json::from_str(&format!("[{WEATHER}]")).unwrap();
    let mut request = json!({"model": "g", "messages": [{"role": "user", "content": "Weather in Bern and Oslo?"}],
                             "tools": tools, "tool_choice": "required"});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        sent["tools"],
        json!([{"functionDeclarations": [{"name": "get_weather", "description": "Weather for a city", "parameters": {
            "type": "OBJECT", "properties": {"city": {"type": "STRING"}, "unit": {"type": "STRING", "enum": ["c", "f"], "default": "c"}},
            "required": ["city"]}}]}])
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY"}})
    );
    let message = body["choices"][0]["message"].clone();
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(message["content"], "Let me check.");
    let calls = message["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    let first_id = calls[0]["id"].as_str().unwrap();
    assert!(
        first_id.starts_with("call_") && first_id.ends_with("__thought__c2lnLTE="),
        "{first_id}"
    );
    assert_eq!(
        calls[0]["function"],
        json!({"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"})
    );
    assert_ne!(calls[0]["id"], calls[1]["id"]);

    // Back with both results: they share one user turn, named by id.
    let messages = request["messages"].as_array_mut().unwrap();
    messages.push(message.clone());
    messages
        .push(json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "{\"temp\": 21}"}));
    messages.push(json!({"role": "tool", "tool_call_id": calls[1]["id"], "content": "dry"}));
    request["tool_choice"] = json!("auto");
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Sunny in Bern, dry in Oslo."
    );
    let sent = api.last().body;
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );
    assert_eq!(
        sent["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Bern and Oslo?"}]},
            {"role": "model", "parts": [
                {"text": "Let me check."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Bern"}}, "thoughtSignature": "c2lnLTE="},
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo", "unit": "c"}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                {"functionResponse": {"name": "get_weather", "response": {"output": "dry"}}}
            ]}
        ])
    );
}

#[tokio::test]
async fn tool_choice_variants_and_unknown_tool_results() {
    let api = GoogleApi::gemini(script(|_| Answer::Json(200, text_answer("ok")))).await;
    let gw = gateway(&api, "").await;
    let tools: Value = serde_json::from_str(&format!("[{WEATHER}]")).unwrap();
    for (choice, config) in [
        (json!("none"), json!({"mode": "NONE"})),
        (
            json!({"type": "function", "function": {"name": "get_weather"}}),
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
        ),
    ] {
        let request = json!({"model": "g", "messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": choice});
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            api.last().body["toolConfig"]["functionCallingConfig"],
            config
        );
    }
    let orphan = json!({"model": "g", "messages": [{"role": "user", "content": "x"},
        {"role": "tool", "tool_call_id": "call_nowhere", "content": "1"}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &orphan).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body)["param"], "messages[1].tool_call_id");
    let function_less = json!({"model": "g", "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &function_less).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["tools"],
        json!([{"functionDeclarations": [{"name": "now"}]}])
    );
}

#[tokio::test]
async fn finish_reasons_map_to_openai_terms() {
    for (reason, parts, expected, content) in [
        ("STOP", json!([{"text": "done"}]), "stop", json!("done")),
        (
            "MAX_TOKENS",
            json!([{"text": "trunc"}]),
            "length",
            json!("trunc"),
        ),
        ("SAFETY", json!([]), "content_filter", Value::Null),
        (
            "RECITATION",
            json!([{"text": "partial"}]),
            "content_filter",
            json!("partial"),
        ),
        (
            "PROHIBITED_CONTENT",
            json!([]),
            "content_filter",
            Value::Null,
        ),
        ("SPII", json!([]), "content_filter", Value::Null),
        ("BLOCKLIST", json!([]), "content_filter", Value::Null),
    ] {
        let sent = answer(parts, reason);
        let api = GoogleApi::gemini(script(move |_| Answer::Json(200, sent.clone()))).await;
        let gw = gateway(&api, "").await;
        let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
        assert_eq!(status, 200, "{reason}: {body}");
        assert_eq!(body["choices"][0]["finish_reason"], expected, "{reason}");
        assert_eq!(
            body["choices"][0]["message"]["content"], content,
            "{reason}"
        );
    }
}

#[tokio::test]
async fn a_blocked_prompt_is_a_400_content_policy_error() {
    let api = GoogleApi::gemini(script(|_| {
        Answer::Json(200, json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}, "usageMetadata": usage(8, 0)}))
    }))
    .await;
    let gw = gateway(&api, "").await;
    let (status, _, body) = gw
        .post("/v1/chat/completions", &user("something bad"))
        .await;
    assert_eq!(status, 400, "{body}");
    let e = error_of(&body);
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("invalid_request_error"), Some("content_filter"))
    );
    assert!(e["message"].as_str().unwrap().contains("SAFETY"));
}
