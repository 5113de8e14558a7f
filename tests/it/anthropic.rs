//! The `anthropic/` provider against a strict mock of Anthropic's Messages
//! API: requests translated (asserted on what the API received), answers,
//! streams and errors translated back into OpenAI's shapes, and the official
//! OpenAI Python SDK on top. Property tests of the pure translators (stream
//! splits, arbitrary bytes and JSON) live beside them, in
//! `src/providers/anthropic/props.rs`.

mod errors;
mod sdk;
mod streaming;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::sdk::{python_script, run_against};
use crate::support::anthropic_api::{
    AnthropicApi, Recorded, Reply, error_body, events, hello_events, message, raw, script,
    text_message, tool_events,
};
use crate::support::{Gateway, client, error_of, sse_data};

const KEY: &str = "sk-ant-test";

fn entry(api: &AnthropicApi, name: &str, extra: &str) -> String {
    format!(
        "- model_name: {name}\n  litellm_params:\n    model: anthropic/claude-sonnet-4-5\n    api_base: {}\n    api_key: {KEY}\n{extra}",
        api.api_base
    )
}

async fn serve(
    reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
) -> (AnthropicApi, Gateway) {
    let api = AnthropicApi::start(KEY, script(reply)).await;
    let gw = Gateway::with_models(&entry(&api, "claude", "")).await;
    (api, gw)
}

fn chat(messages: Value) -> Value {
    json!({"model": "claude", "messages": messages})
}

fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

/// The JSON chunks of an OpenAI event stream (without `[DONE]`).
fn chunks(body: &str) -> Vec<Value> {
    sse_data(body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

fn deltas(chunks: &[Value]) -> Vec<(Value, Value)> {
    chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0"))
        .map(|c| (c["delta"].clone(), c["finish_reason"].clone()))
        .collect()
}

#[tokio::test]
async fn chat_is_translated_both_ways() {
    let (api, gw) = serve(|_| Reply::Message(text_message("Hi there"))).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(user("Hello"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["id"], "msg_01mock");
    assert_eq!(body["model"], "claude-sonnet-4-5-20250929");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        body["choices"],
        json!([{"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "logprobs": null, "finish_reason": "stop"}])
    );
    assert_eq!(body["usage"]["prompt_tokens"], 12);
    assert_eq!(body["usage"]["completion_tokens"], 4);
    assert_eq!(body["usage"]["total_tokens"], 16);
    let sent = api.last();
    assert_eq!(sent.headers["x-api-key"], KEY);
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert_eq!(
        sent.body,
        json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4096})
    );
}

#[tokio::test]
async fn system_messages_are_lifted_and_turns_merged() {
    let (api, gw) = serve(|_| Reply::Message(text_message("ok"))).await;
    let messages = json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "One."},
        {"role": "user", "content": [{"type": "text", "text": "Two."}]},
        {"role": "assistant", "content": "Noted."},
        {"role": "assistant", "content": [{"type": "text", "text": "Go on."}]},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "text", "text": "Three.", "cache_control": {"type": "ephemeral"}}]},
    ]);
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(messages)).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(sent["system"], "Be brief.\n\nAnswer in French.");
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Noted."}, {"type": "text", "text": "Go on."}]},
            {"role": "user", "content": [{"type": "text", "text": "Three.", "cache_control": {"type": "ephemeral"}}]},
        ])
    );
    // A cached system prompt stays in blocks, with its cache_control.
    let cached = json!([
        {"role": "system", "content": [{"type": "text", "text": "Long manual.", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "Q"},
    ]);
    gw.post("/v1/chat/completions", &chat(cached)).await;
    assert_eq!(
        api.last().body["system"],
        json!([{"type": "text", "text": "Long manual.", "cache_control": {"type": "ephemeral"}}])
    );
}

#[tokio::test]
async fn max_tokens_comes_from_the_request_the_deployment_or_the_default() {
    let api = AnthropicApi::start(KEY, script(|_| Reply::Message(text_message("ok")))).await;
    let models = [
        entry(&api, "claude", ""),
        entry(
            &api,
            "with-info",
            "  model_info:\n    max_output_tokens: 8192\n",
        ),
        entry(&api, "with-default", "    max_tokens: 300\n"),
    ]
    .concat();
    let gw = Gateway::with_models(&models).await;
    let cases = [
        (json!({"model": "claude", "max_tokens": 100}), 100),
        (
            json!({"model": "claude", "max_tokens": 100, "max_completion_tokens": 200}),
            200,
        ),
        (json!({"model": "with-info"}), 8192),
        (json!({"model": "with-info", "max_tokens": 50}), 50),
        (json!({"model": "with-default"}), 300),
        (json!({"model": "claude"}), 4096),
    ];
    for (mut request, expected) in cases {
        request["messages"] = user("x");
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(api.last().body["max_tokens"], expected, "{request}");
    }
}

#[tokio::test]
async fn sampling_and_other_parameters_are_mapped() {
    let (api, gw) = serve(|_| Reply::Message(text_message("ok"))).await;
    let mut request = chat(user("x"));
    for (k, v) in [
        ("stop", json!("END")),
        ("temperature", json!(0.2)),
        ("top_p", json!(0.9)),
        ("user", json!("user-42")),
        ("presence_penalty", json!(0.5)),
        ("seed", json!(7)),
        ("stream_options", json!({"include_usage": true})),
        ("reasoning_effort", json!("medium")),
    ] {
        request[k] = v;
    }
    // Without drop_params, what Anthropic cannot express is a 400 naming it.
    let before = api.requests().len();
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body)["param"], "presence_penalty");
    assert_eq!(error_of(&body)["code"], "unsupported_parameter");
    assert_eq!(
        api.requests().len(),
        before,
        "refused before any upstream call"
    );
    request["drop_params"] = json!(true);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert!(sent.get("drop_params").is_none());
    assert_eq!(sent["stop_sequences"], json!(["END"]));
    assert_eq!(
        (sent["temperature"].clone(), sent["top_p"].clone()),
        (json!(0.2), json!(0.9))
    );
    assert_eq!(sent["metadata"], json!({"user_id": "user-42"}));
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 4096})
    );
    assert_eq!(
        sent["max_tokens"],
        4096 + 4096,
        "grown above the thinking budget"
    );
    for dropped in [
        "presence_penalty",
        "seed",
        "stream_options",
        "user",
        "stop",
        "reasoning_effort",
    ] {
        assert!(sent.get(dropped).is_none(), "{dropped} must not be sent");
    }
    // A limit the client chose is kept; the budget fits under it.
    let mut request = chat(user("x"));
    request["stop"] = json!(["a", "b"]);
    request["reasoning_effort"] = json!("high");
    request["max_tokens"] = json!(2000);
    gw.post("/v1/chat/completions", &request).await;
    let sent = api.last().body;
    assert_eq!(sent["stop_sequences"], json!(["a", "b"]));
    assert_eq!(
        (
            sent["max_tokens"].clone(),
            sent["thinking"]["budget_tokens"].clone()
        ),
        (json!(2000), json!(1999))
    );
    // What Anthropic cannot do is refused before any upstream call.
    let before = api.requests().len();
    let mut request = chat(user("x"));
    request["n"] = json!(2);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["param"], "n");
    assert_eq!(api.requests().len(), before);
}

