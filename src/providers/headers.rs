//! The headers every upstream request carries, built one way for all
//! dialects: JSON content type, the dialect's fixed headers, the credential
//! (marked sensitive, so it is never logged), then the deployment's
//! `extra_headers`, which may override any of them.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::{FailureClass, ProviderError};
use crate::config::Deployment;

pub fn request_headers(
    d: &Deployment,
    fixed: &[(HeaderName, HeaderValue)],
    credential: Option<(HeaderName, &str)>,
) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::with_capacity(2 + fixed.len() + d.extra_headers.len());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in fixed {
        headers.insert(name.clone(), value.clone());
    }
    if let Some((name, secret)) = credential {
        let mut value = HeaderValue::from_str(secret).map_err(|_| {
            ProviderError::new(
                FailureClass::Auth,
                "the configured credential is not a valid header value",
            )
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    for (name, value) in &d.extra_headers {
        headers.insert(name.clone(), value.clone());
    }
    Ok(headers)
}
