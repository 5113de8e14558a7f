//! What narrows the deployments a request may be planned on, applied to
//! every pick the router makes for it: the first, each retry and every
//! fallback group. The caller's policy (allowed models, data class) is a
//! hard rule; tags and the prompt's size follow the router's settings.

use std::sync::Arc;

use crate::api::error::ApiError;
use crate::config::Deployment;
use crate::providers::FailureClass;

/// A rule from the policy layer: which deployments this caller's request
/// may ever reach, and the error when a group has none it may.
pub trait Policy: Send + Sync {
    fn admits(&self, d: &Deployment) -> bool;
    fn refusal(&self, group: &str) -> ApiError;
}

#[derive(Clone, Default)]
pub struct Constraints {
    /// The request's tags, for `enable_tag_filtering`.
    pub tags: Vec<String>,
    /// The prompt's tokens, when `enable_pre_call_checks` is on: deployments
    /// whose `max_input_tokens` is smaller are skipped.
    pub prompt_tokens: Option<u64>,
    /// The caller's rules, in order (allowed models, then data class):
    /// a deployment must pass all; the first that leaves a group empty
    /// gives the refusal.
    pub policies: Vec<Arc<dyn Policy>>,
}

/// Why no deployment could be picked, and how the failure counts for
/// fallbacks (`ContextWindowExceeded` goes to `context_window_fallbacks`;
/// a policy refusal is `BadRequest` and never falls back).
#[derive(Debug)]
pub struct Refusal {
    pub error: ApiError,
    pub class: FailureClass,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        r.error
    }
}

impl Refusal {
    pub fn new(error: ApiError, class: FailureClass) -> Refusal {
        Refusal { error, class }
    }
}

/// OpenAI's words for a prompt that fits no deployment of the group.
pub fn context_exceeded(group: &str, tokens: u64, largest: u64) -> ApiError {
    ApiError::param(
        "messages",
        format!(
            "This model's maximum context length is {largest} tokens. However, your messages resulted in {tokens} tokens (pre-call check of model={group}; no deployment of it has a context window that large)."
        ),
    )
    .with_code("context_length_exceeded")
}
