//! Settings that belong to one provider: the built-in mock's behaviour,
//! Vertex AI's project, location and credentials, and AWS Bedrock's region
//! and credentials.

use std::sync::Arc;
use std::time::Duration;

use super::diag::Findings;
use super::env::Env;
use super::values::{number, resolved_string, string};
use super::yaml::{Kind, Node};
use super::{AwsCredentials, MockSettings, Secret};
use crate::providers::ProviderKind;
use crate::providers::google_auth::GoogleCredentials;

pub(super) struct Vertex {
    pub(super) project: Option<String>,
    pub(super) location: Option<String>,
    pub(super) credentials: Option<Arc<GoogleCredentials>>,
}

impl Vertex {
    /// Vertex AI's regional endpoint; `global` has no region prefix.
    pub(super) fn default_api_base(&self) -> Option<String> {
        match self.location.as_deref()? {
            "global" => Some("https://aiplatform.googleapis.com".into()),
            location => Some(format!("https://{location}-aiplatform.googleapis.com")),
        }
    }
}

/// LiteLLM's default region for Vertex AI.
const VERTEX_DEFAULT_LOCATION: &str = "us-central1";

/// `vertex_project`, `vertex_location` and `vertex_credentials`: the
/// credentials are a service-account (or authorized-user) JSON given inline,
/// as a file path, or through `os.environ/…`; without them, the file named
/// by GOOGLE_APPLICATION_CREDENTIALS.
pub(super) fn vertex_settings(
    params: &Node,
    path: &str,
    provider: ProviderKind,
    env: &Env,
    f: &mut Findings,
) -> Vertex {
    let key = |k: &str| format!("{path}.{k}");
    let none = Vertex {
        project: None,
        location: None,
        credentials: None,
    };
    if provider != ProviderKind::VertexAi {
        for k in ["vertex_project", "vertex_location", "vertex_credentials"] {
            if let Some(node) = params.get(k) {
                f.warn(
                    node.line,
                    &key(k),
                    "only used by vertex_ai/ models; ignored",
                );
            }
        }
        return none;
    }
    let line = params.line;
    let (text, line) = match params.get("vertex_credentials") {
        Some(
            node @ Node {
                kind: Kind::Map(_), ..
            },
        ) => (Some(node.to_json().to_string()), node.line),
        Some(node) => (
            resolved_string(node, &key("vertex_credentials"), env, f)
                .and_then(|v| json_or_file(&v, node.line, &key("vertex_credentials"), f)),
            node.line,
        ),
        None => match env.get("GOOGLE_APPLICATION_CREDENTIALS") {
            Some(file) => (
                json_or_file(&file, line, &key("vertex_credentials"), f),
                line,
            ),
            None => {
                f.error(
                    line,
                    &key("vertex_credentials"),
                    "is required for vertex_ai/ models (a service-account JSON inline, a file path \
                     or os.environ/NAME), unless GOOGLE_APPLICATION_CREDENTIALS names one",
                );
                (None, line)
            }
        },
    };
    let Some(text) = text else {
        return none;
    };
    let credentials = match GoogleCredentials::shared(&text) {
        Ok(c) => c,
        Err(message) => {
            f.error(line, &key("vertex_credentials"), message);
            return none;
        }
    };
    let project = params
        .get("vertex_project")
        .and_then(|n| resolved_string(n, &key("vertex_project"), env, f))
        .or_else(|| credentials.project_id.clone());
    if project.is_none() {
        f.error(
            line,
            &key("vertex_project"),
            "is required for vertex_ai/ models (the credentials name no project_id)",
        );
    }
    let location = params
        .get("vertex_location")
        .and_then(|n| resolved_string(n, &key("vertex_location"), env, f))
        .unwrap_or_else(|| VERTEX_DEFAULT_LOCATION.to_string());
    Vertex {
        project,
        location: Some(location),
        credentials: Some(credentials),
    }
}

pub(super) struct Aws {
    pub(super) region: Option<String>,
    pub(super) credentials: Option<AwsCredentials>,
    /// `aws_bedrock_runtime_endpoint`: a VPC endpoint, a proxy, a test server.
    pub(super) endpoint: Option<String>,
}

impl Aws {
    /// The endpoint given, else Bedrock's regional runtime endpoint.
    pub(super) fn default_api_base(&self) -> Option<String> {
        self.endpoint.clone().or_else(|| {
            let region = self.region.as_deref()?;
            Some(format!("https://bedrock-runtime.{region}.amazonaws.com"))
        })
    }
}

const AWS_KEYS: &[&str] = &[
    "aws_region_name",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_bedrock_runtime_endpoint",
];

