//! Readers for single configuration values: each checks the value's type
//! and records an error with its line when it is wrong.

use std::time::Duration;

use super::diag::Findings;
use super::env::Env;
use super::yaml::{Kind, Node};
use reqwest::header::{HeaderName, HeaderValue};

pub(super) fn key_line(map: &Node, key: &str) -> Option<usize> {
    match &map.kind {
        Kind::Map(entries) => entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, line, _)| *line),
        _ => None,
    }
}

pub(super) fn string(node: &Node, key: &str, f: &mut Findings) -> Option<String> {
    match &node.kind {
        Kind::Scalar(s, _) if !node.is_null() => Some(s.clone()),
        _ => {
            f.error(node.line, key, "must be a string");
            None
        }
    }
}

pub(super) fn resolved_string(
    node: &Node,
    key: &str,
    env: &Env,
    f: &mut Findings,
) -> Option<String> {
    let value = string(node, key, f)?;
    match env.resolve(&value) {
        Ok(v) => Some(v),
        Err(name) => {
            f.error(
                node.line,
                key,
                format!("environment variable {name} is not set"),
            );
            None
        }
    }
}

pub(super) fn number(node: &Node) -> Option<f64> {
    match &node.kind {
        Kind::Scalar(s, _) => s.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

pub(super) fn seconds_at(
    section: Option<&Node>,
    k: &str,
    path: &str,
    f: &mut Findings,
) -> Option<Duration> {
    let node = section?.get(k)?;
    if node.is_null() {
        return None;
    }
    match number(node) {
        Some(s) if s > 0.0 => Some(Duration::from_secs_f64(s)),
        _ => {
            f.error(
                node.line,
                &format!("{path}.{k}"),
                "must be a positive number of seconds",
            );
            None
        }
    }
}

pub(super) fn positive_at(section: &Node, k: &str, path: &str, f: &mut Findings) -> Option<f64> {
    let node = section.get(k)?;
    match number(node) {
        Some(v) if v >= 0.0 => Some(v),
        _ => {
            f.error(
                node.line,
                &format!("{path}.{k}"),
                "must be a number of at least 0",
            );
            None
        }
    }
}

pub(super) fn string_list(node: &Node, key: &str, f: &mut Findings) -> Vec<String> {
    match &node.kind {
        Kind::Seq(items) => items.iter().filter_map(|n| string(n, key, f)).collect(),
        _ => {
            f.error(node.line, key, "must be a list of strings");
            Vec::new()
        }
    }
}

pub(super) fn headers(
    node: &Node,
    key: &str,
    env: &Env,
    f: &mut Findings,
) -> Vec<(HeaderName, HeaderValue)> {
    let Kind::Map(entries) = &node.kind else {
        f.error(node.line, key, "must be a mapping of header: value");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, _, value) in entries {
        let k = format!("{key}.{name}");
        if let Some(v) = resolved_string(value, &k, env, f) {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                (Ok(name), Ok(value)) => out.push((name, value)),
                _ => f.error(value.line, &k, "is not a valid HTTP header"),
            }
        }
    }
    out
}

pub(super) fn flag(node: &Node, key: &str, f: &mut Findings) -> Option<bool> {
    match node.to_json() {
        serde_json::Value::Bool(b) => Some(b),
        _ => {
            f.error(node.line, key, "must be true or false");
            None
        }
    }
}
