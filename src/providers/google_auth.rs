//! OAuth2 access tokens for Vertex AI. Credentials are read once at start-up:
//! a service account's key (a JWT signed with RS256, exchanged at the key's
//! `token_uri` with the `jwt-bearer` grant) or an authorized user's refresh
//! token (gcloud's application-default credentials). A token is cached until
//! shortly before it expires, so the request path normally only reads it.

use crate::providers::openai_shape::unix_now;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{FailureClass, ProviderError};

/// The scope Vertex AI's generative endpoints accept.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google accepts assertions valid for at most an hour.
const ASSERTION_LIFETIME_SECS: u64 = 3600;
/// A token is replaced this long before it expires (at most half its life),
/// so a request never leaves with a token about to lapse.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Google credentials and the access token they last yielded.
pub struct GoogleCredentials {
    kind: Kind,
    token_uri: String,
    /// The project the credentials belong to (`project_id`, or an authorized
    /// user's `quota_project_id`): the default for `vertex_project`.
    pub project_id: Option<String>,
    cached: RwLock<Option<Token>>,
    /// One exchange at a time: concurrent requests wait for its token.
    refreshing: tokio::sync::Mutex<()>,
}

enum Kind {
    ServiceAccount {
        client_email: String,
        key_id: Option<String>,
        key: EncodingKey,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: String,
        refresh_token: String,
    },
}

#[derive(Clone)]
struct Token {
    value: String,
    refresh_at: Instant,
    expires_at: Instant,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl GoogleCredentials {
    /// Credentials for this JSON text, shared with every deployment (and
    /// configuration) that names the same text while any holds them, so
    /// deployments on one service account share one token.
    pub fn shared(text: &str) -> Result<Arc<GoogleCredentials>, String> {
        static LIVE: LazyLock<Mutex<HashMap<[u8; 32], Weak<GoogleCredentials>>>> =
            LazyLock::new(Mutex::default);
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = live.get(&digest).and_then(Weak::upgrade) {
            return Ok(existing);
        }
        let credentials = Arc::new(GoogleCredentials::from_json(text)?);
        live.retain(|_, w| w.strong_count() > 0);
        live.insert(digest, Arc::downgrade(&credentials));
        Ok(credentials)
    }

    /// Reads a credentials JSON file's text. Errors name what is wrong,
    /// never a secret.
    pub fn from_json(text: &str) -> Result<GoogleCredentials, String> {
        let json: Value = serde_json::from_str(text)
            .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))?;
        let field = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_string);
        let required = |name: &str| {
            field(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("the credentials have no {name:?}"))
        };
        let kind = match field("type").as_deref() {
            Some("service_account") => {
                let pem = required("private_key")?;
                let key = EncodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|_| "private_key is not an RSA private key in PEM form".to_string())?;
                let kind = Kind::ServiceAccount {
                    client_email: required("client_email")?,
                    key_id: field("private_key_id"),
                    key,
                };
                // Sign once now, so a damaged key fails at start-up, not on
                // the first request.
                kind.assertion(DEFAULT_TOKEN_URI, 0)
                    .map_err(|_| "private_key cannot sign (damaged RSA key?)".to_string())?;
                kind
            }
            Some("authorized_user") => Kind::AuthorizedUser {
                client_id: required("client_id")?,
                client_secret: required("client_secret")?,
                refresh_token: required("refresh_token")?,
            },
            Some(other) => {
                return Err(format!(
                    "credentials of type {other:?} are not supported (service_account, authorized_user)"
                ));
            }
            None => return Err("the credentials have no \"type\"".into()),
        };
        Ok(GoogleCredentials {
            kind,
            token_uri: field("token_uri")
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string()),
            project_id: field("project_id").or_else(|| field("quota_project_id")),
            cached: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// A valid access token: the cached one, or a fresh one from the token
    /// endpoint when it is due for renewal.
    pub async fn access_token(&self, client: &reqwest::Client) -> Result<String, ProviderError> {
        if let Some(token) = self.fresh(Instant::now()) {
            return Ok(token);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        // Another request may have renewed it while this one waited.
        if let Some(token) = self.fresh(Instant::now()) {
            return Ok(token);
        }
        match self.exchange(client).await {
            Ok(token) => {
                let value = token.value.clone();
                *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(token);
                Ok(value)
            }
            // A token that is due for renewal but not expired still works.
            Err(e) => match self.cached().filter(|t| Instant::now() < t.expires_at) {
                Some(token) => {
                    tracing::warn!(
                        "Google token renewal failed, using the current token: {}",
                        e.message
                    );
                    Ok(token.value)
                }
                None => Err(e),
            },
        }
    }

    fn cached(&self) -> Option<Token> {
        self.cached
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn fresh(&self, now: Instant) -> Option<String> {
        let guard = self.cached.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| now < t.refresh_at)
            .map(|t| t.value.clone())
    }

    async fn exchange(&self, client: &reqwest::Client) -> Result<Token, ProviderError> {
        let form = match &self.kind {
            Kind::ServiceAccount { .. } => {
                let assertion = self.kind.assertion(&self.token_uri, unix_now())?;
                form_encode(&[("grant_type", JWT_BEARER), ("assertion", &assertion)])
            }
            Kind::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
            } => form_encode(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("refresh_token", refresh_token),
            ]),
        };
        let sent = Instant::now();
        let response = client
            .post(&self.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .timeout(EXCHANGE_TIMEOUT)
            .body(form)
            .send()
            .await
            .map_err(|e| {
                let what = if e.is_timeout() {
                    "timed out"
                } else {
                    "could not connect"
                };
                ProviderError::new(
                    FailureClass::ConnectionFailed,
                    format!("Google token endpoint {}: {what}", host(&self.token_uri)),
                )
            })?;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let token = json.get("access_token").and_then(Value::as_str);
        match token {
            Some(token) if status.is_success() && !token.is_empty() => {
                let lifetime = Duration::from_secs(
                    json.get("expires_in")
                        .and_then(Value::as_u64)
                        .unwrap_or(3600),
                );
                Ok(Token {
                    value: token.to_string(),
                    refresh_at: sent + lifetime - REFRESH_MARGIN.min(lifetime / 2),
                    expires_at: sent + lifetime,
                })
            }
            _ => {
                let text = |k: &str| json.get(k).and_then(Value::as_str).unwrap_or("");
                let detail = match (text("error"), text("error_description")) {
                    ("", _) => format!("HTTP {status}"),
                    (code, "") => code.to_string(),
                    (code, description) => format!("{code}: {description}"),
                };
                let class = if status.is_server_error() {
                    FailureClass::ServerError
                } else {
                    FailureClass::Auth
                };
                Err(ProviderError::new(
                    class,
                    format!("Google did not issue an access token ({detail})"),
                )
                .with_code("google_auth_failed"))
            }
        }
    }
}

