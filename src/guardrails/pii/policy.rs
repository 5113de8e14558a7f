//! What the `pii` guardrail does with what it finds: per entity type mask,
//! block or raise the request's data class. Applied to all texts of one
//! request at once so that placeholders are consistent across messages.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::{EntityType, Mapping, scan};
use crate::api::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Replace with a placeholder before the provider sees the text.
    Mask,
    /// Refuse the request (400 naming the entity type, never the value).
    Block,
    /// Leave the text; the request's data class must rise to `raise_to`.
    RaiseClass,
}

#[derive(Debug, Clone, Default)]
pub struct PiiPolicy {
    /// Entity types without an action are not acted on.
    pub actions: HashMap<EntityType, Action>,
    /// The class a `RaiseClass` finding raises the request to.
    pub raise_to: Option<String>,
}

impl PiiPolicy {
    /// The same action for every entity type.
    pub fn all(action: Action) -> PiiPolicy {
        PiiPolicy {
            actions: EntityType::ALL.into_iter().map(|t| (t, action)).collect(),
            raise_to: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Placeholders issued; `Mapping::restore` undoes them in the answer.
    pub masked: Mapping,
    /// The first entity (in text order) whose action is `Block`; when set,
    /// the texts were left unchanged.
    pub blocked: Option<EntityType>,
    /// Set when a `RaiseClass` entity was found.
    pub raise_to: Option<String>,
    /// Findings per entity type that has an action.
    pub found: BTreeMap<EntityType, usize>,
}

/// Applies `policy` to `texts` in place.
pub fn apply(policy: &PiiPolicy, texts: &mut [String]) -> Outcome {
    let mut refs: Vec<&mut String> = texts.iter_mut().collect();
    apply_to_texts(policy, &mut refs)
}

/// Applies `policy` to the message contents of an OpenAI chat request body
/// in place: string contents and the `text` of `{"type": "text"}` parts.
pub fn apply_to_chat_body(policy: &PiiPolicy, body: &mut Map<String, Value>) -> Outcome {
    apply_to_texts(policy, &mut chat_texts(body))
}

/// The message texts of an OpenAI chat request body: string contents and
/// the `text` of `{"type": "text"}` parts.
pub fn chat_texts(body: &mut Map<String, Value>) -> Vec<&mut String> {
    let mut refs: Vec<&mut String> = Vec::new();
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        for message in messages {
            match message.get_mut("content") {
                Some(Value::String(text)) => refs.push(text),
                Some(Value::Array(parts)) => {
                    for part in parts {
                        if part.get("type").and_then(Value::as_str) != Some("text") {
                            continue;
                        }
                        if let Some(Value::String(text)) = part.get_mut("text") {
                            refs.push(text);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    refs
}

/// The client-facing refusal for a blocked entity type.
pub fn blocked_error(entity: EntityType) -> ApiError {
    ApiError::param(
        "messages",
        format!(
            "Request blocked by the pii guardrail: the messages contain {} data.",
            entity.name()
        ),
    )
    .with_code("pii_blocked")
}

/// Applies `policy` to texts wherever they are, in place, with one mapping
/// for all of them.
pub fn apply_to_texts(policy: &PiiPolicy, texts: &mut [&mut String]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut to_mask = Vec::with_capacity(texts.len());
    for text in texts.iter() {
        let mut masks = Vec::new();
        for finding in scan(text) {
            let Some(&action) = policy.actions.get(&finding.entity) else {
                continue;
            };
            *outcome.found.entry(finding.entity).or_default() += 1;
            match action {
                Action::Mask => masks.push(finding),
                Action::Block => {
                    outcome.blocked.get_or_insert(finding.entity);
                }
                Action::RaiseClass => outcome.raise_to = policy.raise_to.clone(),
            }
        }
        to_mask.push(masks);
    }
    if outcome.blocked.is_some() {
        return outcome;
    }
    for (text, masks) in texts.iter_mut().zip(to_mask) {
        if masks.is_empty() {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in masks {
            out.push_str(&text[at..f.range.start]);
            out.push_str(&outcome.masked.placeholder(f.entity, &text[f.range.clone()]));
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        **text = out;
    }
    outcome
}
