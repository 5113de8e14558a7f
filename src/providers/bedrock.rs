//! AWS Bedrock (Converse, ConverseStream, InvokeModel embeddings) dialect. (Being written: until then every request fails
//! with a clear error.)

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::{Credentials, Dialect, FailureClass, ProviderError, StreamDecoder, UpstreamRequest};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

pub struct Bedrock;

pub static BEDROCK: Bedrock = Bedrock;

fn unsupported() -> ProviderError {
    ProviderError::new(
        FailureClass::BadRequest,
        "the bedrock/ provider is not implemented yet",
    )
}

impl Dialect for Bedrock {
    fn encode(
        &self,
        _d: &Deployment,
        _r: &ApiRequest,
        _c: &Credentials,
    ) -> Result<UpstreamRequest, ProviderError> {
        Err(unsupported())
    }
    fn decode_body(
        &self,
        _d: &Deployment,
        _r: &ApiRequest,
        _b: Bytes,
    ) -> Result<Bytes, ProviderError> {
        Err(unsupported())
    }
    fn stream_decoder(&self, _d: &Deployment, _r: &ApiRequest) -> Box<dyn StreamDecoder> {
        unimplemented!("encode fails first")
    }
    fn decode_error(&self, _s: StatusCode, _h: &HeaderMap, _b: &[u8]) -> ProviderError {
        unsupported()
    }
}
