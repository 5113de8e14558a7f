//! The Anthropic-compatible entry point: `POST /v1/messages` (streaming and
//! not) and `POST /v1/messages/count_tokens`, so that Anthropic SDK clients
//! and Claude Code can use the gateway.
//!
//! A model group whose planned deployment is `anthropic/` is passed through
//! natively (`native`): the client's body and Anthropic headers go upstream
//! as they are and the answer's bytes come back as they arrive. Any other
//! deployment is reached by translation: the Anthropic request becomes an
//! OpenAI chat request (`request`) that runs through the ordinary pipeline,
//! and its answer is translated back (`response`, `stream`).
//!
//! The guardrails run here as on the OpenAI routes (`guard`): `pre_call`
//! on the Anthropic body before it is admitted, so the native and the
//! translated paths both send the masked request; the answer rules on a
//! native answer in Anthropic's schema, and on a translated one in the
//! OpenAI schema before it is translated back.
//!
//! Errors on these routes take Anthropic's shape:
//! `{"type": "error", "error": {"type": …, "message": …}}`.

mod answer;
mod guard;
mod guard_answer;
mod native;
mod request;
mod response;
mod stream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body;
use super::error::ApiError;
use super::wire::ApiRequest;
use super::{Gateway, Peer, peer_addr};
use crate::enforce::{self, Pass};
use crate::pipeline::{self, Meta, Tries};
use crate::providers::{Operation, ProviderKind};
use crate::router::retry::RequestRouting;
use crate::router::{Constraints, Plan, retry};
use crate::settlement::{self, Ticket};
use crate::spend::CallType;

pub async fn create(
    State(gw): State<Arc<Gateway>>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let call_id = pipeline::new_call_id();
    let ticket = Ticket::new(call_id.clone(), CallType::Messages);
    let caller = Caller {
        headers: &headers,
        peer: peer_addr(peer),
    };
    let response = match create_message(&gw, caller, body, started, ticket).await {
        Ok(response) => response,
        Err(e) => error_response(e),
    };
    pipeline::set_call_id(response, &call_id)
}

pub async fn count_tokens(
    State(gw): State<Arc<Gateway>>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let caller = Caller {
        headers: &headers,
        peer: peer_addr(peer),
    };
    let response = match count(&gw, caller, body, started).await {
        Ok(response) => response,
        Err(e) => error_response(e),
    };
    pipeline::with_call_id(response)
}

async fn create_message(
    gw: &Gateway,
    caller: Caller<'_>,
    body: Body,
    started: Instant,
    mut ticket: Ticket,
) -> Result<Response, ApiError> {
    let headers = caller.headers;
    let Accepted {
        request,
        plan,
        constraints,
        size,
        pass,
    } = accept(gw, caller, body, true).await?;
    ticket.model = plan.group.clone();
    let streaming = request.get("stream").and_then(Value::as_bool) == Some(true);
    let outcome = if is_native(&plan) {
        let group = plan.group.clone();
        let endpoint = native::Endpoint::Messages;
        let outcome = native::forward(gw, headers, plan, &request, endpoint, &constraints, started);
        match outcome.await {
            Ok(native::Outcome::Answered(response, meta)) => {
                let books = answer::open_books(gw, &meta, pass, ticket, &request);
                return answer::native(gw, response, &meta, books, streaming).await;
            }
            // The group failed: its fallbacks (any provider) answer in the
            // OpenAI schema and are translated back like any other.
            Ok(native::Outcome::Failed {
                failure,
                mut tries,
                response,
            }) => {
                let chat = as_chat(&request)
                    .ok()
                    .map(|chat| (RequestRouting::from_body(&chat.body), chat))
                    .filter(|(routing, _)| pipeline::has_fallbacks(gw, &group, failure.1, routing));
                let Some((routing, chat)) = chat else {
                    settlement::failed(gw, pass, &ticket, &failure.0, &tries.attempted);
                    return match response {
                        Some(response) => Ok(response),
                        None => Err(failure.0),
                    };
                };
                let answer = pipeline::fall_back(
                    gw,
                    &group,
                    failure,
                    &chat,
                    &routing,
                    &constraints,
                    &mut tries,
                );
                answer.await.map(|a| (a, chat)).map_err(|e| (e, tries))
            }
            Err(e) => Err((e, Tries::default())),
        }
    } else {
        match as_chat(&request) {
            Ok(chat) => {
                let model = chat.model.clone();
                let mut tries = Tries::default();
                let answer =
                    pipeline::execute_plan(gw, plan, &model, &chat, &constraints, &mut tries);
                answer.await.map(|a| (a, chat)).map_err(|e| (e, tries))
            }
            Err(e) => Err((e, Tries::default())),
        }
    };
    let (answer, chat) = match outcome {
        Ok(done) => done,
        Err((e, tries)) => {
            settlement::failed(gw, pass, &ticket, &e, &tries.attempted);
            return Err(e);
        }
    };
    let books = answer::open_books(gw, &answer.meta, pass, ticket, &request);
    let translated = answer::Translated {
        answer,
        chat,
        size,
        streaming,
        started,
    };
    answer::translated(gw, translated, books, &request)
}

