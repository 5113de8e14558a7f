//! Enforcement on every request, before any upstream call and without
//! waiting on the database: who may call which model and route, rate limits
//! (rpm, tpm, parallel) and budgets with a reservation of the request's
//! worst-case cost. What is admitted is held in a `Pass` until the answer
//! is settled (`crate::settlement`): the reservation at the real cost, the
//! rate limits with the real tokens.
//!
//! The counters live in this process (`crate::limits`): several instances
//! behind a load balancer each enforce their own share until shared
//! counters (Redis) arrive; spend itself is summed in the database.

mod access;
pub mod data_class;
pub mod guardrails;
pub mod network;
mod resets;
mod scopes;
mod tag_seed;

use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};

use crate::accounts::KeyEntry;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::api::wire::ApiRequest;
use crate::auth::Principal;
use crate::limits::{Admission, Budgets, Denied, Limiter, OverBudget, Reservation};
use crate::router::Policy;
pub use access::ModelAccess;
pub use resets::spawn_reset_persister;
use scopes::EndUser;
pub use tag_seed::seed_tag_budgets;

/// Output tokens assumed for the worst case when neither the request
/// (`max_tokens`) nor the price table says how many may come.
const DEFAULT_MAX_OUTPUT: u64 = 4096;

/// The in-memory counters every request is checked against.
pub struct Enforcer {
    pub limiter: Limiter,
    pub budgets: Budgets,
}

impl Enforcer {
    pub fn new(alert_threshold: f64) -> Enforcer {
        Enforcer {
            limiter: Limiter::new(),
            budgets: Budgets::new(alert_threshold),
        }
    }
}

/// Who called, for the spend record.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The caller's address (`network::caller_ip`), for the audit log.
    pub addr: Option<std::net::IpAddr>,
    pub key_hash: Option<String>,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub end_user: Option<String>,
    pub tags: Vec<String>,
}

/// What one request was admitted with, held until it is settled.
#[derive(Default)]
pub struct Pass {
    pub caller: Caller,
    /// The caller's key, for alerts.
    pub key: Option<Arc<KeyEntry>>,
    pub admission: Option<Admission>,
    pub reservation: Option<Reservation>,
    /// The caller's rules for the router (fallbacks included): allowed
    /// models, then the request's data class.
    pub policies: Vec<Arc<dyn Policy>>,
    /// The request's data class and what decided it.
    pub data_class: Option<data_class::Decided>,
    /// What the guardrails do to the answer: masked values restored,
    /// `post_call` applied.
    pub answer: crate::guardrails::answer::AnswerRules,
    /// What each guardrail found, for the audit record.
    pub guardrail_outcomes: Map<String, Value>,
}

impl Pass {
    /// The `x-ratelimit-*` headers of the tightest limit, for the answer.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.admission
            .as_ref()
            .map(Admission::headers)
            .unwrap_or_default()
    }
}

/// What a request asks for, whatever its schema: the model (a key's alias
/// may change it) and the body (`user`, `tags`, `max_tokens`).
pub struct Asked<'a> {
    pub model: &'a mut String,
    pub body: &'a Map<String, Value>,
    /// The `x-switchyard-data-class` header, if sent.
    pub data_class: Option<&'a str>,
    /// The caller's address (`network::caller_ip`).
    pub caller_ip: Option<std::net::IpAddr>,
    /// The class a guardrail's `raise_class` asks for.
    pub raised_by_guardrail: Option<String>,
}

