//! A request's data class, and the router rule it becomes: only
//! deployments whose `max_data_class` admits the class are ever planned
//! (primary, retries, every fallback, every strategy).
//!
//! The class is the highest of: `compliance.default_class`; the key's,
//! its team's and its user's `data_class` (the floor); the header
//! `x-switchyard-data-class` or the body's `metadata.data_class` (a client
//! may raise its class, never lower it below the floor); and
//! `compliance.tag_classes` for the request's tags.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::accounts::KeyEntry;
use crate::api::error::ApiError;
use crate::config::{Compliance, Deployment};
use crate::router::Policy;

pub const HEADER: &str = "x-switchyard-data-class";

/// The class a request was given, and why (for the audit log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub class: usize,
    /// The class's name, as the configuration spells it.
    pub name: String,
    /// What set it: `default`, `key`, `team`, `user`, `request`, `tag:NAME`.
    pub by: String,
}

/// Decides the class; a class name the configuration does not know is a
/// 400 when the client sent it, and the highest class when an account
/// carries it (an unknown floor fails closed).
pub fn decide(
    c: &Compliance,
    key: Option<&KeyEntry>,
    requested: Option<&str>,
    body: &Map<String, Value>,
    tags: &[String],
) -> Result<Decided, ApiError> {
    let mut decided = Decided {
        class: c.default_class,
        name: String::new(),
        by: "default".into(),
    };
    let mut raise = |class: usize, by: &str| {
        if class > decided.class {
            decided = Decided {
                class,
                name: String::new(),
                by: by.to_string(),
            };
        }
    };
    let top = c.classes.len().saturating_sub(1);
    if let Some(e) = key {
        let floors = [
            ("key", e.key.data_class.as_deref()),
            (
                "team",
                e.team.as_ref().and_then(|t| t.data_class.as_deref()),
            ),
            (
                "user",
                e.user.as_ref().and_then(|u| u.data_class.as_deref()),
            ),
        ];
        for (by, name) in floors {
            if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
                raise(c.class_index(name).unwrap_or(top), by);
            }
        }
    }
    let from_body = body
        .get("metadata")
        .and_then(|m| m.get("data_class"))
        .and_then(Value::as_str);
    for name in [requested, from_body].into_iter().flatten() {
        let class = c.class_index(name).ok_or_else(|| {
            ApiError::param(
                "metadata.data_class",
                format!(
                    "{name:?} is not a data class. The classes are: {}.",
                    c.classes.join(", ")
                ),
            )
        })?;
        raise(class, "request");
    }
    for (tag, class) in &c.tag_classes {
        if tags.contains(tag) {
            raise(*class, &format!("tag:{tag}"));
        }
    }
    decided.name = c.class_name(decided.class).to_string();
    Ok(decided)
}

/// The router rule: a deployment may see the request when its
/// `max_data_class` is at least the request's class.
pub struct DataClassRule {
    class: usize,
    name: String,
    allowed: Arc<[usize]>,
}

impl DataClassRule {
    pub fn new(c: &Compliance, class: usize) -> Self {
        DataClassRule {
            class,
            name: c.class_name(class).to_string(),
            allowed: c.deployment_max.clone(),
        }
    }
}

impl Policy for DataClassRule {
    fn admits(&self, d: &Deployment) -> bool {
        self.allowed.get(d.index).copied().unwrap_or(0) >= self.class
    }

    fn refusal(&self, group: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "data_class_violation",
            format!(
                "No deployment of model={group} may receive data of class {:?}: nothing was sent upstream.",
                self.name
            ),
        )
        .with_param("model")
        .with_code("data_class_violation")
    }
}
