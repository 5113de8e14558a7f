//! PII detection: each entity type has its own detector returning candidate
//! byte ranges already checked (checksums, parsers); `scan` merges them so
//! that no two findings overlap.

mod ahv;
mod card;
mod email;
mod iban;
mod ip;
mod mask;
mod phone;
mod policy;
mod stream;

use std::ops::Range;

pub use mask::Mapping;
pub use policy::{
    Action, Outcome, PiiPolicy, apply, apply_to_chat_body, apply_to_texts, blocked_error,
    chat_texts,
};
pub use stream::{SCAN_HOLD_BACK, StreamRestorer, StreamScanner};

/// The kinds of personal data the `pii` guardrail knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    Email,
    Phone,
    Iban,
    Card,
    Ahv,
    Ip,
}

impl EntityType {
    pub const ALL: [EntityType; 6] = [
        EntityType::Email,
        EntityType::Phone,
        EntityType::Iban,
        EntityType::Card,
        EntityType::Ahv,
        EntityType::Ip,
    ];

    /// The name used in placeholders, errors and configuration.
    pub fn name(self) -> &'static str {
        match self {
            EntityType::Email => "EMAIL",
            EntityType::Phone => "PHONE",
            EntityType::Iban => "IBAN",
            EntityType::Card => "CARD",
            EntityType::Ahv => "AHV",
            EntityType::Ip => "IP",
        }
    }

    /// Parses a configured name, case-insensitively (`email`, `IBAN`, …).
    pub fn parse(name: &str) -> Option<EntityType> {
        EntityType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    fn detect(self, text: &str) -> Vec<Range<usize>> {
        match self {
            EntityType::Email => email::find(text),
            EntityType::Phone => phone::find(text),
            EntityType::Iban => iban::find(text),
            EntityType::Card => card::find(text),
            EntityType::Ahv => ahv::find(text),
            EntityType::Ip => ip::find(text),
        }
    }
}

/// One detected entity: its type and where it sits in the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub entity: EntityType,
    pub range: Range<usize>,
}

/// When two detectors claim overlapping text, the more specific one wins:
/// an e-mail may hold digits, an IBAN or AHV number looks like a card or a
/// phone number, a card number like a phone number.
const PRECEDENCE: [EntityType; 6] = [
    EntityType::Email,
    EntityType::Iban,
    EntityType::Ahv,
    EntityType::Card,
    EntityType::Ip,
    EntityType::Phone,
];

/// All entities in `text`, ordered by position, never overlapping.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    for entity in PRECEDENCE {
        for range in entity.detect(text) {
            let overlaps = found
                .iter()
                .any(|f| f.range.start < range.end && range.start < f.range.end);
            if !overlaps {
                found.push(Finding { entity, range });
            }
        }
    }
    found.sort_by_key(|f| f.range.start);
    found
}

/// True when the byte before `at` (if any) is not part of a word or number,
/// so that a detector does not start in the middle of a longer token.
fn boundary_before(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric() && c != '+' && c != '_')
}

/// True when the character at `at` (if any) does not continue a token.
fn boundary_after(text: &str, at: usize) -> bool {
    text[at..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

/// The ASCII digits of `s`, as numbers.
fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(EntityType, &str)> {
        scan(text)
            .into_iter()
            .map(|f| (f.entity, &text[f.range]))
            .collect()
    }

    #[test]
    fn finds_each_type_with_its_range() {
        let text = "Mail anna.muster@example.ch, call +41 44 668 18 00, pay to \
                    CH93 0076 2011 6238 5295 7 by card 4111 1111 1111 1111; \
                    AHV 756.1234.5678.97 from 192.168.10.7 or 2001:db8::8a2e:370:7334.";
        assert_eq!(
            kinds(text),
            vec![
                (EntityType::Email, "anna.muster@example.ch"),
                (EntityType::Phone, "+41 44 668 18 00"),
                (EntityType::Iban, "CH93 0076 2011 6238 5295 7"),
                (EntityType::Card, "4111 1111 1111 1111"),
                (EntityType::Ahv, "756.1234.5678.97"),
                (EntityType::Ip, "192.168.10.7"),
                (EntityType::Ip, "2001:db8::8a2e:370:7334"),
            ]
        );
    }

    #[test]
    fn plain_prose_has_no_findings() {
        assert!(
            kinds("Version 1.2 shipped on 2024-05-01 with 3 fixes; std::fmt is fine.").is_empty()
        );
    }

    #[test]
    fn entity_names_parse_back() {
        for t in EntityType::ALL {
            assert_eq!(EntityType::parse(&t.name().to_lowercase()), Some(t));
        }
        assert_eq!(EntityType::parse("ssn"), None);
    }
}
