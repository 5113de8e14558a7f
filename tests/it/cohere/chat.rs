//! Chat parameters, tools, JSON mode, images and finish reasons, asserted on
//! what the strict mock received and what the client got back.

use super::*;

#[tokio::test]
async fn parameters_are_mapped() {
    let (api, gw) = serve(|_| Reply::Json(text_response("ok"))).await;
    let mut request = chat(user("x"));
    for (k, v) in [
        ("temperature", json!(0.2)),
        ("top_p", json!(0.8)),
        ("top_k", json!(40)),
        ("max_tokens", json!(100)),
        ("stop", json!("END")),
        ("seed", json!(7)),
        ("frequency_penalty", json!(0.3)),
        ("presence_penalty", json!(0.1)),
        ("n", json!(1)),
        ("user", json!("user-42")),
        ("metadata", json!({"trace": "t1"})),
    ] {
        request[k] = v;
    }
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.last().body,
        json!({"model": "command-r-plus", "messages": [{"role": "user", "content": "x"}],
               "temperature": 0.2, "k": 40, "seed": 7, "frequency_penalty": 0.3,
               "presence_penalty": 0.1, "p": 0.8, "max_tokens": 100, "stop_sequences": ["END"]})
    );
    // max_completion_tokens wins over max_tokens; top_p 1 is Cohere's top
    // of range; a list of stops stays a list.
    let mut request = chat(user("x"));
    request["max_tokens"] = json!(100);
    request["max_completion_tokens"] = json!(50);
    request["top_p"] = json!(1);
    request["stop"] = json!(["a", "b"]);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = api.last().body;
    assert_eq!(
        (
            sent["max_tokens"].clone(),
            sent["p"].clone(),
            sent["stop_sequences"].clone()
        ),
        (json!(50), json!(0.99), json!(["a", "b"]))
    );
    // n above 1 is refused before any upstream call.
    let before = api.requests().len();
    let mut request = chat(user("x"));
    request["n"] = json!(2);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["param"], "n");
    assert_eq!(api.requests().len(), before);
}

#[tokio::test]
async fn deployment_defaults_apply_where_the_request_sets_nothing() {
    let api = CohereApi::start(KEY, script(|_| Reply::Json(text_response("ok")))).await;
    let gw = Gateway::with_models(&entry(
        &api,
        "command",
        "    temperature: 0.1\n    max_tokens: 300\n",
    ))
    .await;
    let mut request = chat(user("x"));
    request["temperature"] = json!(0.5);
    gw.post("/v1/chat/completions", &request).await;
    let sent = api.last().body;
    assert_eq!(
        (sent["temperature"].clone(), sent["max_tokens"].clone()),
        (json!(0.5), json!(300))
    );
}

#[tokio::test]
async fn unsupported_parameters_are_refused_or_dropped() {
    let (api, gw) = serve(|_| Reply::Json(text_response("ok"))).await;
    for (param, value) in [
        ("logit_bias", json!({"50256": -100})),
        ("logprobs", json!(true)),
        ("parallel_tool_calls", json!(false)),
    ] {
        let mut request = chat(user("x"));
        request["tools"] = json!([weather_tool()]);
        request[param] = value;
        let before = api.requests().len();
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 400, "{param}: {body}");
        let e = error_of(&body);
        assert_eq!(e["param"], param);
        assert!(
            e["message"].as_str().unwrap().contains("drop_params"),
            "{e}"
        );
        assert_eq!(api.requests().len(), before, "{param}: nothing sent");
        request["drop_params"] = json!(true);
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{param}: {body}");
        let sent = api.last().body;
        assert!(sent.get(param).is_none() && sent.get("drop_params").is_none());
    }
    // The unsupported-parameter error names the provider.
    let mut request = chat(user("x"));
    request["logit_bias"] = json!({"1": 1});
    let (_, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cohere")
    );
    assert_eq!(body["error"]["code"], "unsupported_parameter");
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

fn time_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_time"}})
}

