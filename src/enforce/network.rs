//! Where a request comes from, and what that allows: the caller's address
//! (the socket peer, or `X-Forwarded-For` when the peer is a trusted
//! proxy), `allowed_ips`, and the network rules' minimum class and model
//! allowlist (also a router rule, so fallbacks obey it).

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, StatusCode};

use crate::api::error::ApiError;
use crate::config::{Deployment, NetworkSettings};
use crate::router::Policy;

/// The caller: the peer, unless it is a trusted proxy; then the rightmost
/// address of `X-Forwarded-For` that is not a trusted proxy itself (the
/// left part of the header is whatever the client wrote).
pub fn caller_ip(
    n: &NetworkSettings,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = peer?.ip();
    let trusted = |ip: &IpAddr| n.trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted(ip))
            .unwrap_or(peer),
    )
}

/// `allowed_ips`: anyone else is refused (an unknown address too).
pub fn check_allowed(n: &NetworkSettings, ip: Option<IpAddr>) -> Result<(), ApiError> {
    if n.allowed_ips.is_empty()
        || ip.is_some_and(|ip| n.allowed_ips.iter().any(|net| net.contains(&ip)))
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "permission_error",
        format!(
            "Requests from {} are not allowed (general_settings.allowed_ips).",
            ip.map_or("an unknown address".to_string(), |ip| ip.to_string())
        ),
    )
    .with_code("ip_not_allowed"))
}

/// The highest `min_class` of the rules that match the caller, and the rule
/// range that set it.
pub fn min_class(n: &NetworkSettings, ip: Option<IpAddr>) -> Option<(usize, String)> {
    let ip = ip?;
    n.rules_for(ip)
        .filter_map(|r| {
            let range = r.ranges.iter().find(|net| net.contains(&ip))?;
            Some((r.min_class?, range.to_string()))
        })
        .max_by_key(|(class, _)| *class)
}

/// The model groups the caller's network may use: every matching rule
/// with an allowlist must allow the group.
pub struct NetworkModels {
    allowlists: Vec<Vec<String>>,
    ip: IpAddr,
}

impl NetworkModels {
    /// `None` when no matching rule has an allowlist.
    pub fn new(n: &NetworkSettings, ip: Option<IpAddr>) -> Option<NetworkModels> {
        let ip = ip?;
        let allowlists: Vec<Vec<String>> = n
            .rules_for(ip)
            .filter(|r| !r.allowed_models.is_empty())
            .map(|r| r.allowed_models.clone())
            .collect();
        (!allowlists.is_empty()).then_some(NetworkModels { allowlists, ip })
    }

    pub fn allows(&self, group: &str) -> bool {
        self.allowlists
            .iter()
            .all(|list| list.iter().any(|g| g == group))
    }
}

impl Policy for NetworkModels {
    fn admits(&self, d: &Deployment) -> bool {
        self.allows(&d.group)
    }

    fn refusal(&self, group: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            format!(
                "Callers from {} may not use model={group} (compliance.network_rules).",
                self.ip
            ),
        )
        .with_param("model")
        .with_code("network_model_not_allowed")
    }
}
