//! Chat through Converse: the signed request, the translated body, tools,
//! images, JSON mode, parameters and finish reasons.

use serde_json::{Value, json};

use super::{gateway, user};
use crate::support::bedrock_api::{
    ACCESS_KEY_ID, Answer, BedrockApi, CLAUDE, REGION, script, text_answer, usage,
};
use crate::support::{Gateway, error_of};

fn answer_with(content: Value, stop: &str) -> Value {
    json!({"output": {"message": {"role": "assistant", "content": content}},
           "stopReason": stop, "usage": usage(20, 7), "metrics": {"latencyMs": 5}})
}

#[tokio::test]
async fn a_chat_is_signed_and_translated_both_ways() {
    let api = BedrockApi::start(script(|_| Answer::Json(text_answer("Hello from Bedrock")))).await;
    let gw = gateway(&api, "").await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &user("Hi")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["model"], CLAUDE);
    assert_eq!(
        body["choices"][0]["message"],
        json!({"role": "assistant", "content": "Hello from Bedrock", "refusal": null})
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 11);
    assert_eq!(body["usage"]["completion_tokens"], 4);
    assert_eq!(body["usage"]["total_tokens"], 15);
    assert!(headers.contains_key("x-litellm-model-id"));

    let call = api.last();
    assert_eq!(call.action, "converse");
    assert_eq!(call.model, CLAUDE);
    assert_eq!(
        call.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert_eq!(
        call.body,
        json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
    );
    let auth = call.headers["authorization"].to_str().unwrap();
    let scope = format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/");
    assert!(auth.starts_with(&scope), "{auth}");
    assert!(
        auth.contains(&format!("/{REGION}/bedrock/aws4_request, SignedHeaders=")),
        "{auth}"
    );
    assert!(
        auth.contains("host;x-amz-content-sha256;x-amz-date"),
        "{auth}"
    );
    assert_eq!(call.headers["accept"], "application/json");
    assert!(!call.headers.contains_key("x-amz-security-token"));
}

#[tokio::test]
async fn system_messages_and_turns_are_lifted_and_merged() {
    let api = BedrockApi::start(script(|_| Answer::Json(text_answer("ok")))).await;
    let gw = gateway(&api, "").await;
    let request = json!({"model": "b", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "What is my name?"},
        {"role": "user", "content": [{"type": "text", "text": "Be quick."}]},
    ]});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        sent["system"],
        json!([{"text": "Be brief."}, {"text": "Answer in English."}])
    );
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "user", "content": [{"text": "My name is Ada."}]},
            {"role": "assistant", "content": [{"text": "Hello Ada."}]},
            {"role": "user", "content": [{"text": "What is my name?"}, {"text": "Be quick."}]},
        ])
    );
}

#[tokio::test]
async fn parameters_map_to_inference_config_or_are_refused() {
    let api = BedrockApi::start(script(|_| Answer::Json(text_answer("ok")))).await;
    let gw = Gateway::with_models(&api.entry("b", CLAUDE, "    temperature: 0.2\n")).await;
    let mut request = user("x");
    request["max_tokens"] = json!(50);
    request["max_completion_tokens"] = json!(60);
    request["top_p"] = json!(0.9);
    request["stop"] = json!("END");
    request["top_k"] = json!(40);
    request["n"] = json!(1);
    request["additionalModelRequestFields"] = json!({"anthropic_beta": ["x"]});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        sent["inferenceConfig"],
        json!({"maxTokens": 60, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]})
    );
    assert_eq!(
        sent["additionalModelRequestFields"],
        json!({"anthropic_beta": ["x"], "top_k": 40})
    );
    for k in ["max_tokens", "top_k", "n", "stop", "model", "stream"] {
        assert!(sent.get(k).is_none(), "{k} leaked into {sent}");
    }

    let mut two = user("x");
    two["stop"] = json!(["a", "b"]);
    gw.post("/v1/chat/completions", &two).await;
    assert_eq!(
        api.last().body["inferenceConfig"]["stopSequences"],
        json!(["a", "b"])
    );

    let sent_before = api.requests().len();
    for (param, value) in [
        ("presence_penalty", json!(0.5)),
        ("seed", json!(7)),
        ("logprobs", json!(true)),
        ("n", json!(2)),
        ("parallel_tool_calls", json!(false)),
    ] {
        let mut request = user("x");
        request[param] = value;
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 400, "{param}: {body}");
        assert_eq!(error_of(&body)["param"], param);
    }
    assert_eq!(
        api.requests().len(),
        sent_before,
        "refused requests must not reach Bedrock"
    );

    let mut dropped = user("x");
    dropped["presence_penalty"] = json!(0.5);
    dropped["drop_params"] = json!(true);
    let (status, _, _) = gw.post("/v1/chat/completions", &dropped).await;
    assert_eq!(status, 200);
    assert!(api.last().body.get("presence_penalty").is_none());
}

fn weather_tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

