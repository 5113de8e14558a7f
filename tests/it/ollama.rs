//! The `ollama/` and `ollama_chat/` providers against a strict mock of
//! Ollama's native API: requests translated (asserted on what the API
//! received), answers, NDJSON streams and errors translated back into
//! OpenAI's shapes, embeddings, and the official OpenAI Python SDK on top.
//! Property tests of the NDJSON decoder and the encoder are in `props.rs`.

mod embed;
mod errors;
mod mistral_embeddings;
mod props;
mod sdk;
mod streaming;

use serde_json::{Value, json};

use crate::support::ollama_api::{Answer, OllamaApi, Recorded, Reply, call, script, text};
use crate::support::{Gateway, error_of, sse_data};

/// A `model_list` entry for an Ollama deployment on `api` (`extra` holds
/// further `litellm_params` lines).
fn entry(api: &OllamaApi, name: &str, model: &str, extra: &str) -> String {
    format!(
        "- model_name: {name}\n  litellm_params:\n    model: {model}\n    api_base: {}\n{extra}",
        api.api_base
    )
}

async fn serve(reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> (OllamaApi, Gateway) {
    let api = OllamaApi::start(script(reply)).await;
    let gw = Gateway::with_models(&entry(&api, "local", "ollama_chat/llama3.3", "")).await;
    (api, gw)
}

fn chat(messages: Value) -> Value {
    json!({"model": "local", "messages": messages})
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

/// A 1x1 PNG, base64.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

#[tokio::test]
async fn chat_is_translated_both_ways() {
    let (api, gw) = serve(|_| text(&["Hello! How are you today?"], 26, 298)).await;
    let (status, headers, body) = gw.post("/v1/chat/completions", &chat(user("Hello"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["model"], "llama3.3");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        body["choices"],
        json!([{"index": 0, "message": {"role": "assistant", "content": "Hello! How are you today?"},
                "logprobs": null, "finish_reason": "stop"}])
    );
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 26, "completion_tokens": 298, "total_tokens": 324})
    );
    assert_eq!(headers["x-litellm-model-group"], "local");
    let sent = api.last();
    assert_eq!(sent.path, "/api/chat");
    assert!(sent.headers.get("authorization").is_none());
    // `stream` is always explicit: Ollama would stream otherwise.
    assert_eq!(
        sent.body,
        json!({"model": "llama3.3", "messages": [{"role": "user", "content": "Hello"}], "stream": false})
    );
}

#[tokio::test]
async fn both_prefixes_and_an_api_key() {
    let api = OllamaApi::with_key("ollama-key", script(|_| text(&["hi"], 1, 1))).await;
    let models = [
        entry(
            &api,
            "plain",
            "ollama/llama3.3",
            "    api_key: ollama-key\n",
        ),
        entry(
            &api,
            "chat",
            "ollama_chat/llama3.3",
            "    api_key: ollama-key\n",
        ),
        entry(&api, "no-key", "ollama/llama3.3", ""),
    ]
    .concat();
    let gw = Gateway::with_models(&models).await;
    for group in ["plain", "chat"] {
        let request = json!({"model": group, "messages": user("x")});
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{group}: {body}");
        assert_eq!(api.last().path, "/api/chat");
        assert_eq!(api.last().headers["authorization"], "Bearer ollama-key");
    }
    let request = json!({"model": "no-key", "messages": user("x")});
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_of(&body)["type"], "authentication_error");
}

#[tokio::test]
async fn system_developer_and_multi_turn() {
    let (api, gw) = serve(|_| text(&["Ada."], 40, 2)).await;
    let messages = json!([
        {"role": "system", "content": "Be terse."},
        {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
        {"role": "user", "content": "My name is Ada."},
        {"role": "user", "content": [{"type": "text", "text": "I live"}, {"type": "text", "text": "in Bern."}]},
        {"role": "assistant", "content": "Noted."},
        {"role": "assistant", "content": null, "reasoning_content": "They said Ada."},
        {"role": "user", "content": "What is my name?"},
    ]);
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(messages)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "Ada.");
    // Ollama takes every role in order; text parts are joined by newlines.
    assert_eq!(
        api.last().body["messages"],
        json!([
            {"role": "system", "content": "Be terse."},
            {"role": "system", "content": "Use metric units."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "user", "content": "I live\nin Bern."},
            {"role": "assistant", "content": "Noted."},
            {"role": "assistant", "content": "", "thinking": "They said Ada."},
            {"role": "user", "content": "What is my name?"},
        ])
    );
}

