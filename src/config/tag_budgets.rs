//! Budgets per request tag (`router_settings.tag_budget_config`, in the
//! shape of LiteLLM's `provider_budget_config`): a cost centre, project or
//! customer tagged on its requests gets a budget of its own.
//!
//! ```yaml
//! router_settings:
//!   tag_budget_config:
//!     product:chat-bot: {budget_limit: 10, time_period: 1d}
//! ```

use super::diag::Findings;
use super::values::number;
use super::yaml::{Kind, Node};
use crate::limits::Period;

#[derive(Clone, Debug, PartialEq)]
pub struct TagBudget {
    pub tag: String,
    pub max_budget: f64,
    /// `time_period` (`budget_duration` also read); `None`: never resets.
    pub period: Option<Period>,
}

pub(super) fn tag_budgets(router: Option<&Node>, f: &mut Findings) -> Vec<TagBudget> {
    let key = "router_settings.tag_budget_config";
    let Some(node) = router
        .and_then(|r| r.get("tag_budget_config"))
        .filter(|n| !n.is_null())
    else {
        return Vec::new();
    };
    let Kind::Map(entries) = &node.kind else {
        f.error(
            node.line,
            key,
            "must be a mapping of tag: {budget_limit, time_period}",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (tag, line, spec) in entries {
        let path = format!("{key}.{tag}");
        let limit = spec.get("budget_limit").or_else(|| spec.get("max_budget"));
        let Some(max_budget) = limit.and_then(number).filter(|v| *v >= 0.0) else {
            f.error(
                *line,
                &path,
                "needs budget_limit: a number of dollars of at least 0",
            );
            continue;
        };
        let period = match spec
            .get("time_period")
            .or_else(|| spec.get("budget_duration"))
        {
            None => None,
            Some(p) => match &p.kind {
                Kind::Scalar(text, _) => match Period::parse(text) {
                    Ok(period) => Some(period),
                    Err(e) => {
                        f.error(p.line, &format!("{path}.time_period"), e.to_string());
                        continue;
                    }
                },
                _ => {
                    f.error(
                        p.line,
                        &format!("{path}.time_period"),
                        "must be a duration such as 1d or 1mo",
                    );
                    continue;
                }
            },
        };
        out.push(TagBudget {
            tag: tag.clone(),
            max_budget,
            period,
        });
    }
    out
}
