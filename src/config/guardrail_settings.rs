//! The `guardrails:` section, in LiteLLM's shape: a list of
//! `{guardrail_name, litellm_params: {guardrail, mode, default_on, …}}`.
//! Built in: `pii` (with `entities: {EMAIL: mask, IBAN: block, …}`,
//! `raise_to` for `raise_class`, default: mask every type) and
//! `prompt_injection` (`action: block | flag`). `mode` is `pre_call` (the
//! default; `during_call` is taken as `pre_call`), `post_call` (`pii` on the
//! answer: mask or block, streams included) or a list of both.
//!
//! ```yaml
//! guardrails:
//!   - guardrail_name: pii-mask
//!     litellm_params: {guardrail: pii, mode: pre_call, default_on: true,
//!                      entities: {EMAIL: mask, IBAN: block, AHV: raise_class}, raise_to: confidential}
//!   - guardrail_name: injection
//!     litellm_params: {guardrail: prompt_injection, mode: pre_call, action: block}
//! ```

use super::diag::Findings;
use super::values::{flag, string, string_list};
use super::yaml::{Kind, Node};
use crate::guardrails::injection::InjectionAction;
use crate::guardrails::pii::{Action, EntityType, PiiPolicy};

#[derive(Clone, Debug)]
pub struct Guardrail {
    pub name: String,
    pub default_on: bool,
    /// Runs on the request, before any provider sees it.
    pub pre_call: bool,
    /// Runs on the answer (`pii` only).
    pub post_call: bool,
    pub kind: GuardrailKind,
}

#[derive(Clone, Debug)]
pub enum GuardrailKind {
    Pii(PiiPolicy),
    Injection(InjectionAction),
}

pub(super) fn guardrails(root: &Node, f: &mut Findings) -> Vec<Guardrail> {
    let Some(node) = root.get("guardrails").filter(|n| !n.is_null()) else {
        return Vec::new();
    };
    let Kind::Seq(items) = &node.kind else {
        f.error(node.line, "guardrails", "must be a list of guardrails");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("guardrails[{i}]");
        let Some(name) = item
            .get("guardrail_name")
            .and_then(|n| string(n, &format!("{path}.guardrail_name"), f))
        else {
            f.error(item.line, &format!("{path}.guardrail_name"), "is required");
            continue;
        };
        let params = item.get("litellm_params");
        let get = |k: &str| params.and_then(|p| p.get(k)).filter(|n| !n.is_null());
        let p = |k: &str| format!("{path}.litellm_params.{k}");
        let Some((pre_call, post_call)) = modes(get("mode"), &p("mode"), f) else {
            continue;
        };
        let default_on = get("default_on")
            .and_then(|n| flag(n, &p("default_on"), f))
            .unwrap_or(false);
        let kind = match get("guardrail")
            .and_then(|n| string(n, &p("guardrail"), f))
            .as_deref()
        {
            Some("pii") | Some("presidio") => {
                GuardrailKind::Pii(pii_policy(get("entities"), get("raise_to"), &p, f))
            }
            Some("prompt_injection") | Some("detect_prompt_injection") => {
                let action = match get("action")
                    .and_then(|n| string(n, &p("action"), f))
                    .as_deref()
                {
                    None | Some("block") => InjectionAction::Block,
                    Some("flag") => InjectionAction::Flag,
                    Some(other) => {
                        f.error(
                            item.line,
                            &p("action"),
                            format!("{other:?}: use block or flag"),
                        );
                        continue;
                    }
                };
                GuardrailKind::Injection(action)
            }
            other => {
                let line = get("guardrail").map_or(item.line, |n| n.line);
                f.warn(
                    line,
                    &p("guardrail"),
                    format!(
                        "{other:?} is not a built-in guardrail (pii, prompt_injection); ignored"
                    ),
                );
                continue;
            }
        };
        if post_call
            && let GuardrailKind::Pii(policy) = &kind
            && policy.actions.values().any(|a| *a == Action::RaiseClass)
        {
            let line = get("entities").map_or(item.line, |n| n.line);
            f.warn(
                line,
                &p("entities"),
                "raise_class acts on the request only; on the answer (post_call) it does nothing",
            );
        }
        if post_call && let GuardrailKind::Injection(_) = kind {
            let line = get("mode").map_or(item.line, |n| n.line);
            f.warn(
                line,
                &p("mode"),
                "prompt_injection looks at the request only; post_call is ignored",
            );
        }
        out.push(Guardrail {
            name,
            default_on,
            pre_call,
            post_call,
            kind,
        });
    }
    out
}

