//! Swiss social security numbers (AHV/AVS, since 2008): 13 digits starting
//! with the country prefix 756, written `756.1234.5678.97` (dots, spaces or
//! compact); the last digit is an EAN-13 check digit.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b756[. ]?[0-9]{4}[. ]?[0-9]{4}[. ]?[0-9]{2}\b").expect("AHV pattern compiles")
});

pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    CANDIDATE
        .find_iter(text)
        .filter(|m| ean13(&super::digits(m.as_str())))
        .map(|m| m.range())
        .collect()
}

/// EAN-13: digits weighted 1, 3, 1, … from the left; the check digit brings
/// the sum to a multiple of ten.
fn ean13(digits: &[u32]) -> bool {
    let sum: u32 = digits[..12]
        .iter()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10 == digits[12]
}

#[cfg(test)]
mod tests {
    use super::find;

    fn found(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn valid_numbers_in_each_notation() {
        assert_eq!(found("AHV 756.1234.5678.97"), vec!["756.1234.5678.97"]);
        assert_eq!(found("AVS 7561234567897"), vec!["7561234567897"]);
        assert_eq!(found("756 9217 0769 85"), vec!["756 9217 0769 85"]);
    }

    #[test]
    fn wrong_check_digit_is_ignored() {
        assert!(found("756.1234.5678.96").is_empty());
        assert!(found("757.1234.5678.97").is_empty());
    }
}