impl<'a> Asked<'a> {
    pub fn from(request: &'a mut ApiRequest) -> Asked<'a> {
        Asked {
            model: &mut request.model,
            body: &request.body,
            data_class: None,
            caller_ip: None,
            raised_by_guardrail: None,
        }
    }
}

/// Checks a request against its caller's rights and limits, in order:
/// route, model, end user, rate limits, budgets. All or nothing: a refusal
/// leaves no counter changed.
pub fn admit(
    gw: &Gateway,
    principal: &Principal,
    route: &str,
    asked: Asked<'_>,
    request_bytes: usize,
) -> Result<Pass, ApiError> {
    let Asked {
        model,
        body,
        data_class: requested_class,
        caller_ip,
        raised_by_guardrail,
    } = asked;
    let key = principal.key();
    // Every caller, the master key too, is held to the network rules and
    // stays within its data class.
    let net = &gw.config.network;
    network::check_allowed(net, caller_ip)?;
    let tags = tags_of(key.map(|k| &**k), body);
    let compliance = &gw.config.compliance;
    let mut class =
        data_class::decide(compliance, key.map(|k| &**k), requested_class, body, &tags)?;
    if let Some(name) = raised_by_guardrail {
        // An unknown class fails closed, to the highest.
        let top = compliance.classes.len().saturating_sub(1);
        let raised = compliance.class_index(&name).unwrap_or(top);
        if raised > class.class {
            class = data_class::Decided {
                class: raised,
                name: compliance.class_name(raised).to_string(),
                by: "guardrail:pii".into(),
            };
        }
    }
    if let Some((min, range)) = network::min_class(net, caller_ip)
        && min > class.class
    {
        class = data_class::Decided {
            class: min,
            name: compliance.class_name(min).to_string(),
            by: format!("network:{range}"),
        };
    }
    let mut rules: Vec<Arc<dyn Policy>> = Vec::new();
    if let Some(models) = network::NetworkModels::new(net, caller_ip) {
        if let Some(group) = gw.router.group_name(model)
            && !models.allows(&group)
        {
            return Err(models.refusal(&group));
        }
        rules.push(Arc::new(models));
    }
    if class.class > 0 {
        rules.push(Arc::new(data_class::DataClassRule::new(
            compliance,
            class.class,
        )));
    }
    // The master key is never limited (LiteLLM's rule for admins).
    if *principal == Principal::Admin {
        return Ok(Pass {
            caller: Caller {
                addr: caller_ip,
                ..caller(None, None, body, tags)
            },
            policies: rules,
            data_class: Some(class),
            ..Pass::default()
        });
    }
    if let Some(entry) = key {
        access::check_route(entry, route)?;
        apply_alias(entry, model);
    }
    let end_user = end_user(gw, body)?;
    let mut pass = Pass {
        caller: Caller {
            addr: caller_ip,
            ..caller(key, end_user.as_ref(), body, tags)
        },
        key: key.cloned(),
        ..Pass::default()
    };
    if let Some(entry) = key {
        let access = ModelAccess::new(entry.clone(), gw.router.group_name(model), model);
        access.check_requested()?;
        pass.policies.push(Arc::new(access));
    }
    pass.policies.extend(rules);
    pass.data_class = Some(class);
    let model = model.as_str();
    let rate = scopes::rate_scopes(key.map(|k| &**k), end_user.as_ref(), model);
    if !rate.is_empty() {
        let estimate = prompt_chars(body).div_ceil(4);
        let admission = gw
            .enforcer
            .limiter
            .check_and_start(&rate, estimate)
            .map_err(rate_limited)?;
        pass.admission = Some(admission);
    }
    let budgets = scopes::budget_scopes(
        key.map(|k| &**k),
        end_user.as_ref(),
        model,
        &pass.caller.tags,
        &gw.config.tag_budgets,
    );
    if !budgets.is_empty() {
        for b in &budgets {
            if gw.enforcer.budgets.usage(&b.scope).is_none() {
                let start = match (b.limit.period, b.reset_at) {
                    (Some(p), Some(at)) if at > 0 => Some(p.previous_start(at as u64)),
                    _ => None,
                };
                gw.enforcer
                    .budgets
                    .set_spent(&b.scope, b.stored_spend, start);
            }
        }
        let limits: Vec<_> = budgets.iter().map(|b| (b.scope.clone(), b.limit)).collect();
        let worst = worst_case(gw, model, body, request_bytes);
        let reservation = gw
            .enforcer
            .budgets
            .reserve(&limits, worst)
            .map_err(over_budget)?;
        pass.reservation = Some(reservation);
    }
    Ok(pass)
}

/// A key's `aliases`: `{"gpt-4": "gpt-4o"}` sends requests for gpt-4 to
/// the gpt-4o group.
fn apply_alias(entry: &KeyEntry, model: &mut String) {
    if let Some(Value::String(target)) = entry.key.aliases.get(model.as_str()) {
        model.clone_from(target);
    }
}

/// The body's `user`, when it names a known end user; a blocked one is
/// refused. Unknown end users have no limits (LiteLLM's behaviour).
fn end_user(gw: &Gateway, body: &Map<String, Value>) -> Result<Option<EndUser>, ApiError> {
    let Some(id) = body.get("user").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(row) = gw.accounts.end_user(id) else {
        return Ok(None);
    };
    if row.blocked {
        return Err(access::end_user_blocked(id));
    }
    let budget = row.budget_id.as_deref().and_then(|b| gw.accounts.budget(b));
    Ok(Some(EndUser { row, budget }))
}

/// The request's tags, and those of its key (LiteLLM's key tags): read
/// once, for the data class, the tag budgets and the spend record.
fn tags_of(key: Option<&KeyEntry>, body: &Map<String, Value>) -> Vec<String> {
    let mut tags = crate::router::retry::RequestRouting::from_body(body).tags;
    for t in key.iter().flat_map(|e| &e.key.tags) {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags
}

fn caller(
    key: Option<&Arc<KeyEntry>>,
    end_user: Option<&EndUser>,
    body: &Map<String, Value>,
    tags: Vec<String>,
) -> Caller {
    let end_user = end_user
        .map(|e| e.row.end_user_id.clone())
        .or_else(|| body.get("user").and_then(Value::as_str).map(str::to_string));
    match key {
        Some(e) => Caller {
            addr: None,
            key_hash: Some(e.key.token_hash.clone()),
            key_alias: e.key.key_alias.clone(),
            user_id: e.key.user_id.clone(),
            team_id: e.key.team_id.clone(),
            end_user,
            tags,
        },
        None => Caller {
            end_user,
            tags,
            ..Caller::default()
        },
    }
}

/// The most this request can cost: its prompt (a token per four bytes of
/// body, which never undercounts text) and its output limit (`max_tokens`,
/// else the model's, else 4096) at the dearest price of its group.
fn worst_case(gw: &Gateway, model: &str, body: &Map<String, Value>, request_bytes: usize) -> f64 {
    let prompt = (request_bytes as u64).div_ceil(4);
    let asked = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_u64));
    gw.router
        .group_deployments(model)
        .iter()
        .filter_map(|d| d.price.clone().or_else(|| gw.config.prices.price_for(d)))
        .map(|p| {
            let output = asked.or(p.max_output_tokens).unwrap_or(DEFAULT_MAX_OUTPUT);
            crate::cost::worst_case(&p, prompt, output)
        })
        .fold(0.0, f64::max)
}

/// The characters of a request's text (messages' contents, embeddings'
/// input): a quarter of them is the cheap token estimate `tpm` is checked
/// with before the call; the real count replaces it after.
fn prompt_chars(body: &Map<String, Value>) -> u64 {
    fn chars(v: &Value) -> u64 {
        match v {
            Value::String(s) => s.len() as u64,
            Value::Array(items) => items.iter().map(chars).sum(),
            Value::Object(o) => o.get("text").or_else(|| o.get("content")).map_or(0, chars),
            _ => 0,
        }
    }
    ["messages", "input", "prompt", "system"]
        .iter()
        .filter_map(|k| body.get(*k))
        .map(chars)
        .sum()
}

fn rate_limited(d: Denied) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        d.to_string(),
    )
    .with_code("rate_limit_exceeded");
    e.headers = d.headers();
    e
}

fn over_budget(o: OverBudget) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "budget_exceeded",
        o.to_string(),
    )
    .with_code("budget_exceeded")
}