/// `aws_region_name` (or `region_name`), `aws_access_key_id`,
/// `aws_secret_access_key`, `aws_session_token` and
/// `aws_bedrock_runtime_endpoint`, each may be `os.environ/…`. Without
/// them, the standard AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. A session token from the
/// environment goes only with keys from the environment.
pub(super) fn aws_settings(
    params: &Node,
    path: &str,
    provider: ProviderKind,
    env: &Env,
    f: &mut Findings,
) -> Aws {
    let key = |k: &str| format!("{path}.{k}");
    let mut aws = Aws {
        region: None,
        credentials: None,
        endpoint: None,
    };
    if provider != ProviderKind::Bedrock {
        for k in AWS_KEYS {
            if let Some(node) = params.get(k) {
                f.warn(node.line, &key(k), "only used by bedrock/ models; ignored");
            }
        }
        return aws;
    }
    let line = params.line;
    let text = |k: &str, f: &mut Findings| {
        params
            .get(k)
            .and_then(|n| resolved_string(n, &key(k), env, f))
            .filter(|v| !v.is_empty())
    };
    aws.region = text("aws_region_name", f)
        .or_else(|| text("region_name", f))
        .or_else(|| env.get("AWS_REGION"))
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty());
    if aws.region.is_none() {
        f.error(
            line,
            &key("aws_region_name"),
            "is required for bedrock/ models (or set AWS_REGION)",
        );
    }
    aws.endpoint = text("aws_bedrock_runtime_endpoint", f);
    let id = text("aws_access_key_id", f);
    let secret = text("aws_secret_access_key", f);
    let token = text("aws_session_token", f);
    let (id, secret, token) = match (id, secret) {
        (Some(id), Some(secret)) => (id, secret, token),
        (None, None) => {
            let (Some(id), Some(secret)) = (
                env.get("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty()),
                env.get("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty()),
            ) else {
                f.error(
                    line,
                    &key("aws_access_key_id"),
                    "bedrock/ models need aws_access_key_id and aws_secret_access_key \
                     (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment)",
                );
                return aws;
            };
            let token = token.or_else(|| env.get("AWS_SESSION_TOKEN").filter(|v| !v.is_empty()));
            (id, secret, token)
        }
        (Some(_), None) | (None, Some(_)) => {
            let (given, missing) = if params.get("aws_access_key_id").is_some() {
                ("aws_access_key_id", "aws_secret_access_key")
            } else {
                ("aws_secret_access_key", "aws_access_key_id")
            };
            let line = params.get(given).map_or(line, |n| n.line);
            f.error(line, &key(missing), format!("is required with {given}"));
            return aws;
        }
    };
    aws.credentials = Some(AwsCredentials {
        access_key_id: Secret(id),
        secret_access_key: Secret(secret),
        session_token: token.map(Secret),
    });
    aws
}

/// Credentials JSON as written, or the text of the file a value names.
pub(super) fn json_or_file(
    value: &str,
    line: usize,
    key: &str,
    f: &mut Findings,
) -> Option<String> {
    if value.trim_start().starts_with('{') {
        return Some(value.to_string());
    }
    match std::fs::read_to_string(value) {
        Ok(text) => Some(text),
        Err(e) => {
            f.error(
                line,
                key,
                format!("cannot read credentials file {value:?}: {e}"),
            );
            None
        }
    }
}

pub(super) fn mock_settings(params: &Node, path: &str, f: &mut Findings) -> MockSettings {
    let key = |k: &str| format!("{path}.{k}");
    let millis = |k: &str, f: &mut Findings| {
        params.get(k).and_then(|n| match number(n) {
            Some(ms) if ms >= 0.0 => Some(Duration::from_secs_f64(ms / 1000.0)),
            _ => {
                f.error(n.line, &key(k), "must be a number of milliseconds");
                None
            }
        })
    };
    let latency = millis("mock_latency_ms", f).unwrap_or_default();
    let chunk_delay = millis("mock_chunk_delay_ms", f).unwrap_or_default();
    let error_status = params
        .get("mock_error_status")
        .and_then(|n| match number(n) {
            Some(s) if (400.0..600.0).contains(&s) && s.fract() == 0.0 => Some(s as u16),
            _ => {
                f.error(
                    n.line,
                    &key("mock_error_status"),
                    "must be an HTTP error status (400-599)",
                );
                None
            }
        });
    let error_rate = params
        .get("mock_error_rate")
        .map_or(1.0, |n| match number(n) {
            Some(r) if (0.0..=1.0).contains(&r) => r,
            _ => {
                f.error(
                    n.line,
                    &key("mock_error_rate"),
                    "must be a number from 0 to 1",
                );
                1.0
            }
        });
    let response = params
        .get("mock_response")
        .and_then(|n| string(n, &key("mock_response"), f));
    let error_message = params
        .get("mock_error_message")
        .and_then(|n| string(n, &key("mock_error_message"), f));
    MockSettings {
        response,
        latency,
        chunk_delay,
        error_status,
        error_rate,
        error_message,
    }
}
