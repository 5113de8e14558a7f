//! IBANs (ISO 13616): country code, two check digits, the national part;
//! printed compact or in groups of four. A candidate counts only when its
//! length is the one registered for its country and the mod-97 check holds.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

// Uppercase only: lowercase look-alikes are rare and the gain in false
// positives on ordinary words is not worth it.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b").expect("IBAN pattern compiles")
});

/// IBAN lengths by country, from the SWIFT IBAN registry.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    CANDIDATE
        .find_iter(text)
        .filter_map(|m| valid_prefix(m.as_str()).map(|len| m.start()..m.start() + len))
        .collect()
}

/// The byte length of the IBAN at the start of `candidate`, if any. The
/// pattern may have swallowed a following group (`… 5295 7 AB12`), so the
/// country's registered length decides where the IBAN ends.
fn valid_prefix(candidate: &str) -> Option<usize> {
    let want = LENGTHS
        .iter()
        .find(|(cc, _)| candidate.starts_with(cc))
        .map(|&(_, len)| len)?;
    let mut compact = String::with_capacity(want);
    let mut end = 0;
    for (i, c) in candidate.char_indices() {
        if c == ' ' {
            continue;
        }
        compact.push(c);
        end = i + c.len_utf8();
        if compact.len() == want {
            break;
        }
    }
    let ends_cleanly = candidate[end..].chars().next().is_none_or(|c| c == ' ');
    (compact.len() == want && ends_cleanly && mod97(&compact) == 1).then_some(end)
}

/// ISO 7064 MOD 97-10 over the rearranged IBAN (letters as 10..35).
fn mod97(iban: &str) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.chars().chain(head.chars()).fold(0, |acc, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    use super::find;

    fn found(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn valid_ibans_spaced_or_compact() {
        assert_eq!(
            found("IBAN CH93 0076 2011 6238 5295 7."),
            vec!["CH93 0076 2011 6238 5295 7"]
        );
        assert_eq!(
            found("DE89370400440532013000"),
            vec!["DE89370400440532013000"]
        );
        assert_eq!(
            found("GB82 WEST 1234 5698 7654 32"),
            vec!["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(
            found("FR14 2004 1010 0505 0001 3M02 606"),
            vec!["FR14 2004 1010 0505 0001 3M02 606"]
        );
    }

    #[test]
    fn checksum_or_length_wrong_is_ignored() {
        assert!(found("CH94 0076 2011 6238 5295 7").is_empty());
        assert!(found("DE89370400440532013001").is_empty());
        assert!(found("DE8937040044053201300").is_empty());
        assert!(found("ZZ89370400440532013000").is_empty());
    }

    #[test]
    fn a_following_group_is_not_swallowed() {
        let text = "CH93 0076 2011 6238 5295 7 AB12 and more";
        assert_eq!(found(text), vec!["CH93 0076 2011 6238 5295 7"]);
    }
}
