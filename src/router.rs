//! Turns a model group into an ordered plan of attempts. Today: one
//! deployment picked by weight (LiteLLM's simple-shuffle); retries,
//! fallbacks and other strategies extend the plan later.

use std::collections::HashMap;
use std::sync::Arc;

use crate::api::error::ApiError;
use crate::config::Deployment;

pub struct Router {
    groups: HashMap<String, Vec<Arc<Deployment>>>,
}

/// The deployments to try, in order, for one request.
pub struct Plan {
    pub group: String,
    pub attempts: Vec<Arc<Deployment>>,
}

impl Router {
    pub fn new(deployments: &[Arc<Deployment>]) -> Router {
        let mut groups: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        for d in deployments {
            groups.entry(d.group.clone()).or_default().push(d.clone());
        }
        Router { groups }
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    pub fn plan(&self, group: &str) -> Result<Plan, ApiError> {
        let Some(deployments) = self.groups.get(group) else {
            return Err(ApiError::param(
                "model",
                format!("Invalid model name passed in model={group}. Call `/v1/models` to view available models."),
            )
            .with_code("model_not_found"));
        };
        let picked = pick_weighted(deployments, fastrand::f64());
        Ok(Plan {
            group: group.to_string(),
            attempts: vec![picked.clone()],
        })
    }
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
