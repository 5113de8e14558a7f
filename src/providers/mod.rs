//! Upstream dialects. A provider is a translator, not a client: pure
//! functions from the unified (OpenAI-schema) request to an upstream HTTP
//! request, and from the upstream body, stream bytes or error back. The one
//! shared transport (`crate::transport`) sends them all.

pub mod anthropic;
pub mod bedrock;
pub mod cohere;
pub mod error;
pub mod gemini;
pub mod google_auth;
pub mod headers;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod openai_request;
pub mod openai_shape;
pub mod params;
pub mod sse;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::api::wire::ApiRequest;
use crate::config::Deployment;
pub use error::{FailureClass, ProviderError};

/// What the client asked for; dialects map each to their own endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Chat,
    Embeddings,
    /// Cohere-compatible `/v1/rerank`.
    Rerank,
}

/// A request ready for the transport.
pub struct UpstreamRequest {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Credentials fetched for one attempt before it is encoded (e.g. Vertex
/// AI's OAuth2 access token); empty for providers with static keys.
#[derive(Default)]
pub struct Credentials {
    pub bearer: Option<String>,
}

/// One upstream dialect.
pub trait Dialect: Send + Sync {
    /// The HTTP request that asks `deployment` for `request`.
    fn encode(
        &self,
        deployment: &Deployment,
        request: &ApiRequest,
        credentials: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError>;
    /// A successful non-streaming body, as an OpenAI-schema JSON body.
    fn decode_body(
        &self,
        deployment: &Deployment,
        request: &ApiRequest,
        body: Bytes,
    ) -> Result<Bytes, ProviderError>;
    /// Translates a streamed response, chunk by chunk, into OpenAI chunks.
    fn stream_decoder(
        &self,
        deployment: &Deployment,
        request: &ApiRequest,
    ) -> Box<dyn StreamDecoder>;
    /// An upstream error response, classified once here.
    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError;
    /// The request parameters this dialect can express for `op`, besides
    /// the ones every dialect handles (`params::ALWAYS`). `None`: all of
    /// them (the body is forwarded as sent). Anything else in a request is
    /// a 400 naming it, or dropped when `drop_params` is set.
    fn supported_params(&self, _op: Operation) -> Option<&'static [&'static str]> {
        None
    }
}

/// Fetches what `deployment` needs beyond its static configuration.
/// Vertex AI's token is cached (see `google_auth`): a read of the cache on
/// the hot path, an exchange only when the token is due for renewal.
pub async fn credentials(
    transport: &crate::transport::Transport,
    deployment: &Deployment,
) -> Result<Credentials, ProviderError> {
    match &deployment.vertex_credentials {
        Some(google) if deployment.provider == ProviderKind::VertexAi => Ok(Credentials {
            bearer: Some(google.access_token(transport.client()).await?),
        }),
        _ => Ok(Credentials::default()),
    }
}

/// Turns upstream stream bytes into OpenAI SSE events (`data: …\n\n`).
pub trait StreamDecoder: Send {
    /// Feeds the next bytes; complete events are appended to `out`.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Bytes>) -> Result<(), ProviderError>;
    /// Whether the upstream has said the stream is complete.
    fn is_done(&self) -> bool;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    OpenAi,
    Azure,
    Mistral,
    DeepSeek,
    Groq,
    TogetherAi,
    HostedVllm,
    Anthropic,
    Gemini,
    VertexAi,
    Cohere,
    Bedrock,
    Ollama,
    Mock,
}

const KINDS: &[(&str, ProviderKind)] = &[
    ("openai", ProviderKind::OpenAi),
    ("azure", ProviderKind::Azure),
    ("mistral", ProviderKind::Mistral),
    ("deepseek", ProviderKind::DeepSeek),
    ("groq", ProviderKind::Groq),
    ("together_ai", ProviderKind::TogetherAi),
    ("hosted_vllm", ProviderKind::HostedVllm),
    ("anthropic", ProviderKind::Anthropic),
    ("gemini", ProviderKind::Gemini),
    ("vertex_ai", ProviderKind::VertexAi),
    ("cohere", ProviderKind::Cohere),
    ("cohere_chat", ProviderKind::Cohere),
    ("bedrock", ProviderKind::Bedrock),
    ("ollama", ProviderKind::Ollama),
    ("ollama_chat", ProviderKind::Ollama),
    ("mock", ProviderKind::Mock),
];

/// Azure OpenAI's current GA data-plane version, used when none is configured.
pub const AZURE_DEFAULT_API_VERSION: &str = "2024-10-21";

impl ProviderKind {
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        KINDS.iter().find(|(p, _)| *p == prefix).map(|(_, k)| *k)
    }

    pub fn prefix(self) -> &'static str {
        KINDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(p, _)| p)
    }

    pub fn known_prefixes() -> Vec<&'static str> {
        KINDS.iter().map(|(p, _)| *p).collect()
    }

    /// The provider's public endpoint (as the OpenAI SDK's `base_url`).
    pub fn default_api_base(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
            ProviderKind::Mistral => Some("https://api.mistral.ai/v1"),
            ProviderKind::DeepSeek => Some("https://api.deepseek.com"),
            ProviderKind::Groq => Some("https://api.groq.com/openai/v1"),
            ProviderKind::TogetherAi => Some("https://api.together.xyz/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com"),
            ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
            ProviderKind::Cohere => Some("https://api.cohere.com"),
            ProviderKind::Ollama => Some("http://localhost:11434"),
            ProviderKind::Mock => Some(mock::API_BASE),
            // Vertex AI's endpoint depends on vertex_location.
            // Bedrock's endpoint depends on aws_region_name.
            ProviderKind::Azure
            | ProviderKind::HostedVllm
            | ProviderKind::VertexAi
            | ProviderKind::Bedrock => None,
        }
    }

    pub fn default_api_version(self) -> Option<&'static str> {
        (self == ProviderKind::Azure).then_some(AZURE_DEFAULT_API_VERSION)
    }

    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            ProviderKind::Azure => &openai::AZURE,
            ProviderKind::Anthropic => &anthropic::ANTHROPIC,
            ProviderKind::Gemini => &gemini::GEMINI,
            ProviderKind::VertexAi => &gemini::VERTEX,
            ProviderKind::Cohere => &cohere::COHERE,
            ProviderKind::Bedrock => &bedrock::BEDROCK,
            ProviderKind::Ollama => &ollama::OLLAMA,
            _ => &openai::OPENAI,
        }
    }
}
