//! Payment card numbers: 13 to 19 digits, compact or in groups separated
//! by spaces or dashes, starting with a major network's first digit (2–6:
//! Mastercard, Amex/Diners, Visa, Mastercard, Discover/UnionPay) and passing
//! the Luhn check.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

static CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[2-6][0-9]*(?:[ -][0-9]+)*").expect("card pattern compiles"));

pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    CANDIDATE
        .find_iter(text)
        .filter(|m| super::boundary_before(text, m.start()))
        .filter_map(|m| longest_valid(text, m.start(), m.as_str()))
        .collect()
}

/// The longest run of whole groups from the candidate's start that is a
/// valid card number: a card followed by another number (`… 1111 12`) is
/// still found.
fn longest_valid(text: &str, start: usize, candidate: &str) -> Option<Range<usize>> {
    let group_ends = candidate
        .match_indices([' ', '-'])
        .map(|(i, _)| i)
        .chain([candidate.len()]);
    let mut best = None;
    for end in group_ends {
        let digits = super::digits(&candidate[..end]);
        if digits.len() > 19 {
            break;
        }
        if digits.len() >= 13 && luhn(&digits) && super::boundary_after(text, start + end) {
            best = Some(start..start + end);
        }
    }
    best
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::find;

    fn found(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn luhn_valid_cards_in_any_grouping() {
        assert_eq!(
            found("visa 4111 1111 1111 1111 ok"),
            vec!["4111 1111 1111 1111"]
        );
        assert_eq!(found("mc 5500-0000-0000-0004"), vec!["5500-0000-0000-0004"]);
        assert_eq!(found("amex 378282246310005"), vec!["378282246310005"]);
        assert_eq!(
            found("4111 1111 1111 1111 12 times"),
            vec!["4111 1111 1111 1111"]
        );
    }

    #[test]
    fn luhn_invalid_or_short_or_embedded_is_ignored() {
        assert!(found("4111 1111 1111 1112").is_empty());
        assert!(found("order 411111111111").is_empty());
        assert!(found("ref A4111111111111111").is_empty());
        assert!(found("+4111111111111111").is_empty());
        assert!(found("1111 1111 1111 1117").is_empty());
    }
}