#[tokio::test]
async fn parameters_map_onto_options() {
    let api = OllamaApi::start(script(|_| text(&["ok"], 1, 1))).await;
    let defaults = "    num_ctx: 8192\n    temperature: 0.1\n";
    let gw = Gateway::with_models(&entry(&api, "local", "ollama_chat/llama3.3", defaults)).await;
    let mut request = chat(user("Count."));
    for (k, v) in [
        ("temperature", json!(0.3)),
        ("top_p", json!(0.8)),
        ("top_k", json!(20)),
        ("seed", json!(42)),
        ("stop", json!(["STOP", "END"])),
        ("max_completion_tokens", json!(50)),
        ("max_tokens", json!(99)),
        ("presence_penalty", json!(1.5)),
        ("frequency_penalty", json!(1.0)),
        ("keep_alive", json!("10m")),
        ("reasoning_effort", json!("minimal")),
        ("options", json!({"num_gpu": 1, "temperature": 2.0})),
        ("user", json!("user-7")),
        ("n", json!(1)),
    ] {
        request[k] = v;
    }
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        sent["options"],
        json!({"num_gpu": 1, "temperature": 0.3, "top_p": 0.8, "presence_penalty": 1.5,
               "frequency_penalty": 1.0, "top_k": 20, "seed": 42, "num_ctx": 8192,
               "num_predict": 50, "stop": ["STOP", "END"]})
    );
    assert_eq!(
        (&sent["keep_alive"], &sent["think"]),
        (&json!("10m"), &json!("low"))
    );
    for leaked in ["user", "n", "max_tokens", "temperature", "reasoning_effort"] {
        assert!(sent.get(leaked).is_none(), "{leaked} sent: {sent}");
    }

    // The deployment's defaults alone; a single stop string; think off;
    // keep_alive in seconds; num_ctx from the request.
    let mut request = chat(user("x"));
    request["stop"] = json!("\n");
    request["max_tokens"] = json!(7);
    request["reasoning_effort"] = json!("none");
    request["keep_alive"] = json!(0);
    request["num_ctx"] = json!(2048);
    gw.post("/v1/chat/completions", &request).await;
    let sent = api.last().body;
    assert_eq!(
        sent["options"],
        json!({"temperature": 0.1, "num_ctx": 2048, "num_predict": 7, "stop": ["\n"]})
    );
    assert_eq!(
        (&sent["keep_alive"], &sent["think"]),
        (&json!(0), &json!(false))
    );

    // Ollama's own parameters are type-checked before any upstream call.
    let before = api.requests().len();
    for (param, value) in [
        ("num_ctx", json!("big")),
        ("top_k", json!(2.5)),
        ("keep_alive", json!(true)),
        ("think", json!("max")),
        ("reasoning_effort", json!("extreme")),
        ("n", json!(2)),
    ] {
        let mut request = chat(user("x"));
        request[param] = value;
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 400, "{param}: {body}");
        assert_eq!(error_of(&body)["param"], param);
    }
    assert_eq!(api.requests().len(), before);
}

#[tokio::test]
async fn json_mode_and_structured_outputs() {
    let (api, gw) = serve(|_| text(&["{\"age\": 22, \"available\": false}"], 34, 12)).await;
    let schema = json!({"type": "object", "properties": {"age": {"type": "integer"},
        "available": {"type": "boolean"}}, "required": ["age", "available"]});
    let formats = [
        (json!({"type": "json_object"}), json!("json")),
        (
            json!({"type": "json_schema", "json_schema": {"name": "a", "strict": true, "schema": schema}}),
            schema.clone(),
        ),
    ];
    for (response_format, expected) in formats {
        let mut request = chat(user("Ollama is 22. JSON please."));
        request["response_format"] = response_format;
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        let content = body["choices"][0]["message"]["content"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(content).unwrap(),
            json!({"age": 22, "available": false})
        );
        let sent = api.last().body;
        assert_eq!(sent["format"], expected);
        assert!(sent.get("response_format").is_none());
    }
    let mut request = chat(user("x"));
    request["response_format"] = json!({"type": "text"});
    gw.post("/v1/chat/completions", &request).await;
    assert!(api.last().body.get("format").is_none());
}

#[tokio::test]
async fn images_go_as_base64_and_urls_need_drop_params() {
    let (api, gw) = serve(|_| text(&["A red pixel."], 26, 4)).await;
    let content = |url: &str| {
        json!([{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
        ]}])
    };
    let data_url = format!("data:image/png;base64,{PNG}");
    let (status, _, body) = gw
        .post("/v1/chat/completions", &chat(content(&data_url)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["messages"],
        json!([{"role": "user", "content": "What is in this picture?", "images": [PNG]}])
    );
    let before = api.requests().len();
    let remote = content("https://example.com/cat.png");
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(remote.clone())).await;
    assert_eq!(status, 400, "{body}");
    let e = error_of(&body);
    assert_eq!(e["param"], "messages[0].content[1]");
    assert!(e["message"].as_str().unwrap().contains("base64"), "{e}");
    assert_eq!(api.requests().len(), before);
    // drop_params leaves the image out.
    let mut request = chat(remote);
    request["drop_params"] = json!(true);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body["messages"],
        json!([{"role": "user", "content": "What is in this picture?"}])
    );
}

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
        {"type": "function", "function": {"name": "get_time"}},
    ])
}

