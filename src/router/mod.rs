//! Turns a model group into an ordered plan of attempts: a deployment that
//! the request's constraints admit (the caller's policy, its prompt size,
//! its tags) and that is not cooling down or at capacity, picked by the
//! routing strategy. Retries re-pick through `pick_avoiding`; fallbacks name
//! other groups (`fallbacks_for`). Health is kept per deployment in `state`.

mod constraints;
pub mod prompt_tokens;
pub mod retry;
pub mod state;
mod strategies;

pub use constraints::{Constraints, Policy, Refusal};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};

use crate::api::error::ApiError;
use crate::config::{Deployment, RouterSettings};
use crate::providers::FailureClass;
use state::DeploymentState;
use strategies::Candidate;

pub struct Router {
    groups: HashMap<String, Vec<Arc<Deployment>>>,
    /// Indexed by `Deployment::index`.
    states: Vec<Arc<DeploymentState>>,
    /// Group names with a `*`, longest first (most specific wins).
    wildcards: Vec<String>,
    /// Each deployment's `model_info.max_input_tokens`, by index.
    context_limits: Vec<Option<u64>>,
    pub settings: RouterSettings,
}

/// The deployments to try, in order, for one request.
pub struct Plan {
    pub group: String,
    pub attempts: Vec<Arc<Deployment>>,
}

impl Router {
    pub fn new(deployments: &[Arc<Deployment>], settings: &RouterSettings) -> Router {
        let mut groups: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        for d in deployments {
            groups.entry(d.group.clone()).or_default().push(d.clone());
        }
        let states = deployments.iter().map(|_| Arc::default()).collect();
        let context_limits = deployments
            .iter()
            .map(|d| {
                d.model_info
                    .get("max_input_tokens")
                    .and_then(serde_json::Value::as_u64)
            })
            .collect();
        let mut wildcards: Vec<String> =
            groups.keys().filter(|g| g.contains('*')).cloned().collect();
        wildcards.sort_by_key(|g| std::cmp::Reverse(g.len()));
        Router {
            groups,
            states,
            wildcards,
            context_limits,
            settings: settings.clone(),
        }
    }

    /// The group a requested name routes to (itself, an alias's target, or
    /// the wildcard group matching it).
    pub fn group_name(&self, model: &str) -> Option<String> {
        self.resolve(model).map(|(g, _)| g.to_string())
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.resolve(group).is_some()
    }

    /// Every deployment, grouped, for `/router/state`.
    pub fn deployments(&self) -> impl Iterator<Item = &Arc<Deployment>> {
        self.groups.values().flatten()
    }

    /// Whether the caller's policy admits any deployment of the group
    /// `model` routes to (whatever their health).
    pub fn admits_any(&self, model: &str, constraints: &Constraints) -> bool {
        let ds = self.group_deployments(model);
        ds.iter()
            .any(|d| constraints.policies.iter().all(|p| p.admits(d)))
    }

    /// The deployments of the group `model` routes to (none if unknown).
    pub fn group_deployments(&self, model: &str) -> &[Arc<Deployment>] {
        self.resolve(model)
            .and_then(|(g, _)| self.groups.get(g))
            .map_or(&[], Vec::as_slice)
    }

    pub fn state(&self, d: &Deployment) -> Arc<DeploymentState> {
        self.states.get(d.index).cloned().unwrap_or_default()
    }

    pub fn plan(&self, group: &str) -> Result<Plan, ApiError> {
        Ok(self.plan_for(group, &Constraints::default())?)
    }

    /// A plan for a request under `constraints`.
    pub fn plan_for(&self, model: &str, constraints: &Constraints) -> Result<Plan, Refusal> {
        let (group, _) = self
            .resolve(model)
            .ok_or_else(|| Refusal::new(unknown_model(model), FailureClass::BadRequest))?;
        let picked = self.pick_avoiding(model, &[], constraints)?;
        Ok(Plan {
            group: group.to_string(),
            attempts: vec![picked],
        })
    }

    /// One deployment of `group` that is not cooling down.
    pub fn pick(&self, group: &str) -> Result<Arc<Deployment>, ApiError> {
        Ok(self.pick_avoiding(group, &[], &Constraints::default())?)
    }

    /// The group an A/B split alias sends this request to, picked by the
    /// split's weights; any other name is returned as it is. Called once per
    /// request, so that retries and headers all see the same group.
    pub fn split<'a>(&'a self, model: &'a str) -> &'a str {
        match self
            .settings
            .model_group_splits
            .iter()
            .find(|(a, _)| a == model)
        {
            Some((_, targets)) => {
                let total: f64 = targets.iter().map(|(_, w)| w).sum();
                let mut roll = fastrand::f64() * total;
                for (target, weight) in targets {
                    if roll < *weight {
                        return target;
                    }
                    roll -= weight;
                }
                targets.last().map_or(model, |(t, _)| t.as_str())
            }
            None => model,
        }
    }