const WEATHER_TOOL: &str = r#"{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}"#;

fn weather_tool() -> Value {
    serde_json::from_str(WEATHER_TOOL).unwrap()
}

#[tokio::test]
async fn tool_calls_round_trip() {
    let (api, gw) = serve(|r| {
        let last = r.body["messages"].as_array().unwrap().last().unwrap();
        if last["content"].is_string() {
            Reply::Message(message(
                json!([{"type": "text", "text": "Let me check."},
                       {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Bern"}}]),
                "tool_use",
                json!({"input_tokens": 30, "output_tokens": 20}),
            ))
        } else {
            Reply::Message(text_message("It is 18°C in Bern."))
        }
    })
    .await;
    let mut request = chat(user("Weather in Bern?"));
    request["tools"] = json!([weather_tool()]);
    request["tool_choice"] = json!("required");
    request["parallel_tool_calls"] = json!(false);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        sent["tools"],
        json!([{"name": "get_weather", "description": "Weather for a city.",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
    );
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "Let me check.");
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}])
    );
    // The client sends the call and its result back.
    request["messages"] = json!([
        {"role": "user", "content": "Weather in Bern?"},
        choice["message"],
        {"role": "tool", "tool_call_id": "toolu_01", "content": "18°C"},
    ]);
    request.as_object_mut().unwrap().remove("tool_choice");
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "It is 18°C in Bern."
    );
    assert_eq!(
        api.last().body["messages"],
        json!([
            {"role": "user", "content": "Weather in Bern?"},
            {"role": "assistant", "content": [{"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Bern"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C"}]},
        ])
    );
}

#[tokio::test]
async fn tool_choice_values_are_mapped() {
    let (api, gw) = serve(|_| Reply::Message(text_message("ok"))).await;
    let cases = [
        (json!("auto"), json!({"type": "auto"})),
        (json!("none"), json!({"type": "none"})),
        (json!("required"), json!({"type": "any"})),
        (
            json!({"type": "function", "function": {"name": "get_weather"}}),
            json!({"type": "tool", "name": "get_weather"}),
        ),
    ];
    for (choice, expected) in cases {
        let mut request = chat(user("x"));
        request["tools"] = json!([weather_tool()]);
        request["tool_choice"] = choice;
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(api.last().body["tool_choice"], expected);
    }
}

#[tokio::test]
async fn images_from_data_urls_and_web_urls() {
    let (api, gw) = serve(|_| Reply::Message(text_message("A cat."))).await;
    let messages = json!([{"role": "user", "content": [
        {"type": "text", "text": "Compare these."},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}, "cache_control": {"type": "ephemeral"}},
    ]}]);
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(messages)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "Compare these."},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}, "cache_control": {"type": "ephemeral"}},
        ])
    );
    let bad = json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]);
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(bad)).await;
    assert_eq!(status, 400, "{body}");
}