/// `mode`: one name or a list; (pre_call, post_call), or `None` when the
/// guardrail has no mode acted on (it is then left out, with a warning).
fn modes(node: Option<&Node>, path: &str, f: &mut Findings) -> Option<(bool, bool)> {
    let Some(node) = node else {
        return Some((true, false));
    };
    let names: Vec<String> = match &node.kind {
        Kind::Seq(_) => string_list(node, path, f),
        _ => string(node, path, f).into_iter().collect(),
    };
    let (mut pre, mut post) = (false, false);
    for name in &names {
        match name.as_str() {
            "pre_call" | "during_call" => pre = true,
            "post_call" => post = true,
            other => f.warn(
                node.line,
                path,
                format!("{other:?} is not acted on; use pre_call, during_call or post_call"),
            ),
        }
    }
    (pre || post).then_some((pre, post))
}

fn pii_policy(
    entities: Option<&Node>,
    raise_to: Option<&Node>,
    p: &dyn Fn(&str) -> String,
    f: &mut Findings,
) -> PiiPolicy {
    let mut policy = match entities {
        None => PiiPolicy::all(Action::Mask),
        Some(_) => PiiPolicy::default(),
    };
    if let Some(Node {
        kind: Kind::Map(entries),
        ..
    }) = entities
    {
        for (entity, line, action) in entries {
            let Some(entity_type) = EntityType::parse(entity) else {
                f.error(
                    *line,
                    &p(&format!("entities.{entity}")),
                    "unknown entity: EMAIL, PHONE, IBAN, CARD, AHV or IP",
                );
                continue;
            };
            let action = match string(action, &p(&format!("entities.{entity}")), f).as_deref() {
                Some("mask") => Action::Mask,
                Some("block") => Action::Block,
                Some("raise_class") => Action::RaiseClass,
                _ => {
                    f.error(
                        *line,
                        &p(&format!("entities.{entity}")),
                        "use mask, block or raise_class",
                    );
                    continue;
                }
            };
            policy.actions.insert(entity_type, action);
        }
    }
    policy.raise_to = raise_to.and_then(|n| string(n, &p("raise_to"), f));
    policy
}

#[cfg(test)]
mod tests {
    use crate::config::build::build;

    /// (name, pre_call, post_call) of each guardrail kept, and the warnings.
    fn load(yaml: &str) -> (Vec<(String, bool, bool)>, Vec<String>) {
        let loaded = build(yaml, "g.yaml", &|_: &str| None).unwrap();
        let kept = loaded
            .config
            .guardrails
            .iter()
            .map(|g| (g.name.clone(), g.pre_call, g.post_call))
            .collect();
        let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
        (kept, warnings)
    }

    #[test]
    fn modes_are_one_name_or_a_list() {
        let (kept, warnings) = load(
            "guardrails:\n\
             - {guardrail_name: a, litellm_params: {guardrail: pii}}\n\
             - {guardrail_name: b, litellm_params: {guardrail: pii, mode: post_call}}\n\
             - {guardrail_name: c, litellm_params: {guardrail: pii, mode: [pre_call, post_call]}}\n\
             - {guardrail_name: d, litellm_params: {guardrail: pii, mode: during_call}}\n\
             - {guardrail_name: e, litellm_params: {guardrail: pii, mode: logging_only}}\n",
        );
        let expected = [
            ("a", true, false),
            ("b", false, true),
            ("c", true, true),
            ("d", true, false),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, pre, post)| (n.to_string(), *pre, *post))
            .collect();
        assert_eq!(kept, expected);
        assert_eq!(
            warnings,
            [
                "g.yaml:6: guardrails[4].litellm_params.mode: \"logging_only\" is not acted on; use pre_call, during_call or post_call"
            ]
        );
    }

    #[test]
    fn actions_that_cannot_apply_to_an_answer_are_warned_about() {
        let (_, warnings) = load(
            "guardrails:\n\
             - {guardrail_name: a, litellm_params: {guardrail: pii, mode: post_call, entities: {AHV: raise_class}}}\n\
             - {guardrail_name: b, litellm_params: {guardrail: prompt_injection, mode: post_call}}\n",
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("raise_class acts on the request only"));
        assert!(warnings[1].contains("prompt_injection looks at the request only"));
    }
}
