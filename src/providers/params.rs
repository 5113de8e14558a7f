//! `drop_params`: a request parameter a dialect cannot express is a 400
//! naming the parameter and the provider, unless `drop_params` is set (in
//! the request, on the deployment or in `litellm_settings`), in which case
//! the dialect simply leaves it out. Checked once, before encoding.

use serde_json::Value;

use super::{Dialect, FailureClass, ProviderError};
use crate::api::wire::ApiRequest;
use crate::config::Deployment;

/// Fields every dialect handles or the gateway itself reads (`user` names
/// the end user; `metadata`, `drop_params` and `mock_response` are the
/// gateway's).
pub const ALWAYS: &[&str] = &[
    "model",
    "messages",
    "input",
    "query",
    "documents",
    "stream",
    "stream_options",
    "user",
    "metadata",
    "drop_params",
    "mock_response",
    // The router's, stripped before forwarding.
    "fallbacks",
    "disable_fallbacks",
    "num_retries",
    "tags",
];

pub fn check(
    dialect: &dyn Dialect,
    d: &Deployment,
    request: &ApiRequest,
) -> Result<(), ProviderError> {
    let Some(supported) = dialect.supported_params(request.op) else {
        return Ok(());
    };
    let dropping =
        d.drop_params || request.body.get("drop_params").and_then(Value::as_bool) == Some(true);
    if dropping {
        return Ok(());
    }
    let unsupported = request.body.iter().find(|(k, v)| {
        !v.is_null() && !ALWAYS.contains(&k.as_str()) && !supported.contains(&k.as_str())
    });
    match unsupported {
        None => Ok(()),
        Some((name, _)) => {
            let mut e = ProviderError::new(
                FailureClass::BadRequest,
                format!(
                    "The parameter '{name}' is not supported by the {} provider ({}/{}). Set drop_params: true in the request or the deployment's litellm_params to drop it.",
                    d.provider.prefix(),
                    d.provider.prefix(),
                    d.upstream_model
                ),
            )
            .with_code("unsupported_parameter");
            e.param = Some(name.clone());
            Err(e)
        }
    }
}
