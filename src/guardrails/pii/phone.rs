//! Phone numbers, in two shapes:
//! - international (E.164 as people write it): `+`, a country code, then
//!   8 to 15 digits in all, in groups separated by one space, dot, dash or
//!   slash, with an optional trunk `(0)` (`+41 (0)44 668 18 00`);
//! - national with a trunk `0`, as in Switzerland, Germany, France, Italy
//!   and Austria (`044 668 18 00`, `030/1234567`, `06.12.34.56.78`):
//!   9 to 12 digits in all, the second digit not 0 (which would be an
//!   international `00` prefix, handled like `+`).
//!
//! Italian mobile numbers without a leading 0 (`347 123 4567`) are not
//! recognised: without a prefix they are indistinguishable from other
//! numbers.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

static INTERNATIONAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\b00)[1-9][0-9]{0,2}(?: ?\(0\))?(?:[ ./-]?[0-9]){6,14}")
        .expect("phone pattern compiles")
});
static NATIONAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b0[1-9](?:[ ./-]?[0-9]){7,10}").expect("phone pattern compiles")
});

pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    let international = INTERNATIONAL
        .find_iter(text)
        .filter(|m| (8..=17).contains(&super::digits(m.as_str()).len()));
    let national = NATIONAL
        .find_iter(text)
        .filter(|m| !text[..m.start()].ends_with(['+', '.', '/', '-']))
        .filter(|m| !date_like(m.as_str()));
    let mut all: Vec<Range<usize>> = international
        .chain(national)
        .filter(|m| super::boundary_after(text, m.end()))
        .filter(|m| !part_of_longer_number(text, m.start(), m.end()))
        .map(|m| m.range())
        .collect();
    all.sort_by_key(|r| r.start);
    // A national match may sit inside an international one (`+41 044 …`).
    all.dedup_by(|later, earlier| later.start < earlier.end);
    all
}

/// A run of digit groups inside a longer one (the tail of an IBAN whose
/// checksum failed, a reference number) is not a phone number.
fn part_of_longer_number(text: &str, start: usize, end: usize) -> bool {
    let mut before = text[..start].chars().rev();
    let mut after = text[end..].chars();
    let separated_digit = |sep: Option<char>, next: Option<char>| {
        sep.is_some_and(|c| " ./-".contains(c)) && next.is_some_and(|c| c.is_ascii_digit())
    };
    separated_digit(before.next(), before.next()) || separated_digit(after.next(), after.next())
}

/// Dotted numbers are a French habit (`06.12.34.56.78`) that never mixes
/// with other separators, while a date and a time do (`01.02.2024 10:00`).
fn date_like(s: &str) -> bool {
    s.contains('.') && s.contains([' ', '/', '-'])
}

#[cfg(test)]
mod tests {
    use super::find;

    fn found(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn international_numbers() {
        assert_eq!(found("call +41 44 668 18 00 now"), vec!["+41 44 668 18 00"]);
        assert_eq!(found("mobile +4915112345678."), vec!["+4915112345678"]);
        assert_eq!(found("+41 (0)79 123 45 67"), vec!["+41 (0)79 123 45 67"]);
        assert_eq!(found("0041 44 668 18 00"), vec!["0041 44 668 18 00"]);
        assert_eq!(found("+33 1 23 45 67 89"), vec!["+33 1 23 45 67 89"]);
    }

    #[test]
    fn national_numbers() {
        for n in [
            "044 668 18 00",
            "079 123 45 67",
            "030/1234567",
            "0151-12345678",
            "089 12 34 56 78",
            "06.12.34.56.78",
            "01 23 45 67 89",
            "02 1234 5678",
            "0612345678",
        ] {
            assert_eq!(found(&format!("Tel. {n}, danke")), vec![n], "{n}");
        }
    }

    #[test]
    fn short_numbers_and_dates_are_ignored() {
        assert!(found("on 01.02.2024 at 10").is_empty());
        assert!(found("on 01.02.2024 10:30").is_empty());
        assert!(found("room 044 668").is_empty());
        assert!(found("id 1044668180012").is_empty());
        assert!(found("+41 44").is_empty());
        assert!(found("CH94 0076 2011 6238 5295 7").is_empty());
        assert!(found("ref 12 044 668 18 00").is_empty());
    }
}
