//! What happens once an answer's usage is known (at once for a body, at the
//! end of a stream): its tokens count towards the deployment's `tpm`, and
//! (with virtual keys) the budget reservation is settled at the real cost,
//! the rate limits get the real tokens, and the spend record is queued.
//! Nothing here waits: counters in memory and a bounded queue.

use std::sync::Arc;

use crate::api::Gateway;
use crate::config::Deployment;
use crate::metering::Metered;
use crate::router::state::DeploymentState;

/// The books of one request, closed exactly once.
pub struct Settlement {
    deployment: Arc<Deployment>,
    /// The deployment's live state, when its tokens are counted (a `tpm`
    /// to keep, or usage-based routing).
    tokens_to: Option<Arc<DeploymentState>>,
}

impl Settlement {
    pub fn new(gw: &Gateway, deployment: &Arc<Deployment>) -> Settlement {
        Settlement {
            deployment: deployment.clone(),
            tokens_to: gw
                .router
                .counts_tokens(deployment)
                .then(|| gw.router.state(deployment)),
        }
    }

    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.deployment
    }

    /// Closes the books with what the answer used.
    pub fn settle(self, metered: Metered) {
        if let Some(state) = self.tokens_to {
            state.used_tokens(metered.usage.total_tokens(), std::time::Instant::now());
        }
    }
}
