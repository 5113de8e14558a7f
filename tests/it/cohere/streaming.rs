//! Streams from the Cohere mock (real `event:`/`data:` pairs) translated
//! into OpenAI chunks.

use std::time::Duration;

use super::*;

fn streaming(messages: Value, include_usage: bool) -> Value {
    let mut request = chat(messages);
    request["stream"] = json!(true);
    if include_usage {
        request["stream_options"] = json!({"include_usage": true});
    }
    request
}

#[tokio::test]
async fn streamed_text_with_and_without_usage() {
    let (api, gw) =
        serve(|_| Reply::Events(text_events(&["Hel", "lo"], "COMPLETE", usage(12, 2)))).await;
    for include_usage in [false, true] {
        let request = streaming(user("hi"), include_usage);
        let (status, headers, body) = gw.post_stream("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
        let got = chunks(&body);
        assert_eq!(
            deltas(&got),
            vec![
                (json!({"role": "assistant", "content": ""}), Value::Null),
                (json!({"content": "Hel"}), Value::Null),
                (json!({"content": "lo"}), Value::Null),
                (json!({}), json!("stop")),
            ]
        );
        for c in &got {
            assert_eq!(
                (c["id"].as_str(), c["object"].as_str(), c["model"].as_str()),
                (
                    Some("c14c80c3-mock"),
                    Some("chat.completion.chunk"),
                    Some("command-r-plus")
                )
            );
        }
        if include_usage {
            assert_eq!(got.len(), 5);
            let last = got.last().unwrap();
            assert_eq!(last["choices"], json!([]));
            assert_eq!(
                last["usage"],
                json!({"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14})
            );
            assert!(got[..4].iter().all(|c| c["usage"].is_null()));
        } else {
            assert_eq!(got.len(), 4);
            assert!(got.iter().all(|c| c.get("usage").is_none()));
        }
        let sent = api.last().body;
        assert_eq!(sent["stream"], true);
        assert!(sent.get("stream_options").is_none());
    }
}

#[tokio::test]
async fn streamed_tool_calls() {
    let (_api, gw) = serve(|_| Reply::Events(tool_events())).await;
    let mut request = streaming(user("Weather and time in Bern?"), true);
    request["tools"] = json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
    ]);
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let got = chunks(&body);
    let d = deltas(&got);
    assert_eq!(d[1].0, json!({"content": "I will check "}));
    assert_eq!(d[2].0, json!({"content": "both."}));
    assert_eq!(
        d[3].0,
        json!({"tool_calls": [{"index": 0, "id": "get_weather_a1", "type": "function",
                               "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        d[4].0,
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]})
    );
    assert_eq!(d[6].0["tool_calls"][0]["id"], "get_time_b2");
    assert_eq!(d[6].0["tool_calls"][0]["index"], 1);
    assert_eq!(d.last().unwrap().1, json!("tool_calls"));
    // Arguments assembled per index are the JSON the model wrote.
    let mut args = [String::new(), String::new()];
    for (delta, _) in &d {
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            args[call["index"].as_u64().unwrap() as usize]
                .push_str(call["function"]["arguments"].as_str().unwrap());
        }
    }
    assert_eq!(
        serde_json::from_str::<Value>(&args[0]).unwrap(),
        json!({"city": "Bern"})
    );
    assert_eq!(args[1], "{}");
    assert_eq!(got.last().unwrap()["usage"]["completion_tokens"], 30);
}

#[tokio::test]
async fn a_stream_split_into_single_bytes_gives_the_same_chunks() {
    let events = text_events(&["Grüezi ", "mitenand"], "MAX_TOKENS", usage(3, 4));
    let whole = raw(&events);
    let pieces: Vec<(Duration, String)> = whole
        .char_indices()
        .map(|(_, c)| (Duration::ZERO, c.to_string()))
        .collect();
    let (_api, gw) = serve(move |r| {
        if r.body["messages"][0]["content"] == "split" {
            Reply::Chunks(pieces.clone())
        } else {
            Reply::Events(events.clone())
        }
    })
    .await;
    let strip = |body: &str| -> Vec<Value> {
        chunks(body)
            .into_iter()
            .map(|mut c| {
                c.as_object_mut().unwrap().remove("created");
                c
            })
            .collect()
    };
    let (_, _, whole) = gw
        .post_stream("/v1/chat/completions", &streaming(user("whole"), true))
        .await;
    let (_, _, split) = gw
        .post_stream("/v1/chat/completions", &streaming(user("split"), true))
        .await;
    assert_eq!(strip(&split), strip(&whole));
    assert_eq!(deltas(&strip(&whole))[3].1, json!("length"));
}

#[tokio::test]
async fn an_error_at_the_end_of_a_stream_becomes_an_error_event() {
    let (_api, gw) = serve(|_| {
        let mut events = text_events(&["Partial"], "ERROR", usage(1, 1));
        events.last_mut().unwrap().1["delta"]["error"] = json!("internal generation failure");
        Reply::Events(events)
    })
    .await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &streaming(user("x"), false))
        .await;
    assert_eq!(status, 200);
    assert!(!body.contains("[DONE]"), "{body}");
    let data = sse_data(&body);
    assert!(data[1].contains("Partial"));
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    let e = error_of(&last);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("internal generation failure"),
        "{e}"
    );
}

#[tokio::test]
async fn a_stream_refused_before_it_starts_is_a_plain_error() {
    let (_api, gw) = serve(|_| {
        Reply::Error(
            429,
            "You are past the per minute request limit, please wait and try again later.".into(),
            vec![("retry-after", "9")],
        )
    })
    .await;
    let response = client()
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(crate::support::MASTER_KEY)
        .json(&streaming(user("x"), true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "9");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_of(&body)["code"], "rate_limit_exceeded");
}
