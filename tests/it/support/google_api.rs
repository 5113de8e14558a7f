//! Strict mocks of Google's Gemini API and Vertex AI, following their
//! documented HTTP APIs: paths, auth, proto-JSON bodies that reject unknown
//! fields, SSE framing without a terminal event, and Google's error shape.
//! Vertex's mock has its own OAuth2 token endpoint (`POST /token`) that
//! checks the service-account JWT's RS256 signature, claims and expiry and
//! counts exchanges. What a test wants the upstream to say is a `Script`;
//! every request is recorded.
//!
//! `google_test_only_key.pem` beside this file is a TEST-ONLY RSA key made
//! with `openssl genrsa 2048` for these mocks; it authorizes nothing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod checks;
use checks::{check_batch_embed, check_generate, check_predict};

pub const TEST_ONLY_PRIVATE_KEY: &str = include_str!("google_test_only_key.pem");
const TEST_ONLY_PUBLIC_KEY: &str = include_str!("google_test_only_key.pub.pem");
pub const CLIENT_EMAIL: &str = "switchyard-test@test-project.iam.gserviceaccount.com";
pub const KEY_ID: &str = "test-only-key-1";
pub const API_KEY: &str = "test-key";
pub const PROJECT: &str = "test-project";
pub const LOCATION: &str = "us-central1";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// One request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Call {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Call {
    /// `generateContent`, `streamGenerateContent`, `batchEmbedContents`, `predict`.
    pub fn method(&self) -> &str {
        self.path.rsplit_once(':').map_or("", |(_, m)| m)
    }
}

/// What the upstream answers.
pub enum Answer {
    Json(u16, Value),
    JsonWithHeaders(u16, Value, Vec<(&'static str, &'static str)>),
    /// Gemini SSE: each value as `data: …\r\n\r\n`, no end event.
    Sse(Vec<Value>),
    /// Raw body pieces, written one by one.
    Raw(Vec<String>),
}

pub type Script = Arc<dyn Fn(&Call) -> Answer + Send + Sync>;

pub fn script(f: impl Fn(&Call) -> Answer + Send + Sync + 'static) -> Script {
    Arc::new(f)
}

enum Api {
    Gemini,
    Vertex,
}

struct Shared {
    api: Api,
    script: Script,
    token_uri: String,
    recorded: Mutex<Vec<Call>>,
    exchanges: AtomicUsize,
    issued: Mutex<Vec<(String, Instant)>>,
    token_lifetime: AtomicU64,
}

pub struct GoogleApi {
    /// What goes into `api_base`.
    pub api_base: String,
    pub token_uri: String,
    shared: Arc<Shared>,
}

impl GoogleApi {
    /// Gemini API: `POST /v1beta/models/{model}:{method}`, key in
    /// `x-goog-api-key` (or `?key=`), which must be `API_KEY`.
    pub async fn gemini(script: Script) -> GoogleApi {
        GoogleApi::start(Api::Gemini, script).await
    }

    /// Vertex AI: `POST /v1/projects/PROJECT/locations/LOCATION/publishers/google/models/{model}:{method}`
    /// with a bearer token this mock's `/token` issued.
    pub async fn vertex(script: Script) -> GoogleApi {
        GoogleApi::start(Api::Vertex, script).await
    }

    async fn start(api: Api, script: Script) -> GoogleApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            api,
            script,
            token_uri: format!("{base}/token"),
            recorded: Mutex::new(Vec::new()),
            exchanges: AtomicUsize::new(0),
            issued: Mutex::new(Vec::new()),
            token_lifetime: AtomicU64::new(3599),
        });
        let app = Router::new()
            .route("/token", axum::routing::post(token))
            .fallback(handle)
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        GoogleApi {
            api_base: base,
            token_uri: shared.token_uri.clone(),
            shared,
        }
    }

    pub fn requests(&self) -> Vec<Call> {
        self.shared.recorded.lock().unwrap().clone()
    }

    pub fn last(&self) -> Call {
        self.requests()
            .pop()
            .expect("the upstream received no request")
    }

    /// Tokens issued by `POST /token` so far.
    pub fn token_exchanges(&self) -> usize {
        self.shared.exchanges.load(Ordering::SeqCst)
    }

    /// `expires_in` of the tokens issued from now on.
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.shared.token_lifetime.store(seconds, Ordering::SeqCst);
    }

    /// A service-account key file whose `token_uri` is this mock's.
    pub fn service_account(&self) -> Value {
        json!({
            "type": "service_account", "project_id": PROJECT, "private_key_id": KEY_ID,
            "private_key": TEST_ONLY_PRIVATE_KEY, "client_email": CLIENT_EMAIL,
            "client_id": "1234567890", "token_uri": self.token_uri,
        })
    }

    /// A `model_list` entry for this mock: `gemini/{model}` or `vertex_ai/{model}`.
    pub fn entry(&self, name: &str, model: &str, extra: &str) -> String {
        match self.shared.api {
            Api::Gemini => format!(
                "- model_name: {name}\n  litellm_params:\n    model: gemini/{model}\n    api_base: {}\n    api_key: {API_KEY}\n{extra}",
                self.api_base
            ),
            // JSON holds no single quote, so it fits a single-quoted YAML scalar.
            Api::Vertex => format!(
                "- model_name: {name}\n  litellm_params:\n    model: vertex_ai/{model}\n    api_base: {}\n    vertex_project: {PROJECT}\n    vertex_location: {LOCATION}\n    vertex_credentials: '{}'\n{extra}",
                self.api_base,
                self.service_account()
            ),
        }
    }
}