async fn count(
    gw: &Gateway,
    caller: Caller<'_>,
    body: Body,
    started: Instant,
) -> Result<Response, ApiError> {
    let headers = caller.headers;
    let Accepted {
        request,
        plan,
        constraints,
        ..
    } = accept(gw, caller, body, false).await?;
    if is_native(&plan) {
        let endpoint = native::Endpoint::CountTokens;
        let outcome = native::forward(gw, headers, plan, &request, endpoint, &constraints, started);
        return match outcome.await? {
            native::Outcome::Answered(response, _) => Ok(response),
            native::Outcome::Failed {
                response: Some(response),
                ..
            } => Ok(response),
            native::Outcome::Failed { failure, .. } => Err(failure.0),
        };
    }
    let estimate = json!({"input_tokens": request::estimate_tokens(&request)});
    let Some(deployment) = plan.attempts.first() else {
        return Err(ApiError::invalid("No deployment could be planned."));
    };
    let meta = Meta {
        deployment: deployment.clone(),
        group: plan.group,
        upstream_time: Duration::ZERO,
        retries: 0,
        fallbacks: 0,
        attempted: Vec::new(),
    };
    Ok(pipeline::respond(
        Body::from(estimate.to_string()),
        false,
        &meta,
        started,
    ))
}

/// The request in the OpenAI schema, for the routes that are not native.
fn as_chat(request: &Map<String, Value>) -> Result<ApiRequest, ApiError> {
    let translated = request::to_openai(request);
    let bytes = serde_json::to_vec(&translated)
        .map_err(|e| ApiError::invalid(format!("Cannot translate the request: {e}.")))?;
    ApiRequest::parse(Operation::Chat, &bytes)
}

/// A request read, checked against its caller's rights and limits, and
/// planned.
struct Accepted {
    request: Map<String, Value>,
    plan: Plan,
    constraints: Constraints,
    /// The body's size in bytes.
    size: usize,
    pass: Pass,
}

/// Authenticates, reads and validates the body, admits it (the caller's
/// models, rate limits and budget) and plans the model under the request's
/// constraints (the caller's models, its tags, its prompt's size).
/// Who sent a request: its headers and the socket peer.
#[derive(Clone, Copy)]
struct Caller<'a> {
    headers: &'a HeaderMap,
    peer: Option<std::net::SocketAddr>,
}

