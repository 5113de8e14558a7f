//! `router_settings` (and the `litellm_settings` twins) that shape retries,
//! fallbacks and cooldowns.

use std::time::Duration;

use super::diag::Findings;
use super::values::{flag, number, seconds_at, string, string_list};
use super::yaml::{Kind, Node};

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
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    SimpleShuffle,
    LeastBusy,
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
        let node = get(k).or_else(|| litellm.and_then(|l| l.get(k)).filter(|n| !n.is_null()));
        if let Some(node) = node {
            *out = fallback_map(node, k, f);
        }
    }
    if let Some(node) = get("default_fallbacks") {
        s.default_fallbacks = string_list(node, "router_settings.default_fallbacks", f);
    }
    s
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
