//! Turns a model group into an ordered plan of attempts: a deployment that
//! is not cooling down, picked by the routing strategy (simple-shuffle by
//! weight, or least-busy). Retries re-pick through `pick`; fallbacks name
//! other groups (`fallbacks_for`). Health is kept per deployment in `state`.

pub mod retry;
pub mod state;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};

use crate::api::error::ApiError;
use crate::config::{Deployment, RouterSettings, Strategy};
use crate::providers::FailureClass;
use state::DeploymentState;

pub struct Router {
    groups: HashMap<String, Vec<Arc<Deployment>>>,
    states: HashMap<String, Arc<DeploymentState>>,
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
        let mut states = HashMap::new();
        for d in deployments {
            groups.entry(d.group.clone()).or_default().push(d.clone());
            states.insert(d.id.clone(), Arc::default());
        }
        Router {
            groups,
            states,
            settings: settings.clone(),
        }
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// Every deployment, grouped, for `/router/state`.
    pub fn deployments(&self) -> impl Iterator<Item = &Arc<Deployment>> {
        self.groups.values().flatten()
    }

    pub fn state(&self, d: &Deployment) -> Arc<DeploymentState> {
        self.states.get(&d.id).cloned().unwrap_or_default()
    }

    pub fn plan(&self, group: &str) -> Result<Plan, ApiError> {
        let picked = self.pick(group)?;
        Ok(Plan {
            group: group.to_string(),
            attempts: vec![picked],
        })
    }

    /// One deployment of `group` that is not cooling down.
    pub fn pick(&self, group: &str) -> Result<Arc<Deployment>, ApiError> {
        self.pick_avoiding(group, &[])
    }

    /// Like `pick`, preferring deployments not in `tried` (ids) while any
    /// other is healthy.
    pub fn pick_avoiding(
        &self,
        group: &str,
        tried: &[String],
    ) -> Result<Arc<Deployment>, ApiError> {
        let Some(deployments) = self.groups.get(group) else {
            return Err(ApiError::param(
                "model",
                format!("Invalid model name passed in model={group}. Call `/v1/models` to view available models."),
            )
            .with_code("model_not_found"));
        };
        let now = Instant::now();
        let mut earliest: Option<Duration> = None;
        let healthy: Vec<Arc<Deployment>> = deployments
            .iter()
            .filter(
                |d| match self.states.get(&d.id).and_then(|s| s.cooling(now)) {
                    Some(left) => {
                        earliest = Some(earliest.map_or(left, |e| e.min(left)));
                        false
                    }
                    None => true,
                },
            )
            .cloned()
            .collect();
        if healthy.is_empty() {
            return Err(no_deployments(group, earliest.unwrap_or_default()));
        }
        let untried: Vec<Arc<Deployment>> = healthy
            .iter()
            .filter(|d| !tried.contains(&d.id))
            .cloned()
            .collect();
        let healthy = if untried.is_empty() { healthy } else { untried };
        let picked = match self.settings.routing_strategy {
            Strategy::SimpleShuffle => pick_weighted(&healthy, fastrand::f64()),
            Strategy::LeastBusy => self.least_busy(&healthy),
        };
        Ok(picked.clone())
    }

    fn least_busy<'a>(&self, healthy: &'a [Arc<Deployment>]) -> &'a Arc<Deployment> {
        let busy = |d: &Deployment| {
            self.states
                .get(&d.id)
                .map_or(0, |s| s.in_flight.load(Ordering::Relaxed))
        };
        let least = healthy.iter().map(|d| busy(d)).min().unwrap_or(0);
        let idle: Vec<&Arc<Deployment>> = healthy.iter().filter(|d| busy(d) == least).collect();
        idle[fastrand::usize(..idle.len())]
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
        if let Some(s) = self.states.get(&d.id)
            && s.failed(class, self.settings.allowed_fails, cooldown, Instant::now())
        {
            tracing::warn!(deployment = %d.id, group = %d.group, ?class, "deployment cooling down");
        }
    }

    /// Whether `group` has a healthy deployment besides those in `tried`.
    pub fn has_other_healthy(&self, group: &str, tried: &[String]) -> bool {
        let now = Instant::now();
        self.groups.get(group).is_some_and(|ds| {
            ds.iter().any(|d| {
                !tried.contains(&d.id)
                    && self
                        .states
                        .get(&d.id)
                        .is_none_or(|s| s.cooling(now).is_none())
            })
        })
    }

    pub fn succeeded(&self, d: &Deployment, latency: Duration) {
        if let Some(s) = self.states.get(&d.id) {
            s.succeeded(latency);
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
fn pick_weighted(deployments: &[Arc<Deployment>], roll: f64) -> &Arc<Deployment> {
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