async fn accept(
    gw: &Gateway,
    caller: Caller<'_>,
    body: Body,
    needs_max_tokens: bool,
) -> Result<Accepted, ApiError> {
    let headers = caller.headers;
    let principal = gw.auth.authenticate(headers)?;
    let bytes = body::read(body, headers, gw.config.max_request_bytes).await?;
    let mut request = parse(&bytes)?;
    validate(&request, needs_max_tokens)?;
    // Both routes mask and may refuse: a native count sends the body
    // upstream too. Only /v1/messages has an answer for the rules.
    let screened = enforce::guardrails::screen(
        &gw.config.guardrails,
        principal.key().map(|k| &**k),
        &mut request,
        &guard::ANTHROPIC,
    )?;
    let mut model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let route = if needs_max_tokens {
        "/v1/messages"
    } else {
        "/v1/messages/count_tokens"
    };
    let asked = enforce::Asked {
        model: &mut model,
        body: &request,
        data_class: pipeline::data_class_header(headers),
        caller_ip: enforce::network::caller_ip(&gw.config.network, caller.peer, headers),
        raised_by_guardrail: screened.raise_to,
    };
    let mut pass = enforce::admit(gw, &principal, route, asked, bytes.len())?;
    if needs_max_tokens {
        pass.answer = screened.answer;
    }
    pass.guardrail_outcomes = screened.outcomes;
    // A key's alias may have renamed the model.
    request.insert("model".into(), Value::String(model.clone()));
    let policies = std::mem::take(&mut pass.policies);
    let constraints = pipeline::constraints_for(gw, &model, &request, needs_max_tokens, policies);
    let plan = match gw.router.plan_for(&model, &constraints) {
        Ok(plan) => plan,
        // Cooling down, at capacity or too small for the prompt: an empty
        // plan, so the translated path tries again and then falls back.
        Err(refusal) if retry::falls_back(refusal.class) && gw.router.has_group(&model) => Plan {
            group: gw.router.group_name(&model).unwrap_or_default(),
            attempts: Vec::new(),
        },
        Err(refusal) => return Err(refusal.error),
    };
    Ok(Accepted {
        request,
        plan,
        constraints,
        size: bytes.len(),
        pass,
    })
}

fn is_native(plan: &Plan) -> bool {
    plan.attempts
        .first()
        .is_some_and(|d| d.provider == ProviderKind::Anthropic)
}

fn parse(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid("The request body must be a JSON object.")),
        Err(_) if bytes.iter().all(u8::is_ascii_whitespace) => Err(ApiError::invalid(
            "The request body is empty; expected a JSON object.",
        )),
        Err(e) => Err(ApiError::invalid(format!(
            "The request body is not valid JSON: {e}."
        ))),
    }
}

/// The checks Anthropic's API makes on the fields the gateway relies on,
/// with messages in its style (`field: problem`). Everything else is left
/// to the upstream, so new request features pass.
fn validate(request: &Map<String, Value>, needs_max_tokens: bool) -> Result<(), ApiError> {
    let bad = |m: String| Err(ApiError::invalid(m));
    match request.get("model") {
        Some(Value::String(m)) if !m.is_empty() => {}
        None | Some(Value::Null) => return bad("model: Field required".into()),
        Some(_) => return bad("model: Input should be a valid, non-empty string".into()),
    }
    match request.get("max_tokens") {
        Some(v) if v.as_u64().is_some_and(|n| n >= 1) => {}
        None | Some(Value::Null) if needs_max_tokens => {
            return bad("max_tokens: Field required".into());
        }
        None | Some(Value::Null) => {}
        Some(_) => return bad("max_tokens: Input should be a positive integer".into()),
    }
    let messages = match request.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => return bad("messages: at least one message is required".into()),
        None | Some(Value::Null) => return bad("messages: Field required".into()),
        Some(_) => return bad("messages: Input should be a valid list".into()),
    };
    for (i, m) in messages.iter().enumerate() {
        match m.get("role").and_then(Value::as_str) {
            Some("user" | "assistant") => {}
            Some("system") => {
                return bad(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'; \
                     a system prompt goes in the top-level `system` parameter"
                ));
            }
            _ => {
                return bad(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ));
            }
        }
        match m.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Array(blocks)) => {
                if let Some(j) = blocks
                    .iter()
                    .position(|b| !b.get("type").is_some_and(Value::is_string))
                {
                    return bad(format!(
                        "messages.{i}.content.{j}: Input should be a content block with a `type`"
                    ));
                }
            }
            None | Some(Value::Null) => {
                return bad(format!("messages.{i}.content: Field required"));
            }
            Some(_) => {
                return bad(format!(
                    "messages.{i}.content: Input should be a string or a list of content blocks"
                ));
            }
        }
    }
    for (field, ok, what) in [
        (
            "stream",
            Value::is_boolean as fn(&Value) -> bool,
            "a valid boolean",
        ),
        (
            "system",
            |v: &Value| v.is_string() || v.is_array(),
            "a string or a list of text blocks",
        ),
        ("tools", Value::is_array, "a valid list"),
        ("tool_choice", Value::is_object, "a valid object"),
        ("stop_sequences", Value::is_array, "a valid list"),
    ] {
        if let Some(v) = request.get(field)
            && !v.is_null()
            && !ok(v)
        {
            return bad(format!("{field}: Input should be {what}"));
        }
    }
    Ok(())
}

