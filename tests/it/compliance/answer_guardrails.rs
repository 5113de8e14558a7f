//! The guardrails on the answer: values masked in the request restored in
//! streamed answers, `post_call` masking and blocking of what the model
//! writes (whole and streamed, entities split across chunks), and what the
//! audit record keeps of it: the post_call findings, every deployment
//! tried, and the keyed hash of the stream as the client received it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::databases::{BOTH, TestDb};
use crate::support::upstream::{Reply, Upstream, chunk, completion, script};
use crate::support::{Gateway, MASTER_KEY, error_of, sse_data};
use switchyard::store::Store;

const KEY: &str = "sk-up";

/// Streams `text` back in pieces of `size` bytes (or whole, when not
/// streaming), as a model writing it would.
fn answering(text: &'static str, size: usize) -> Reply {
    let mut chunks = vec![chunk(
        "gpt-4o",
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    for piece in text.as_bytes().chunks(size) {
        let piece = String::from_utf8_lossy(piece).into_owned();
        chunks.push(chunk("gpt-4o", json!({"content": piece}), None));
    }
    chunks.push(chunk("gpt-4o", json!({}), Some("stop")));
    Reply::Sse(chunks)
}

/// Answers with the user's words, streamed in 3-byte pieces when asked to
/// stream: placeholders arrive split.
async fn echo() -> Upstream {
    Upstream::openai(
        KEY,
        script(|r| {
            let said = r.body["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if r.body["stream"] == json!(true) {
                let said: &'static str = Box::leak(said.into_boxed_str());
                answering(said, 3)
            } else {
                Reply::Json(200, completion("gpt-4o", &said))
            }
        }),
    )
    .await
}

/// Always answers with `text`.
async fn writer(text: &'static str) -> Upstream {
    Upstream::openai(
        KEY,
        script(move |r| {
            if r.body["stream"] == json!(true) {
                answering(text, 5)
            } else {
                Reply::Json(200, completion("gpt-4o", text))
            }
        }),
    )
    .await
}

async fn gateway(up: &Upstream, guardrails: &str, extra: &str) -> Gateway {
    Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n{extra}\
         guardrails:\n{guardrails}\
         model_list:\n- model_name: m\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: {KEY}\n",
        up.api_base
    ))
    .await
}

const MASK_PRE: &str = "- {guardrail_name: pii-mask, litellm_params: {guardrail: pii, mode: pre_call, default_on: true}}\n";
const MASK_POST: &str = "- {guardrail_name: pii-out, litellm_params: {guardrail: pii, mode: post_call, default_on: true}}\n";
const BLOCK_CARD_POST: &str = "- {guardrail_name: card-out, litellm_params: {guardrail: pii, mode: post_call, default_on: true, entities: {CARD: block}}}\n";

fn ask(text: &str, stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": text}]})
}

/// The text of a streamed answer, put together.
fn streamed_text(body: &str) -> String {
    sse_data(body)
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v.pointer("/choices/0/delta/content")?
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test]
async fn masked_values_are_restored_in_a_streamed_answer() {
    let up = echo().await;
    let gw = gateway(&up, MASK_PRE, "").await;
    let text =
        "Mail anna.muster@example.ch, IBAN CH93 0076 2011 6238 5295 7, ring +41 44 668 18 00.";
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &ask(text, true))
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = up.last().body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        sent.contains("[EMAIL_1]") && !sent.contains("anna"),
        "{sent}"
    );
    assert_eq!(streamed_text(&body), text);
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
}

#[tokio::test]
async fn post_call_masks_what_the_model_writes_whole_and_streamed() {
    let up = writer("Reach Anna at anna.muster@example.ch or +41 44 668 18 00 today.").await;
    let gw = gateway(&up, MASK_POST, "").await;
    let masked = "Reach Anna at [EMAIL_1] or [PHONE_1] today.";
    let (status, _, body) = gw.post("/v1/chat/completions", &ask("who?", false)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], masked);
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &ask("who?", true))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(streamed_text(&body), masked);
    assert!(
        !body.contains("anna.muster") && !body.contains("668 18"),
        "{body}"
    );
    // pre_call is not on: the request went as it was.
    assert_eq!(up.requests().len(), 2);
}