#[tokio::test]
async fn tool_calls_round_trip() {
    let api = BedrockApi::start(script(|call| {
        let last = call.body["messages"].as_array().unwrap().last().unwrap().clone();
        if last["content"][0].get("toolResult").is_some() {
            Answer::Json(text_answer("It is sunny in Paris."))
        } else {
            Answer::Json(answer_with(
                json!([{"text": "Let me check."}, {"toolUse": {"toolUseId": "tooluse_abc123", "name": "get_weather", "input": {"city": "Paris"}}}]),
                "tool_use",
            ))
        }
    }))
    .await;
    let gw = gateway(&api, "").await;
    let mut request = user("Weather in Paris?");
    request["tools"] = weather_tools();
    request["tool_choice"] = json!("required");
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let message = &body["choices"][0]["message"];
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(message["content"], "Let me check.");
    assert_eq!(
        message["tool_calls"],
        json!([{"id": "tooluse_abc123", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
    );
    let sent = api.last().body;
    assert_eq!(
        sent["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather for a city",
            "inputSchema": {"json": weather_tools()[0]["function"]["parameters"]}}}], "toolChoice": {"any": {}}})
    );

    let mut follow_up = request.clone();
    follow_up["tool_choice"] = json!("auto");
    let messages = follow_up["messages"].as_array_mut().unwrap();
    messages.push(message.clone());
    messages.push(
        json!({"role": "tool", "tool_call_id": "tooluse_abc123", "content": "{\"temp_c\": 21}"}),
    );
    let (status, _, body) = gw.post("/v1/chat/completions", &follow_up).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "It is sunny in Paris."
    );
    let sent = api.last().body;
    assert_eq!(
        sent["messages"][1]["content"][1],
        json!({"toolUse": {"toolUseId": "tooluse_abc123", "name": "get_weather", "input": {"city": "Paris"}}})
    );
    assert_eq!(
        sent["messages"][2]["content"][0],
        json!({"toolResult": {"toolUseId": "tooluse_abc123", "content": [{"json": {"temp_c": 21}}]}})
    );
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"auto": {}}));

    // `none` offers no tools, unless the conversation holds tool blocks.
    let mut none = user("Weather?");
    none["tools"] = weather_tools();
    none["tool_choice"] = json!("none");
    gw.post("/v1/chat/completions", &none).await;
    assert!(api.last().body.get("toolConfig").is_none());
    follow_up["tool_choice"] = json!("none");
    gw.post("/v1/chat/completions", &follow_up).await;
    let config = &api.last().body["toolConfig"];
    assert!(
        config.get("toolChoice").is_none()
            && config["tools"][0]["toolSpec"]["name"] == "get_weather"
    );
    // Without tools, the history's tool names are declared for Converse.
    follow_up.as_object_mut().unwrap().remove("tools");
    follow_up.as_object_mut().unwrap().remove("tool_choice");
    let (status, _, body) = gw.post("/v1/chat/completions", &follow_up).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "get_weather"
    );

    let mut named = user("x");
    named["tools"] = weather_tools();
    named["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    gw.post("/v1/chat/completions", &named).await;
    assert_eq!(
        api.last().body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
}

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

#[tokio::test]
async fn images_are_sent_as_bytes() {
    let api = BedrockApi::start(script(|_| Answer::Json(text_answer("A red dot.")))).await;
    let gw = gateway(&api, "").await;
    let request = json!({"model": "b", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}}]}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["messages"][0]["content"][1],
        json!({"image": {"format": "png", "source": {"bytes": PNG}}})
    );
    let remote = json!({"model": "b", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]});
    let (status, _, body) = gw.post("/v1/chat/completions", &remote).await;
    assert_eq!(status, 400);
    assert!(
        error_of(&body)["message"]
            .as_str()
            .unwrap()
            .contains("data URL")
    );
}

#[tokio::test]
async fn json_mode_is_a_forced_tool_whose_input_is_the_answer() {
    let api = BedrockApi::start(script(|_| {
        Answer::Json(answer_with(
            json!([{"toolUse": {"toolUseId": "tooluse_json", "name": "json_response", "input": {"city": "Paris", "temp_c": 21}}}]),
            "tool_use",
        ))
    }))
    .await;
    let gw = gateway(&api, "").await;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}}});
    for format in [
        json!({"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}}),
        json!({"type": "json_object"}),
    ] {
        let mut request = user("Weather as JSON");
        request["response_format"] = format.clone();
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], "stop");
        assert!(choice["message"].get("tool_calls").is_none());
        let content: Value =
            serde_json::from_str(choice["message"]["content"].as_str().unwrap()).unwrap();
        assert_eq!(content, json!({"city": "Paris", "temp_c": 21}));
        let config = &api.last().body["toolConfig"];
        assert_eq!(config["toolChoice"], json!({"any": {}}));
        assert_eq!(config["tools"][0]["toolSpec"]["name"], "json_response");
        let expected = if format["type"] == "json_schema" {
            schema.clone()
        } else {
            json!({"type": "object"})
        };
        assert_eq!(
            config["tools"][0]["toolSpec"]["inputSchema"]["json"],
            expected
        );
    }
}

#[tokio::test]
async fn stop_reasons_become_finish_reasons() {
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ] {
        let api = BedrockApi::start(script(move |_| {
            let mut a = text_answer("partial");
            a["stopReason"] = json!(stop);
            Answer::Json(a)
        }))
        .await;
        let gw = gateway(&api, "").await;
        let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["choices"][0]["finish_reason"], finish, "{stop}");
    }
}