/// Anthropic's error `type` for a status; where the status does not decide
/// it, a type Anthropic also uses is kept, else it follows the status class.
pub(crate) fn error_type(status: StatusCode, given: &str) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        408 | 504 => "timeout_error",
        s => known_type(given).unwrap_or(if s >= 500 {
            "api_error"
        } else {
            "invalid_request_error"
        }),
    }
}

/// The error types Anthropic's API documents (its SDKs also know
/// `billing_error` and `timeout_error`).
fn known_type(t: &str) -> Option<&'static str> {
    [
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "rate_limit_error",
        "timeout_error",
        "api_error",
        "overloaded_error",
    ]
    .into_iter()
    .find(|k| *k == t)
}

/// `{"type": "error", "error": {"type", "message"}}`: the body of an error
/// response, and the data of a stream's `error` event.
pub(crate) fn error_body(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}})
}

/// An `event: error` SSE event.
pub(crate) fn error_event(error_type: &str, message: &str) -> String {
    format!(
        "event: error\ndata: {}\n\n",
        error_body(error_type, message)
    )
}

fn error_response(e: ApiError) -> Response {
    let body = error_body(error_type(e.status, &e.error_type), &e.message);
    let mut response = (e.status, axum::Json(body)).into_response();
    if let Some(v) = e.retry_after {
        response.headers_mut().insert(RETRY_AFTER, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_follow_the_status_then_the_given_type() {
        let t = |s: u16, g: &str| error_type(StatusCode::from_u16(s).unwrap(), g);
        assert_eq!(t(429, "requests"), "rate_limit_error");
        assert_eq!(t(401, "invalid_request_error"), "authentication_error");
        assert_eq!(t(529, "x"), "overloaded_error");
        assert_eq!(t(504, "timeout_error"), "timeout_error");
        assert_eq!(t(502, "api_connection_error"), "api_error");
        assert_eq!(t(500, "server_error"), "api_error");
        assert_eq!(t(413, "invalid_request_error"), "invalid_request_error");
        assert_eq!(t(422, "whatever"), "invalid_request_error");
    }

    #[test]
    fn validation_names_the_field() {
        let check = |v: Value, max: bool| {
            validate(v.as_object().unwrap(), max)
                .err()
                .map(|e| e.message)
        };
        let msgs = json!([{"role": "user", "content": "hi"}]);
        assert_eq!(
            check(json!({"model": "m", "messages": msgs}), true).as_deref(),
            Some("max_tokens: Field required")
        );
        assert_eq!(check(json!({"model": "m", "messages": msgs}), false), None);
        assert_eq!(
            check(json!({"max_tokens": 5, "messages": msgs}), true).as_deref(),
            Some("model: Field required")
        );
        let e = check(
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}),
            true,
        );
        assert!(e.unwrap().starts_with("messages.0.role"));
        assert_eq!(
            check(json!({"model": "m", "max_tokens": 5, "messages": []}), true).as_deref(),
            Some("messages: at least one message is required")
        );
    }
}
