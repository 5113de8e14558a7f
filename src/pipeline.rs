//! The request path, top to bottom. Each step lives in its own module:
//!
//! api (parse) → auth → guardrails → enforce (policy, limits) → router (plan)
//! → providers (encode → transport → decode) → metering → settlement (limits,
//! spend, audit)
//! → response, streamed chunk by chunk.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;

use crate::api::error::ApiError;
use crate::api::wire::ApiRequest;
use crate::api::{Gateway, body};
use crate::config::Deployment;
use crate::enforce::{self, Pass};
use crate::guardrails::answer::Findings;
use crate::guardrails::openai_answer;
use crate::metering;
use crate::providers::{self, FailureClass, Operation, ProviderError};
use crate::relay::relay;
use crate::respond::COST;
pub use crate::respond::{FALLBACKS, RETRIES, new_call_id, respond, set_call_id, with_call_id};
use crate::router::retry::{self, RequestRouting};
use crate::router::state::InFlight;
use crate::router::{Constraints, Plan, Policy};
use crate::settlement::{self, Settlement, Ticket};
use crate::spend::CallType;
use crate::transport;

/// One client request on an OpenAI route, answered with exactly one response.
pub async fn handle(
    gw: Arc<Gateway>,
    op: Operation,
    peer: Option<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let call_id = new_call_id();
    let mut ticket = Ticket::new(call_id.clone(), call_type(op));
    let response = match admit_and_execute(&gw, op, peer, &headers, body, &mut ticket).await {
        Ok((answer, request, size, pass)) => {
            answer_request(&gw, answer, request, size, pass, ticket, started)
        }
        Err(e) => e.into_response(),
    };
    set_call_id(response, &call_id)
}

/// The answer, through the answer guardrails, metered and settled.
fn answer_request(
    gw: &Gateway,
    mut answer: Answer,
    request: ApiRequest,
    size: usize,
    mut pass: Pass,
    ticket: Ticket,
    started: Instant,
) -> Response {
    let rules = std::mem::take(&mut pass.answer);
    let findings = Arc::new(Mutex::new(Findings::default()));
    let mut blocked = None;
    if !rules.is_empty() {
        answer.payload = match answer.payload {
            Payload::Json(bytes) => {
                let mut f = Findings::default();
                let guarded = openai_answer::whole(&rules, &bytes, &mut f);
                enforce::guardrails::note_answer(&mut pass.guardrail_outcomes, &f);
                match guarded {
                    Ok(guarded) => Payload::Json(guarded),
                    // The provider answered (and charged): settled as
                    // answered, refused to the client.
                    Err(e) => {
                        blocked = Some(e);
                        Payload::Json(bytes)
                    }
                }
            }
            Payload::Events(events) => {
                Payload::Events(openai_answer::stream(rules, events, findings.clone()))
            }
        };
    }
    let mut settlement = Settlement::new(gw, &answer.meta, pass, ticket);
    settlement.watch_answer(findings);
    if settlement.audited() {
        settlement.set_texts(Some(prompt_text(&request.body)), None);
    }
    let (body, streaming, cost, limits) = metered(gw, answer.payload, &request, size, settlement);
    if let Some(e) = blocked {
        return e.into_response();
    }
    let mut response = respond(body, streaming, &answer.meta, started);
    let h = response.headers_mut();
    h.extend(limits);
    if let Some(cost) = cost.and_then(|c| HeaderValue::from_str(&format!("{c}")).ok()) {
        h.insert(COST, cost);
    }
    response
}

