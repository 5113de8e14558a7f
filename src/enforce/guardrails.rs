//! The guardrails a request passes through: those `default_on`, those its
//! key or team names (`guardrails` on `/key/generate`, `/team/new`) and
//! those the request names (`guardrails: [...]` in the body, which is the
//! gateway's and never sent upstream). On the request (`pre_call`), `pii`
//! masks, blocks or raises the data class and `prompt_injection` blocks or
//! flags; on the answer, the masked values are restored and the `post_call`
//! `pii` guardrails mask or block ([`AnswerRules`]).
//!
//! The texts looked at depend on the route's schema ([`Schema`]): OpenAI
//! chat here, Anthropic messages in `api::messages`.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::accounts::KeyEntry;
use crate::api::error::ApiError;
use crate::config::{Guardrail, GuardrailKind};
use crate::guardrails::answer::{AnswerRules, Findings};
use crate::guardrails::injection::{self, InjectionAction, Verdict};
use crate::guardrails::pii;

/// What the guardrails did to a request, and what they will do to its
/// answer.
#[derive(Debug, Default)]
pub struct Screened {
    /// For the answer: restore the masked values, apply `post_call`.
    pub answer: AnswerRules,
    /// The class a `raise_class` finding asks for.
    pub raise_to: Option<String>,
    /// Per guardrail, what it found (for the audit record).
    pub outcomes: Map<String, Value>,
}

/// Where a schema keeps the texts the guardrails read.
pub struct Schema {
    /// Every text a `pii` guardrail looks at (and may mask in place).
    pub texts: for<'b> fn(&'b mut Map<String, Value>) -> Vec<&'b mut String>,
    /// The injection verdict on the caller-controlled texts.
    pub injection: fn(&Map<String, Value>) -> Verdict,
}

/// `/v1/chat/completions` (and the other OpenAI routes, whose bodies have
/// no `messages`).
pub const OPENAI_CHAT: Schema = Schema {
    texts: pii::chat_texts,
    injection: injection::detect_in_chat_body,
};

/// A `pii` guardrail that only masks (it neither refuses nor raises).
fn masks_only(g: &Guardrail) -> bool {
    match &g.kind {
        GuardrailKind::Pii(policy) => policy.actions.values().all(|a| *a == pii::Action::Mask),
        GuardrailKind::Injection(_) => false,
    }
}

/// Runs the request's `pre_call` guardrails on `body` (in `schema`) and
/// gathers the rules for its answer.
pub fn screen(
    configured: &[Guardrail],
    key: Option<&KeyEntry>,
    body: &mut Map<String, Value>,
    schema: &Schema,
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
    let selected: Vec<&Guardrail> = configured
        .iter()
        .filter(|g| g.default_on || named(g))
        .collect();
    for g in &selected {
        if let (true, GuardrailKind::Pii(policy)) = (g.post_call, &g.kind) {
            screened.answer.add_post_call(policy);
        }
    }
    // Those that may refuse or raise the class look at the text before any
    // other masks it.
    let mut pre_call: Vec<&Guardrail> = selected.into_iter().filter(|g| g.pre_call).collect();
    pre_call.sort_by_key(|g| masks_only(g));
    for g in pre_call {
        match &g.kind {
            GuardrailKind::Pii(policy) => {
                let outcome = pii::apply_to_texts(policy, &mut (schema.texts)(body));
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
                if screened.answer.restore.is_none() && !outcome.masked.is_empty() {
                    screened.answer.restore = Some(Arc::new(outcome.masked));
                }
            }
            GuardrailKind::Injection(action) => {
                let verdict = (schema.injection)(body);
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

/// The audit record's view of what the `post_call` guardrails found:
/// `{"post_call": {"EMAIL": 1, …, "blocked": "CARD"}}`.
pub fn note_answer(outcomes: &mut Map<String, Value>, findings: &Findings) {
    if findings.found.is_empty() && findings.blocked.is_none() {
        return;
    }
    let mut found: Map<String, Value> = findings
        .found
        .iter()
        .map(|(e, n)| (e.name().to_string(), Value::from(*n)))
        .collect();
    if let Some(entity) = findings.blocked {
        found.insert("blocked".into(), Value::from(entity.name()));
    }
    outcomes.insert("post_call".into(), Value::Object(found));
}