pub fn google_error(code: u16, status: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "status": status}});
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

async fn handle(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let q = query.as_deref().unwrap_or("");
    let (model, method) = match s.api {
        Api::Gemini => path.strip_prefix("/v1beta/models/"),
        Api::Vertex => path.strip_prefix(&format!(
            "/v1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
        )),
    }
    .and_then(|rest| rest.split_once(':'))
    .unwrap_or(("", ""));
    let methods: &[&str] = match s.api {
        Api::Gemini => &[
            "generateContent",
            "streamGenerateContent",
            "batchEmbedContents",
        ],
        Api::Vertex => &["generateContent", "streamGenerateContent", "predict"],
    };
    if model.is_empty() || model.contains('/') || !methods.contains(&method) {
        return google_error(
            404,
            "NOT_FOUND",
            &format!("The requested URL {path} was not found."),
        );
    }
    if let Some(refusal) = refuse(&s, &headers, q) {
        return refusal;
    }
    if method == "streamGenerateContent" && !q.split('&').any(|p| p == "alt=sse") {
        return google_error(
            400,
            "INVALID_ARGUMENT",
            "this mock streams only with alt=sse",
        );
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return google_error(
            400,
            "INVALID_ARGUMENT",
            "Content-Type must be application/json",
        );
    }
    let Ok(json @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    };
    let checked = match method {
        "batchEmbedContents" => check_batch_embed(&json, model),
        "predict" => check_predict(&json),
        _ => check_generate(&json, matches!(s.api, Api::Vertex)),
    };
    if let Err(message) = checked {
        return google_error(400, "INVALID_ARGUMENT", &message);
    }
    let call = Call {
        path,
        query,
        headers,
        body: json,
    };
    s.recorded.lock().unwrap().push(call.clone());
    render((s.script)(&call))
}

/// The error Google answers a request without valid credentials with.
fn refuse(s: &Shared, headers: &HeaderMap, query: &str) -> Option<Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match s.api {
        Api::Gemini => {
            let key = header("x-goog-api-key").map(str::to_string).or_else(|| {
                query
                    .split('&')
                    .find_map(|p| p.strip_prefix("key=").map(str::to_string))
            });
            match key.as_deref() {
                Some(API_KEY) => None,
                Some(_) => Some((
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})),
                )
                    .into_response()),
                None => Some(google_error(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
                )),
            }
        }
        Api::Vertex => {
            let token = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
            let now = Instant::now();
            let valid = token.is_some_and(|t| {
                s.issued
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(issued, until)| issued == t && now < *until)
            });
            if valid {
                None
            } else {
                Some(google_error(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                ))
            }
        }
    }
}

/// Google's OAuth2 token endpoint for the service-account flow (RFC 7523).
async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let oauth_error = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if headers.get("content-type").and_then(|v| v.to_str().ok())
        != Some("application/x-www-form-urlencoded")
    {
        return oauth_error("invalid_request", "expected a form body");
    }
    let form = String::from_utf8_lossy(&body).into_owned();
    let field = |name: &str| {
        form.split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(percent_decode)
    };
    if field("grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error("unsupported_grant_type", "Invalid grant_type");
    }
    let Some(assertion) = field("assertion") else {
        return oauth_error("invalid_request", "Missing required parameter: assertion");
    };
    if let Err(description) = check_assertion(&assertion, &s.token_uri) {
        return oauth_error("invalid_grant", &description);
    }
    let n = s.exchanges.fetch_add(1, Ordering::SeqCst) + 1;
    let lifetime = s.token_lifetime.load(Ordering::SeqCst);
    let access = format!("ya29.test-only-token-{n}");
    let until = Instant::now() + Duration::from_secs(lifetime);
    s.issued.lock().unwrap().push((access.clone(), until));
    axum::Json(json!({"access_token": access, "expires_in": lifetime, "token_type": "Bearer"}))
        .into_response()
}

fn check_assertion(jwt: &str, token_uri: &str) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| format!("bad JWT header: {e}"))?;
    if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(KEY_ID) {
        return Err("the JWT must be RS256 with the key's id as kid".into());
    }
    let key = DecodingKey::from_rsa_pem(TEST_ONLY_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .map_err(|e| format!("Invalid JWT: {e}"))?
        .claims;
    if claims["scope"]
        .as_str()
        .is_none_or(|s| !s.split(' ').any(|s| s == SCOPE))
    {
        return Err("the JWT's scope must include cloud-platform".into());
    }
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap_or(0),
        claims["exp"].as_u64().unwrap_or(0),
    );
    if exp <= iat || exp - iat > 3600 {
        return Err("Invalid JWT: exp must be within an hour of iat".into());
    }
    Ok(())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn render(answer: Answer) -> Response {
    match answer {
        Answer::Json(status, body) => {
            (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
        }
        Answer::JsonWithHeaders(status, body, headers) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Answer::Sse(events) => raw(events
            .iter()
            .map(|e| format!("data: {e}\r\n\r\n"))
            .collect()),
        Answer::Raw(pieces) => raw(pieces),
    }
}

fn raw(pieces: Vec<String>) -> Response {
    let stream = futures_util::stream::unfold(pieces.into_iter(), |mut it| async move {
        let piece = it.next()?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(piece)), it))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    r
}

/// A finished text answer with usage, as `generateContent` returns it.
pub fn text_answer(text: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage(7, 3),
        "modelVersion": "gemini-2.5-flash", "responseId": "resp-1",
    })
}

pub fn usage(prompt: u64, candidates: u64) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": candidates, "totalTokenCount": prompt + candidates})
}