/// Authenticates, reads and checks the request against the caller's rights
/// and limits, then runs it. A failure after admission is recorded.
async fn admit_and_execute(
    gw: &Gateway,
    op: Operation,
    peer: Option<std::net::SocketAddr>,
    headers: &HeaderMap,
    body: Body,
    ticket: &mut Ticket,
) -> Result<(Answer, ApiRequest, usize, Pass), ApiError> {
    let principal = gw.auth.authenticate(headers)?;
    let bytes = body::read(body, headers, gw.config.max_request_bytes).await?;
    let mut request = ApiRequest::parse(op, &bytes)?;
    retry::tags_from_header(headers, &mut request.body);
    let screened = enforce::guardrails::screen(
        &gw.config.guardrails,
        principal.key().map(|k| &**k),
        &mut request.body,
        &enforce::guardrails::OPENAI_CHAT,
    )?;
    let asked = enforce::Asked {
        data_class: data_class_header(headers),
        raised_by_guardrail: screened.raise_to.clone(),
        caller_ip: enforce::network::caller_ip(&gw.config.network, peer, headers),
        ..enforce::Asked::from(&mut request)
    };
    let mut pass = enforce::admit(gw, &principal, route(op), asked, bytes.len())?;
    pass.answer = screened.answer;
    pass.guardrail_outcomes = screened.outcomes;
    ticket.model.clone_from(&request.model);
    let policies = std::mem::take(&mut pass.policies);
    let mut tries = Tries::default();
    match execute(gw, &request, policies, &mut tries).await {
        Ok(answer) => Ok((answer, request, bytes.len(), pass)),
        Err(e) => {
            settlement::failed(gw, pass, ticket, &e, &tries.attempted);
            Err(e)
        }
    }
}

/// The `x-switchyard-data-class` header, if sent.
pub fn data_class_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(enforce::data_class::HEADER)
        .and_then(|v| v.to_str().ok())
}

fn route(op: Operation) -> &'static str {
    match op {
        Operation::Chat => "/v1/chat/completions",
        Operation::Embeddings => "/v1/embeddings",
        Operation::Rerank => "/v1/rerank",
    }
}

fn call_type(op: Operation) -> CallType {
    match op {
        Operation::Chat => CallType::Chat,
        Operation::Embeddings => CallType::Embeddings,
        Operation::Rerank => CallType::Rerank,
    }
}

/// Headers of the response (the caller's `x-ratelimit-*`).
pub type Headers = Vec<(HeaderName, HeaderValue)>;

/// The answer's body, metered: a whole body is metered and settled now
/// (its cost returned for the header, its rate-limit headers counting its
/// real tokens); a stream is watched as it passes and settled at its end.
pub fn metered(
    gw: &Gateway,
    payload: Payload,
    request: &ApiRequest,
    request_bytes: usize,
    settlement: Settlement,
) -> (Body, bool, Option<f64>, Headers) {
    match payload {
        Payload::Json(bytes) => {
            let (cost, limits) = meter_body(gw, &bytes, request, settlement);
            (Body::from(bytes), false, cost, limits)
        }
        Payload::Events(events) => {
            let limits = settlement.rate_headers();
            let events = meter_events(gw, events, request, request_bytes, settlement);
            (Body::from_stream(events), true, None, limits)
        }
    }
}

/// Meters and settles a whole body: its cost, when the model has a price,
/// and the caller's rate-limit headers after it.
pub fn meter_body(
    gw: &Gateway,
    bytes: &[u8],
    request: &ApiRequest,
    mut settlement: Settlement,
) -> (Option<f64>, Headers) {
    let m = metering::body(&gw.config.prices, settlement.deployment(), request, bytes);
    if settlement.audited() {
        let answer = String::from_utf8_lossy(bytes).into_owned();
        settlement.set_texts(None, Some(answer));
    }
    (m.cost, settlement.settle(m))
}

