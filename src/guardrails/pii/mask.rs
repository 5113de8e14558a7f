//! Placeholders for masked values (`[EMAIL_1]`, `[IBAN_2]`, …) and the
//! mapping back, so that an answer mentioning a placeholder can be restored
//! for the client. One mapping lives for one request.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::EntityType;

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[(?:EMAIL|PHONE|IBAN|CARD|AHV|IP)_[0-9]+\]")
        .expect("placeholder pattern compiles")
});

#[derive(Debug, Default, Clone)]
pub struct Mapping {
    /// (entity, normalised value) → placeholder: one value, one placeholder,
    /// however it is spelled (`CH93 0076…` and `CH930076…`).
    by_value: HashMap<(EntityType, String), String>,
    /// placeholder → the value as first seen.
    originals: HashMap<String, String>,
    counters: HashMap<EntityType, usize>,
}

impl Mapping {
    /// The placeholder for `value`, allocating the next number of its type
    /// the first time the value is seen.
    pub fn placeholder(&mut self, entity: EntityType, value: &str) -> String {
        let key = (entity, normalise(entity, value));
        if let Some(existing) = self.by_value.get(&key) {
            return existing.clone();
        }
        let n = self.counters.entry(entity).or_default();
        *n += 1;
        let placeholder = format!("[{}_{}]", entity.name(), n);
        self.by_value.insert(key, placeholder.clone());
        self.originals
            .insert(placeholder.clone(), value.to_string());
        placeholder
    }

    pub fn is_empty(&self) -> bool {
        self.originals.is_empty()
    }

    /// The number of distinct values of `entity` masked.
    pub fn count(&self, entity: EntityType) -> usize {
        self.counters.get(&entity).copied().unwrap_or(0)
    }

    /// The number of distinct masked values.
    pub fn len(&self) -> usize {
        self.originals.len()
    }

    /// The original of a placeholder, if this mapping issued it.
    pub fn original(&self, placeholder: &str) -> Option<&str> {
        self.originals.get(placeholder).map(String::as_str)
    }

    /// `text` with every placeholder this mapping issued replaced by its
    /// original; unknown placeholders (a model inventing `[EMAIL_9]`) stay.
    pub fn restore(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        PLACEHOLDER
            .replace_all(text, |c: &Captures| {
                self.original(&c[0]).unwrap_or(&c[0]).to_string()
            })
            .into_owned()
    }

    /// The longest placeholder issued: the most a stream restorer holds back.
    pub fn longest_placeholder(&self) -> usize {
        self.originals.keys().map(String::len).max().unwrap_or(0)
    }

    /// Whether `s` is the start of (or equal to) an issued placeholder.
    pub(super) fn is_placeholder_prefix(&self, s: &str) -> bool {
        self.originals.keys().any(|p| p.starts_with(s))
    }
}

fn normalise(entity: EntityType, value: &str) -> String {
    match entity {
        EntityType::Email => value.to_lowercase(),
        EntityType::Ip => value.to_ascii_lowercase(),
        _ => value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_placeholder_numbers_per_type() {
        let mut m = Mapping::default();
        assert_eq!(m.placeholder(EntityType::Email, "a@x.ch"), "[EMAIL_1]");
        assert_eq!(m.placeholder(EntityType::Email, "b@x.ch"), "[EMAIL_2]");
        assert_eq!(m.placeholder(EntityType::Email, "A@X.ch"), "[EMAIL_1]");
        assert_eq!(
            m.placeholder(EntityType::Iban, "CH93 0076 2011 6238 5295 7"),
            "[IBAN_1]"
        );
        assert_eq!(
            m.placeholder(EntityType::Iban, "CH9300762011623852957"),
            "[IBAN_1]"
        );
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn restore_replaces_known_placeholders_only() {
        let mut m = Mapping::default();
        m.placeholder(EntityType::Phone, "+41 44 668 18 00");
        assert_eq!(
            m.restore("Call [PHONE_1], not [PHONE_2] or [PHONE_1"),
            "Call +41 44 668 18 00, not [PHONE_2] or [PHONE_1"
        );
    }
}
