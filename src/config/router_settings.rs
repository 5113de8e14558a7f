//! `router_settings` (and the `litellm_settings` twins) that shape retries,
//! fallbacks and cooldowns.

use std::time::Duration;

use super::diag::Findings;
use super::values::{flag, number, seconds_at, string, string_list};
use super::yaml::{Kind, Node};
use crate::providers::FailureClass;

/// LiteLLM's defaults: no retries, 3 allowed fails a minute, 5 s cooldown.
pub const DEFAULT_ALLOWED_FAILS: u32 = 3;
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);
pub const DEFAULT_MAX_FALLBACKS: usize = 5;

#[derive(Clone, Debug)]
pub struct RouterSettings {
    pub routing_strategy: Strategy,
    pub num_retries: u32,
    /// The least time to wait before a retry.
    pub retry_after: Duration,
    pub max_fallbacks: usize,
    pub fallbacks: Vec<(String, Vec<String>)>,
    pub context_window_fallbacks: Vec<(String, Vec<String>)>,
    pub content_policy_fallbacks: Vec<(String, Vec<String>)>,
    pub default_fallbacks: Vec<String>,
    pub allowed_fails: u32,
    pub cooldown_time: Duration,
    pub disable_cooldowns: bool,
    /// latency-based-routing: pick among deployments within this fraction
    /// of the fastest (`routing_strategy_args.lowest_latency_buffer`).
    pub lowest_latency_buffer: f64,
    /// `model_group_alias`: requested name → group.
    pub model_group_alias: Vec<(String, String)>,
    /// `model_group_alias` entries with `splits`: requested name → groups
    /// with weights (an A/B split between groups), in the order written.
    pub model_group_splits: Vec<(String, Vec<(String, f64)>)>,
    pub enable_tag_filtering: bool,
    /// `enable_pre_call_checks`: skip deployments whose `max_input_tokens`
    /// the prompt exceeds, before any call.
    pub enable_pre_call_checks: bool,
    /// `retry_policy`: retries by failure class, over `num_retries`.
    pub retry_policy: Vec<(FailureClass, u32)>,
    /// `allowed_fails_policy`: failures a minute allowed by class.
    pub allowed_fails_policy: Vec<(FailureClass, u32)>,
}

