//! The answer to `/v1/messages`, through the answer guardrails, metered
//! and settled: a native answer (Anthropic's schema, rewritten by `guard`)
//! or a translated one (the OpenAI schema, rewritten by
//! `guardrails::openai_answer` before it is translated back). A blocked
//! answer is settled (the provider charged for it) and refused.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::{guard, guard_answer, response, stream};
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::api::wire::ApiRequest;
use crate::enforce::Pass;
use crate::guardrails::answer::{AnswerRules, Findings};
use crate::guardrails::openai_answer;
use crate::metering;
use crate::pipeline::{self, Answer, Meta, Payload};
use crate::settlement::{Settlement, Ticket};

/// An answered request's books, opened: the rules for its answer, the
/// caller's rate-limit headers, where the answer guardrails put what they
/// find, and the settlement that records it all.
pub(super) struct Books {
    rules: AnswerRules,
    limits: pipeline::Headers,
    findings: Arc<Mutex<Findings>>,
    settlement: Settlement,
}

/// Opens the books; an audited request keeps its prompt (`system` and
/// `messages` as the provider received them).
pub(super) fn open_books(
    gw: &Gateway,
    meta: &Meta,
    mut pass: Pass,
    ticket: Ticket,
    request: &Map<String, Value>,
) -> Books {
    let rules = std::mem::take(&mut pass.answer);
    let limits = pass.headers();
    let findings = Arc::new(Mutex::new(Findings::default()));
    let mut settlement = Settlement::new(gw, meta, pass, ticket);
    settlement.watch_answer(findings.clone());
    if settlement.audited() {
        settlement.set_texts(Some(guard::prompt_text(request)), None);
    }
    Books {
        rules,
        limits,
        findings,
        settlement,
    }
}

/// A whole answer's findings, where the settlement reads them.
fn record(findings: &Mutex<Findings>, found: Findings) {
    if let Ok(mut f) = findings.lock() {
        *f = found;
    }
}

/// A native answer through the answer guardrails, metered and settled as
/// it passes. A whole answer is read first when there are rules to apply
/// (a stream never is); a blocked one is settled (the provider charged for
/// it) and refused.
pub(super) async fn native(
    gw: &Gateway,
    response: Response,
    meta: &Meta,
    books: Books,
    streaming: bool,
) -> Result<Response, ApiError> {
    let Books {
        rules,
        limits,
        findings,
        settlement,
    } = books;
    let (mut parts, body) = response.into_parts();
    let mut blocked = None;
    let body = if rules.is_empty() {
        body
    } else if streaming {
        Body::from_stream(guard_answer::stream(
            rules,
            body.into_data_stream(),
            findings,
        ))
    } else {
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => {
                let mut f = Findings::default();
                let guarded = guard_answer::whole(&rules, &bytes, &mut f);
                record(&findings, f);
                match guarded {
                    Ok(guarded) => Body::from(guarded),
                    Err(e) => {
                        blocked = Some(e);
                        Body::from(bytes)
                    }
                }
            }
            // Cut short (`timeout`): the client's connection is cut too.
            Err(e) => Body::from_stream(futures_util::stream::iter([Err::<Bytes, _>(e)])),
        }
    };
    // The audit log hashes the answer as the client receives it.
    let copy = settlement
        .audited()
        .then(|| Arc::new(Mutex::new(Vec::new())));
    let body = match &copy {
        Some(copy) => copied(body, copy.clone()),
        None => body,
    };
    let mut settlement = settlement;
    let prices = &gw.config.prices;
    let body = metering::anthropic_native(prices, body, &meta.deployment, streaming, move |m| {
        if let Some(bytes) = copy.as_ref().and_then(|c| c.lock().ok()) {
            settlement.set_texts(None, Some(String::from_utf8_lossy(&bytes).into_owned()));
        }
        settlement.settle(m);
    });
    if let Some(e) = blocked {
        // Read through the meter, which settles at its end.
        let _ = axum::body::to_bytes(body, usize::MAX).await;
        return Err(e);
    }
    parts.headers.extend(limits);
    Ok(Response::from_parts(parts, body))
}

/// A translated request's answer and what it takes to send it back.
pub(super) struct Translated {
    pub answer: Answer,
    /// The request as it was run, in the OpenAI schema.
    pub chat: ApiRequest,
    /// The client's body, in bytes.
    pub size: usize,
    pub streaming: bool,
    pub started: Instant,
}

/// A translated answer through the rules, metered, settled and turned
/// back into Anthropic's schema.
pub(super) fn translated(
    gw: &Gateway,
    translated: Translated,
    books: Books,
    request: &Map<String, Value>,
) -> Result<Response, ApiError> {
    let Translated {
        answer,
        chat,
        size,
        streaming,
        started,
    } = translated;
    let Books {
        rules,
        limits,
        findings,
        settlement,
    } = books;
    let context = response::Context::new(request);
    let mut out = match answer.payload {
        Payload::Json(bytes) => {
            let mut f = Findings::default();
            let guarded = if rules.is_empty() {
                Ok(bytes.clone())
            } else {
                openai_answer::whole(&rules, &bytes, &mut f)
            };
            record(&findings, f);
            // A blocked answer was answered (and charged): settled as
            // answered, refused to the client.
            let metered = guarded.as_ref().unwrap_or(&bytes);
            let _ = pipeline::meter_body(gw, metered, &chat, settlement);
            let bytes = guarded?;
            let message = response::to_anthropic(&bytes, &context)?;
            pipeline::respond(Body::from(message), false, &answer.meta, started)
        }
        Payload::Events(events) if streaming => {
            let events = if rules.is_empty() {
                events
            } else {
                openai_answer::stream(rules, events, findings)
            };
            let events = pipeline::meter_events(gw, events, &chat, size, settlement);
            let events = stream::translate(events, stream::Translator::new(context));
            pipeline::respond(Body::from_stream(events), true, &answer.meta, started)
        }
        // A stream nobody asked for cannot happen: the chat request says
        // `stream` exactly when the client did.
        Payload::Events(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "api_error",
                "The upstream streamed an answer that was asked for whole.",
            ));
        }
    };
    out.headers_mut().extend(limits);
    Ok(out)
}

/// The body, each piece also appended to `copy`.
fn copied(body: Body, copy: Arc<Mutex<Vec<u8>>>) -> Body {
    let pieces = body.into_data_stream().inspect(move |piece| {
        if let (Ok(piece), Ok(mut copy)) = (piece, copy.lock()) {
            copy.extend_from_slice(piece);
        }
    });
    Body::from_stream(pieces)
}