    /// The tokens the prompt of `body` takes, when some deployment of the
    /// group `model` routes to declares `max_input_tokens` and pre-call
    /// checks are on; counted for the group's first deployment's model.
    pub fn prompt_tokens(
        &self,
        model: &str,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<u64> {
        if !self.settings.enable_pre_call_checks {
            return None;
        }
        let (group, _) = self.resolve(model)?;
        let ds = self.groups.get(group)?;
        let mut groups = std::iter::once(group.to_string())
            .chain(self.fallbacks_for(group, FailureClass::ContextWindowExceeded));
        let limited = groups.any(|g| {
            self.resolve(&g)
                .and_then(|(g, _)| self.groups.get(g))
                .is_some_and(|ds| ds.iter().any(|d| self.context_limits[d.index].is_some()))
        });
        limited.then(|| prompt_tokens::count(body, &ds[0].upstream_model))
    }

    /// The group a requested name routes to: itself, a `model_group_alias`,
    /// or the first wildcard group matching it (with the part `*` matched).
    fn resolve<'a>(&'a self, model: &'a str) -> Option<(&'a str, Option<&'a str>)> {
        if let Some((name, _)) = self.groups.get_key_value(model) {
            return Some((name.as_str(), None));
        }
        if let Some((_, target)) = self
            .settings
            .model_group_alias
            .iter()
            .find(|(a, _)| a == model)
            && let Some((name, _)) = self.groups.get_key_value(target.as_str())
        {
            return Some((name.as_str(), None));
        }
        // A split alias, asked about outside a request: its first target.
        if let Some((_, targets)) = self
            .settings
            .model_group_splits
            .iter()
            .find(|(a, _)| a == model)
            && let Some((target, _)) = targets.first()
            && let Some((name, _)) = self.groups.get_key_value(target.as_str())
        {
            return Some((name.as_str(), None));
        }
        self.wildcards
            .iter()
            .find_map(|pattern| wildcard_match(pattern, model).map(|m| (pattern.as_str(), Some(m))))
    }

    /// One deployment of the group `model` routes to that `constraints`
    /// admit, preferring deployments not in `tried` (ids) while any other
    /// is healthy.
    pub fn pick_avoiding(
        &self,
        model: &str,
        tried: &[String],
        constraints: &Constraints,
    ) -> Result<Arc<Deployment>, Refusal> {
        let refuse = |e: ApiError| Refusal::new(e, FailureClass::RateLimited);
        let (group, matched) = self
            .resolve(model)
            .ok_or_else(|| Refusal::new(unknown_model(model), FailureClass::BadRequest))?;
        let admitted = self.admitted(group, constraints)?;
        let now = Instant::now();
        let mut earliest: Option<Duration> = None;
        let healthy: Vec<Candidate> = admitted
            .into_iter()
            .map(|d| (d.clone(), self.state(d)))
            .filter(|(_, s)| match s.cooling(now) {
                Some(left) => {
                    earliest = Some(earliest.map_or(left, |e| e.min(left)));
                    false
                }
                None => true,
            })
            .collect();
        if healthy.is_empty() {
            return Err(refuse(no_deployments(group, earliest.unwrap_or_default())));
        }
        let healthy = if self.settings.enable_tag_filtering {
            let tags = &constraints.tags;
            strategies::tagged(&healthy, tags)
                .ok_or_else(|| Refusal::new(no_tag_match(group, tags), FailureClass::BadRequest))?
        } else {
            healthy
        };
        let open = strategies::with_capacity(healthy, now);
        if open.is_empty() {
            return Err(refuse(at_capacity(group)));
        }
        // Untried first, so that a retry moves down the `order` tiers.
        let untried: Vec<Candidate> = open
            .iter()
            .filter(|(d, _)| !tried.contains(&d.id))
            .cloned()
            .collect();
        let open = if untried.is_empty() { open } else { untried };
        let open = strategies::first_in_order(open);
        let picked = strategies::choose(
            self.settings.routing_strategy,
            &open,
            self.settings.lowest_latency_buffer,
            now,
        );
        self.state(&picked).started(now);
        Ok(match matched {
            // A wildcard group passes the requested model through.
            Some(m) if picked.upstream_model.contains('*') => {
                let mut d = (*picked).clone();
                d.upstream_model = d.upstream_model.replacen('*', m, 1);
                Arc::new(d)
            }
            _ => picked,
        })
    }

