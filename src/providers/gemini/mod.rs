//! Google's Gemini API (`gemini/`, an API key in `x-goog-api-key`) and
//! Vertex AI (`vertex_ai/`, an OAuth2 bearer token): one dialect, two ways to
//! address and authorize it. Pure translators between the OpenAI schema and
//! Google's `generateContent`, `streamGenerateContent?alt=sse`,
//! `batchEmbedContents` (Gemini) and `predict` (Vertex embeddings).

mod embeddings;
mod error;
mod request;
mod response;
mod schema;
mod stream;

pub(super) use crate::providers::openai_shape::unix_now;
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName};
use serde_json::{Map, Value};

use super::headers::request_headers;
use super::{
    Credentials, Dialect, FailureClass, Operation, ProviderError, StreamDecoder, UpstreamRequest,
};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub use error::decode_error;

pub struct Google {
    vertex: bool,
}

pub static GEMINI: Google = Google { vertex: false };
pub static VERTEX: Google = Google { vertex: true };

impl Google {
    /// `{api_base}/v1beta/models/{model}:{method}` for Gemini,
    /// `{api_base}/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}`
    /// for Vertex AI. An `api_base` that already ends in the version is kept.
    fn url(&self, d: &Deployment, method: &str) -> Result<String, ProviderError> {
        let model = d.upstream_model.trim_start_matches("models/");
        let base = d.api_base.as_str();
        if !self.vertex {
            let base = base.strip_suffix("/v1beta").unwrap_or(base);
            return Ok(format!("{base}/v1beta/models/{model}:{method}"));
        }
        let (Some(project), Some(location)) = (&d.vertex_project, &d.vertex_location) else {
            return Err(ProviderError::new(
                FailureClass::BadRequest,
                "vertex_ai/ deployments need vertex_project and vertex_location",
            ));
        };
        let base = base.strip_suffix("/v1").unwrap_or(base);
        Ok(format!(
            "{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}"
        ))
    }

    fn headers(
        &self,
        d: &Deployment,
        credentials: &Credentials,
    ) -> Result<HeaderMap, ProviderError> {
        let credential = if self.vertex {
            let token = credentials.bearer.as_deref().ok_or_else(|| {
                ProviderError::new(FailureClass::Auth, "no Vertex AI access token was fetched")
            })?;
            Some((AUTHORIZATION, format!("Bearer {token}")))
        } else {
            d.api_key.as_ref().map(|key| {
                (
                    HeaderName::from_static("x-goog-api-key"),
                    key.expose().to_string(),
                )
            })
        };
        request_headers(
            d,
            &[],
            credential
                .as_ref()
                .map(|(name, value)| (name.clone(), value.as_str())),
        )
    }
}

impl Dialect for Google {
    fn encode(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        let (method, body) = match request.op {
            Operation::Chat if request.stream => (
                "streamGenerateContent?alt=sse",
                request::chat_body(d, request)?,
            ),
            Operation::Chat => ("generateContent", request::chat_body(d, request)?),
            Operation::Embeddings if self.vertex => {
                ("predict", embeddings::vertex_body(d, request)?)
            }
            Operation::Embeddings => ("batchEmbedContents", embeddings::gemini_body(d, request)?),
            Operation::Rerank => return Err(no_rerank()),
        };
        let body = serde_json::to_vec(&body).map_err(|e| {
            ProviderError::new(
                FailureClass::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        Ok(UpstreamRequest {
            url: self.url(d, method)?,
            headers: self.headers(d, credentials)?,
            body: Bytes::from(body),
        })
    }

    fn decode_body(
        &self,
        d: &Deployment,
        request: &ApiRequest,
        body: Bytes,
    ) -> Result<Bytes, ProviderError> {
        let value = match request.op {
            Operation::Chat => response::completion(d, &body)?,
            Operation::Embeddings => embeddings::decode(self.vertex, d, request, &body)?,
            Operation::Rerank => return Err(no_rerank()),
        };
        Ok(Bytes::from(value.to_string()))
    }

    fn supported_params(&self, op: Operation) -> Option<&'static [&'static str]> {
        Some(match op {
            Operation::Embeddings => &["dimensions", "encoding_format"],
            _ => &[
                "max_tokens",
                "max_completion_tokens",
                "temperature",
                "top_p",
                "top_k",
                "stop",
                "n",
                "seed",
                "presence_penalty",
                "frequency_penalty",
                "tools",
                "tool_choice",
                // Gemini has no switch for it; it may call several tools
                // in one turn, which is what `true` (the default) means.
                "parallel_tool_calls",
                "response_format",
                "reasoning_effort",
                // Google's own options, forwarded by request::chat_body.
                "safety_settings",
                "safetySettings",
                "cached_content",
                "cachedContent",
                "labels",
            ],
        })
    }

    fn stream_decoder(&self, d: &Deployment, request: &ApiRequest) -> Box<dyn StreamDecoder> {
        Box::new(stream::GeminiStream::new(d, request))
    }

    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        error::decode_error(status, headers, body)
    }
}

/// A request parameter: the client's value, else the deployment's default.
/// `null` counts as not set.
struct Params<'a> {
    body: &'a Map<String, Value>,
    defaults: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    fn new(d: &'a Deployment, request: &'a ApiRequest) -> Self {
        Params {
            body: &request.body,
            defaults: &d.defaults,
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.body.get(key) {
            Some(v) if !v.is_null() => Some(v),
            _ => self.defaults.get(key).filter(|v| !v.is_null()),
        }
    }
}

fn bad_request(param: &str, message: impl Into<String>) -> ProviderError {
    ProviderError {
        param: Some(param.to_string()),
        ..ProviderError::new(FailureClass::BadRequest, message)
    }
}

fn no_rerank() -> ProviderError {
    ProviderError::new(
        FailureClass::BadRequest,
        "Google's Gemini and Vertex AI APIs have no rerank endpoint",
    )
}
