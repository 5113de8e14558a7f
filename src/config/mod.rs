//! The gateway's configuration: LiteLLM's `config.yaml`, parsed once at
//! start-up into typed structs. Errors name file, line and key, and are all
//! reported together; keys accepted but not acted on yet become warnings.

mod alert_settings;
mod audit_settings;
mod build;
mod compliance;
mod describe;
pub mod diag;
mod env;
mod group_refs;
mod guardrail_settings;
mod keys;
mod network_rules;
mod provider_settings;
mod router_settings;
mod storage_settings;
mod tag_budgets;
mod values;
pub mod yaml;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

pub use alert_settings::AlertSettings;
pub use audit_settings::AuditSettings;
pub use compliance::Compliance;
pub use describe::describe;
pub use diag::{ConfigErrors, Diagnostic};
pub use guardrail_settings::{Guardrail, GuardrailKind};
pub use network_rules::{NetworkRule, NetworkSettings};
pub use router_settings::{RouterSettings, Strategy};
pub use storage_settings::StorageSettings;
pub use tag_budgets::TagBudget;

use crate::providers::ProviderKind;
use crate::providers::google_auth::GoogleCredentials;

/// OpenAI's SDKs wait 600 s by default; a gateway should not cut a request
/// off earlier than the client would.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug)]
pub struct Config {
    /// The file it was read from, for messages.
    pub source: String,
    pub deployments: Vec<Arc<Deployment>>,
    pub master_key: Option<Secret>,
    pub max_request_bytes: usize,
    pub router: RouterSettings,
    pub storage: StorageSettings,
    /// Budget alert destinations and the threshold fraction.
    pub alerts: AlertSettings,
    /// `router_settings.tag_budget_config`.
    pub tag_budgets: Vec<TagBudget>,
    /// Data classes and what each deployment may receive.
    pub compliance: Compliance,
    /// `allowed_ips`, trusted proxies and network rules.
    pub network: NetworkSettings,
    /// `compliance.audit`; `None`: no audit log.
    pub audit: Option<AuditSettings>,
    /// The `guardrails:` section (pre-call ones).
    pub guardrails: Vec<Guardrail>,
    /// The bundled prices with `litellm_settings.price_file` laid over them.
    pub prices: Arc<crate::cost::PriceTable>,
}

/// One upstream model a model group can send a request to.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// Its position among the configured deployments: the router keeps
    /// each deployment's live state at this index (no lookup by id).
    pub index: usize,
    /// `model_info.id`, else a stable hash of the entry.
    pub id: String,
    /// The model group (`model_name`) clients ask for.
    pub group: String,
    pub provider: ProviderKind,
    /// The model name upstream (for Azure, the deployment name).
    pub upstream_model: String,
    pub api_base: String,
    pub api_key: Option<Secret>,
    pub api_version: Option<String>,
    pub organization: Option<String>,
    /// Parsed once here; added to every upstream request.
    pub extra_headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    /// Total time for a non-streaming request.
    pub timeout: Duration,
    /// Longest silence on a stream: before the first chunk and between chunks.
    pub stream_timeout: Duration,
    pub weight: Option<f64>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub tags: Vec<String>,
    /// Retries of a failed attempt (`max_retries`), over the router's.
    pub max_retries: Option<u32>,
    /// This deployment's own `cooldown_time`.
    pub cooldown_time: Option<Duration>,
    /// `order`: lower is tried first; deployments without one come last.
    pub order: Option<u32>,
    pub max_parallel_requests: Option<u64>,
    /// `input_cost_per_token` + `output_cost_per_token`, for cost-based-routing.
    pub cost_per_token: Option<f64>,
    /// The deployment's own prices (`litellm_params`, else `model_info`).
    pub price_override: crate::cost::PriceEntry,
    /// Its price: `price_override` over the price table's entry for its
    /// model, resolved when the config is loaded; `None`: unknown.
    pub price: Option<crate::cost::Price>,
    /// Request parameters applied when the request does not set them.
    pub defaults: Map<String, Value>,
    pub model_info: Map<String, Value>,
    pub mock: MockSettings,
    /// Drop request parameters the provider cannot express instead of
    /// answering 400 (`litellm_params.drop_params`, else
    /// `litellm_settings.drop_params`).
    pub drop_params: bool,
    /// Vertex AI: the Google Cloud project and region, and the credentials
    /// whose access tokens authorize each request (set for vertex_ai/ only).
    pub vertex_project: Option<String>,
    pub vertex_location: Option<String>,
    pub vertex_credentials: Option<Arc<GoogleCredentials>>,
    /// AWS Bedrock: the region requests are signed for and the keys that
    /// sign them (set for bedrock/ only).
    pub aws_region: Option<String>,
    pub aws_credentials: Option<AwsCredentials>,
}

/// Static AWS credentials: from `litellm_params`, else from the standard
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.
#[derive(Clone, Debug)]
pub struct AwsCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    /// Temporary credentials (STS) come with one; sent as
    /// `x-amz-security-token`.
    pub session_token: Option<Secret>,
}

/// Behaviour of the built-in `mock/` provider.
#[derive(Clone, Debug, Default)]
pub struct MockSettings {
    pub response: Option<String>,
    pub latency: Duration,
    pub chunk_delay: Duration,
    pub error_status: Option<u16>,
    pub error_rate: f64,
    pub error_message: Option<String>,
}

/// A secret from the configuration; never printed whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `sk-...abcd`: enough to tell keys apart, too little to use one.
    pub fn masked(&self) -> String {
        let s = &self.0;
        let tail: String = s
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if s.chars().count() <= 8 {
            "****".to_string()
        } else {
            format!("{}...{}", s.chars().take(3).collect::<String>(), tail)
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A configuration read successfully, with what it could not act on yet.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates a configuration file.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&text, &name).map(|mut loaded| {
            // The embedded default: a SQLite file beside the config.
            if loaded.config.storage.database_url.is_none() {
                let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
                let file = dir.unwrap_or(Path::new(".")).join("switchyard.db");
                loaded.config.storage.database_url = Some(format!("sqlite://{}", file.display()));
            }
            loaded
        }),
        Err(e) => Err(ConfigErrors(vec![Diagnostic {
            file: name,
            line: 0,
            key: "(file)".into(),
            message: format!("cannot read: {e}"),
        }])),
    }
}

/// Validates configuration text; `file` names it in messages.
pub fn load_str(text: &str, file: &str) -> Result<Loaded, ConfigErrors> {
    build::build(text, file, &|name| std::env::var(name).ok())
}

impl Config {
    /// The model groups in the order they were first declared.
    pub fn groups(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for d in &self.deployments {
            if !seen.contains(&d.group.as_str()) {
                seen.push(&d.group);
            }
        }
        seen
    }
}