    /// The deployments of `group` the caller's policy admits and whose
    /// context window holds the prompt. None: the request may not use the
    /// group at all, whatever its health.
    fn admitted(
        &self,
        group: &str,
        constraints: &Constraints,
    ) -> Result<Vec<&Arc<Deployment>>, Refusal> {
        let mut admitted: Vec<&Arc<Deployment>> = self.groups[group].iter().collect();
        for policy in &constraints.policies {
            admitted.retain(|d| policy.admits(d));
            if admitted.is_empty() {
                return Err(Refusal::new(
                    policy.refusal(group),
                    FailureClass::BadRequest,
                ));
            }
        }
        if let Some(tokens) = constraints.prompt_tokens {
            let limit = |d: &Arc<Deployment>| self.context_limits.get(d.index).copied().flatten();
            let largest = admitted.iter().filter_map(|d| limit(d)).max();
            admitted.retain(|d| limit(d).is_none_or(|l| tokens <= l));
            if admitted.is_empty() {
                return Err(Refusal::new(
                    constraints::context_exceeded(group, tokens, largest.unwrap_or(0)),
                    FailureClass::ContextWindowExceeded,
                ));
            }
        }
        Ok(admitted)
    }

    /// Records a failed attempt; cools the deployment down past
    /// `allowed_fails` failures this minute.
    /// As LiteLLM does, the only deployment of a group never cools down:
    /// that would turn a blip into an outage with nothing to fail over to.
    pub fn failed(&self, d: &Deployment, class: FailureClass) {
        let alone = self.groups.get(&d.group).is_none_or(|ds| ds.len() < 2);
        let cooldown = if self.settings.disable_cooldowns || alone {
            None
        } else {
            Some(d.cooldown_time.unwrap_or(self.settings.cooldown_time))
        };
        if let Some(s) = self.states.get(d.index)
            && s.failed(
                class,
                self.settings.allowed_fails,
                self.settings
                    .allowed_fails_policy
                    .iter()
                    .find(|(c, _)| *c == class)
                    .map(|(_, n)| *n),
                cooldown,
                Instant::now(),
            )
        {
            tracing::warn!(deployment = %d.id, group = %d.group, ?class, "deployment cooling down");
        }
    }

    /// Whether `group` has a healthy deployment besides those in `tried`.
    pub fn has_other_healthy(&self, model: &str, tried: &[String]) -> bool {
        let now = Instant::now();
        let group = self.resolve(model).map(|(g, _)| g);
        group.and_then(|g| self.groups.get(g)).is_some_and(|ds| {
            ds.iter().any(|d| {
                !tried.contains(&d.id)
                    && self
                        .states
                        .get(d.index)
                        .is_none_or(|s| s.cooling(now).is_none())
            })
        })
    }

    pub fn succeeded(&self, d: &Deployment, latency: Duration) {
        if let Some(s) = self.states.get(d.index) {
            s.succeeded(latency);
        }
    }

    /// Whether answers from `d` need their token usage counted (a `tpm` to
    /// keep, or usage-based routing).
    pub fn counts_tokens(&self, d: &Deployment) -> bool {
        d.tpm.is_some() || self.settings.routing_strategy == crate::config::Strategy::UsageBased
    }

    pub fn used_tokens(&self, d: &Deployment, tokens: u64) {
        if let Some(s) = self.states.get(d.index) {
            s.used_tokens(tokens, Instant::now());
        }
    }

    /// The groups to fall back to after `group` failed with `class`, in order.
    pub fn fallbacks_for(&self, group: &str, class: FailureClass) -> Vec<String> {
        let find = |list: &[(String, Vec<String>)]| {
            list.iter()
                .find(|(g, _)| g == group)
                .map(|(_, targets)| targets.clone())
        };
        let s = &self.settings;
        let specific = match class {
            FailureClass::ContextWindowExceeded => find(&s.context_window_fallbacks),
            FailureClass::ContentPolicy => find(&s.content_policy_fallbacks),
            _ => None,
        };
        specific
            .or_else(|| find(&s.fallbacks))
            .unwrap_or_else(|| s.default_fallbacks.clone())
            .into_iter()
            .filter(|g| g != group)
            .collect()
    }
}

fn unknown_model(model: &str) -> ApiError {
    ApiError::param(
        "model",
        format!("Invalid model name passed in model={model}. Call `/v1/models` to view available models."),
    )
    .with_code("model_not_found")
}

/// `prefix*suffix` against `model`: the part `*` stands for.
fn wildcard_match<'a>(pattern: &str, model: &'a str) -> Option<&'a str> {
    let (prefix, suffix) = pattern.split_once('*')?;
    let rest = model.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!rest.is_empty()).then_some(rest)
}

