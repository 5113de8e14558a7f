//! E-mail addresses: a practical subset of RFC 5322 (dot-atoms on both
//! sides, a top-level domain of letters), which is what people type.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\b")
        .expect("e-mail pattern compiles")
});

pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    EMAIL.find_iter(text).map(|m| m.range()).collect()
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn finds_addresses_not_handles() {
        let text = "to: Anna.Muster+ch@mail.example.co.uk, not @anna or a@b or x@localhost";
        let got: Vec<&str> = find(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got, vec!["Anna.Muster+ch@mail.example.co.uk"]);
    }
}
