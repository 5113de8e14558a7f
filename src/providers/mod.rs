//! Upstream dialects. A provider is a translator, not a client: pure
//! functions from the unified (OpenAI-schema) request to an upstream HTTP
//! request, and from the upstream body, stream bytes or error back. The one
//! shared transport (`crate::transport`) sends them all.

pub mod error;
pub mod mock;
pub mod openai;
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
}

/// A request ready for the transport.
pub struct UpstreamRequest {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One upstream dialect.
pub trait Dialect: Send + Sync {
    /// The HTTP request that asks `deployment` for `request`.
    fn encode(
        &self,
        deployment: &Deployment,
        request: &ApiRequest,
    ) -> Result<UpstreamRequest, ProviderError>;
    /// A successful non-streaming body, as an OpenAI-schema JSON body.
    fn decode_body(&self, op: Operation, body: Bytes) -> Result<Bytes, ProviderError>;
    /// Translates a streamed response, chunk by chunk.
    fn stream_decoder(&self, op: Operation) -> Box<dyn StreamDecoder>;
    /// An upstream error response, classified once here.
    fn decode_error(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ProviderError;
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
    ("mock", ProviderKind::Mock),
];

/// Providers LiteLLM configs name that later work adds.
const PLANNED: &[&str] = &[
    "anthropic",
    "gemini",
    "vertex_ai",
    "bedrock",
    "cohere",
    "cohere_chat",
    "ollama",
    "ollama_chat",
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

    pub fn is_planned(prefix: &str) -> bool {
        PLANNED.contains(&prefix)
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
            ProviderKind::Mock => Some(mock::API_BASE),
            ProviderKind::Azure | ProviderKind::HostedVllm => None,
        }
    }

    pub fn default_api_version(self) -> Option<&'static str> {
        (self == ProviderKind::Azure).then_some(AZURE_DEFAULT_API_VERSION)
    }

    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            ProviderKind::Azure => &openai::AZURE,
            _ => &openai::OPENAI,
        }
    }
}
