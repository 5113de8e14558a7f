//! The names a model is looked up by, most specific first. Upstream names
//! carry decorations the price does not depend on: a provider prefix
//! (`bedrock/…`, from wildcard groups), a Bedrock cross-region inference
//! profile (`us.`, `eu.`, `global.` …), a Bedrock version (`-v1:0`), a
//! snapshot date (`-2024-08-06`, `-20241022`, Vertex's `@20240620`) and,
//! last, Bedrock's vendor prefix (`anthropic.`), so that Claude on Bedrock
//! finds Anthropic's own entry.

use crate::providers::ProviderKind;

/// Bedrock's inference-profile prefixes: the same model, routed by region.
const REGIONS: &[&str] = &["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"];

/// Bedrock's model-vendor prefixes.
const VENDORS: &[&str] = &[
    "anthropic",
    "amazon",
    "meta",
    "cohere",
    "mistral",
    "deepseek",
    "openai",
    "qwen",
];

/// `model`, then each decoration stripped in turn (each step keeps the
/// earlier ones stripped); no name twice.
pub fn candidates(model: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(5);
    let mut push = |name: &str| {
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    let mut name = model.trim();
    push(name);
    if let Some((prefix, rest)) = name.split_once('/')
        && ProviderKind::from_prefix(prefix).is_some()
    {
        name = rest.strip_prefix("converse/").unwrap_or(rest);
        push(name);
    }
    if let Some((region, rest)) = name.split_once('.')
        && REGIONS.contains(&region)
    {
        name = rest;
        push(name);
    }
    name = strip_bedrock_version(name);
    push(name);
    name = strip_date(name);
    push(name);
    if let Some((vendor, rest)) = name.split_once('.')
        && VENDORS.contains(&vendor)
    {
        push(rest);
    }
    out
}

/// `anthropic.claude-3-5-haiku-20241022-v1:0` → `…-20241022`.
fn strip_bedrock_version(name: &str) -> &str {
    let Some((head, minor)) = name.rsplit_once(':') else {
        return name;
    };
    if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return name;
    }
    match head.rsplit_once("-v") {
        Some((model, major)) if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) => {
            model
        }
        _ => head,
    }
}

/// A trailing snapshot date: `-YYYY-MM-DD`, `-YYYYMMDD` or `@YYYYMMDD`.
fn strip_date(name: &str) -> &str {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let bytes = name.as_bytes();
    if name.len() > 11 {
        let (head, tail) = name.split_at(name.len() - 11);
        let t = tail.as_bytes();
        if t[0] == b'-'
            && t[5] == b'-'
            && t[8] == b'-'
            && digits(&tail[1..5])
            && digits(&tail[6..8])
            && digits(&tail[9..11])
        {
            return head;
        }
    }
    if name.len() > 9 {
        let at = name.len() - 9;
        if matches!(bytes[at], b'-' | b'@')
            && digits(&name[at + 1..])
            && name[at + 1..].starts_with("20")
        {
            return &name[..at];
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_stripped_last() {
        assert_eq!(
            candidates("gpt-4o-2024-08-06"),
            ["gpt-4o-2024-08-06", "gpt-4o"]
        );
        assert_eq!(
            candidates("claude-3-5-haiku-20241022"),
            ["claude-3-5-haiku-20241022", "claude-3-5-haiku"]
        );
        assert_eq!(
            candidates("claude-sonnet-4-5@20250929"),
            ["claude-sonnet-4-5@20250929", "claude-sonnet-4-5"]
        );
    }

    #[test]
    fn bedrock_profiles_and_versions() {
        assert_eq!(
            candidates("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            [
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-5-20250929",
                "anthropic.claude-sonnet-4-5",
                "claude-sonnet-4-5",
            ]
        );
        assert_eq!(
            candidates("amazon.nova-pro-v1:0"),
            ["amazon.nova-pro-v1:0", "amazon.nova-pro", "nova-pro"]
        );
        assert_eq!(
            candidates("global.anthropic.claude-haiku-4-5-20251001-v1:0")
                .last()
                .unwrap(),
            "claude-haiku-4-5"
        );
        // A version without a minor part is a model name, not a decoration.
        assert_eq!(
            candidates("cohere.embed-english-v3"),
            ["cohere.embed-english-v3", "embed-english-v3"]
        );
    }

    #[test]
    fn provider_prefixes_only_when_known() {
        assert_eq!(
            candidates("bedrock/converse/meta.llama3-3-70b-instruct-v1:0"),
            [
                "bedrock/converse/meta.llama3-3-70b-instruct-v1:0",
                "meta.llama3-3-70b-instruct-v1:0",
                "meta.llama3-3-70b-instruct",
                "llama3-3-70b-instruct",
            ]
        );
        // Groq and Together name models `openai/gpt-oss-120b`: `openai/` is a
        // provider prefix too, so the bare name is tried after the full one.
        assert_eq!(
            candidates("openai/gpt-oss-120b"),
            ["openai/gpt-oss-120b", "gpt-oss-120b"]
        );
        assert_eq!(
            candidates("meta-llama/Llama-3.3-70B-Instruct-Turbo"),
            ["meta-llama/Llama-3.3-70B-Instruct-Turbo"]
        );
    }

    #[test]
    fn names_that_only_look_dated_are_kept() {
        assert_eq!(candidates("mistral-large-2411"), ["mistral-large-2411"]);
        assert_eq!(candidates("command-r-08-2024"), ["command-r-08-2024"]);
        assert_eq!(candidates("gemini-2.5-flash"), ["gemini-2.5-flash"]);
        assert_eq!(candidates(""), Vec::<String>::new());
    }
}