/// What the caller sent as its prompt (messages, or an embedding's input),
/// as the audit log hashes it.
pub fn prompt_text(body: &serde_json::Map<String, serde_json::Value>) -> String {
    ["messages", "input", "query", "documents"]
        .iter()
        .filter_map(|k| body.get(*k))
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A stream that settles when it ends (or the client leaves it).
pub fn meter_events(
    gw: &Gateway,
    events: EventStream,
    request: &ApiRequest,
    request_bytes: usize,
    settlement: Settlement,
) -> EventStream {
    let d = settlement.deployment().clone();
    let prices = &gw.config.prices;
    // The audit log hashes the stream as the client received it.
    let copy = settlement
        .audited()
        .then(|| Arc::new(Mutex::new(Vec::new())));
    let mut settlement = settlement;
    let watched = copy.clone();
    let events = metering::stream(prices, events, &d, request, request_bytes, move |m| {
        if let Some(copy) = watched
            && let Ok(bytes) = copy.lock()
        {
            settlement.set_texts(None, Some(String::from_utf8_lossy(&bytes).into_owned()));
        }
        settlement.settle(m);
    });
    match copy {
        Some(copy) => copied(events, copy),
        None => events,
    }
}

/// The stream, each event also appended to `copy`.
fn copied(events: EventStream, copy: Arc<Mutex<Vec<u8>>>) -> EventStream {
    use futures_util::StreamExt;
    Box::pin(events.inspect(move |event| {
        if let (Ok(event), Ok(mut copy)) = (event, copy.lock()) {
            copy.extend_from_slice(event);
        }
    }))
}

/// Plans the request and runs the attempts until one answers. The answer
/// is in the OpenAI schema; routes with another schema translate it.
/// `policies` are the caller's: every attempt, fallbacks included, obeys them.
pub async fn execute(
    gw: &Gateway,
    request: &ApiRequest,
    policies: Vec<Arc<dyn Policy>>,
    tries: &mut Tries,
) -> Result<Answer, ApiError> {
    let constraints = constraints(gw, request, policies);
    // An A/B split picks its group once; everything after sees that group.
    let target = gw.router.split(&request.model);
    match gw.router.plan_for(target, &constraints) {
        Ok(plan) => execute_plan(gw, plan, target, request, &constraints, tries).await,
        // Every deployment cooling down, at capacity or too small for the
        // prompt: the fallbacks may still answer.
        Err(refusal) if retry::falls_back(refusal.class) => {
            let Some(group) = gw.router.group_name(target) else {
                return Err(refusal.error);
            };
            let plan = Plan {
                group,
                attempts: Vec::new(),
            };
            execute_plan(gw, plan, target, request, &constraints, tries).await
        }
        Err(refusal) => Err(refusal.error),
    }
}

/// What narrows this request's deployments: its tags, its prompt's size
/// (`enable_pre_call_checks`) and the caller's policy.
pub fn constraints(
    gw: &Gateway,
    request: &ApiRequest,
    policies: Vec<Arc<dyn Policy>>,
) -> Constraints {
    let chat = request.op == Operation::Chat;
    constraints_for(gw, &request.model, &request.body, chat, policies)
}

/// The same for a body in another schema (`/v1/messages`); `has_prompt`
/// when its `messages` are a prompt to count.
pub fn constraints_for(
    gw: &Gateway,
    model: &str,
    body: &serde_json::Map<String, serde_json::Value>,
    has_prompt: bool,
    policies: Vec<Arc<dyn Policy>>,
) -> Constraints {
    Constraints {
        tags: RequestRouting::from_body(body).tags,
        prompt_tokens: has_prompt
            .then(|| gw.router.prompt_tokens(model, body))
            .flatten(),
        policies,
    }
}

/// Runs the attempts of a plan made already: for routes that look at the
/// plan first (`/v1/messages` passes Anthropic deployments through natively).
/// Retries within the group (`num_retries`), then the fallback groups.
pub async fn execute_plan(
    gw: &Gateway,
    plan: Plan,
    model: &str,
    request: &ApiRequest,
    constraints: &Constraints,
    tries: &mut Tries,
) -> Result<Answer, ApiError> {
    let routing = RequestRouting::from_body(&request.body);
    let first = plan.attempts.into_iter().next();
    // What is asked of the router: the requested name (a wildcard group
    // passes it through), then each fallback's.
    let attempts = run_group(gw, model, first, request, &routing, constraints, tries);
    match attempts.await {
        Ok(done) => Ok(answered(done, plan.group, tries)),
        Err(failure) => {
            fall_back(
                gw,
                &plan.group,
                failure,
                request,
                &routing,
                constraints,
                tries,
            )
            .await
        }
    }
}

/// After `group` failed: its fallback groups in order (`max_fallbacks` at
/// most; the request's own `fallbacks` instead when it has them), each with
/// its retries, unless the request disables them or the failure is one no
/// other group would cure. Every group obeys the same constraints.
pub async fn fall_back(
    gw: &Gateway,
    group: &str,
    (mut error, class): GroupFailure,
    request: &ApiRequest,
    routing: &RequestRouting,
    constraints: &Constraints,
    tries: &mut Tries,
) -> Result<Answer, ApiError> {
    if routing.disable_fallbacks || !retry::falls_back(class) {
        return Err(tries.label(error));
    }
    let targets = routing
        .fallbacks
        .clone()
        .unwrap_or_else(|| gw.router.fallbacks_for(group, class));
    for target in targets
        .into_iter()
        .take(gw.router.settings.max_fallbacks)
        // A group the caller may not use at all is passed over.
        .filter(|g| gw.router.has_group(g) && gw.router.admits_any(g, constraints))
    {
        tries.fallbacks += 1;
        let name = gw
            .router
            .group_name(&target)
            .unwrap_or_else(|| target.clone());
        let attempts = run_group(gw, &target, None, request, routing, constraints, tries);
        match attempts.await {
            Ok(done) => return Ok(answered(done, name, tries)),
            Err((e, class)) => {
                error = e;
                if !retry::falls_back(class) {
                    break;
                }
            }
        }
    }
    Err(tries.label(error))
}

/// Whether a failure of `group` with `class` has a fallback group to go to.
pub fn has_fallbacks(
    gw: &Gateway,
    group: &str,
    class: FailureClass,
    routing: &RequestRouting,
) -> bool {
    let configured;
    let targets = match &routing.fallbacks {
        Some(list) => list,
        None => {
            configured = gw.router.fallbacks_for(group, class);
            &configured
        }
    };
    !routing.disable_fallbacks
        && retry::falls_back(class)
        && targets.iter().any(|g| gw.router.has_group(g))
}

fn answered(
    (payload, deployment, upstream_time): (Payload, Arc<Deployment>, Duration),
    group: String,
    tries: &mut Tries,
) -> Answer {
    let meta = Meta {
        deployment,
        group,
        upstream_time,
        retries: tries.retries,
        fallbacks: tries.fallbacks,
        attempted: std::mem::take(&mut tries.attempted),
    };
    Answer { payload, meta }
}

/// How many retries and fallbacks a request took, for the response
/// headers, and each deployment tried, for the audit log.
#[derive(Default, Clone)]
pub struct Tries {
    pub retries: u32,
    pub fallbacks: u32,
    pub attempted: Vec<Attempted>,
}

/// One deployment tried and how it went: `success` or the failure's class.
#[derive(Clone, Debug)]
pub struct Attempted {
    pub deployment: Arc<Deployment>,
    pub outcome: &'static str,
}

impl Tries {
    fn label(&self, mut e: ApiError) -> ApiError {
        e.retries = Some((self.retries, self.fallbacks));
        e
    }
}

pub type GroupFailure = (ApiError, FailureClass);

/// Attempts on one group: the first pick (or a fresh one), then retries of
/// retryable failures, each on a healthy deployment not tried yet where
/// there is one.
async fn run_group(
    gw: &Gateway,
    group: &str,
    first: Option<Arc<Deployment>>,
    request: &ApiRequest,
    routing: &RequestRouting,
    constraints: &Constraints,
    tries: &mut Tries,
) -> Result<(Payload, Arc<Deployment>, Duration), GroupFailure> {
    let router = &gw.router;
    let mut deployment = match first {
        Some(d) => d,
        None => router
            .pick_avoiding(group, &[], constraints)
            .map_err(|r| (r.error, r.class))?,
    };
    let budget = routing
        .num_retries
        .or(deployment.max_retries)
        .unwrap_or(router.settings.num_retries);
    let mut tried: Vec<String> = Vec::new();
    let mut retry = 0;
    loop {
        let outcome = {
            let state = router.state(&deployment);
            let _in_flight = InFlight::new(&state);
            attempt(gw, &deployment, request).await
        };
        match outcome {
            Ok((payload, upstream_time)) => {
                // Its tokens are counted when the answer is metered.
                router.succeeded(&deployment, upstream_time);
                tries.attempted.push(Attempted {
                    deployment: deployment.clone(),
                    outcome: "success",
                });
                return Ok((payload, deployment, upstream_time));
            }
            Err(e) => {
                router.failed(&deployment, e.class);
                let class = e.class;
                tries.attempted.push(Attempted {
                    deployment: deployment.clone(),
                    outcome: class.name(),
                });
                tried.push(deployment.id.clone());
                let e = without_secrets(e, &deployment);
                // retry_policy can retry a class (even a 400) its own number
                // of times; otherwise retryable classes get the budget.
                let policy = router
                    .settings
                    .retry_policy
                    .iter()
                    .find(|(c, _)| *c == class)
                    .map(|(_, n)| *n);
                let limit = policy.unwrap_or(budget);
                if !(class.is_retryable() || policy.is_some()) || retry >= limit {
                    return Err((ApiError::from(e), class));
                }
                let other = router.has_other_healthy(group, &tried);
                let wait = retry::backoff(&e, retry, router.settings.retry_after, other);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                retry += 1;
                tries.retries += 1;
                deployment = match router.pick_avoiding(group, &tried, constraints) {
                    Ok(d) => d,
                    // Everything cooled down: the upstream's error says more.
                    Err(_) => return Err((ApiError::from(e), class)),
                };
            }
        }
    }
}

/// OpenAI SSE events (`data: …\n\n`), ending with `[DONE]` or an error event.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

pub enum Payload {
    /// A whole OpenAI JSON body.
    Json(Bytes),
    Events(EventStream),
}

/// Where an answer came from and how long the upstream took.
pub struct Meta {
    pub deployment: Arc<Deployment>,
    pub group: String,
    pub upstream_time: Duration,
    pub retries: u32,
    pub fallbacks: u32,
    /// Every deployment tried, this one last.
    pub attempted: Vec<Attempted>,
}

pub struct Answer {
    pub payload: Payload,
    pub meta: Meta,
}

/// One try against one deployment: encode, send, and read the body or open
/// the stream.
pub(crate) async fn attempt(
    gw: &Gateway,
    d: &Deployment,
    request: &ApiRequest,
) -> Result<(Payload, Duration), ProviderError> {
    let dialect = d.provider.dialect();
    providers::params::check(dialect, d, request)?;
    let credentials = providers::credentials(&gw.transport, d).await?;
    let upstream_request = dialect.encode(d, request, &credentials)?;
    let sent = Instant::now();
    if request.stream {
        // stream_timeout bounds each wait: for the head, and between chunks.
        let wait = d.stream_timeout;
        let response = tokio::time::timeout(wait, gw.transport.send(d, upstream_request))
            .await
            .map_err(|_| timed_out("stream_timeout", wait))??;
        if !response.status.is_success() {
            let bytes = tokio::time::timeout(wait, transport::collect(response.body))
                .await
                .map_err(|_| timed_out("stream_timeout", wait))??;
            return Err(dialect.decode_error(response.status, &response.headers, &bytes));
        }
        // Nothing reaches the client before the first event, so a stream
        // failing before it is retried like any failed request.
        let events = relay(response.body, dialect.stream_decoder(d, request), wait).await?;
        // Time to the first event: what latency-based routing compares.
        let upstream_time = sent.elapsed();
        return Ok((Payload::Events(Box::pin(events)), upstream_time));
    }
    // timeout bounds the whole exchange.
    let exchange = async {
        let response = gw.transport.send(d, upstream_request).await?;
        let bytes = transport::collect(response.body).await?;
        if !response.status.is_success() {
            return Err(dialect.decode_error(response.status, &response.headers, &bytes));
        }
        dialect.decode_body(d, request, bytes)
    };
    let bytes = tokio::time::timeout(d.timeout, exchange)
        .await
        .map_err(|_| timed_out("timeout", d.timeout))??;
    Ok((Payload::Json(bytes), sent.elapsed()))
}

pub(crate) fn timed_out(setting: &str, limit: Duration) -> ProviderError {
    ProviderError::new(
        FailureClass::Timeout,
        format!(
            "The upstream did not answer within {} s ({setting}).",
            limit.as_secs_f64()
        ),
    )
    .with_code("timeout")
}

/// Upstream messages sometimes quote the key they were sent; never pass it on.
pub(crate) fn without_secrets(mut e: ProviderError, d: &Deployment) -> ProviderError {
    if let Some(key) = &d.api_key
        && key.expose().len() >= 4
        && e.message.contains(key.expose())
    {
        e.message = e.message.replace(key.expose(), &key.masked());
    }
    e
}
