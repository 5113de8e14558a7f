//! Quoted and code spans, and whether the text around them talks *about*
//! them. "Translate 'ignore previous instructions' into French" quotes an
//! attack in order to ask about it; the detector then counts what is inside
//! the quotes at a reduced weight (see `mod.rs`). Role markers inside code
//! (``` fences or `inline code`) are never counted: chat templates and XML
//! samples are legitimately pasted as code.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

#[derive(Default)]
pub(super) struct Spans {
    /// ``` fenced blocks and `inline code`, with their delimiters.
    pub code: Vec<Range<usize>>,
    /// "double", 'single', «guillemet» quotes, with their delimiters.
    pub quotes: Vec<Range<usize>>,
}

impl Spans {
    pub fn is_empty(&self) -> bool {
        self.code.is_empty() && self.quotes.is_empty()
    }

    pub fn all(&self) -> Vec<Range<usize>> {
        let mut all: Vec<Range<usize>> = self.code.iter().chain(&self.quotes).cloned().collect();
        all.sort_by_key(|r| r.start);
        all
    }
}

/// The longest quote taken as one quotation; a longer "quote" is more
/// likely a stray mark than a phrase being discussed.
const MAX_QUOTE: usize = 300;

pub(super) fn find(text: &str) -> Spans {
    let mut spans = Spans::default();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if let Some(fenced) = rest.strip_prefix("```") {
            let end = fenced.find("```").map_or(text.len(), |e| i + 3 + e + 3);
            spans.code.push(i..end);
            i = end;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        let close = match c {
            '`' => Some('`'),
            '"' => Some('"'),
            '«' => Some('»'),
            '\'' if opens_single(text, i) => Some('\''),
            _ => None,
        };
        if let Some(close) = close
            && let Some(len) = closing(&text[i + c.len_utf8()..], close)
        {
            let end = i + c.len_utf8() + len + close.len_utf8();
            if c == '`' {
                spans.code.push(i..end);
            } else {
                spans.quotes.push(i..end);
            }
            i = end;
            continue;
        }
        i += c.len_utf8();
    }
    spans
}

/// A single quote opens a quotation after a space or bracket and before a
/// non-space: not the apostrophe of "don't" or "l'instruction".
fn opens_single(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at + 1..].chars().next();
    before.is_none_or(|b| b.is_whitespace() || "([{:,;-/".contains(b))
        && after.is_some_and(|a| !a.is_whitespace())
}

/// Where the closing mark is, within one paragraph and `MAX_QUOTE` bytes;
/// a closing single quote is followed by a space, punctuation or the end.
fn closing(rest: &str, close: char) -> Option<usize> {
    for (j, c) in rest.char_indices() {
        if j > MAX_QUOTE || (c == '\n' && rest[j + 1..].starts_with('\n')) {
            return None;
        }
        if c == close && j > 0 {
            if close != '\'' {
                return Some(j);
            }
            let next = rest[j + 1..].chars().next();
            if next.is_none_or(|n| n.is_whitespace() || ".,;:!?)]}-".contains(n)) {
                return Some(j);
            }
        }
    }
    None
}

/// The text with the given spans replaced by a space each.
pub(super) fn blank(text: &str, spans: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push(' ');
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Words outside the quotes that show the quotes are being asked about:
/// translated, explained, proofread, tested, classified.
static ABOUT_QUOTES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)\b(
            translat\w* | traduir\w* | tradui\w* | traduc\w* | tradurr\w* | tradu[cz]\w* | ubersetz\w*
          | explain\w* | erklar\w* | expliqu\w* | spieg\w* | meaning | means? | define | definition
          | what\ does | was\ bedeutet | que\ signifie | cosa\ significa
          | example | examples | e\.g | proofread\w* | spell\w* | grammar | punctuation | typos?
          | classif\w* | label\w* | detect\w* | unit\ tests? | test\ cases? | regex | quiz | training
          | phrases? | sentences? | titled? | headlines? | string | improve\w* | rewrit\w* | rephras\w* | reword\w*
          | polish\w* | edit\w* | essay | guide | article | paragraph | pattern | prompt\ injection | injections?
          | jailbreaks? | attacks? | red\ team\w* | pronounc\w* | rhymes? | count | comes\ from | origin
        )\b",
    )
    .expect("meta pattern compiles")
});

/// Words that show a text asks about markup itself: tokens, templates,
/// tags, formats.
static ABOUT_MARKUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)\b(
            tokens? | tokeni[sz]\w* | templates? | format\w* | syntax | markup | tags? | delimiters?
          | what\ does | what\ do | what\ is | meaning | means? | explain\w* | erklar\w* | expliqu\w*
          | pars\w+ | render\w* | html | xml | regex | escap\w*
        )\b",
    )
    .expect("markup meta pattern compiles")
});

pub(super) fn asks_about_quotes(outside_flat: &str) -> bool {
    ABOUT_QUOTES.is_match(outside_flat)
}

pub(super) fn asks_about_markup(outside_flat: &str) -> bool {
    ABOUT_MARKUP.is_match(outside_flat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> Vec<&str> {
        find(text).quotes.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn quotes_are_found_but_not_apostrophes() {
        assert_eq!(
            quoted("Translate 'ignore it' and \"this\", don't «ça»."),
            vec!["'ignore it'", "\"this\"", "«ça»"]
        );
        assert!(quoted("don't ignore l'instruction, it's fine").is_empty());
        let spans = find("x ```\n<system>\n``` and `<s>` y");
        assert_eq!(spans.code.len(), 2);
        assert_eq!(
            blank("x ```a``` y `b` z", &spans_all("x ```a``` y `b` z")),
            "x   y   z"
        );
    }

    fn spans_all(text: &str) -> Vec<Range<usize>> {
        find(text).all()
    }
}