fn person_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "person", "strict": true, "schema":
        {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]}}})
}

#[tokio::test]
async fn json_schema_answers_come_back_as_content() {
    let answer = json!({"type": "tool_use", "id": "toolu_09", "name": "json_response", "input": {"name": "Ada", "age": 36}});
    let (api, gw) = serve(move |r| {
        if r.body["stream"] == true {
            let block =
                json!({"type": "tool_use", "id": "toolu_09", "name": "json_response", "input": {}});
            let parts = ["", "{\"name\": \"Ada\"", ", \"age\": 36}"]
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}));
            Reply::Events(events(
                vec![(block, parts.to_vec())],
                "tool_use",
                json!({"input_tokens": 5, "output_tokens": 9}),
            ))
        } else {
            Reply::Message(message(
                json!([answer]),
                "tool_use",
                json!({"input_tokens": 5, "output_tokens": 9}),
            ))
        }
    })
    .await;
    let mut request = chat(user("Who wrote the first program?"));
    request["response_format"] = person_format();
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(sent["tools"][0]["name"], "json_response");
    assert_eq!(
        sent["tools"][0]["input_schema"],
        person_format()["json_schema"]["schema"]
    );
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "tool", "name": "json_response"})
    );
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "{\"name\":\"Ada\",\"age\":36}");
    assert!(message.get("tool_calls").is_none());
    assert_eq!(body["choices"][0]["finish_reason"], "stop");

    request["stream"] = json!(true);
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let got = deltas(&chunks(&body));
    let text: String = got
        .iter()
        .filter_map(|(d, _)| d["content"].as_str())
        .collect();
    assert_eq!(text, "{\"name\": \"Ada\", \"age\": 36}");
    assert!(got.iter().all(|(d, _)| d.get("tool_calls").is_none()));
    assert_eq!(got.last().unwrap().1, "stop");
}

#[tokio::test]
async fn stop_reasons_become_finish_reasons() {
    let (_api, gw) = serve(|r| {
        let reason = r.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_string();
        Reply::Message(message(
            json!([{"type": "text", "text": "…"}]),
            &reason,
            json!({"input_tokens": 1, "output_tokens": 1}),
        ))
    })
    .await;
    for (reason, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ] {
        let (status, _, body) = gw.post("/v1/chat/completions", &chat(user(reason))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["choices"][0]["finish_reason"], finish, "{reason}");
    }
}

#[tokio::test]
async fn usage_counts_cached_prompt_tokens() {
    let usage = json!({"input_tokens": 20, "output_tokens": 5, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300});
    let (_api, gw) = serve(move |_| {
        Reply::Message(message(
            json!([{"type": "text", "text": "ok"}]),
            "end_turn",
            usage.clone(),
        ))
    })
    .await;
    let (_, _, body) = gw.post("/v1/chat/completions", &chat(user("x"))).await;
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 1320, "completion_tokens": 5, "total_tokens": 1325,
               "prompt_tokens_details": {"cached_tokens": 1000},
               "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300})
    );
}

#[tokio::test]
async fn thinking_becomes_reasoning_content() {
    let (_api, gw) = serve(|r| {
        let usage = json!({"input_tokens": 3, "output_tokens": 8});
        if r.body["stream"] == true {
            let thinking = (json!({"type": "thinking", "thinking": ""}), vec![
                json!({"type": "thinking_delta", "thinking": "Two plus "}),
                json!({"type": "thinking_delta", "thinking": "two."}),
                json!({"type": "signature_delta", "signature": "EqQB"}),
            ]);
            let text = (json!({"type": "text", "text": ""}), vec![json!({"type": "text_delta", "text": "4"})]);
            Reply::Events(events(vec![thinking, text], "end_turn", usage))
        } else {
            Reply::Message(message(
                json!([{"type": "thinking", "thinking": "Two plus two.", "signature": "EqQB"}, {"type": "text", "text": "4"}]),
                "end_turn",
                usage,
            ))
        }
    })
    .await;
    let mut request = chat(user("2+2?"));
    request["reasoning_effort"] = json!("low");
    let (_, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(
        body["choices"][0]["message"]["reasoning_content"],
        "Two plus two."
    );
    assert_eq!(body["choices"][0]["message"]["content"], "4");
    request["stream"] = json!(true);
    let (_, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    let got = deltas(&chunks(&body));
    let reasoning: String = got
        .iter()
        .filter_map(|(d, _)| d["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "Two plus two.");
    assert_eq!(got[got.len() - 2].0, json!({"content": "4"}));
}
