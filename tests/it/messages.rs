//! The Anthropic-compatible entry point, `/v1/messages`, over real HTTP:
//! translated to and from an OpenAI-family deployment here (what the
//! upstream receives, what the client gets back, streamed and not, errors in
//! Anthropic's shape), passed through natively to an Anthropic deployment in
//! `native`, and driven by the official Anthropic Python SDK.

mod mock;
mod native;

use std::time::Duration;

use serde_json::{Value, json};

use crate::sdk::{python_script, run_against};
use crate::support::google_api::{self, Answer, Call, GoogleApi, usage};
use crate::support::upstream::{Reply, Upstream, chunk, completion, script};
use crate::support::{Gateway, MASTER_KEY, client, read_json};

fn openai_entry(name: &str, up: &Upstream, extra: &str) -> String {
    format!(
        "- model_name: {name}\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: sk-up\n{extra}",
        up.api_base
    )
}

/// POSTs as an Anthropic client does: `x-api-key` and `anthropic-version`.
pub async fn send(gw: &Gateway, path: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = client()
        .post(gw.url(path))
        .header("anthropic-version", "2023-06-01")
        .json(body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

pub async fn post(gw: &Gateway, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
    read_json(send(gw, "/v1/messages", Some(MASTER_KEY), body).await).await
}

/// The (event name, data) pairs of an Anthropic SSE body, checking that
/// each data's `type` repeats its event name.
pub fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let name = e
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_else(|| panic!("no event name: {e}"));
            let data = e.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            let data: Value = serde_json::from_str(data).unwrap();
            assert_eq!(data["type"], name, "{e}");
            (name.to_string(), data)
        })
        .collect()
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

