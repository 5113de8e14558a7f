//! The `pii` guardrail over OpenAI chat bodies: what is masked, blocked or
//! raises the class, and that the mapping restores the answer.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use switchyard::guardrails::pii::{
    Action, EntityType, PiiPolicy, apply, apply_to_chat_body, blocked_error, scan,
};

fn body(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

/// One real example of each entity type, and its placeholder.
const SAMPLES: &[(EntityType, &str, &str)] = &[
    (EntityType::Email, "anna.muster@treuhand.ch", "[EMAIL_1]"),
    (EntityType::Phone, "+41 44 668 18 00", "[PHONE_1]"),
    (EntityType::Phone, "079 123 45 67", "[PHONE_2]"),
    (EntityType::Iban, "CH93 0076 2011 6238 5295 7", "[IBAN_1]"),
    (EntityType::Card, "4111-1111-1111-1111", "[CARD_1]"),
    (EntityType::Ahv, "756.1234.5678.97", "[AHV_1]"),
    (EntityType::Ip, "203.0.113.9", "[IP_1]"),
    (EntityType::Ip, "2001:db8::1:0:0:1", "[IP_2]"),
];

#[test]
fn each_entity_type_is_masked_in_strings_and_text_parts() {
    let mut request = body(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Write to anna.muster@treuhand.ch or call +41 44 668 18 00."},
            {"role": "user", "content": [
                {"type": "text", "text": "Mobile 079 123 45 67, IBAN CH93 0076 2011 6238 5295 7."},
                {"type": "image_url", "image_url": {"url": "https://example.com/203.0.113.9.png"}},
                {"type": "text", "text": "Card 4111-1111-1111-1111, AHV 756.1234.5678.97, from 203.0.113.9 and 2001:db8::1:0:0:1."}
            ]}
        ]
    }));
    let outcome = apply_to_chat_body(&PiiPolicy::all(Action::Mask), &mut request);

    assert_eq!(outcome.blocked, None);
    assert_eq!(
        request["messages"][0]["content"],
        "Write to [EMAIL_1] or call [PHONE_1]."
    );
    let parts = &request["messages"][1]["content"];
    assert_eq!(parts[0]["text"], "Mobile [PHONE_2], IBAN [IBAN_1].");
    assert_eq!(
        parts[1]["image_url"]["url"], "https://example.com/203.0.113.9.png",
        "only text is scanned"
    );
    assert_eq!(
        parts[2]["text"],
        "Card [CARD_1], AHV [AHV_1], from [IP_1] and [IP_2]."
    );
    let sent = serde_json::to_string(&request).unwrap();
    for (_, value, placeholder) in SAMPLES {
        assert!(
            !sent.contains(value) || *value == "203.0.113.9",
            "{value} leaked"
        );
        assert_eq!(outcome.masked.original(placeholder), Some(*value));
    }
    assert_eq!(outcome.found[&EntityType::Phone], 2);
    assert_eq!(outcome.found[&EntityType::Ip], 2);
    assert_eq!(outcome.found.values().sum::<usize>(), SAMPLES.len());
}

#[test]
fn the_same_value_keeps_its_placeholder_across_messages() {
    let mut texts = vec![
        "From a@x.ch to b@x.ch".to_string(),
        "Reply to A@X.ch, IBAN CH9300762011623852957".to_string(),
        "or CH93 0076 2011 6238 5295 7".to_string(),
    ];
    let outcome = apply(&PiiPolicy::all(Action::Mask), &mut texts);
    assert_eq!(
        texts,
        vec![
            "From [EMAIL_1] to [EMAIL_2]",
            "Reply to [EMAIL_1], IBAN [IBAN_1]",
            "or [IBAN_1]"
        ]
    );
    assert_eq!(outcome.masked.len(), 3);
    assert_eq!(
        outcome.masked.restore("Sent [IBAN_1] to [EMAIL_2]."),
        "Sent CH9300762011623852957 to b@x.ch."
    );
}

#[test]
fn checksum_invalid_look_alikes_are_left_alone() {
    let text = "IBAN CH94 0076 2011 6238 5295 7, card 4111 1111 1111 1112, \
                AHV 756.1234.5678.96, host 256.1.1.1, ref 2001:db8::zz, \
                order 0441234 and version 1.2.3";
    assert_eq!(scan(text), vec![], "{text}");
    let mut texts = vec![text.to_string()];
    let outcome = apply(&PiiPolicy::all(Action::Mask), &mut texts);
    assert_eq!(texts[0], text);
    assert!(outcome.masked.is_empty() && outcome.found.is_empty());
}

#[test]
fn block_names_the_type_never_the_value_and_changes_nothing() {
    let mut policy = PiiPolicy::all(Action::Mask);
    policy.actions.insert(EntityType::Iban, Action::Block);
    let original = "Mail a@x.ch, pay DE89 3704 0044 0532 0130 00";
    let mut request = body(json!({"messages": [{"role": "user", "content": original}]}));
    let outcome = apply_to_chat_body(&policy, &mut request);

    assert_eq!(outcome.blocked, Some(EntityType::Iban));
    assert_eq!(
        request["messages"][0]["content"], original,
        "a refused request is not rewritten"
    );
    let error = blocked_error(EntityType::Iban);
    assert_eq!(error.status.as_u16(), 400);
    let wire = error.body().to_string();
    assert!(
        wire.contains("IBAN") && wire.contains("pii_blocked"),
        "{wire}"
    );
    assert!(!wire.contains("DE89"), "{wire}");
}

#[test]
fn raise_class_reports_the_class_and_leaves_the_text() {
    let policy = PiiPolicy {
        actions: HashMap::from([
            (EntityType::Ahv, Action::RaiseClass),
            (EntityType::Email, Action::Mask),
        ]),
        raise_to: Some("confidential".into()),
    };
    let mut texts = vec!["AHV 7561234567897 of a@x.ch".to_string()];
    let outcome = apply(&policy, &mut texts);
    assert_eq!(outcome.raise_to.as_deref(), Some("confidential"));
    assert_eq!(texts[0], "AHV 7561234567897 of [EMAIL_1]");

    let mut clean = vec!["no personal data here".to_string()];
    assert_eq!(apply(&policy, &mut clean).raise_to, None);
}

#[test]
fn entity_types_without_an_action_are_untouched() {
    let policy = PiiPolicy {
        actions: HashMap::from([(EntityType::Email, Action::Mask)]),
        raise_to: None,
    };
    let mut texts = vec!["a@x.ch from 10.1.2.3".to_string()];
    let outcome = apply(&policy, &mut texts);
    assert_eq!(texts[0], "[EMAIL_1] from 10.1.2.3");
    assert_eq!(
        outcome.found.keys().collect::<Vec<_>>(),
        vec![&EntityType::Email]
    );
}

proptest! {
    /// Masking then restoring gives back the text, whatever surrounds the
    /// entities, and no masked value remains in what the provider sees.
    #[test]
    fn mask_then_restore_round_trips(
        picks in proptest::collection::vec((0..SAMPLES.len(), "[a-z ,.!?]{0,12}"), 1..8)
    ) {
        let text: String = picks
            .iter()
            .map(|(i, filler)| format!(" {} {filler} ", SAMPLES[*i].1))
            .collect();
        let mut texts = vec![text.clone()];
        let outcome = apply(&PiiPolicy::all(Action::Mask), &mut texts);
        for (i, _) in &picks {
            prop_assert!(!texts[0].contains(SAMPLES[*i].1), "{} in {}", SAMPLES[*i].1, texts[0]);
        }
        prop_assert_eq!(outcome.masked.restore(&texts[0]), text);
    }
}
