//! A strict mock of the Bedrock Runtime API, following its documented HTTP
//! API: `POST /model/{modelId}/converse`, `…/converse-stream` (answered in
//! AWS's binary event stream, framed with `aws-smithy-eventstream` so every
//! prelude and message CRC is real) and `…/invoke` (Titan and Cohere
//! embeddings). Every request must carry a SigV4 signature that `sigv4.rs`
//! recomputes with the test secret; bodies are checked as Bedrock does
//! (`checks.rs`) and refused with its `ValidationException` shape. What a
//! test wants the upstream to say is a `Script`; every accepted request is
//! recorded.

mod checks;
mod sigv4;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const ACCESS_KEY_ID: &str = "AKIDTESTBEDROCK0001";
pub const SECRET_ACCESS_KEY: &str = "test-only/Secret+Key/0123456789abcdef";
pub const SESSION_TOKEN: &str = "test-only-session-token//+=";
pub const REGION: &str = "eu-central-1";
pub const CLAUDE: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

/// One request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Call {
    /// `converse`, `converse-stream` or `invoke`.
    pub action: String,
    /// The model id, percent-decoded.
    pub model: String,
    /// The path as sent (model id encoded).
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// One event-stream message.
#[derive(Clone, Debug)]
pub enum Event {
    /// `:message-type: event` with this `:event-type` and JSON payload.
    Event(&'static str, Value),
    /// `:message-type: exception` with this `:exception-type` and message.
    Exception(&'static str, String),
}

/// What the upstream answers.
pub enum Answer {
    Json(Value),
    /// An AWS error: status, `x-amzn-ErrorType`, message.
    Error(u16, &'static str, String),
    /// An event stream, one message per write.
    Events(Vec<Event>),
    /// Raw event-stream bytes, written piece by piece.
    Raw(Vec<Vec<u8>>),
}

pub type Script = Arc<dyn Fn(&Call) -> Answer + Send + Sync>;

pub fn script(f: impl Fn(&Call) -> Answer + Send + Sync + 'static) -> Script {
    Arc::new(f)
}

struct Shared {
    script: Script,
    session_token: bool,
    recorded: Mutex<Vec<Call>>,
}

pub struct BedrockApi {
    /// What goes into `aws_bedrock_runtime_endpoint`.
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl BedrockApi {
    /// Long-term keys: requests must not carry a session token.
    pub async fn start(script: Script) -> BedrockApi {
        BedrockApi::serve(script, false).await
    }

    /// Temporary credentials: every request must carry `SESSION_TOKEN`.
    pub async fn with_session_token(script: Script) -> BedrockApi {
        BedrockApi::serve(script, true).await
    }

    async fn serve(script: Script, session_token: bool) -> BedrockApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            script,
            session_token,
            recorded: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        BedrockApi { endpoint, shared }
    }

    pub fn requests(&self) -> Vec<Call> {
        self.shared.recorded.lock().unwrap().clone()
    }

    pub fn last(&self) -> Call {
        self.requests()
            .pop()
            .expect("the upstream received no request")
    }

    /// A `model_list` entry `bedrock/{model}` on this mock, with the test
    /// region and keys (and session token, when this mock wants one).
    pub fn entry(&self, name: &str, model: &str, extra: &str) -> String {
        let token = if self.shared.session_token {
            format!("    aws_session_token: '{SESSION_TOKEN}'\n")
        } else {
            String::new()
        };
        format!(
            "- model_name: {name}\n  litellm_params:\n    model: bedrock/{model}\n    aws_region_name: {REGION}\n    aws_access_key_id: {ACCESS_KEY_ID}\n    aws_secret_access_key: '{SECRET_ACCESS_KEY}'\n{token}    aws_bedrock_runtime_endpoint: {}\n{extra}",
            self.endpoint
        )
    }
}

/// An AWS error response as Bedrock sends it.
pub fn aws_error(status: u16, kind: &str, message: &str) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({"message": message})),
    )
        .into_response();
    let h = r.headers_mut();
    let kind = format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/");
    h.insert("x-amzn-errortype", kind.parse().unwrap());
    h.insert(
        "x-amzn-requestid",
        "00000000-0000-4000-8000-000000000000".parse().unwrap(),
    );
    r
}