impl Default for RouterSettings {
    fn default() -> Self {
        RouterSettings {
            routing_strategy: Strategy::SimpleShuffle,
            num_retries: 0,
            retry_after: Duration::ZERO,
            max_fallbacks: DEFAULT_MAX_FALLBACKS,
            fallbacks: Vec::new(),
            context_window_fallbacks: Vec::new(),
            content_policy_fallbacks: Vec::new(),
            default_fallbacks: Vec::new(),
            allowed_fails: DEFAULT_ALLOWED_FAILS,
            cooldown_time: DEFAULT_COOLDOWN,
            disable_cooldowns: false,
            lowest_latency_buffer: 0.0,
            model_group_alias: Vec::new(),
            model_group_splits: Vec::new(),
            enable_tag_filtering: false,
            enable_pre_call_checks: false,
            retry_policy: Vec::new(),
            allowed_fails_policy: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    SimpleShuffle,
    LeastBusy,
    LatencyBased,
    CostBased,
    UsageBased,
}

pub(super) fn router_settings(
    router: Option<&Node>,
    litellm: Option<&Node>,
    f: &mut Findings,
) -> RouterSettings {
    let mut s = RouterSettings::default();
    let get = |k: &str| router.and_then(|r| r.get(k)).filter(|n| !n.is_null());
    if let Some(node) = get("routing_strategy")
        && let Some(name) = string(node, "router_settings.routing_strategy", f)
    {
        s.routing_strategy = match name.as_str() {
            "simple-shuffle" => Strategy::SimpleShuffle,
            "least-busy" => Strategy::LeastBusy,
            "latency-based-routing" => Strategy::LatencyBased,
            "cost-based-routing" => Strategy::CostBased,
            "usage-based-routing-v2" | "usage-based-routing" => Strategy::UsageBased,
            other => {
                f.warn(
                    node.line,
                    "router_settings.routing_strategy",
                    format!("{other:?} is not implemented yet; using simple-shuffle (weights)"),
                );
                Strategy::SimpleShuffle
            }
        };
    }
    let count = |node: &Node, key: &str, f: &mut Findings| match number(node) {
        Some(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u64),
        _ => {
            f.error(node.line, key, "must be a whole number of at least 0");
            None
        }
    };
    let litellm_retries = litellm
        .and_then(|l| l.get("num_retries"))
        .filter(|n| !n.is_null());
    if let Some(node) = get("num_retries") {
        s.num_retries = count(node, "router_settings.num_retries", f).unwrap_or(0) as u32;
    } else if let Some(node) = litellm_retries {
        s.num_retries = count(node, "litellm_settings.num_retries", f).unwrap_or(0) as u32;
    }
    if let Some(node) = get("retry_after") {
        match number(node) {
            Some(v) if v >= 0.0 => s.retry_after = Duration::from_secs_f64(v),
            _ => f.error(
                node.line,
                "router_settings.retry_after",
                "must be a number of seconds of at least 0",
            ),
        }
    }
    if let Some(node) = get("max_fallbacks") {
        s.max_fallbacks = count(node, "router_settings.max_fallbacks", f)
            .unwrap_or(DEFAULT_MAX_FALLBACKS as u64) as usize;
    }
    if let Some(node) = get("allowed_fails") {
        s.allowed_fails = count(node, "router_settings.allowed_fails", f)
            .unwrap_or(DEFAULT_ALLOWED_FAILS as u64) as u32;
    }
    if let Some(t) = seconds_at(router, "cooldown_time", "router_settings", f) {
        s.cooldown_time = t;
    }
    if let Some(node) = get("disable_cooldowns") {
        s.disable_cooldowns = flag(node, "router_settings.disable_cooldowns", f).unwrap_or(false);
    }
    for (k, out) in [
        ("fallbacks", &mut s.fallbacks),
        ("context_window_fallbacks", &mut s.context_window_fallbacks),
        ("content_policy_fallbacks", &mut s.content_policy_fallbacks),
    ] {
        // LiteLLM users put fallbacks under either section.
        let (node, section) = match get(k) {
            Some(n) => (Some(n), "router_settings"),
            None => (
                litellm.and_then(|l| l.get(k)).filter(|n| !n.is_null()),
                "litellm_settings",
            ),
        };
        if let Some(node) = node {
            *out = fallback_map(node, &format!("{section}.{k}"), f);
        }
    }
    if let Some(node) = get("routing_strategy_args")
        && let Some(buffer) = node.get("lowest_latency_buffer")
    {
        match number(buffer) {
            Some(v) if v >= 0.0 => s.lowest_latency_buffer = v,
            _ => f.error(
                buffer.line,
                "router_settings.routing_strategy_args.lowest_latency_buffer",
                "must be a number of at least 0",
            ),
        }
    }
    if let Some(node) = get("enable_tag_filtering") {
        s.enable_tag_filtering =
            flag(node, "router_settings.enable_tag_filtering", f).unwrap_or(false);
    }
    if let Some(node) = get("model_group_alias") {
        match &node.kind {
            Kind::Map(entries) => {
                for (alias, _, target) in entries {
                    let key = format!("router_settings.model_group_alias.{alias}");
                    // `alias: {splits: {group: weight, …}}`: an A/B split.
                    if let Some(splits) = target.get("splits") {
                        if let Some(list) = weights(splits, &format!("{key}.splits"), f) {
                            s.model_group_splits.push((alias.clone(), list));
                        }
                        continue;
                    }
                    // `alias: group` or `alias: {model: group, hidden: …}`.
                    let target = target.get("model").unwrap_or(target);
                    if let Some(group) = string(target, &key, f) {
                        s.model_group_alias.push((alias.clone(), group));
                    }
                }
            }
            _ => f.error(
                node.line,
                "router_settings.model_group_alias",
                "must be a mapping of alias: group",
            ),
        }
    }
    if let Some(node) = get("enable_pre_call_checks") {
        s.enable_pre_call_checks =
            flag(node, "router_settings.enable_pre_call_checks", f).unwrap_or(false);
    }
    if let Some(node) = get("retry_policy") {
        s.retry_policy = class_counts(node, "retry_policy", "Retries", f);
    }
    if let Some(node) = get("allowed_fails_policy") {
        s.allowed_fails_policy = class_counts(node, "allowed_fails_policy", "AllowedFails", f);
    }
    if let Some(node) = get("default_fallbacks") {
        s.default_fallbacks = string_list(node, "router_settings.default_fallbacks", f);
    }
    s
}

/// `{group: weight, …}` with positive weights (any scale: 90/10 or 0.9/0.1).
fn weights(node: &Node, key: &str, f: &mut Findings) -> Option<Vec<(String, f64)>> {
    let Kind::Map(entries) = &node.kind else {
        f.error(node.line, key, "must be a mapping of group: weight");
        return None;
    };
    let mut out = Vec::new();
    for (group, line, weight) in entries {
        match number(weight) {
            Some(w) if w > 0.0 => out.push((group.clone(), w)),
            _ => f.error(
                *line,
                &format!("{key}.{group}"),
                "must be a positive weight",
            ),
        }
    }
    if out.is_empty() {
        f.error(node.line, key, "names no group");
        return None;
    }
    Some(out)
}

/// `[{group: [fallback, …]}, …]`, as LiteLLM writes it.
fn fallback_map(node: &Node, key: &str, f: &mut Findings) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let Kind::Seq(items) = &node.kind else {
        f.error(
            node.line,
            key,
            "must be a list of {group: [fallback groups]}",
        );
        return out;
    };
    for item in items {
        match &item.kind {
            Kind::Map(entries) => {
                for (group, _, targets) in entries {
                    let list = match &targets.kind {
                        Kind::Scalar(..) => string(targets, key, f).into_iter().collect(),
                        _ => string_list(targets, &format!("{key}.{group}"), f),
                    };
                    out.push((group.clone(), list));
                }
            }
            _ => f.error(
                item.line,
                key,
                "each entry must be {group: [fallback groups]}",
            ),
        }
    }
    out
}

/// Seconds at `k` in a deployment's `litellm_params`.
pub(super) fn deployment_cooldown(params: &Node, path: &str, f: &mut Findings) -> Option<Duration> {
    seconds_at(Some(params), "cooldown_time", path, f)
}

pub(super) fn deployment_max_retries(params: &Node, path: &str, f: &mut Findings) -> Option<u32> {
    let node = params
        .get("max_retries")
        .or_else(|| params.get("num_retries"))?;
    match number(node) {
        Some(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u32),
        _ => {
            f.error(
                node.line,
                &format!("{path}.max_retries"),
                "must be a whole number of at least 0",
            );
            None
        }
    }
}

/// Routing knobs of one deployment: `order`, `max_parallel_requests` and
/// the token prices cost-based-routing compares.
#[derive(Default)]
pub(super) struct Routing {
    pub order: Option<u32>,
    pub max_parallel_requests: Option<u64>,
    pub cost_per_token: Option<f64>,
    /// Every price the deployment sets itself (see `crate::cost`).
    pub price_override: crate::cost::PriceEntry,
}

pub(super) fn deployment_routing(
    params: &Node,
    model_info: &serde_json::Map<String, serde_json::Value>,
    path: &str,
    f: &mut Findings,
) -> Routing {
    let whole = |k: &str, f: &mut Findings| {
        let node = params.get(k).filter(|n| !n.is_null())?;
        match number(node) {
            Some(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u64),
            _ => {
                f.error(
                    node.line,
                    &format!("{path}.{k}"),
                    "must be a whole number of at least 0",
                );
                None
            }
        }
    };
    let price = |k: &str, f: &mut Findings| match params.get(k).filter(|n| !n.is_null()) {
        Some(node) => match number(node) {
            Some(v) if v >= 0.0 => Some(v),
            _ => {
                f.error(
                    node.line,
                    &format!("{path}.{k}"),
                    "must be a number of at least 0",
                );
                None
            }
        },
        None => model_info.get(k).and_then(serde_json::Value::as_f64),
    };
    let input = price("input_cost_per_token", f);
    let output = price("output_cost_per_token", f);
    let price_override = crate::cost::PriceEntry {
        input_cost_per_token: input,
        output_cost_per_token: output,
        cache_read_input_token_cost: price("cache_read_input_token_cost", f),
        cache_creation_input_token_cost: price("cache_creation_input_token_cost", f),
        output_cost_per_reasoning_token: price("output_cost_per_reasoning_token", f),
        ..Default::default()
    };
    Routing {
        order: whole("order", f).map(|v| v.min(u32::MAX as u64) as u32),
        max_parallel_requests: whole("max_parallel_requests", f),
        cost_per_token: match (input, output) {
            (None, None) => None,
            (i, o) => Some(i.unwrap_or(0.0) + o.unwrap_or(0.0)),
        },
        price_override,
    }
}

/// LiteLLM's `RetryPolicy` / `AllowedFailsPolicy` names, without their
/// `Retries` / `AllowedFails` ending, and the failure classes each covers.
const POLICY_CLASSES: &[(&str, &[FailureClass])] = &[
    (
        "BadRequestError",
        &[
            FailureClass::BadRequest,
            FailureClass::ContextWindowExceeded,
        ],
    ),
    ("AuthenticationError", &[FailureClass::Auth]),
    ("TimeoutError", &[FailureClass::Timeout]),
    ("RateLimitError", &[FailureClass::RateLimited]),
    (
        "ContentPolicyViolationError",
        &[FailureClass::ContentPolicy],
    ),
    (
        "InternalServerError",
        &[
            FailureClass::ServerError,
            FailureClass::Overloaded,
            FailureClass::ConnectionFailed,
        ],
    ),
];

fn class_counts(
    node: &Node,
    section: &str,
    ending: &str,
    f: &mut Findings,
) -> Vec<(FailureClass, u32)> {
    let mut out = Vec::new();
    let path = format!("router_settings.{section}");
    let Kind::Map(entries) = &node.kind else {
        f.error(
            node.line,
            &path,
            format!("must be a mapping of <Error>{ending}: count"),
        );
        return out;
    };
    for (name, line, value) in entries {
        let key = format!("{path}.{name}");
        let classes = name
            .strip_suffix(ending)
            .and_then(|base| POLICY_CLASSES.iter().find(|(n, _)| *n == base));
        let Some((_, classes)) = classes else {
            let known: Vec<String> = POLICY_CLASSES
                .iter()
                .map(|(n, _)| format!("{n}{ending}"))
                .collect();
            f.warn(
                *line,
                &key,
                format!("unknown, ignored; known: {}", known.join(", ")),
            );
            continue;
        };
        match number(value) {
            Some(v) if v >= 0.0 && v.fract() == 0.0 => {
                out.extend(classes.iter().map(|c| (*c, v as u32)));
            }
            _ => f.error(value.line, &key, "must be a whole number of at least 0"),
        }
    }
    out
}