#[tokio::test]
async fn tools_round_trip() {
    let (api, gw) = serve(|r| {
        if r.body["messages"].as_array().unwrap().len() > 1 {
            return text(&["It is 11°C in Toronto and noon."], 94, 11);
        }
        Reply::Chat(Answer {
            pieces: vec![json!({"tool_calls": [
                call("get_weather", json!({"city": "Toronto"})),
                call("get_time", json!({})),
            ]})],
            done_reason: "stop",
            prompt_eval_count: 169,
            eval_count: 18,
        })
    })
    .await;
    let mut request = chat(user("Weather and time in Toronto?"));
    request["tools"] = weather_tools();
    request["tool_choice"] = json!("auto");
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], "{\"city\":\"Toronto\"}");
    assert_eq!(calls[1]["function"]["arguments"], "{}");
    let ids: Vec<&str> = calls.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(
        ids.iter().all(|id| id.starts_with("call_")) && ids[0] != ids[1],
        "{ids:?}"
    );
    let sent = api.last().body;
    assert_eq!(
        sent["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
        ])
    );
    assert!(sent.get("tool_choice").is_none());

    // The assistant message goes back as received, then the results.
    let mut messages = user("Weather and time in Toronto?");
    let messages_list = messages.as_array_mut().unwrap();
    messages_list.push(choice["message"].clone());
    messages_list
        .push(json!({"role": "tool", "tool_call_id": ids[0], "content": "11 degrees celsius"}));
    messages_list.push(json!({"role": "tool", "tool_call_id": ids[1], "content": [{"type": "text", "text": "noon"}]}));
    let mut request = chat(messages);
    request["tools"] = weather_tools();
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        api.last().body["messages"],
        json!([
            {"role": "user", "content": "Weather and time in Toronto?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Toronto"}}},
                {"function": {"name": "get_time", "arguments": {}}},
            ]},
            {"role": "tool", "content": "11 degrees celsius", "tool_name": "get_weather"},
            {"role": "tool", "content": "noon", "tool_name": "get_time"},
        ])
    );
}

#[tokio::test]
async fn tool_choice_and_drop_params() {
    let (api, gw) = serve(|_| text(&["ok"], 1, 1)).await;
    // none: the tools are not offered at all.
    let mut request = chat(user("x"));
    request["tools"] = weather_tools();
    request["tool_choice"] = json!("none");
    let (status, _, _) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200);
    assert!(api.last().body.get("tools").is_none());
    // What Ollama cannot express: refused, or left out with drop_params.
    let named = json!({"type": "function", "function": {"name": "get_time"}});
    let cases = [
        ("tool_choice", json!("required")),
        ("tool_choice", named),
        ("parallel_tool_calls", json!(false)),
        ("logprobs", json!(true)),
        ("logit_bias", json!({"50256": -100})),
    ];
    for (param, value) in cases {
        let mut request = chat(user("x"));
        request["tools"] = weather_tools();
        request[param] = value;
        let before = api.requests().len();
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 400, "{param}: {body}");
        let e = error_of(&body);
        assert_eq!(
            (&e["param"], &e["code"]),
            (&json!(param), &json!("unsupported_parameter"))
        );
        assert!(
            e["message"].as_str().unwrap().contains("drop_params"),
            "{e}"
        );
        assert_eq!(api.requests().len(), before, "{param}: sent upstream");
        request["drop_params"] = json!(true);
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{param} with drop_params: {body}");
        let sent = api.last().body;
        assert!(sent.get(param).is_none() && sent.get("drop_params").is_none());
        assert_eq!(sent["tools"].as_array().unwrap().len(), 2);
    }
    // drop_params on the deployment works the same.
    let api = OllamaApi::start(script(|_| text(&["ok"], 1, 1))).await;
    let gw = Gateway::with_models(&entry(
        &api,
        "local",
        "ollama/llama3.3",
        "    drop_params: true\n",
    ))
    .await;
    let mut request = chat(user("x"));
    request["logprobs"] = json!(true);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn finish_reasons_and_thinking() {
    let (api, gw) = serve(|r| {
        let ask = r.body["messages"][0]["content"].as_str().unwrap_or("");
        let (pieces, done_reason) = match ask {
            "long" => (vec![json!({"content": "Once upon a"})], "length"),
            "think" => (
                vec![
                    json!({"thinking": "Ada wrote it."}),
                    json!({"content": "Ada Lovelace."}),
                ],
                "stop",
            ),
            _ => (vec![json!({"content": ""})], "load"),
        };
        Reply::Chat(Answer {
            pieces,
            done_reason,
            prompt_eval_count: 5,
            eval_count: 5,
        })
    })
    .await;
    let (_, _, body) = gw.post("/v1/chat/completions", &chat(user("long"))).await;
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["choices"][0]["message"]["content"], "Once upon a");
    let mut request = chat(user("think"));
    request["reasoning_effort"] = json!("high");
    let (_, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(
        body["choices"][0]["message"],
        json!({"role": "assistant", "content": "Ada Lovelace.", "reasoning_content": "Ada wrote it."})
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(api.last().body["think"], "high");
    let (_, _, body) = gw.post("/v1/chat/completions", &chat(user("other"))).await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["message"]["content"], "");
}