async fn handle(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let (model, action) = path
        .strip_prefix("/model/")
        .and_then(|rest| rest.rsplit_once('/'))
        .unwrap_or(("", ""));
    if model.is_empty()
        || model.contains('/')
        || !["converse", "converse-stream", "invoke"].contains(&action)
    {
        return aws_error(404, "UnknownOperationException", "");
    }
    if let Err((status, kind, message)) = sigv4::verify(&path, &headers, &body, s.session_token) {
        return aws_error(status, kind, &message);
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("content-type") != Some("application/json") {
        return aws_error(
            415,
            "UnsupportedMediaTypeException",
            "Content-Type must be application/json",
        );
    }
    let Ok(json @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return aws_error(
            400,
            "ValidationException",
            "Malformed input request, please reformat your input and try again.",
        );
    };
    let model = percent_decode(model);
    let checked = match action {
        "invoke" => checks::invoke(&model, &json),
        _ => checks::converse(&json),
    };
    if let Err(message) = checked {
        return aws_error(400, "ValidationException", &message);
    }
    let call = Call {
        action: action.to_string(),
        model,
        path,
        headers,
        body: json,
    };
    s.recorded.lock().unwrap().push(call.clone());
    match (s.script)(&call) {
        Answer::Json(body) => axum::Json(body).into_response(),
        Answer::Error(status, kind, message) => aws_error(status, kind, &message),
        Answer::Events(events) => stream(events.iter().map(frame).collect()),
        Answer::Raw(pieces) => stream(pieces),
    }
}

fn stream(pieces: Vec<Vec<u8>>) -> Response {
    let body = futures_util::stream::unfold(pieces.into_iter(), |mut it| async move {
        let piece = it.next()?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(piece)), it))
    });
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        "content-type",
        "application/vnd.amazon.eventstream".parse().unwrap(),
    );
    r
}

/// One event-stream message with valid CRCs. Event payloads get Bedrock's
/// `p` padding member, which clients must ignore.
pub fn frame(event: &Event) -> Vec<u8> {
    let string = |s: &str| HeaderValue::String(s.to_string().into());
    let (headers, payload) = match event {
        Event::Event(kind, payload) => {
            let mut payload = payload.clone();
            if let Some(o) = payload.as_object_mut() {
                o.insert("p".into(), json!("abcdefghijklmnopqrstuvwxyzABCDEF"));
            }
            (
                vec![(":event-type", *kind), (":message-type", "event")],
                payload,
            )
        }
        Event::Exception(kind, message) => (
            vec![(":exception-type", *kind), (":message-type", "exception")],
            json!({"message": message}),
        ),
    };
    let mut message = Message::new(Bytes::from(payload.to_string()))
        .add_header(Header::new(":content-type", string("application/json")));
    for (name, value) in headers {
        message = message.add_header(Header::new(name, string(value)));
    }
    let mut out = Vec::new();
    write_message_to(&message, &mut out).unwrap();
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A finished text answer, as Converse returns it.
pub fn text_answer(text: &str) -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": usage(11, 4),
        "metrics": {"latencyMs": 120},
    })
}

pub fn usage(input: u64, output: u64) -> Value {
    json!({"inputTokens": input, "outputTokens": output, "totalTokens": input + output})
}

/// A ConverseStream answer streaming `pieces` of text, then `stop`.
pub fn text_events(pieces: &[&str], stop: &str) -> Vec<Event> {
    let mut events = vec![Event::Event("messageStart", json!({"role": "assistant"}))];
    for piece in pieces {
        events.push(Event::Event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
        ));
    }
    events.push(Event::Event(
        "contentBlockStop",
        json!({"contentBlockIndex": 0}),
    ));
    events.push(Event::Event("messageStop", json!({"stopReason": stop})));
    events.push(Event::Event(
        "metadata",
        json!({"usage": usage(9, 3), "metrics": {"latencyMs": 80}}),
    ));
    events
}
