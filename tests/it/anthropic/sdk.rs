//! The official OpenAI Python SDK against an `anthropic/` deployment
//! (`tests/sdk/openai_via_anthropic.py`): the script checks what the SDK
//! sees; this test then checks what the strict mock API received for each
//! of the script's scenarios.

use std::collections::BTreeMap;

use super::*;

/// The 1x1 PNG the script sends (its `PNG`).
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// The texts of the user turns, in order.
fn user_texts(body: &Value) -> Vec<&str> {
    let turns = body["messages"].as_array().map_or(&[][..], Vec::as_slice);
    turns
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| match &m["content"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The scenario a request names with "[scenario:NAME]" in a user turn (the
/// last one named).
fn scenario(body: &Value) -> Option<&str> {
    const MARK: &str = "[scenario:";
    user_texts(body).into_iter().rev().find_map(|t| {
        let rest = &t[t.find(MARK)? + MARK.len()..];
        Some(&rest[..rest.find(']')?])
    })
}

fn text_block(text: &str) -> (Value, Vec<Value>) {
    (
        json!({"type": "text", "text": ""}),
        vec![json!({"type": "text_delta", "text": text})],
    )
}

/// Answers the SDK script by the scenario each request names (see
/// tests/sdk/openai_via_anthropic.py, whose expectations match these).
fn sdk_reply(r: &Recorded) -> Reply {
    let body = &r.body;
    let streaming = body["stream"] == true;
    let usage = |input: u64, output: u64| json!({"input_tokens": input, "output_tokens": output});
    let text = |t: &str| json!([{"type": "text", "text": t}]);
    let last_blocks = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_array())
        .cloned()
        .unwrap_or_default();
    match scenario(body).unwrap_or("") {
        "429" => Reply::Error(
            429,
            "rate_limit_error",
            "Rate limited.".into(),
            vec![("retry-after", "3")],
        ),
        "529" => Reply::Error(529, "overloaded_error", "Overloaded".into(), vec![]),
        "400" => Reply::Error(
            400,
            "invalid_request_error",
            "messages.0.content.1.image.source.base64.data: The image was specified using the \
             image/png media type, but does not appear to be a valid png image"
                .into(),
            vec![],
        ),
        "too-long" => Reply::Error(
            400,
            "invalid_request_error",
            "prompt is too long: 208310 tokens > 200000 maximum".into(),
            vec![],
        ),
        // A streamed refusal stops mid-text; a whole one may have no content.
        "refusal" if streaming => {
            Reply::Events(events(vec![text_block("I can")], "refusal", usage(10, 2)))
        }
        "refusal" => Reply::Message(message(json!([]), "refusal", usage(10, 0))),
        "max-tokens" if streaming => Reply::Events(events(
            vec![text_block("Once upon a")],
            "max_tokens",
            usage(8, 5),
        )),
        "max-tokens" => Reply::Message(message(text("Once upon a"), "max_tokens", usage(8, 5))),
        "usage" => Reply::Message(message(
            text("ok"),
            "end_turn",
            json!({"input_tokens": 20, "output_tokens": 5, "cache_read_input_tokens": 1000,
                   "cache_creation_input_tokens": 300}),
        )),
        "params" => {
            let mut m = message(text("1 2 3"), "stop_sequence", usage(9, 6));
            m["stop_sequence"] = json!("STOP");
            Reply::Message(m)
        }
        "multi-turn" => {
            let turns = body["messages"].as_array().map_or(0, Vec::len);
            let system = body["system"].as_str().unwrap_or("(none)");
            let answer = format!("Ada. ({turns} turns; system: {system})");
            Reply::Message(message(text(&answer), "end_turn", usage(30, 3)))
        }
        "image" => {
            let answer = match last_blocks.iter().find(|b| b["type"] == "image") {
                Some(image) => format!(
                    "An {} image ({} base64 characters).",
                    image["source"]["media_type"].as_str().unwrap_or("?"),
                    image["source"]["data"].as_str().map_or(0, str::len)
                ),
                None => "I see no image.".into(),
            };
            Reply::Message(message(text(&answer), "end_turn", usage(20, 8)))
        }
        "tools" if last_blocks.iter().any(|b| b["type"] == "tool_result") => {
            Reply::Message(message(
                text("It is 18°C and sunny in Bern."),
                "end_turn",
                usage(60, 12),
            ))
        }
        "tools" => Reply::Message(message(
            json!([{"type": "text", "text": "Let me check."},
                   {"type": "tool_use", "id": "toolu_11", "name": "get_weather", "input": {"city": "Bern"}}]),
            "tool_use",
            usage(30, 20),
        )),
        "json" if streaming => {
            let block =
                json!({"type": "tool_use", "id": "toolu_09", "name": "json_response", "input": {}});
            let parts = ["", "{\"name\": \"Ada ", "Lovelace\", \"age\": 36}"]
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}));
            Reply::Events(events(
                vec![(block, parts.to_vec())],
                "tool_use",
                usage(5, 9),
            ))
        }
        "json" => Reply::Message(message(
            json!([{"type": "tool_use", "id": "toolu_09", "name": "json_response",
                    "input": {"name": "Ada Lovelace", "age": 36}}]),
            "tool_use",
            usage(5, 9),
        )),
        "tool-stream" => Reply::Events(tool_events()),
        "stream" => Reply::Events(hello_events()),
        _ => Reply::Message(text_message("Hello from Claude")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_against_an_anthropic_deployment() {
    let api = AnthropicApi::start(KEY, script(sdk_reply)).await;
    let gw = Gateway::with_models(&entry(&api, "claude", "")).await;
    run_against(
        &gw,
        python_script("openai_via_anthropic.py"),
        "the OpenAI Python SDK via anthropic/",
    )
    .await;

    let requests = api.requests();
    for r in &requests {
        assert_eq!(r.headers["x-api-key"], KEY);
        assert_eq!(r.headers["anthropic-version"], "2023-06-01");
        assert_eq!(r.body["model"], "claude-sonnet-4-5", "{}", r.body);
    }
    // One upstream request per SDK call: no retries, and nothing sent for
    // what the gateway refuses itself (n=2).
    let mut counts = BTreeMap::new();
    for r in &requests {
        *counts
            .entry(scenario(&r.body).unwrap_or("(none)"))
            .or_insert(0) += 1;
    }
    let expected = BTreeMap::from([
        ("chat", 1),
        ("multi-turn", 1),
        ("stream", 2),
        ("tool-stream", 2),
        ("tools", 2),
        ("image", 1),
        ("json", 3),
        ("params", 1),
        ("max-tokens", 3),
        ("usage", 1),
        ("429", 2),
        ("529", 2),
        ("400", 1),
        ("too-long", 1),
        ("refusal", 3),
    ]);
    assert_eq!(counts, expected);
    let sent = |name: &str| -> Vec<Value> {
        requests
            .iter()
            .filter(|r| scenario(&r.body) == Some(name))
            .map(|r| r.body.clone())
            .collect()
    };

    // Plain chat: the system message lifted, the default max_tokens, nothing else.
    assert_eq!(
        sent("chat")[0],
        json!({"model": "claude-sonnet-4-5", "system": "Be kind.", "max_tokens": 4096,
               "messages": [{"role": "user", "content": "[scenario:chat] Hello"}]})
    );

    // System and developer lifted; consecutive user turns merged.
    let multi = &sent("multi-turn")[0];
    assert_eq!(multi["system"], "Be terse.\n\nUse metric units.");
    assert_eq!(
        multi["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "My name is Ada."},
                                         {"type": "text", "text": "I live in Bern."}]},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "[scenario:multi-turn] What is my name?"},
        ])
    );

    // Streams ask Anthropic to stream; stream_options stays in the gateway.
    for body in sent("stream").iter().chain(&sent("tool-stream")) {
        assert_eq!(body["stream"], true, "{body}");
        assert!(body.get("stream_options").is_none(), "{body}");
    }
    assert_eq!(
        sent("tool-stream")[0]["tools"],
        json!([
            {"name": "get_weather", "description": "Weather for a city.", "input_schema":
                {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            {"name": "get_time", "input_schema": {"type": "object"}},
        ])
    );

    // Tools round trip: tool_choice auto without parallel calls, then the
    // assistant's tool_use and the tool_result answering it.
    let tools = sent("tools");
    assert_eq!(
        tools[0]["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
    assert!(tools[0].get("parallel_tool_calls").is_none());
    assert_eq!(tools[1]["tools"], tools[0]["tools"]);
    assert!(tools[1].get("tool_choice").is_none(), "{}", tools[1]);
    assert_eq!(
        tools[1]["messages"],
        json!([
            {"role": "user", "content": "[scenario:tools] Weather in Bern?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_11", "name": "get_weather", "input": {"city": "Bern"}},
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_11",
                                          "content": "{\"temp_c\": 18, \"sky\": \"sunny\"}"}]},
        ])
    );

    // The data URL as a base64 image source.
    assert_eq!(
        sent("image")[0]["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "[scenario:image] What is in this picture?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ]}])
    );

    // JSON mode: the schema as the forced json_response tool (create, the
    // parse() helper with a pydantic model, and streamed).
    let json_mode = sent("json");
    let person = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"], "additionalProperties": false});
    for (i, body) in json_mode.iter().enumerate() {
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "json_response"}),
            "{i}"
        );
        let tools = body["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 1, "{i}: {body}");
        assert_eq!(tools[0]["name"], "json_response", "{i}");
        assert!(body.get("response_format").is_none(), "{i}");
    }
    assert_eq!(json_mode[0]["tools"][0]["input_schema"], person);
    assert_eq!(json_mode[2]["tools"][0]["input_schema"], person);
    assert_eq!(json_mode[2]["stream"], true);
    let pydantic = &json_mode[1]["tools"][0]["input_schema"];
    assert_eq!(pydantic["required"], json!(["name", "age"]), "{pydantic}");
    assert_eq!(
        pydantic["properties"]["age"]["type"], "integer",
        "{pydantic}"
    );
    assert_eq!(pydantic["additionalProperties"], false, "{pydantic}");

    // Parameters: stop → stop_sequences, user → metadata.user_id.
    assert_eq!(
        sent("params")[0],
        json!({"model": "claude-sonnet-4-5", "max_tokens": 50, "temperature": 0.3, "top_p": 0.8,
               "stop_sequences": ["STOP", "END"], "metadata": {"user_id": "user-7"},
               "messages": [{"role": "user", "content": "[scenario:params] Count to ten."}]})
    );
    // max_completion_tokens → max_tokens.
    for body in sent("max-tokens") {
        assert_eq!(body["max_tokens"], 5, "{body}");
        assert!(body.get("max_completion_tokens").is_none(), "{body}");
    }
}
