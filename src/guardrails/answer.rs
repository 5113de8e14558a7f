//! What the guardrails do to an answer's text: the values the request's
//! `pii` guardrail masked are restored first (the client gets back what it
//! wrote), then the `post_call` policy masks or blocks what the answer
//! holds, the client's own values included. A whole answer is done at once;
//! a stream text by text (one [`TextGuard`] per choice or content block),
//! holding back only what a placeholder or an entity split across chunks
//! needs.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::pii::{self, Action, EntityType, Mapping, PiiPolicy, StreamRestorer, StreamScanner};

/// The request's rules for its answer; empty when there is nothing to do.
#[derive(Clone, Debug, Default)]
pub struct AnswerRules {
    /// Placeholders the request was masked with.
    pub restore: Option<Arc<Mapping>>,
    /// The `post_call` `pii` guardrails, merged (block wins over mask).
    pub post_call: Option<PiiPolicy>,
}

/// What a `post_call` guardrail found in an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub found: BTreeMap<EntityType, usize>,
    pub blocked: Option<EntityType>,
}

impl AnswerRules {
    pub fn is_empty(&self) -> bool {
        self.restore.is_none() && self.post_call.is_none()
    }

    /// Adds a `post_call` policy to those already merged.
    pub fn add_post_call(&mut self, policy: &PiiPolicy) {
        let merged = self.post_call.get_or_insert_with(PiiPolicy::default);
        for (entity, action) in &policy.actions {
            if *action == Action::RaiseClass {
                continue;
            }
            let slot = merged.actions.entry(*entity).or_insert(*action);
            if *action == Action::Block {
                *slot = Action::Block;
            }
        }
    }

    /// A whole answer's text, or the entity type that blocks it.
    pub fn whole(&self, text: &str, findings: &mut Findings) -> Result<String, EntityType> {
        let restored = match &self.restore {
            Some(mapping) => mapping.restore(text),
            None => text.to_string(),
        };
        let Some(policy) = &self.post_call else {
            return Ok(restored);
        };
        let mut texts = [restored];
        let outcome = pii::apply(policy, &mut texts);
        for (entity, n) in &outcome.found {
            *findings.found.entry(*entity).or_default() += n;
        }
        if let Some(entity) = outcome.blocked {
            findings.blocked = Some(entity);
            return Err(entity);
        }
        let [text] = texts;
        Ok(text)
    }

    /// A guard for one streamed text.
    pub fn stream(&self) -> TextGuard {
        TextGuard {
            restorer: self
                .restore
                .as_ref()
                .map(|m| StreamRestorer::new((**m).clone())),
            scanner: self.post_call.clone().map(StreamScanner::new),
        }
    }
}

/// One streamed text (a choice's content, a content block's text).
pub struct TextGuard {
    restorer: Option<StreamRestorer>,
    scanner: Option<StreamScanner>,
}

impl TextGuard {
    /// The text that can be released after `chunk`, or the entity type
    /// that blocks the answer.
    pub fn push(&mut self, chunk: &str) -> Result<String, EntityType> {
        let restored = match &mut self.restorer {
            Some(r) => r.push(chunk),
            None => chunk.to_string(),
        };
        match &mut self.scanner {
            Some(s) => s.push(&restored),
            None => Ok(restored),
        }
    }

    /// What is left when the text ends.
    pub fn finish(&mut self) -> Result<String, EntityType> {
        let rest = match &mut self.restorer {
            Some(r) => r.finish(),
            None => String::new(),
        };
        match &mut self.scanner {
            Some(s) => {
                let mut out = s.push(&rest)?;
                out.push_str(&s.finish()?);
                Ok(out)
            }
            None => Ok(rest),
        }
    }

    /// Entities the post_call policy masked so far, by type.
    pub fn masked(&self) -> BTreeMap<EntityType, usize> {
        let mut out = BTreeMap::new();
        if let Some(s) = &self.scanner {
            for entity in EntityType::ALL {
                let n = s.mapping().count(entity);
                if n > 0 {
                    out.insert(entity, n);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(restore: &[(&str, EntityType)], post: Option<Action>) -> AnswerRules {
        let mut mapping = Mapping::default();
        for (value, entity) in restore {
            mapping.placeholder(*entity, value);
        }
        AnswerRules {
            restore: (!mapping.is_empty()).then(|| Arc::new(mapping)),
            post_call: post.map(PiiPolicy::all),
        }
    }

    fn streamed(rules: &AnswerRules, chunks: &[&str]) -> Result<String, EntityType> {
        let mut guard = rules.stream();
        let mut out = String::new();
        for c in chunks {
            out.push_str(&guard.push(c)?);
        }
        out.push_str(&guard.finish()?);
        Ok(out)
    }

    #[test]
    fn restores_then_masks_what_the_answer_holds() {
        let r = rules(
            &[("anna@example.ch", EntityType::Email)],
            Some(Action::Mask),
        );
        let text = "Wrote to [EMAIL_1]; call +41 44 668 18 00.";
        let mut f = Findings::default();
        // The client's own address is in the answer too: post_call masks it.
        assert_eq!(
            r.whole(text, &mut f).unwrap(),
            "Wrote to [EMAIL_1]; call [PHONE_1]."
        );
        assert_eq!(f.found.get(&EntityType::Phone), Some(&1));
        let only_restore = rules(&[("anna@example.ch", EntityType::Email)], None);
        assert_eq!(
            only_restore.whole(text, &mut f).unwrap(),
            "Wrote to anna@example.ch; call +41 44 668 18 00."
        );
    }

    #[test]
    fn a_stream_split_anywhere_matches_the_whole_answer() {
        let r = rules(
            &[("anna@example.ch", EntityType::Email)],
            Some(Action::Mask),
        );
        let text = "Dear [EMAIL_1], pay CH93 0076 2011 6238 5295 7 or ring +41 44 668 18 00 today.";
        let whole = r.whole(text, &mut Findings::default()).unwrap();
        for size in 1..12 {
            let chunks: Vec<String> = text
                .as_bytes()
                .chunks(size)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
            assert_eq!(streamed(&r, &refs).unwrap(), whole, "chunks of {size}");
        }
    }

    #[test]
    fn block_wins_when_policies_merge() {
        let mut r = AnswerRules::default();
        r.add_post_call(&PiiPolicy::all(Action::Mask));
        let mut block_cards = PiiPolicy::default();
        block_cards.actions.insert(EntityType::Card, Action::Block);
        r.add_post_call(&block_cards);
        let text = "Card 4111 1111 1111 1111.";
        let mut f = Findings::default();
        assert_eq!(r.whole(text, &mut f), Err(EntityType::Card));
        assert_eq!(f.blocked, Some(EntityType::Card));
        assert_eq!(
            streamed(&r, &["Card 4111 11", "11 1111 1111."]),
            Err(EntityType::Card)
        );
    }
}
