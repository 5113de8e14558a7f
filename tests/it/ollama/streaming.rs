//! NDJSON streams from the Ollama mock as OpenAI chunks: role first, text,
//! thinking and tool call deltas, the finish chunk, the usage chunk only
//! when asked for, `[DONE]`; lines cut anywhere; an error line mid-stream.

use std::time::Duration;

use super::*;
use crate::support::ollama_api::answer_lines;

fn streamed(mut request: Value, include_usage: bool) -> Value {
    request["stream"] = json!(true);
    if include_usage {
        request["stream_options"] = json!({"include_usage": true});
    }
    request
}

fn deltas(chunks: &[Value]) -> Vec<(Value, Value)> {
    chunks
        .iter()
        .filter_map(|c| c.pointer("/choices/0"))
        .map(|c| (c["delta"].clone(), c["finish_reason"].clone()))
        .collect()
}

#[tokio::test]
async fn text_stream_with_usage() {
    let (api, gw) = serve(|_| text(&["The", " sky", " is blue."], 26, 282)).await;
    let request = streamed(chat(user("why is the sky blue?")), true);
    let (status, headers, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    let all = chunks(&body);
    let id = all[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for c in &all {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(
            (c["id"].as_str(), &c["model"]),
            (Some(id), &json!("llama3.3"))
        );
    }
    assert_eq!(
        deltas(&all),
        vec![
            (json!({"role": "assistant", "content": ""}), Value::Null),
            (json!({"content": "The"}), Value::Null),
            (json!({"content": " sky"}), Value::Null),
            (json!({"content": " is blue."}), Value::Null),
            (json!({}), json!("stop")),
        ]
    );
    let last = all.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 26, "completion_tokens": 282, "total_tokens": 308})
    );
    for c in &all[..all.len() - 1] {
        assert_eq!(c["usage"], Value::Null, "{c}");
    }
    let sent = api.last().body;
    assert_eq!(sent["stream"], true);
    assert!(sent.get("stream_options").is_none());

    // Without include_usage: no usage chunk, no usage field.
    let (_, _, body) = gw
        .post_stream("/v1/chat/completions", &streamed(chat(user("x")), false))
        .await;
    let plain = chunks(&body);
    assert_eq!(plain.len(), 5, "{body}");
    assert!(plain.iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn thinking_and_tool_calls_stream() {
    let (_api, gw) = serve(|_| {
        Reply::Chat(Answer {
            pieces: vec![
                json!({"thinking": "Two calls."}),
                json!({"tool_calls": [call("get_weather", json!({"city": "Tokyo"})), call("get_time", json!({}))]}),
            ],
            done_reason: "stop",
            prompt_eval_count: 169,
            eval_count: 15,
        })
    })
    .await;
    let mut request = streamed(chat(user("what is the weather in tokyo?")), true);
    request["tools"] = weather_tools();
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
    assert_eq!(status, 200, "{body}");
    let chunks = chunks(&body);
    let d = deltas(&chunks);
    assert_eq!(
        d[1],
        (json!({"reasoning_content": "Two calls."}), Value::Null)
    );
    let calls: Vec<&Value> = d
        .iter()
        .filter_map(|(delta, _)| delta.get("tool_calls"))
        .collect();
    assert_eq!(calls.len(), 2);
    for (i, (call, (name, args))) in calls
        .iter()
        .zip([("get_weather", "{\"city\":\"Tokyo\"}"), ("get_time", "{}")])
        .enumerate()
    {
        let c = &call[0];
        assert_eq!(c["index"], i);
        assert!(c["id"].as_str().unwrap().starts_with("call_"), "{c}");
        assert_eq!(c["type"], "function");
        assert_eq!(
            (&c["function"]["name"], &c["function"]["arguments"]),
            (&json!(name), &json!(args))
        );
    }
    assert_eq!(d.last().unwrap(), &(json!({}), json!("tool_calls")));
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 184);
}

#[tokio::test]
async fn lines_cut_anywhere_and_slow_pieces() {
    // The answer's bytes in pieces of 7, cutting lines, keys and "°".
    let lines: String = answer_lines(&Answer {
        pieces: ["It is ", "11°C", " in Toronto."]
            .iter()
            .map(|t| json!({"content": t}))
            .collect(),
        done_reason: "stop",
        prompt_eval_count: 9,
        eval_count: 3,
    })
    .iter()
    .map(|l| format!("{l}\n"))
    .collect();
    let bytes = lines.into_bytes();
    let pieces: Vec<(Duration, Vec<u8>)> = bytes
        .chunks(7)
        .map(|c| (Duration::from_millis(1), c.to_vec()))
        .collect();
    assert_eq!(
        pieces.iter().map(|(_, p)| p.len()).sum::<usize>(),
        bytes.len()
    );
    let (_api, gw) = serve(move |_| Reply::Chunks(pieces.clone())).await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &streamed(chat(user("x")), true))
        .await;
    assert_eq!(status, 200, "{body}");
    let chunks = chunks(&body);
    let text: String = deltas(&chunks)
        .iter()
        .filter_map(|(d, _)| d["content"].as_str())
        .collect();
    assert_eq!(text, "It is 11°C in Toronto.");
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 12);
    assert!(body.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn an_error_line_ends_the_stream_with_an_error_event() {
    let (_api, gw) = serve(|_| {
        Reply::Lines(vec![
            json!({"model": "llama3.3", "created_at": "2025-10-26T17:21:21.196249Z",
                   "message": {"role": "assistant", "content": " Yes"}, "done": false}),
            json!({"error": "an error was encountered while running the model"}),
            json!({"model": "llama3.3", "message": {"role": "assistant", "content": "never"}, "done": true}),
        ])
    })
    .await;
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &streamed(chat(user("x")), true))
        .await;
    assert_eq!(status, 200);
    assert!(
        !body.contains("[DONE]") && !body.contains("never"),
        "{body}"
    );
    let data = sse_data(&body);
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    let e = error_of(&last);
    assert_eq!(
        e["message"],
        "an error was encountered while running the model"
    );
    assert_eq!(e["type"], "server_error");
    let first: Value = serde_json::from_str(&data[1]).unwrap();
    assert_eq!(first["choices"][0]["delta"]["content"], " Yes");
}