#[tokio::test]
async fn post_call_block_refuses_the_answer_without_quoting_it() {
    let up = writer("Your card is 4111 1111 1111 1111, keep it safe.").await;
    let gw = gateway(&up, BLOCK_CARD_POST, "").await;
    let (status, _, body) = gw.post("/v1/chat/completions", &ask("card?", false)).await;
    assert_eq!(status, 400, "{body}");
    let e = error_of(&body);
    assert_eq!(e["code"], "pii_blocked");
    assert!(e["message"].as_str().unwrap().contains("CARD"));
    assert!(!body.to_string().contains("4111"));
    let (status, _, body) = gw
        .post_stream("/v1/chat/completions", &ask("card?", true))
        .await;
    assert_eq!(status, 200, "the stream had started: {body}");
    assert!(!body.contains("4111"), "{body}");
    let last = sse_data(&body).pop().unwrap();
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["error"]["code"], "pii_blocked", "{body}");
}

#[tokio::test]
async fn the_audit_record_keeps_attempts_post_call_findings_and_the_stream_hash() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let up = writer("Write to anna.muster@example.ch.").await;
        let audit = format!(
            "  database_url: '{}'\ncompliance:\n  audit:\n    secret: audit-secret-for-tests-only\n    store_plaintext_up_to: public\n",
            db.url
        );
        let gw = Gateway::start(&format!(
            "general_settings:\n  master_key: {MASTER_KEY}\n{audit}\
             guardrails:\n{MASK_POST}\
             router_settings: {{num_retries: 0, fallbacks: [{{broken: [m]}}]}}\n\
             model_list:\n\
             - {{model_name: broken, litellm_params: {{model: mock/b, mock_error_status: 500}}, model_info: {{id: broken-1, region: us}}}}\n\
             - {{model_name: m, litellm_params: {{model: openai/gpt-4o, api_base: '{}', api_key: {KEY}}}, model_info: {{id: good-1, region: eu}}}}\n",
            up.api_base
        ))
        .await;
        let mut request = ask("who?", true);
        request["model"] = json!("broken");
        let (status, _, body) = gw.post_stream("/v1/chat/completions", &request).await;
        assert_eq!(status, 200, "{body}");
        let store = Store::open(&db.url).await.unwrap();
        let mut records = Vec::new();
        for _ in 0..50 {
            records = switchyard::audit::records(&store).await.unwrap();
            if records.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = records
            .iter()
            .find(|r| r.kind == "request")
            .unwrap_or_else(|| panic!("{kind:?}: no request record in {records:?}"));
        let attempts: Value = serde_json::from_str(&r.attempts).unwrap();
        assert_eq!(
            attempts,
            json!([
                {"deployment_id": "broken-1", "region": "us", "outcome": "server_error"},
                {"deployment_id": "good-1", "region": "eu", "outcome": "success"}
            ]),
            "{kind:?}"
        );
        let guardrails: Value = serde_json::from_str(&r.guardrails).unwrap();
        assert_eq!(
            guardrails["post_call"]["EMAIL"], 1,
            "{kind:?}: {guardrails}"
        );
        // The stream as the client got it: masked, hashed and (public) kept.
        assert_eq!(r.response_plaintext.as_deref(), Some(body.as_str()));
        let secret = switchyard::audit::AuditSecret::new(b"audit-secret-for-tests-only".to_vec());
        assert_eq!(r.response_hmac, Some(secret.hmac_hex(&body)));
        assert!(!body.contains("anna.muster"));
        let verdict = switchyard::audit::verify(&store, &[]).await.unwrap();
        assert!(verdict.is_ok(), "{kind:?}: {verdict:?}");
    }
}
