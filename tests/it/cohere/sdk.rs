//! The official OpenAI Python SDK against `cohere/` deployments
//! (`tests/sdk/openai_via_cohere.py`): the script checks what the SDK sees;
//! this test then checks what the strict mock API received for each of the
//! script's scenarios.

use std::collections::BTreeMap;

use super::*;

/// The texts of the user turns, in order.
fn user_texts(body: &Value) -> Vec<&str> {
    let turns = body["messages"].as_array().map_or(&[][..], Vec::as_slice);
    turns
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| match &m["content"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(|b| b["text"].as_str()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The scenario a request names with "[scenario:NAME]" in a user turn.
fn scenario(body: &Value) -> Option<&str> {
    const MARK: &str = "[scenario:";
    user_texts(body).into_iter().rev().find_map(|t| {
        let rest = &t[t.find(MARK)? + MARK.len()..];
        Some(&rest[..rest.find(']')?])
    })
}

fn text(t: &str) -> Value {
    json!({"content": [{"type": "text", "text": t}]})
}

/// Answers the SDK script by the scenario each request names (see
/// tests/sdk/openai_via_cohere.py, whose expectations match these).
fn sdk_reply(r: &Recorded) -> Reply {
    if r.endpoint == "embed" {
        return Reply::Json(embed_response(&r.body));
    }
    let body = &r.body;
    let streaming = body["stream"] == true;
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let error = |status, message: &str| Reply::Error(status, message.into(), vec![]);
    match scenario(body).unwrap_or("") {
        "429" => Reply::Error(
            429,
            "You are past the per minute request limit, please wait and try again later.".into(),
            vec![("retry-after", "3")],
        ),
        "400" => error(
            400,
            "invalid request: cannot specify both frequency_penalty and presence_penalty.",
        ),
        "too-long" => error(
            400,
            "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292.",
        ),
        "500" => error(500, "internal server error"),
        "stream-error" => {
            let mut events = text_events(&["Par"], "ERROR", usage(1, 1));
            events.last_mut().unwrap().1["delta"]["error"] = json!("generation failed");
            Reply::Events(events)
        }
        "max-tokens" if streaming => {
            Reply::Events(text_events(&["Once upon a"], "MAX_TOKENS", usage(8, 5)))
        }
        "max-tokens" => Reply::Json(response(text("Once upon a"), "MAX_TOKENS", usage(8, 5))),
        "params" => Reply::Json(response(text("1 2 3"), "STOP_SEQUENCE", usage(9, 6))),
        "multi-turn" => {
            let system = messages[0]["content"].as_str().unwrap_or("(none)");
            let answer = format!("Ada. ({} turns; system: {system})", messages.len());
            Reply::Json(response(text(&answer), "COMPLETE", usage(30, 3)))
        }
        "tools" if messages.last().is_some_and(|m| m["role"] == "tool") => Reply::Json(response(
            text("It is 18°C and sunny in Bern."),
            "COMPLETE",
            usage(60, 12),
        )),
        "tools" => Reply::Json(response(
            json!({"tool_plan": "I will look up the weather.", "tool_calls": [{"id": "get_weather_x1",
                "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Bern\"}"}}]}),
            "TOOL_CALL",
            usage(30, 20),
        )),
        "json" => Reply::Json(text_response(r#"{"name": "Ada Lovelace", "age": 36}"#)),
        "tool-stream" => Reply::Events(tool_events()),
        "stream" => Reply::Events(text_events(&["Hel", "lo"], "COMPLETE", usage(12, 2))),
        _ => Reply::Json(text_response("Hello from Command")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_against_cohere_deployments() {
    let api = CohereApi::start(KEY, script(sdk_reply)).await;
    let models = format!(
        "{}- model_name: embed\n  litellm_params:\n    model: cohere/embed-v4.0\n    api_base: {}\n    api_key: {KEY}\n",
        entry(&api, "command", ""),
        api.api_base
    );
    let gw = Gateway::with_models(&models).await;
    run_against(
        &gw,
        python_script("openai_via_cohere.py"),
        "the OpenAI Python SDK via cohere/",
    )
    .await;

    let requests = api.requests();
    for r in &requests {
        assert_eq!(r.headers["authorization"], "Bearer co-test");
    }
    let (chats, embeds): (Vec<_>, Vec<_>) = requests.iter().partition(|r| r.endpoint == "chat");
    // One upstream request per SDK call: no retries, and nothing sent for
    // what the gateway refuses itself (n=2, logit_bias).
    let mut counts = BTreeMap::new();
    for r in &chats {
        assert_eq!(r.body["model"], "command-r-plus", "{}", r.body);
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
        ("json", 3),
        ("params", 1),
        ("max-tokens", 3),
        ("429", 2),
        ("400", 1),
        ("too-long", 1),
        ("500", 1),
        ("stream-error", 1),
    ]);
    assert_eq!(counts, expected);
    let sent = |name: &str| -> Vec<Value> {
        chats
            .iter()
            .filter(|r| scenario(&r.body) == Some(name))
            .map(|r| r.body.clone())
            .collect()
    };

    assert_eq!(
        sent("chat")[0],
        json!({"model": "command-r-plus", "messages": [{"role": "system", "content": "Be kind."},
               {"role": "user", "content": "[scenario:chat] Hello"}]})
    );
    assert_eq!(
        sent("multi-turn")[0]["messages"],
        json!([
            {"role": "system", "content": "Be terse.\n\nUse metric units."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "user", "content": [{"type": "text", "text": "I live in Bern."}]},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "[scenario:multi-turn] What is my name?"},
        ])
    );
    for body in sent("stream").iter().chain(&sent("tool-stream")) {
        assert_eq!(body["stream"], true, "{body}");
        assert!(body.get("stream_options").is_none(), "{body}");
    }
    assert_eq!(
        sent("tool-stream")[0]["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
        ])
    );

    // Tools round trip: REQUIRED, then the assistant's plan and call and
    // the tool's result.
    let tools = sent("tools");
    assert_eq!(tools[0]["tool_choice"], "REQUIRED");
    assert!(tools[1].get("tool_choice").is_none(), "{}", tools[1]);
    assert_eq!(
        tools[1]["messages"],
        json!([
            {"role": "user", "content": "[scenario:tools] Weather in Bern?"},
            {"role": "assistant", "tool_plan": "I will look up the weather.", "tool_calls": [{"id": "get_weather_x1",
                "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Bern\"}"}}]},
            {"role": "tool", "tool_call_id": "get_weather_x1", "content": "{\"temp_c\": 18, \"sky\": \"sunny\"}"},
        ])
    );

    // JSON mode: json_schema (by hand and from pydantic) and json_object.
    let json_mode = sent("json");
    let person = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"], "additionalProperties": false});
    assert_eq!(
        json_mode[0]["response_format"],
        json!({"type": "json_object", "json_schema": person})
    );
    let pydantic = &json_mode[1]["response_format"];
    assert_eq!(pydantic["type"], "json_object");
    assert_eq!(
        pydantic["json_schema"]["required"],
        json!(["name", "age"]),
        "{pydantic}"
    );
    assert_eq!(
        json_mode[2]["response_format"],
        json!({"type": "json_object"})
    );

    // Parameters, renamed where Cohere names them differently; user not sent.
    assert_eq!(
        sent("params")[0],
        json!({"model": "command-r-plus", "messages": [{"role": "user", "content": "[scenario:params] Count to ten."}],
               "temperature": 0.3, "p": 0.8, "stop_sequences": ["STOP", "END"], "max_tokens": 50,
               "seed": 11, "frequency_penalty": 0.2})
    );
    for body in sent("max-tokens") {
        assert_eq!(body["max_tokens"], 5, "{body}");
    }

    // Embeddings: the SDK's base64 asked of Cohere as floats.
    assert_eq!(embeds.len(), 3);
    assert_eq!(
        embeds[0].body,
        json!({"model": "embed-v4.0", "texts": ["hello", "goodbye world"], "input_type": "search_document",
               "embedding_types": ["float"]})
    );
    assert_eq!(embeds[1].body["output_dimension"], 256);
}
