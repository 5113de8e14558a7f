//! SigV4 for Bedrock, with AWS's own `aws-sigv4`: the method, the URL, every
//! header already on the request (content type, accept, the deployment's
//! `extra_headers`), `host` (from the URL) and the body's SHA-256, which is
//! also sent as `x-amz-content-sha256`. The signer adds `x-amz-date`,
//! `x-amz-security-token` for temporary credentials, and `authorization`.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign as sigv4,
};
use aws_sigv4::sign::v4;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{FailureClass, ProviderError};
use crate::config::Deployment;

/// Bedrock's signing name (for the `bedrock-runtime` endpoints too).
pub const SERVICE: &str = "bedrock";

pub fn sign(
    d: &Deployment,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), ProviderError> {
    let (Some(region), Some(keys)) = (&d.aws_region, &d.aws_credentials) else {
        return Err(ProviderError::new(
            FailureClass::Auth,
            "bedrock/ deployments need aws_region_name and AWS credentials",
        ));
    };
    // The signer takes the host from the URL (and cannot sign without one).
    let has_host =
        reqwest::Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
    if !has_host {
        return Err(ProviderError::new(
            FailureClass::ConnectionFailed,
            format!("invalid upstream URL for Bedrock: {url}"),
        ));
    }
    let identity = Credentials::new(
        keys.access_key_id.expose(),
        keys.secret_access_key.expose(),
        keys.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "switchyard-config",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _signature) = sigv4(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    let (signed, _query) = instructions.into_parts();
    for header in signed {
        let mut value = HeaderValue::from_str(header.value()).map_err(|e| failed(&e))?;
        value.set_sensitive(header.sensitive() || header.name() == "authorization");
        headers.insert(HeaderName::from_static(header.name()), value);
    }
    Ok(())
}

fn failed(e: &dyn std::fmt::Display) -> ProviderError {
    ProviderError::new(
        FailureClass::Auth,
        format!("cannot sign the Bedrock request: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn deployment(token: bool) -> std::sync::Arc<Deployment> {
        let mut yaml = String::from(
            "model_list:\n- model_name: b\n  litellm_params:\n    model: bedrock/amazon.nova-lite-v1:0\n    aws_region_name: eu-central-1\n    aws_access_key_id: AKIDTEST\n    aws_secret_access_key: secret\n",
        );
        if token {
            yaml.push_str("    aws_session_token: session-token\n");
        }
        crate::config::load_str(&yaml, "t.yaml")
            .unwrap()
            .config
            .deployments[0]
            .clone()
    }

    #[test]
    fn signs_host_date_body_hash_and_session_token() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_718_900_000);
        for token in [false, true] {
            let d = deployment(token);
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            let url = "https://bedrock-runtime.eu-central-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse";
            sign(&d, url, &mut headers, b"{}", at).unwrap();
            let auth = headers["authorization"].to_str().unwrap();
            assert!(headers["authorization"].is_sensitive());
            assert!(
                auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/20240620/eu-central-1/bedrock/aws4_request, SignedHeaders="),
                "{auth}"
            );
            let signed = auth
                .split("SignedHeaders=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            let mut expected = vec!["content-type", "host", "x-amz-content-sha256", "x-amz-date"];
            if token {
                expected.push("x-amz-security-token");
            }
            assert_eq!(signed, expected.join(";"));
            let signature = auth.rsplit("Signature=").next().unwrap();
            assert_eq!(signature.len(), 64);
            assert_eq!(headers["x-amz-date"], "20240620T161320Z");
            // sha256("{}")
            assert_eq!(
                headers["x-amz-content-sha256"],
                "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
            );
            assert_eq!(headers.contains_key("x-amz-security-token"), token);
        }
        let d = deployment(false);
        assert!(sign(&d, "no-host", &mut HeaderMap::new(), b"", at).is_err());
    }
}
