//! The OpenAI Python SDK against `bedrock/` deployments on the Bedrock mock
//! (`tests/sdk/openai_via_bedrock.py`): chat, multi-turn, streaming with
//! usage, tools round trip (plain and streamed), JSON mode, images, typed
//! errors and embeddings. The script checks what the SDK gets back; then
//! this side checks what the mock received for the script's requests,
//! found by their texts, and that no failed request was retried.

use serde_json::{Value, json};

use crate::sdk::{python_script, run_against};
use crate::support::Gateway;
use crate::support::bedrock_api::{Answer, BedrockApi, CLAUDE, Call, Event, script, usage};

// Must match tests/sdk/openai_via_bedrock.py.
const GREETING: &str = "Hello from Bedrock";
const SYSTEM: &str = "Be brief.";
const ECHO: &str = "[scenario:echo] What is my name?";
const QUESTION: &str = "Weather in Paris?";
const ERRORS: [&str; 4] = [
    "[scenario:rate_limit] Hi",
    "[scenario:overloaded] Hi",
    "[scenario:context] Hi",
    "[scenario:denied] Hi",
];

fn texts(message: &Value) -> String {
    message["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn last_user(call: &Call) -> Value {
    call.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

/// What the model "says": a content list and a stop reason, or an error.
fn answer(call: &Call) -> Result<(Value, &'static str), Answer> {
    let last = last_user(call);
    let text = texts(&last);
    let error = |status, kind: &'static str, message: &str| {
        Err(Answer::Error(status, kind, message.into()))
    };
    if text.contains("[scenario:rate_limit]") {
        return error(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        );
    }
    if text.contains("[scenario:overloaded]") {
        return error(
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
        );
    }
    if text.contains("[scenario:context]") {
        return error(
            400,
            "ValidationException",
            "Input is too long for requested model.",
        );
    }
    if text.contains("[scenario:denied]") {
        return error(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        );
    }
    let tools: Vec<&str> = call
        .body
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer("/toolSpec/name").and_then(Value::as_str))
        .collect();
    if last["content"][0].get("toolResult").is_some() {
        return Ok((json!([{"text": "It is sunny in Paris."}]), "end_turn"));
    }
    if tools.contains(&"json_response") {
        let input = json!({"city": "Paris", "temperature_c": 21});
        return Ok((
            json!([{"toolUse": {"toolUseId": "tooluse_json", "name": "json_response", "input": input}}]),
            "tool_use",
        ));
    }
    if tools.contains(&"get_weather") {
        return Ok((
            json!([{"toolUse": {"toolUseId": "tooluse_weather1", "name": "get_weather", "input": {"city": "Paris"}}}]),
            "tool_use",
        ));
    }
    if text.contains("[scenario:echo]") {
        let roles: Vec<&str> = call.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["role"].as_str())
            .collect();
        let system = call.body["system"][0]["text"].as_str().unwrap_or("");
        return Ok((
            json!([{"text": format!("roles={}; system={system}", roles.join(","))}]),
            "end_turn",
        ));
    }
    Ok((json!([{"text": GREETING}]), "end_turn"))
}

/// The same answer as ConverseStream events: text word by word, tool
/// input in two pieces.
fn events(content: &Value, stop: &str) -> Vec<Event> {
    let mut events = vec![Event::Event("messageStart", json!({"role": "assistant"}))];
    for (i, block) in content.as_array().unwrap().iter().enumerate() {
        if let Some(text) = block["text"].as_str() {
            let words: Vec<String> = text.split_inclusive(' ').map(str::to_string).collect();
            for w in words {
                events.push(Event::Event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": i, "delta": {"text": w}}),
                ));
            }
        } else if let Some(tool) = block.get("toolUse") {
            events.push(Event::Event(
                "contentBlockStart",
                json!({"contentBlockIndex": i,
                "start": {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}}),
            ));
            let input = tool["input"].to_string();
            let (a, b) = input.split_at(input.len() / 2);
            for piece in [a, b] {
                events.push(Event::Event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": i, "delta": {"toolUse": {"input": piece}}}),
                ));
            }
        }
        events.push(Event::Event(
            "contentBlockStop",
            json!({"contentBlockIndex": i}),
        ));
    }
    events.push(Event::Event("messageStop", json!({"stopReason": stop})));
    events.push(Event::Event(
        "metadata",
        json!({"usage": usage(12, 4), "metrics": {"latencyMs": 7}}),
    ));
    events
}

fn brain(call: &Call) -> Answer {
    if call.action == "invoke" {
        let vector = |seed: usize| {
            (0..8)
                .map(|i| ((i + seed) % 8) as f64 / 8.0)
                .collect::<Vec<_>>()
        };
        if call.model.starts_with("amazon.titan") {
            return Answer::Json(json!({"embedding": vector(0), "inputTextTokenCount": 3}));
        }
        let n = call.body["texts"].as_array().unwrap().len();
        return Answer::Json(
            json!({"id": "e", "embeddings": {"float": (0..n).map(vector).collect::<Vec<_>>()}, "response_type": "embeddings_by_type"}),
        );
    }
    match answer(call) {
        Err(error) => error,
        Ok((content, stop)) if call.action == "converse-stream" => {
            Answer::Events(events(&content, stop))
        }
        Ok((content, stop)) => Answer::Json(
            json!({"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop, "usage": usage(12, 4), "metrics": {"latencyMs": 7}}),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_against_bedrock() {
    let api = BedrockApi::start(script(brain)).await;
    let models = [
        api.entry("claude", CLAUDE, ""),
        api.entry("titan", "amazon.titan-embed-text-v2:0", ""),
        api.entry("cohere", "cohere.embed-multilingual-v3", ""),
    ]
    .concat();
    let gw = Gateway::with_models(&models).await;
    run_against(
        &gw,
        python_script("openai_via_bedrock.py"),
        "the OpenAI Python SDK against Bedrock",
    )
    .await;

    let calls = api.requests();
    let with_text = |text: &str| -> Vec<&Call> {
        calls
            .iter()
            .filter(|c| c.action != "invoke" && texts(&last_user(c)).contains(text))
            .collect()
    };
    // System and turns as Converse wants them.
    let echo = with_text(ECHO);
    assert_eq!(echo.len(), 1);
    assert_eq!(echo[0].body["system"], json!([{"text": SYSTEM}]));
    // Each error reached Bedrock once per form (no retries): plain and streamed.
    for text in ERRORS {
        let got: Vec<&str> = with_text(text).iter().map(|c| c.action.as_str()).collect();
        assert_eq!(got, ["converse", "converse-stream"], "{text}");
    }
    // The tool round trip sent the call and its result back.
    let result = calls
        .iter()
        .find(|c| last_user(c)["content"][0].get("toolResult").is_some())
        .expect("a tool result");
    let messages = result.body["messages"].as_array().unwrap();
    assert_eq!(texts(&messages[0]), QUESTION);
    assert_eq!(
        messages[1]["content"][0]["toolUse"]["toolUseId"],
        "tooluse_weather1"
    );
    assert_eq!(
        messages[2]["content"][0]["toolResult"]["toolUseId"],
        "tooluse_weather1"
    );
    // Embeddings: one Titan call per text, Cohere in one batch.
    let invokes: Vec<&Call> = calls.iter().filter(|c| c.action == "invoke").collect();
    assert!(
        invokes
            .iter()
            .any(|c| c.body["texts"].as_array().is_some_and(|t| t.len() == 3))
    );
    assert!(invokes.iter().any(|c| c.body["inputText"] == "hello"));
}