fn at_capacity(group: &str) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        format!("No deployments available for selected model={group}: every deployment is at its rpm or max_parallel_requests limit."),
    )
    .with_code("no_deployments_available");
    e.retry_after = Some(HeaderValue::from_static("1"));
    e
}

fn no_tag_match(group: &str, tags: &[String]) -> ApiError {
    ApiError::param(
        "tags",
        format!("No deployment of model={group} has any of the tags {tags:?}, and none is tagged \"default\"."),
    )
    .with_code("no_deployment_for_tags")
}

/// 429 when every deployment of a group is cooling down.
fn no_deployments(group: &str, wait: Duration) -> ApiError {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        format!("No deployments available for selected model={group}: every deployment is cooling down after failures. Try again in {secs} seconds."),
    )
    .with_code("no_deployments_available");
    e.retry_after = HeaderValue::from_str(&secs.to_string()).ok();
    e
}

/// simple-shuffle: by `weight` where any deployment has one, else by `rpm`,
/// else by `tpm`, else uniformly. `roll` is uniform in [0, 1).
pub(crate) fn pick_weighted(deployments: &[Arc<Deployment>], roll: f64) -> &Arc<Deployment> {
    let weights: Vec<f64> = if deployments.iter().any(|d| d.weight.is_some()) {
        deployments
            .iter()
            .map(|d| d.weight.unwrap_or(1.0))
            .collect()
    } else if deployments.iter().any(|d| d.rpm.is_some()) {
        deployments
            .iter()
            .map(|d| d.rpm.unwrap_or(0) as f64)
            .collect()
    } else if deployments.iter().any(|d| d.tpm.is_some()) {
        deployments
            .iter()
            .map(|d| d.tpm.unwrap_or(0) as f64)
            .collect()
    } else {
        vec![1.0; deployments.len()]
    };
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return &deployments
            [((roll * deployments.len() as f64) as usize).min(deployments.len() - 1)];
    }
    let mut target = roll * total;
    for (d, w) in deployments.iter().zip(&weights) {
        if target < *w {
            return d;
        }
        target -= w;
    }
    deployments
        .last()
        .expect("a group has at least one deployment")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(yaml: &str) -> Vec<Arc<Deployment>> {
        crate::config::load_str(yaml, "t.yaml")
            .unwrap()
            .config
            .deployments
    }

    #[test]
    fn weights_split_the_unit_interval() {
        let ds = group(
            "model_list:\n- model_name: g\n  litellm_params: {model: mock/a, weight: 3}\n- model_name: g\n  litellm_params: {model: mock/b, weight: 1}\n",
        );
        assert_eq!(pick_weighted(&ds, 0.0).upstream_model, "a");
        assert_eq!(pick_weighted(&ds, 0.74).upstream_model, "a");
        assert_eq!(pick_weighted(&ds, 0.76).upstream_model, "b");
        let ds = group(
            "model_list:\n- model_name: g\n  litellm_params: {model: mock/a, rpm: 0}\n- model_name: g\n  litellm_params: {model: mock/b, rpm: 10}\n",
        );
        assert_eq!(pick_weighted(&ds, 0.01).upstream_model, "b");
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    struct OnlyGroup(&'static str);

    impl Policy for OnlyGroup {
        fn admits(&self, d: &Deployment) -> bool {
            d.group == self.0
        }
        fn refusal(&self, group: &str) -> ApiError {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "permission_denied",
                format!("not {group}"),
            )
        }
    }

    #[test]
    fn the_policy_filters_every_pick_and_its_refusal_never_falls_back() {
        let config = crate::config::load_str(
            "model_list:\n- {model_name: a, litellm_params: {model: mock/a}}\n- {model_name: b, litellm_params: {model: mock/b}}\nrouter_settings:\n  fallbacks: [{a: [b]}]\n",
            "t.yaml",
        )
        .unwrap()
        .config;
        let router = Router::new(&config.deployments, &config.router);
        let only_b = Constraints {
            policies: vec![Arc::new(OnlyGroup("b"))],
            ..Constraints::default()
        };
        let refused = router.pick_avoiding("a", &[], &only_b).unwrap_err();
        assert_eq!(refused.error.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.error.message, "not a");
        assert!(!retry::falls_back(refused.class));
        assert!(router.plan_for("a", &only_b).is_err());
        assert_eq!(router.pick_avoiding("b", &[], &only_b).unwrap().group, "b");
        assert_eq!(
            router
                .pick_avoiding("a", &[], &Constraints::default())
                .unwrap()
                .group,
            "a"
        );
    }
}