/// Asserts Anthropic's error shape and returns the error's type.
fn anthropic_error(body: &Value) -> String {
    assert_eq!(body["type"], "error", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["type"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn plain_and_multi_turn_through_an_openai_deployment() {
    let up = Upstream::openai(
        "sk-up",
        script(|_| Reply::Json(200, completion("gpt-4o-2024-08-06", "Hi there!"))),
    )
    .await;
    let gw = Gateway::with_models(&openai_entry("claude-x", &up, "")).await;
    let request = json!({
        "model": "claude-x", "max_tokens": 100, "temperature": 0.3, "top_p": 0.9, "top_k": 40,
        "system": "Be brief.", "stop_sequences": ["END"], "metadata": {"user_id": "u-42"},
        "messages": [
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": [{"type": "text", "text": "Hi! "}, {"type": "text", "text": "How can I help?"}]},
            {"role": "user", "content": [{"type": "text", "text": "Tell me a joke", "cache_control": {"type": "ephemeral"}}]}
        ]
    });
    let (status, headers, body) = post(&gw, &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": "msg_test123", "type": "message", "role": "assistant", "model": "gpt-4o-2024-08-06",
               "content": [{"type": "text", "text": "Hi there!"}], "stop_reason": "end_turn", "stop_sequence": null,
               "usage": {"input_tokens": 9, "output_tokens": 3, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}})
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-litellm-model-group"], "claude-x");
    assert!(headers.contains_key("x-litellm-call-id"));
    let got = up.last();
    assert_eq!(got.path, "/v1/chat/completions");
    assert_eq!(got.headers["authorization"], "Bearer sk-up");
    assert_eq!(
        got.body,
        json!({"model": "gpt-4o", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi! How can I help?"},
                {"role": "user", "content": "Tell me a joke"}],
               "max_tokens": 100, "temperature": 0.3, "top_p": 0.9, "stop": ["END"], "user": "u-42"}),
        "top_k, cache_control and Anthropic's other fields stay out of the OpenAI request"
    );
    // Also without /v1, and with the key as a bearer token.
    let (status, _, body) = gw.post("/messages", &request).await;
    assert_eq!(
        (status, body["content"][0]["text"].clone()),
        (200, json!("Hi there!"))
    );
}

#[tokio::test]
async fn system_blocks_and_images_become_openai_parts() {
    let up = Upstream::openai(
        "sk-up",
        script(|_| Reply::Json(200, completion("gpt-4o", "A cat."))),
    )
    .await;
    let gw = Gateway::with_models(&openai_entry("v", &up, "")).await;
    let request = json!({"model": "v", "max_tokens": 10,
        "system": [{"type": "text", "text": "You see."}, {"type": "text", "text": "Be exact.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "What are these?"}]}]});
    let (status, _, body) = post(&gw, &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        up.last().body["messages"],
        json!([
            {"role": "system", "content": [{"type": "text", "text": "You see."}, {"type": "text", "text": "Be exact."}]},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                {"type": "text", "text": "What are these?"}]}
        ])
    );
}

#[tokio::test]
async fn streaming_is_translated_event_by_event() {
    let up = Upstream::openai("sk-up", script(|r| {
        assert_eq!(r.body["stream"], json!(true));
        assert_eq!(r.body["stream_options"], json!({"include_usage": true}));
        let mut chunks: Vec<Value> = [json!({"role": "assistant", "content": ""}), json!({"content": "Hel"}),
            json!({"content": "lo"}), json!({"content": " world"})]
            .into_iter()
            .map(|d| chunk("gpt-4o", d, None))
            .collect();
        chunks.push(chunk("gpt-4o", json!({}), Some("stop")));
        chunks.push(json!({"id": "chatcmpl-test123", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
            "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}));
        Reply::Sse(chunks)
    })).await;
    let gw = Gateway::with_models(&openai_entry("s", &up, "")).await;
    let request = json!({"model": "s", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let response = send(&gw, "/v1/messages", Some(MASTER_KEY), &request).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let evs = events(&response.text().await.unwrap());
    assert_eq!(
        names(&evs),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let start = &evs[0].1["message"];
    assert_eq!(
        (
            start["id"].clone(),
            start["role"].clone(),
            start["content"].clone()
        ),
        (json!("msg_test123"), json!("assistant"), json!([]))
    );
    assert_eq!(
        evs[1].1["content_block"],
        json!({"type": "text", "text": ""})
    );
    let text: String = evs
        .iter()
        .filter_map(|(_, d)| d.pointer("/delta/text").and_then(Value::as_str))
        .collect();
    assert_eq!(text, "Hello world");
    assert_eq!(
        evs[6].1["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(evs[6].1["usage"]["input_tokens"], 11);
    assert_eq!(evs[6].1["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn streaming_from_the_mock_provider() {
    let gw = Gateway::with_models(
        "- model_name: m\n  litellm_params:\n    model: mock/gpt-4o\n    mock_response: \"Hello from the mock\"\n",
    )
    .await;
    let request = json!({"model": "m", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let response = send(&gw, "/v1/messages", Some(MASTER_KEY), &request).await;
    let evs = events(&response.text().await.unwrap());
    let text: String = evs
        .iter()
        .filter_map(|(_, d)| d.pointer("/delta/text").and_then(Value::as_str))
        .collect();
    assert_eq!(text, "Hello from the mock");
    assert_eq!(names(&evs).last(), Some(&"message_stop"));
    assert!(
        evs.iter()
            .any(|(n, d)| n == "message_delta" && d["usage"]["output_tokens"] == 4)
    );
}

const WEATHER: &str = r#"{"name": "get_weather", "description": "Weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}"#;

#[tokio::test]
async fn tool_use_out_and_tool_result_back() {
    let up = Upstream::openai("sk-up", script(|r| {
        if r.body["messages"].as_array().unwrap().len() > 1 {
            return Reply::Json(200, completion("gpt-4o", "It is sunny in Bern."));
        }
        Reply::Json(200, json!({"id": "chatcmpl-t", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null, "message": {"role": "assistant",
              "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}]}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}}))
    })).await;
    let gw = Gateway::with_models(&openai_entry("t", &up, "")).await;
    let tool: Value = serde_json::from_str(WEATHER).unwrap();
    let question = json!({"role": "user", "content": "Weather in Bern?"});
    let request = json!({"model": "t", "max_tokens": 100, "tools": [tool], "tool_choice": {"type": "any"}, "messages": [question]});
    let (status, _, body) = post(&gw, &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(
        body["content"],
        json!([{"type": "tool_use", "id": "call_abc", "name": "get_weather", "input": {"city": "Bern"}}])
    );
    let first = up.last().body;
    assert_eq!(first["tool_choice"], "required");
    assert_eq!(
        first["tools"],
        json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
    );

    let follow_up = json!({"model": "t", "max_tokens": 100, "tools": [tool],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
        "messages": [question, {"role": "assistant", "content": body["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_abc", "content": "sunny, 21°C"}]}]});
    let (status, _, body) = post(&gw, &follow_up).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"][0]["text"], "It is sunny in Bern.");
    let second = up.last().body;
    assert_eq!(
        second["messages"],
        json!([{"role": "user", "content": "Weather in Bern?"},
               {"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}]},
               {"role": "tool", "tool_call_id": "call_abc", "content": "sunny, 21°C"}])
    );
    assert_eq!(
        second["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
    assert_eq!(second["parallel_tool_calls"], false);
}

#[tokio::test]
async fn streamed_tool_calls_and_reasoning() {
    let up = Upstream::openai("sk-up", script(|r| {
        assert_eq!(r.body["reasoning_effort"], "low");
        Reply::Sse(vec![
            chunk("o", json!({"role": "assistant", "content": ""}), None),
            chunk("o", json!({"reasoning_content": "The user wants weather."}), None),
            chunk("o", json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}), None),
            chunk("o", json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}), None),
            chunk("o", json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Bern\"}"}}]}), None),
            chunk("o", json!({}), Some("tool_calls")),
        ])
    })).await;
    let gw = Gateway::with_models(&openai_entry("t", &up, "")).await;
    let tool: Value = serde_json::from_str(WEATHER).unwrap();
    let request = json!({"model": "t", "max_tokens": 3000, "stream": true, "tools": [tool],
        "thinking": {"type": "enabled", "budget_tokens": 2000}, "messages": [{"role": "user", "content": "Weather?"}]});
    let response = send(&gw, "/v1/messages", Some(MASTER_KEY), &request).await;
    let evs = events(&response.text().await.unwrap());
    assert_eq!(
        names(&evs),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(evs[1].1["content_block"]["type"], "thinking");
    assert_eq!(
        evs[2].1["delta"],
        json!({"type": "thinking_delta", "thinking": "The user wants weather."})
    );
    assert_eq!(evs[4].1["index"], 1);
    assert_eq!(
        evs[4].1["content_block"],
        json!({"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}})
    );
    let args: String = evs
        .iter()
        .filter_map(|(_, d)| d.pointer("/delta/partial_json").and_then(Value::as_str))
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Bern"})
    );
    assert_eq!(evs[8].1["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn errors_take_anthropics_shape() {
    let up = Upstream::openai("sk-up", script(|_| Reply::JsonWithHeaders(429,
        json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
        vec![("retry-after", "7")]))).await;
    let gw = Gateway::with_models(&openai_entry("r", &up, "")).await;
    let ok = json!({"model": "r", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]});

    for key in [Some("sk-wrong"), None] {
        let (status, _, body) = read_json(send(&gw, "/v1/messages", key, &ok).await).await;
        assert_eq!(
            (status, anthropic_error(&body)),
            (401, "authentication_error".into()),
            "{body}"
        );
    }
    let mut no_max = ok.clone();
    no_max.as_object_mut().unwrap().remove("max_tokens");
    let (status, _, body) = post(&gw, &no_max).await;
    assert_eq!(
        (status, anthropic_error(&body)),
        (400, "invalid_request_error".into())
    );
    assert_eq!(body["error"]["message"], "max_tokens: Field required");
    let (status, _, body) = post(&gw, &json!({"model": "r", "max_tokens": 5})).await;
    assert_eq!(
        (status, body["error"]["message"].clone()),
        (400, json!("messages: Field required"))
    );
    let (status, _, body) = post(
        &gw,
        &json!({"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(
        (status, anthropic_error(&body)),
        (400, "invalid_request_error".into())
    );
    assert!(
        up.requests().is_empty(),
        "invalid requests never reach the upstream"
    );

    let (status, headers, body) = post(&gw, &ok).await;
    assert_eq!(
        (status, anthropic_error(&body)),
        (429, "rate_limit_error".into()),
        "{body}"
    );
    assert_eq!(body["error"]["message"], "Rate limit reached for requests");
    assert_eq!(headers["retry-after"], "7");
    assert!(headers.contains_key("x-litellm-call-id"));
}

#[tokio::test]
async fn a_stalled_stream_ends_with_an_error_event() {
    let first = format!(
        "data: {}\n\n",
        chunk(
            "gpt-4o",
            json!({"role": "assistant", "content": "Hi"}),
            None
        )
    );
    let up = Upstream::openai(
        "sk-up",
        script(move |_| {
            Reply::Chunks(vec![
                (Duration::ZERO, first.clone()),
                (Duration::from_secs(3), "data: [DONE]\n\n".into()),
            ])
        }),
    )
    .await;
    let gw = Gateway::with_models(&openai_entry("s", &up, "    stream_timeout: 0.3\n")).await;
    let request = json!({"model": "s", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "x"}]});
    let evs = events(
        &send(&gw, "/v1/messages", Some(MASTER_KEY), &request)
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        names(&evs),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(evs[3].1["error"]["type"], "timeout_error");
}

#[tokio::test]
async fn count_tokens_estimates_for_openai_deployments() {
    let up = Upstream::openai("sk-up", script(|_| Reply::Json(500, json!({})))).await;
    let gw = Gateway::with_models(&openai_entry("c", &up, "")).await;
    // 4 + 8 + 16 characters of text: 7 tokens; max_tokens is not needed.
    let request = json!({"model": "c", "system": "abcd",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "abcdefgh"}]},
                     {"role": "assistant", "content": "0123456789abcdef"}]});
    let (status, headers, body) =
        read_json(send(&gw, "/v1/messages/count_tokens", Some(MASTER_KEY), &request).await).await;
    assert_eq!((status, body), (200, json!({"input_tokens": 7})));
    assert_eq!(headers["x-litellm-model-group"], "c");
    assert!(up.requests().is_empty());
    let (status, _, body) =
        read_json(send(&gw, "/messages/count_tokens", Some("bad"), &request).await).await;
    assert_eq!(
        (status, anthropic_error(&body)),
        (401, "authentication_error".into())
    );
}

/// What the Gemini deployment of `anthropic_python_sdk` greets with.
const GEMINI_GREETING: &str = "Hello from Gemini";

/// The Gemini behind `claude-via-gemini`: a forced tool (`toolConfig` mode
/// `ANY`) is called with `{"city": "Bern"}`; anything else, including the
/// turn that carries the tool's result, is answered with the greeting, in
/// pieces when streamed.
fn gemini_for_anthropic_sdk(call: &Call) -> Answer {
    let last = call.body["contents"].as_array().unwrap().last().unwrap();
    let answered = last["parts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p.get("functionResponse").is_some());
    let forced = call.body.pointer("/toolConfig/functionCallingConfig/mode") == Some(&json!("ANY"));
    let parts: Vec<Value> = if forced && !answered {
        vec![json!({"functionCall": {"name": "get_weather", "args": {"city": "Bern"}}})]
    } else {
        GEMINI_GREETING
            .split_inclusive(' ')
            .map(|w| json!({"text": w}))
            .collect()
    };
    if call.method() == "streamGenerateContent" {
        let n = parts.len();
        let events = parts.into_iter().enumerate().map(|(i, part)| {
            let mut candidate = json!({"content": {"role": "model", "parts": [part]}, "index": 0});
            let last = i + 1 == n;
            if last {
                candidate["finishReason"] = json!("STOP");
            }
            let usage_meta = if last {
                usage(9, 4)
            } else {
                json!({"promptTokenCount": 9, "totalTokenCount": 9})
            };
            json!({"candidates": [candidate], "usageMetadata": usage_meta,
                   "modelVersion": "gemini-2.5-flash", "responseId": "resp-g"})
        });
        return Answer::Sse(events.collect());
    }
    Answer::Json(
        200,
        json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
               "usageMetadata": usage(9, 4), "modelVersion": "gemini-2.5-flash", "responseId": "resp-g"}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_python_sdk() {
    let native = mock::AnthropicMock::start("sk-ant-native", mock::claude).await;
    let gemini = GoogleApi::gemini(google_api::script(gemini_for_anthropic_sdk)).await;
    let models = format!(
        r#"
- model_name: claude-via-openai
  litellm_params:
    model: mock/gpt-4o
    mock_response: "Hello from the mock"
    mock_chunk_delay_ms: 2
- model_name: claude-native
  litellm_params:
    model: anthropic/claude-test-1
    api_base: {}
    api_key: sk-ant-native
- model_name: rate-limited
  litellm_params:
    model: mock/rate-limited
    mock_error_status: 429
"#,
        native.api_base
    ) + &gemini.entry("claude-via-gemini", "gemini-2.5-flash", "");
    let gw = Gateway::with_models(&models).await;
    let mut command = python_script("anthropic_python.py");
    // Nothing from the developer's own Anthropic setup may reach the SDK.
    for var in [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_CUSTOM_HEADERS",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_LOG",
    ] {
        command.env_remove(var);
    }
    run_against(&gw, command, "the Anthropic Python SDK script").await;
    assert!(
        native
            .seen()
            .iter()
            .all(|s| s.body["model"] == "claude-test-1")
    );
    assert!(native.seen().len() >= 5, "the native model was exercised");
    // Plain, streamed, forced tool, tool result, streamed forced tool; the
    // gateway estimates count_tokens itself, so that one never reaches Gemini.
    let calls = gemini.requests();
    let methods: Vec<&str> = calls.iter().map(Call::method).collect();
    assert_eq!(
        methods,
        [
            "generateContent",
            "streamGenerateContent",
            "generateContent",
            "generateContent",
            "streamGenerateContent"
        ],
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.path.starts_with("/v1beta/models/gemini-2.5-flash:"))
    );
    assert_eq!(
        calls[0].body["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
    let forced =
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}});
    assert_eq!(calls[2].body["toolConfig"], forced);
    assert_eq!(calls[4].body["toolConfig"], forced);
    assert_eq!(
        calls[3].body["contents"].as_array().unwrap()[1..],
        [
            json!({"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Bern"}}}]}),
            json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}}]}),
        ]
    );
}