#[tokio::test]
async fn tool_calls_round_trip() {
    let (api, gw) = serve(|r| {
        let last = r.body["messages"].as_array().unwrap().last().unwrap().clone();
        if last["role"] == "tool" {
            return Reply::Json(text_response("It is 18°C in Bern."));
        }
        Reply::Json(response(
            json!({"tool_plan": "I will look up the weather.", "tool_calls": [{"id": "get_weather_x1",
                "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}]}),
            "TOOL_CALL",
            usage(30, 20),
        ))
    })
    .await;
    let mut request = chat(user("Weather in Bern?"));
    request["tools"] = json!([weather_tool(), time_tool()]);
    request["tool_choice"] = json!("auto");
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "I will look up the weather.");
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "get_weather_x1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}])
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
    assert!(
        sent.get("tool_choice").is_none(),
        "auto is Cohere's default"
    );
    // The assistant turn goes back as returned, then the tool's result.
    let mut messages = request["messages"].as_array().unwrap().clone();
    messages.push(choice["message"].clone());
    messages.push(
        json!({"role": "tool", "tool_call_id": "get_weather_x1", "content": "{\"temp_c\": 18}"}),
    );
    request["messages"] = Value::Array(messages);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "It is 18°C in Bern."
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        api.last().body["messages"],
        json!([
            {"role": "user", "content": "Weather in Bern?"},
            {"role": "assistant", "tool_plan": "I will look up the weather.", "tool_calls": [{"id": "get_weather_x1",
                "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Bern\"}"}}]},
            {"role": "tool", "tool_call_id": "get_weather_x1", "content": "{\"temp_c\": 18}"},
        ])
    );
}

#[tokio::test]
async fn tool_choice_is_mapped() {
    let (api, gw) = serve(|_| Reply::Json(text_response("ok"))).await;
    let cases = [
        (json!("required"), Some("REQUIRED"), 2),
        (json!("none"), Some("NONE"), 2),
        (
            json!({"type": "function", "function": {"name": "get_time"}}),
            Some("REQUIRED"),
            1,
        ),
    ];
    for (choice, expected, tools) in cases {
        let mut request = chat(user("x"));
        request["tools"] = json!([weather_tool(), time_tool()]);
        request["tool_choice"] = choice.clone();
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{choice}: {body}");
        let sent = api.last().body;
        assert_eq!(sent["tool_choice"].as_str(), expected, "{choice}");
        assert_eq!(sent["tools"].as_array().unwrap().len(), tools, "{choice}");
    }
    assert_eq!(api.last().body["tools"][0]["function"]["name"], "get_time");
    let mut request = chat(user("x"));
    request["tool_choice"] = json!({"type": "function", "function": {"name": "nope"}});
    request["tools"] = json!([weather_tool()]);
    let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["param"], "tool_choice");
}

#[tokio::test]
async fn json_mode_asks_for_a_json_object() {
    let (api, gw) =
        serve(|_| Reply::Json(text_response(r#"{"name": "Ada Lovelace", "age": 36}"#))).await;
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                        "required": ["name", "age"]});
    let formats = [
        (
            json!({"type": "json_object"}),
            json!({"type": "json_object"}),
        ),
        (
            json!({"type": "json_schema", "json_schema": {"name": "person", "strict": true, "schema": schema}}),
            json!({"type": "json_object", "json_schema": schema}),
        ),
    ];
    for (format, expected) in formats {
        let mut request = chat(user("Who wrote the first program? Answer in JSON."));
        request["response_format"] = format;
        let (status, _, body) = gw.post("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        let content = body["choices"][0]["message"]["content"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(content).unwrap(),
            json!({"name": "Ada Lovelace", "age": 36})
        );
        assert_eq!(api.last().body["response_format"], expected);
    }
    let mut request = chat(user("x"));
    request["response_format"] = json!({"type": "text"});
    gw.post("/v1/chat/completions", &request).await;
    assert!(api.last().body.get("response_format").is_none());
}

#[tokio::test]
async fn images_are_sent_as_image_url_items() {
    let (api, gw) = serve(|_| Reply::Json(text_response("A cat."))).await;
    let url = "data:image/png;base64,iVBORw0KGgo=";
    let messages = json!([{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
    ]}]);
    let (status, _, body) = gw
        .post("/v1/chat/completions", &chat(messages.clone()))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.last().body["messages"], messages);
    let audio = json!([{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}]);
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(audio)).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body)["param"], "messages[0].content[0]");
}

#[tokio::test]
async fn finish_reasons_are_mapped() {
    let (_api, gw) = serve(|r| {
        let reason = r.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_string();
        Reply::Json(response(
            json!({"content": [{"type": "text", "text": "Once upon a"}]}),
            &reason,
            usage(8, 5),
        ))
    })
    .await;
    for (reason, expected) in [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
    ] {
        let (status, _, body) = gw.post("/v1/chat/completions", &chat(user(reason))).await;
        assert_eq!(status, 200, "{reason}: {body}");
        assert_eq!(body["choices"][0]["finish_reason"], expected, "{reason}");
        assert_eq!(body["choices"][0]["message"]["content"], "Once upon a");
    }
    let (status, _, body) = gw.post("/v1/chat/completions", &chat(user("ERROR"))).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(error_of(&body)["type"], "server_error");
    let (status, _, body) = gw
        .post("/v1/chat/completions", &chat(user("TIMEOUT")))
        .await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(error_of(&body)["type"], "timeout_error");
}
