//! The pre-call guardrails a request passes through: those `default_on`,
//! those its key or team names (`guardrails` on `/key/generate`,
//! `/team/new`) and those the request names (`guardrails: [...]` in the
//! body, which is the gateway's and never sent upstream). `pii` masks (the
//! masked values are restored in a whole answer), blocks or raises the data
//! class; `prompt_injection` blocks or flags.

use serde_json::{Map, Value};

use crate::accounts::KeyEntry;
use crate::api::error::ApiError;
use crate::config::{Guardrail, GuardrailKind};
use crate::guardrails::injection::{self, InjectionAction};
use crate::guardrails::pii::{self, Mapping};

/// What the guardrails did to a request.
#[derive(Debug, Default)]
pub struct Screened {
    /// Placeholders issued; restored in the answer.
    pub masked: Mapping,
    /// The class a `raise_class` finding asks for.
    pub raise_to: Option<String>,
    /// Per guardrail, what it found (for the audit record).
    pub outcomes: Map<String, Value>,
}

/// A `pii` guardrail that only masks (it neither refuses nor raises).
fn masks_only(g: &Guardrail) -> bool {
    match &g.kind {
        GuardrailKind::Pii(policy) => policy.actions.values().all(|a| *a == pii::Action::Mask),
        GuardrailKind::Injection(_) => false,
    }
}

pub fn screen(
    configured: &[Guardrail],
    key: Option<&KeyEntry>,
    body: &mut Map<String, Value>,
) -> Result<Screened, ApiError> {
    let asked: Vec<String> = match body.remove("guardrails") {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let mut screened = Screened::default();
    if configured.is_empty() {
        return Ok(screened);
    }
    let named = |g: &Guardrail| {
        asked.contains(&g.name)
            || key.is_some_and(|e| {
                e.key.guardrails.contains(&g.name)
                    || e.team
                        .as_ref()
                        .is_some_and(|t| t.guardrails.contains(&g.name))
            })
    };
    // Those that may refuse or raise the class look at the text before any
    // other masks it.
    let mut selected: Vec<&Guardrail> = configured
        .iter()
        .filter(|g| g.default_on || named(g))
        .collect();
    selected.sort_by_key(|g| masks_only(g));
    for g in selected {
        match &g.kind {
            GuardrailKind::Pii(policy) => {
                let outcome = pii::apply_to_chat_body(policy, body);
                if let Some(entity) = outcome.blocked {
                    return Err(pii::blocked_error(entity));
                }
                let found: Map<String, Value> = outcome
                    .found
                    .iter()
                    .map(|(e, n)| (e.name().to_string(), Value::from(*n)))
                    .collect();
                screened
                    .outcomes
                    .insert(g.name.clone(), Value::Object(found));
                screened.raise_to = screened.raise_to.or(outcome.raise_to);
                if screened.masked.is_empty() {
                    screened.masked = outcome.masked;
                }
            }
            GuardrailKind::Injection(action) => {
                let verdict = injection::detect_in_chat_body(body);
                if verdict.is_injection() && *action == InjectionAction::Block {
                    return Err(injection::blocked_error(&verdict));
                }
                let flagged = serde_json::json!({"flagged": verdict.is_injection(), "rules": verdict.matched});
                screened.outcomes.insert(g.name.clone(), flagged);
            }
        }
    }
    Ok(screened)
}
