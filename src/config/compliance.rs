//! The `compliance:` section: the ordered data classes (lowest first), the
//! class a request has when nothing raises it, the classes request tags
//! raise it to, and each deployment's `model_info.max_data_class` (the
//! highest class it may ever receive; without one, only the lowest) and
//! `model_info.region` (free text: `ch`, `eu`, `us`, `local` …).
//!
//! ```yaml
//! compliance:
//!   data_classes: [public, internal, confidential, secret]
//!   default_class: public
//!   tag_classes: {client-data: confidential}
//! ```

use std::sync::Arc;

use super::diag::Findings;
use super::values::{string, string_list};
use super::yaml::{Kind, Node};

pub const DEFAULT_CLASSES: [&str; 4] = ["public", "internal", "confidential", "secret"];

#[derive(Clone, Debug)]
pub struct Compliance {
    /// Lowest first; a class is its index here.
    pub classes: Vec<String>,
    pub default_class: usize,
    pub tag_classes: Vec<(String, usize)>,
    /// Per deployment (by `Deployment::index`): its `max_data_class`.
    pub deployment_max: Arc<[usize]>,
    /// Per deployment: its `model_info.region`, if any.
    pub deployment_region: Vec<Option<String>>,
}

impl Compliance {
    pub fn class_index(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.classes
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }

    pub fn class_name(&self, index: usize) -> &str {
        self.classes.get(index).map_or("?", String::as_str)
    }
}

/// Reads the section, and the classes of the `model_list` entries.
pub(super) fn compliance(root: &Node, f: &mut Findings) -> Compliance {
    let section = root.get("compliance").filter(|n| !n.is_null());
    let key = |k: &str| format!("compliance.{k}");
    let classes = match section.and_then(|s| s.get("data_classes")) {
        Some(node) => {
            let list = string_list(node, &key("data_classes"), f);
            if list.is_empty() {
                f.error(
                    node.line,
                    &key("data_classes"),
                    "must list at least one class, lowest first",
                );
            }
            list
        }
        None => Vec::new(),
    };
    let classes = if classes.is_empty() {
        DEFAULT_CLASSES.iter().map(|c| c.to_string()).collect()
    } else {
        classes
    };
    let mut c = Compliance {
        classes,
        default_class: 0,
        tag_classes: Vec::new(),
        deployment_max: Arc::from([]),
        deployment_region: Vec::new(),
    };
    let mut max = Vec::new();
    let named = |node: &Node, path: &str, c: &Compliance, f: &mut Findings| -> Option<usize> {
        let name = string(node, path, f)?;
        let found = c.class_index(&name);
        if found.is_none() {
            f.error(
                node.line,
                path,
                format!(
                    "{name:?} is not a data class (the classes are {})",
                    c.classes.join(", ")
                ),
            );
        }
        found
    };
    if let Some(node) = section.and_then(|s| s.get("default_class")) {
        c.default_class = named(node, &key("default_class"), &c, f).unwrap_or(0);
    }
    if let Some(node) = section.and_then(|s| s.get("tag_classes")) {
        match &node.kind {
            Kind::Map(entries) => {
                for (tag, _, class) in entries {
                    if let Some(i) = named(class, &key(&format!("tag_classes.{tag}")), &c, f) {
                        c.tag_classes.push((tag.clone(), i));
                    }
                }
            }
            _ => f.error(
                node.line,
                &key("tag_classes"),
                "must be a mapping of tag: class",
            ),
        }
    }
    if let Some(Node {
        kind: Kind::Seq(items),
        ..
    }) = root.get("model_list")
    {
        for (i, item) in items.iter().enumerate() {
            let info = item.get("model_info");
            let found = info.and_then(|m| m.get("max_data_class")).and_then(|node| {
                named(
                    node,
                    &format!("model_list[{i}].model_info.max_data_class"),
                    &c,
                    f,
                )
            });
            let region = info
                .and_then(|m| m.get("region"))
                .and_then(|node| string(node, &format!("model_list[{i}].model_info.region"), f));
            max.push(found.unwrap_or(0));
            c.deployment_region.push(region);
        }
    }
    c.deployment_max = Arc::from(max);
    c
}
