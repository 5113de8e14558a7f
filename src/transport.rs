//! The one shared upstream client: pooled, keep-alive, HTTP/2 where the
//! upstream offers it (ALPN), rustls. `mock://` URLs are answered in-process.

use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Once;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::config::Deployment;
use crate::providers::{FailureClass, ProviderError, UpstreamRequest, mock};

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProviderError>> + Send>>;

/// An upstream's answer: status and headers now, the body as it arrives.
pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ByteStream,
}

#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub fn new() -> Transport {
        install_tls_provider();
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client's TLS set-up is static and cannot fail");
        Transport { client }
    }

    /// The pooled client itself, for the few calls that are not an upstream
    /// request (e.g. Vertex AI's OAuth2 token exchange).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request and waits for the response head. Timeouts are the
    /// caller's: it knows whether it waits for a body or a stream.
    pub async fn send(
        &self,
        deployment: &Deployment,
        request: UpstreamRequest,
    ) -> Result<UpstreamResponse, ProviderError> {
        if let Some(path) = request.url.strip_prefix(mock::API_BASE) {
            return Ok(mock::respond(&deployment.mock, path, &request.body).await);
        }
        let response = self
            .client
            .post(parsed(&request.url)?)
            .headers(request.headers)
            .body(request.body)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes_stream()
            .map(|r| r.map_err(|e| transport_error(&e)));
        Ok(UpstreamResponse {
            status,
            headers,
            body: Box::pin(body),
        })
    }
}

/// rustls needs a process-wide crypto provider before any client is built:
/// ring (it builds without cmake). Safe to call more than once.
pub fn install_tls_provider() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Another part of the process may have installed one already.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

/// Parsing a URL (host normalisation included) cost ~3 % of the gateway's
/// CPU under load, and the same few URLs recur: each thread keeps the
/// parsed ones, a bounded map that is emptied when full.
fn parsed(url: &str) -> Result<reqwest::Url, ProviderError> {
    thread_local! {
        static PARSED: RefCell<HashMap<String, reqwest::Url>> = RefCell::new(HashMap::new());
    }
    PARSED.with_borrow_mut(|cache| {
        if let Some(parsed) = cache.get(url) {
            return Ok(parsed.clone());
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            ProviderError::new(
                FailureClass::ConnectionFailed,
                format!("invalid upstream URL: {e}"),
            )
        })?;
        if cache.len() >= 512 {
            cache.clear();
        }
        cache.insert(url.to_string(), parsed.clone());
        Ok(parsed)
    })
}

/// Reads a whole (non-streamed) body.
pub async fn collect(mut body: ByteStream) -> Result<Bytes, ProviderError> {
    let first = match body.next().await {
        None => return Ok(Bytes::new()),
        Some(chunk) => chunk?,
    };
    let Some(second) = body.next().await else {
        return Ok(first);
    };
    let mut all = Vec::with_capacity(first.len() * 2);
    all.extend_from_slice(&first);
    all.extend_from_slice(&second?);
    while let Some(chunk) = body.next().await {
        all.extend_from_slice(&chunk?);
    }
    Ok(Bytes::from(all))
}

/// Never includes the URL's query or any header: only what failed.
fn transport_error(e: &reqwest::Error) -> ProviderError {
    let (class, what) = if e.is_timeout() {
        (FailureClass::Timeout, "timed out")
    } else if e.is_connect() {
        (FailureClass::ConnectionFailed, "could not connect")
    } else if e.is_body() || e.is_decode() {
        (
            FailureClass::ConnectionFailed,
            "the connection broke while reading the response",
        )
    } else {
        (FailureClass::ConnectionFailed, "the request failed")
    };
    let host = e
        .url()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    ProviderError::new(class, format!("upstream {host}: {what}"))
}
