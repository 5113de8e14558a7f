//! Who may call from where: `general_settings.allowed_ips` (anyone else is
//! refused), `compliance.trusted_proxies` (whose `X-Forwarded-For` is
//! believed) and `compliance.network_rules`: caller ranges mapped to a
//! minimum data class and/or the model groups they may use.
//!
//! ```yaml
//! compliance:
//!   trusted_proxies: [10.0.0.1/32]
//!   network_rules:
//!     - cidr: 10.20.0.0/16          # accounting
//!       min_class: confidential
//!       allowed_models: [eu-chat, local-chat]
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

use super::compliance::Compliance;
use super::diag::Findings;
use super::values::{string, string_list};
use super::yaml::{Kind, Node};

#[derive(Clone, Debug, Default)]
pub struct NetworkSettings {
    /// Empty: every address may call.
    pub allowed_ips: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    pub rules: Vec<NetworkRule>,
}

#[derive(Clone, Debug)]
pub struct NetworkRule {
    pub ranges: Vec<IpNet>,
    pub min_class: Option<usize>,
    /// Empty: any model group.
    pub allowed_models: Vec<String>,
}

impl NetworkSettings {
    /// The rules whose ranges hold `ip`.
    pub fn rules_for(&self, ip: IpAddr) -> impl Iterator<Item = &NetworkRule> {
        self.rules
            .iter()
            .filter(move |r| r.ranges.iter().any(|n| n.contains(&ip)))
    }
}

/// `10.0.0.0/8`, or a single address (a /32 or /128).
fn range(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn ranges(node: &Node, path: &str, f: &mut Findings) -> Vec<IpNet> {
    let texts = match &node.kind {
        Kind::Seq(_) => string_list(node, path, f),
        _ => string(node, path, f).into_iter().collect(),
    };
    texts
        .iter()
        .filter_map(|t| {
            let parsed = range(t);
            if parsed.is_none() {
                f.error(
                    node.line,
                    path,
                    format!("{t:?} is not an IP address or CIDR range"),
                );
            }
            parsed
        })
        .collect()
}

pub(super) fn network_settings(
    root: &Node,
    general: Option<&Node>,
    compliance: &Compliance,
    f: &mut Findings,
) -> NetworkSettings {
    let mut n = NetworkSettings::default();
    if let Some(node) = general
        .and_then(|g| g.get("allowed_ips"))
        .filter(|n| !n.is_null())
    {
        n.allowed_ips = ranges(node, "general_settings.allowed_ips", f);
    }
    let section = root.get("compliance").filter(|s| !s.is_null());
    if let Some(node) = section.and_then(|s| s.get("trusted_proxies")) {
        n.trusted_proxies = ranges(node, "compliance.trusted_proxies", f);
    }
    let Some(rules) = section.and_then(|s| s.get("network_rules")) else {
        return n;
    };
    let Kind::Seq(items) = &rules.kind else {
        f.error(
            rules.line,
            "compliance.network_rules",
            "must be a list of rules",
        );
        return n;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("compliance.network_rules[{i}]");
        let Some(cidr) = item.get("cidr").or_else(|| item.get("cidrs")) else {
            f.error(
                item.line,
                &path,
                "needs cidr: a range (or a list of ranges) of callers",
            );
            continue;
        };
        let min_class = item.get("min_class").and_then(|node| {
            let name = string(node, &format!("{path}.min_class"), f)?;
            let found = compliance.class_index(&name);
            if found.is_none() {
                f.error(
                    node.line,
                    &format!("{path}.min_class"),
                    format!("{name:?} is not a data class"),
                );
            }
            found
        });
        let allowed_models = item
            .get("allowed_models")
            .map(|node| string_list(node, &format!("{path}.allowed_models"), f))
            .unwrap_or_default();
        n.rules.push(NetworkRule {
            ranges: ranges(cidr, &format!("{path}.cidr"), f),
            min_class,
            allowed_models,
        });
    }
    n
}
