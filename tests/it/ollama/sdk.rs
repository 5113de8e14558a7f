//! The official OpenAI Python SDK against an `ollama_chat/` deployment
//! (`tests/sdk/openai_via_ollama.py`): the script checks what the SDK sees;
//! this test then checks what the strict mock API received for each of the
//! script's scenarios.

use std::collections::BTreeMap;

use super::*;
use crate::sdk::{python_script, run_against};
use crate::support::ollama_api::embeddings;

/// The scenario a chat request names with "[scenario:NAME]" in its last
/// user message.
fn scenario(body: &Value) -> Option<&str> {
    const MARK: &str = "[scenario:";
    let text = body["messages"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| m["role"] == "user")?["content"]
        .as_str()?;
    let rest = &text[text.find(MARK)? + MARK.len()..];
    Some(&rest[..rest.find(']')?])
}

fn answer(pieces: Vec<Value>, done_reason: &'static str, prompt: u64, eval: u64) -> Reply {
    Reply::Chat(Answer {
        pieces,
        done_reason,
        prompt_eval_count: prompt,
        eval_count: eval,
    })
}

/// Answers the SDK script by the scenario each request names (see
/// tests/sdk/openai_via_ollama.py, whose expectations match these).
fn sdk_reply(r: &Recorded) -> Reply {
    if r.path == "/api/embed" {
        let n = r.body["input"].as_array().map_or(1, Vec::len);
        let vectors: Vec<Value> = (0..n)
            .map(|i| json!([0.25 + i as f64, -1.5, 3.0]))
            .collect();
        return embeddings(Value::Array(vectors), 8);
    }
    let body = &r.body;
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let error = |status: u16, message: &str| Reply::Error(status, message.into(), vec![]);
    match scenario(body).unwrap_or("") {
        "404" => error(404, "model 'llama3.3' not found, try pulling it first"),
        "400" => error(
            400,
            "registry.ollama.ai/library/llama3.3:latest does not support tools",
        ),
        "429" => error(429, "too many requests"),
        "503" => error(
            503,
            "server busy, please try again.  maximum pending requests exceeded",
        ),
        "500" => error(500, "failed to load model: out of memory"),
        "mid-stream" => Reply::Lines(vec![
            json!({"model": "llama3.3", "message": {"role": "assistant", "content": " Yes"}, "done": false}),
            json!({"error": "an error was encountered while running the model"}),
        ]),
        "multi-turn" => {
            let system = messages.iter().filter(|m| m["role"] == "system").count();
            let text = format!("Ada. ({} messages, {system} system)", messages.len());
            answer(vec![json!({"content": text})], "stop", 40, 6)
        }
        "stream" => text(&["Hel", "lo", " there"], 12, 3),
        "tool-stream" => answer(
            vec![
                json!({"tool_calls": [call("get_weather", json!({"city": "Bern"})), call("get_time", json!({}))]}),
            ],
            "stop",
            169,
            15,
        ),
        "tools" if messages.iter().any(|m| m["role"] == "tool") => {
            text(&["It is 18°C and sunny in Bern."], 160, 12)
        }
        "tools" => answer(
            vec![
                json!({"content": "Let me check."}),
                json!({"tool_calls": [call("get_weather", json!({"city": "Bern"}))]}),
            ],
            "stop",
            122,
            33,
        ),
        "image" => {
            let images = messages
                .last()
                .and_then(|m| m["images"].as_array().cloned())
                .unwrap_or_default();
            let chars: usize = images.iter().filter_map(Value::as_str).map(str::len).sum();
            let text = format!("{} image ({chars} base64 characters).", images.len());
            answer(vec![json!({"content": text})], "stop", 30, 8)
        }
        "json" => text(&["{\"name\": \"Ada ", "Lovelace\", \"age\": 36}"], 20, 9),
        "json-object" => text(&["{\"ok\": true}"], 10, 4),
        "params" => text(&["1 2 3"], 10, 5),
        "max-tokens" => answer(vec![json!({"content": "Once upon a"})], "length", 10, 5),
        "think" => answer(
            vec![
                json!({"thinking": "The first program"}),
                json!({"thinking": " was Ada's."}),
                json!({"content": "Ada Lovelace."}),
            ],
            "stop",
            10,
            20,
        ),
        _ => text(&["Hello from Ollama"], 26, 4),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_against_an_ollama_deployment() {
    let api = OllamaApi::start(script(sdk_reply)).await;
    let models = [
        entry(&api, "local", "ollama_chat/llama3.3", ""),
        entry(&api, "embed", "ollama/nomic-embed-text", ""),
    ]
    .concat();
    let gw = Gateway::with_models(&models).await;
    run_against(
        &gw,
        python_script("openai_via_ollama.py"),
        "the OpenAI Python SDK via ollama_chat/",
    )
    .await;

    let requests = api.requests();
    let chats: Vec<&Recorded> = requests.iter().filter(|r| r.path == "/api/chat").collect();
    for r in &chats {
        assert_eq!(r.body["model"], "llama3.3", "{}", r.body);
        assert!(
            r.body["stream"].is_boolean(),
            "stream not explicit: {}",
            r.body
        );
        assert!(r.headers.get("authorization").is_none());
    }
    // One upstream request per SDK call: no retries, and nothing sent for
    // what the gateway refuses itself.
    let mut counts = BTreeMap::new();
    for r in &chats {
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
        ("json-object", 1),
        ("params", 1),
        ("max-tokens", 3),
        ("think", 2),
        ("404", 2),
        ("400", 2),
        ("429", 2),
        ("503", 2),
        ("500", 2),
        ("mid-stream", 1),
        ("dropped", 1),
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
        json!({"model": "llama3.3", "stream": false, "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "[scenario:chat] Hello"},
        ]})
    );
    assert_eq!(
        sent("multi-turn")[0]["messages"],
        json!([
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "user", "content": "I live in Bern."},
            {"role": "assistant", "content": "Noted."},
            {"role": "system", "content": "Use metric units."},
            {"role": "user", "content": "[scenario:multi-turn] What is my name?"},
        ])
    );
    let streamed: Vec<bool> = sent("stream").iter().map(|b| b["stream"] == true).collect();
    assert_eq!(streamed, vec![true, true]);
    for body in sent("tool-stream") {
        assert_eq!(body["stream"], true);
        assert_eq!(
            body["tools"],
            json!([
                {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
                {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
            ])
        );
    }

    // Tools round trip: the call's arguments as an object, the result named.
    let tools = sent("tools");
    assert!(tools[0].get("tool_choice").is_none());
    assert_eq!(
        tools[1]["messages"],
        json!([
            {"role": "user", "content": "[scenario:tools] Weather in Bern?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Bern"}}}]},
            {"role": "tool", "content": "{\"temp_c\": 18, \"sky\": \"sunny\"}", "tool_name": "get_weather"},
        ])
    );

    assert_eq!(
        sent("image")[0]["messages"],
        json!([{"role": "user", "content": "[scenario:image] What is in this picture?", "images": [PNG]}])
    );

    // JSON mode: the schema as `format` (create, parse(), streamed), json_object as "json".
    let json_mode = sent("json");
    let person = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"], "additionalProperties": false});
    assert_eq!(json_mode[0]["format"], person);
    assert_eq!(json_mode[2]["format"], person);
    assert_eq!(
        json_mode[1]["format"]["properties"]["name"],
        json!({"title": "Name", "type": "string"})
    );
    assert_eq!(
        json_mode
            .iter()
            .map(|b| b["stream"] == true)
            .collect::<Vec<_>>(),
        vec![false, false, true]
    );
    assert_eq!(sent("json-object")[0]["format"], "json");

    let params = &sent("params")[0];
    assert_eq!(
        params["options"],
        json!({"temperature": 0.3, "top_p": 0.8, "seed": 7, "stop": ["STOP", "END"], "num_predict": 50,
               "presence_penalty": 0.5, "frequency_penalty": 0.25, "top_k": 20, "num_ctx": 4096})
    );
    assert_eq!(params["keep_alive"], "10m");
    for leaked in ["user", "temperature", "max_tokens", "top_k", "num_ctx"] {
        assert!(params.get(leaked).is_none(), "{leaked}: {params}");
    }
    for body in sent("max-tokens") {
        assert_eq!(body["options"]["num_predict"], 5, "{body}");
    }
    for body in sent("think") {
        assert_eq!(body["think"], "low", "{body}");
    }
    let dropped = &sent("dropped")[0];
    assert!(dropped.get("tool_choice").is_none() && dropped["tools"].is_array());

    // Embeddings: one base64 request (the SDK's default), one float with dimensions.
    let embeds: Vec<&Value> = requests
        .iter()
        .filter(|r| r.path == "/api/embed")
        .map(|r| &r.body)
        .collect();
    assert_eq!(
        embeds,
        vec![
            &json!({"model": "nomic-embed-text", "input": ["Why is the sky blue?", "Why is the grass green?"]}),
            &json!({"model": "nomic-embed-text", "input": "Why is the sky blue?", "dimensions": 3}),
        ]
    );
}