impl Kind {
    /// The signed JWT a service account presents for a token.
    fn assertion(&self, token_uri: &str, now: u64) -> Result<String, ProviderError> {
        let Kind::ServiceAccount {
            client_email,
            key_id,
            key,
        } = self
        else {
            return Err(ProviderError::new(
                FailureClass::Auth,
                "not a service account",
            ));
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = key_id.clone();
        let claims = Claims {
            iss: client_email,
            scope: SCOPE,
            aud: token_uri,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, key).map_err(|e| {
            ProviderError::new(
                FailureClass::Auth,
                format!("cannot sign the service-account assertion: {e}"),
            )
        })
    }
}

impl fmt::Debug for GoogleCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::ServiceAccount { client_email, .. } => {
                write!(f, "service account {client_email}")
            }
            Kind::AuthorizedUser { .. } => f.write_str("authorized user (refresh token)"),
        }
    }
}

fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// `application/x-www-form-urlencoded`: unreserved bytes as they are, the
/// rest percent-encoded.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        for (j, part) in [k, v].iter().enumerate() {
            if j == 1 {
                out.push('=');
            }
            for b in part.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_reserved_bytes() {
        assert_eq!(
            form_encode(&[("grant_type", JWT_BEARER), ("a", "x y&z")]),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&a=x%20y%26z"
        );
    }

    #[test]
    fn rejects_unusable_credentials_without_quoting_secrets() {
        for (json, expected) in [
            ("{", "not valid JSON"),
            (r#"{"type":"external_account"}"#, "not supported"),
            (
                r#"{"type":"service_account","client_email":"a@b"}"#,
                "private_key",
            ),
            (
                r#"{"type":"service_account","client_email":"a@b","private_key":"sekrit"}"#,
                "not an RSA private key",
            ),
            (
                r#"{"type":"authorized_user","client_id":"c"}"#,
                "client_secret",
            ),
        ] {
            let e = GoogleCredentials::from_json(json).unwrap_err();
            assert!(e.contains(expected), "{json}: {e}");
            assert!(!e.contains("sekrit"));
        }
        let user = GoogleCredentials::from_json(
            r#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r","quota_project_id":"p"}"#,
        )
        .unwrap();
        assert_eq!(user.project_id.as_deref(), Some("p"));
        assert_eq!(user.token_uri, DEFAULT_TOKEN_URI);
        assert_eq!(
            host("https://oauth2.googleapis.com/token"),
            "oauth2.googleapis.com"
        );
    }
}
