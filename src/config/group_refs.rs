//! Every model group the router settings name must exist: a fallback to a
//! misspelt group would otherwise fail silently on the day it is needed.
//! Fallback targets, alias targets and split targets that match no group
//! (exactly, through an alias, or through a wildcard group) are errors; a
//! fallback list for a group that does not exist is only a warning.

use super::diag::Findings;
use super::yaml::{Kind, Node};

/// Checks the group names in `router_settings` (and the fallbacks LiteLLM
/// users put in `litellm_settings`) against the configured groups.
pub(super) fn check(
    router: Option<&Node>,
    litellm: Option<&Node>,
    groups: &[&str],
    f: &mut Findings,
) {
    let aliases: Vec<&str> = router
        .and_then(|r| r.get("model_group_alias"))
        .map(|n| match &n.kind {
            Kind::Map(entries) => entries.iter().map(|(k, _, _)| k.as_str()).collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    let known = |name: &str| {
        groups.contains(&name)
            || aliases.contains(&name)
            || groups.iter().any(|g| wildcard_covers(g, name))
    };
    for (section, node) in [("router_settings", router), ("litellm_settings", litellm)] {
        for key in [
            "fallbacks",
            "context_window_fallbacks",
            "content_policy_fallbacks",
        ] {
            if let Some(Node {
                kind: Kind::Seq(items),
                ..
            }) = node.and_then(|n| n.get(key))
            {
                for item in items {
                    let Kind::Map(entries) = &item.kind else {
                        continue;
                    };
                    for (group, line, targets) in entries {
                        let path = format!("{section}.{key}.{group}");
                        if !known(group) {
                            f.warn(
                                *line,
                                &path,
                                "no model group has this name; these fallbacks never apply",
                            );
                        }
                        for (name, line) in names(targets) {
                            if !known(name) {
                                f.error(
                                    line,
                                    &path,
                                    format!("fallback {name:?} is not a model group"),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    let Some(router) = router else { return };
    if let Some(node) = router.get("default_fallbacks") {
        for (name, line) in names(node) {
            if !known(name) {
                f.error(
                    line,
                    "router_settings.default_fallbacks",
                    format!("{name:?} is not a model group"),
                );
            }
        }
    }
    if let Some(Node {
        kind: Kind::Map(entries),
        ..
    }) = router.get("model_group_alias")
    {
        for (alias, _, target) in entries {
            let path = format!("router_settings.model_group_alias.{alias}");
            let targets: Vec<(&str, usize)> = match target.get("splits") {
                Some(Node {
                    kind: Kind::Map(splits),
                    ..
                }) => splits
                    .iter()
                    .map(|(g, line, _)| (g.as_str(), *line))
                    .collect(),
                Some(_) => Vec::new(),
                None => names(target.get("model").unwrap_or(target)),
            };
            for (name, line) in targets {
                if !groups.contains(&name) && !groups.iter().any(|g| wildcard_covers(g, name)) {
                    f.error(line, &path, format!("{name:?} is not a model group"));
                }
            }
        }
    }
}

/// The strings of a scalar or a list, with their lines.
fn names(node: &Node) -> Vec<(&str, usize)> {
    match &node.kind {
        Kind::Scalar(s, _) if !node.is_null() => vec![(s.as_str(), node.line)],
        Kind::Seq(items) => items.iter().flat_map(names).collect(),
        _ => Vec::new(),
    }
}

/// Whether the wildcard group `pattern` (`openai/*`, `*`) routes `name`.
fn wildcard_covers(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        Some((prefix, suffix)) => {
            name.len() > prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
        None => false,
    }
}
