//! IP addresses, validated by std's parsers. Candidates are runs of the
//! characters an address can hold; the parser decides.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

static V4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b").expect("IPv4 pattern compiles")
});
static V6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[0-9a-f:]*:[0-9a-f:.]*[0-9a-f]").expect("IPv6 pattern compiles")
});

pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    let v4 = V4
        .find_iter(text)
        .filter(|m| m.as_str().parse::<Ipv4Addr>().is_ok())
        .filter(|m| !dotted_on(&text[m.end()..]) && !dotted_on_rev(&text[..m.start()]))
        .map(|m| m.range());
    let v6 = V6
        .find_iter(text)
        .filter(|m| super::boundary_before(text, m.start()) && super::boundary_after(text, m.end()))
        .filter(|m| looks_like_address(m.as_str()) && m.as_str().parse::<Ipv6Addr>().is_ok())
        .map(|m| m.range());
    let mut all: Vec<Range<usize>> = v4.chain(v6).collect();
    all.sort_by_key(|r| r.start);
    // The IPv4 tail of a mapped IPv6 address (`::ffff:192.0.2.1`) is part of it.
    all.dedup_by(|later, earlier| later.start < earlier.end);
    all
}

/// A fifth dotted number after (`1.2.3.4.5`) makes it something else, a
/// sentence's full stop does not.
fn dotted_on(after: &str) -> bool {
    let mut chars = after.chars();
    chars.next() == Some('.') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

fn dotted_on_rev(before: &str) -> bool {
    let mut chars = before.chars().rev();
    chars.next() == Some('.') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

/// `a::b` parses as IPv6 but is far more often a path (`io::Error`) or a
/// ratio; ask for three groups, or two when one has at least three digits
/// (`fe80::1`).
fn looks_like_address(s: &str) -> bool {
    let groups: Vec<&str> = s.split(':').filter(|g| !g.is_empty()).collect();
    groups.len() >= 3 || groups.iter().any(|g| g.len() >= 3)
}

#[cfg(test)]
mod tests {
    use super::find;

    fn found(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn valid_addresses() {
        assert_eq!(
            found("from 10.0.0.1, to 192.168.1.254."),
            vec!["10.0.0.1", "192.168.1.254"]
        );
        assert_eq!(
            found("host 2001:db8:85a3::8a2e:370:7334 up"),
            vec!["2001:db8:85a3::8a2e:370:7334"]
        );
        assert_eq!(
            found("link fe80::1 and ::ffff:192.0.2.1"),
            vec!["fe80::1", "::ffff:192.0.2.1"]
        );
    }

    #[test]
    fn invalid_or_look_alike_is_ignored() {
        assert!(found("999.1.1.1 and 1.2.3.4.5 and 12:30:45").is_empty());
        assert!(found("use std::io::Error; a::b").is_empty());
        assert!(found("2001:db8::g1").is_empty());
    }
}
