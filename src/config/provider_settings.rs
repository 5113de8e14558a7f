//! Settings that belong to one provider: the built-in mock's behaviour and
//! Vertex AI's project, location and credentials.

use std::sync::Arc;
use std::time::Duration;

use super::MockSettings;
use super::diag::Findings;
use super::env::Env;
use super::values::{number, resolved_string, string};
use super::yaml::{Kind, Node};
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
