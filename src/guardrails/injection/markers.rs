//! Role-marker smuggling and fake delimiters: chat-template tokens, forged
//! `system:`/`assistant:` turns, role tags and "end of user input" lines
//! inside text a caller controls. Read from the folded text with code spans
//! removed (a chat template pasted as code is documentation). Most markers
//! are weak (0.5): `[INST]` appears in documentation, `</s>` is HTML
//! strike-through, `SYSTEM:` starts lines of bug reports; they count when a
//! second signal joins them.

use std::sync::LazyLock;

use regex::Regex;

use super::Found;

const RULES: &[(&str, f32, &str)] = &[
    // <|im_start|>, <|system|>, <|eot_id|>, <|endoftext|> …
    ("role_marker_chatml", 1.0, r"<\|\s*[A-Za-z_]{2,24}\s*\|>"),
    ("role_marker_llama", 0.5, r"\[/?INST\]|<</?SYS>>"),
    ("role_marker_eos", 0.5, r"</s>"),
    (
        "role_marker_heading",
        1.0,
        r"(?im)^[ \t]*#{1,6}[ \t]*(system|assistant)([ \t]+(prompt|message|instructions?))?[ \t]*:",
    ),
    (
        "role_marker_template",
        0.5,
        r"(?im)^[ \t]*#{2,4}[ \t]*(instruction|response|input|human|user)[ \t]*:?[ \t]*$",
    ),
    // A forged assistant turn that starts to comply.
    (
        "role_marker_fake_reply",
        1.0,
        r"(?im)^[ \t]*assistant[ \t]*:[ \t]*(sure|of course|certainly|absolutely|here (is|are)|ok(ay)?\b|yes\b|i will|i'll|understood|no problem)|\[/INST\]\s*(sure|ok|okay|certainly|of course|absolutely|yes)\b",
    ),
    (
        "role_marker_line",
        0.5,
        r"(?im)^[ \t>*_\[(]*(system|assistant|human|developer|sys)([ \t]+(message|prompt|note|notice|update|override|instructions?))?[ \t*_\])]*:",
    ),
    (
        "role_marker_tag",
        0.5,
        r"(?i)</?(system|system_prompt|systemprompt|assistant|admin|administrator|developer|instructions?|sys|root)>|\[\s*(system|assistant|admin|administrator|developer|sys|root)(\s+(override|message|note|prompt|instructions?|command|update|alert))?\s*[\]:]",
    ),
    (
        "role_marker_json",
        0.5,
        r#"(?i)["']role["']\s*:\s*["'](system|assistant|developer)["']"#,
    ),
    // The end of the user's text, faked, so that what follows looks like
    // the application speaking.
    (
        "fake_delimiter",
        0.5,
        r"(?im)^\W*(end of|end|ende|fin)( the| de la| du)?( user| customer| human| client)?( input| message| text| query| prompt| document| email| e-mail| data| context| conversation| instructions| transcript| file)\W*$|(?i)\b(user|customer|human|client) (input|message|text|query|prompt) (ends|ended|is over|is finished|stops) here\b|(?i)</(user|user_input|input|document|context|email|data|query|user_query|human)>|(?im)^\s*[-=#*_~]{3,}\s*(end|ende|fin|stop)\b",
    ),
];

static COMPILED: LazyLock<Vec<(&'static str, f32, Regex)>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|&(name, weight, pattern)| {
            (
                name,
                weight,
                Regex::new(pattern).expect("marker rules compile"),
            )
        })
        .collect()
});

/// Adds each marker found, its weight times `factor` (lowered when the
/// text asks about markup).
pub(super) fn scan(text_without_code: &str, factor: f32, found: &mut Found) {
    for (name, weight, re) in COMPILED.iter() {
        if re.is_match(text_without_code) {
            found.add(name, weight * factor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(text: &str) -> Vec<&'static str> {
        let mut found = Found::default();
        scan(text, 1.0, &mut found);
        found.0.into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn markers_are_recognised() {
        assert_eq!(markers("a <|im_start|>system"), ["role_marker_chatml"]);
        assert_eq!(
            markers("x\n\nAssistant: Sure, here"),
            ["role_marker_fake_reply", "role_marker_line"]
        );
        assert_eq!(markers("-----END USER MESSAGE-----"), ["fake_delimiter"]);
        assert_eq!(markers("[SYSTEM OVERRIDE] now"), ["role_marker_tag"]);
        assert_eq!(
            markers("### System requirements\n- 4 GB"),
            Vec::<&str>::new()
        );
        assert_eq!(markers("<system-out>ok</system-out>"), Vec::<&str>::new());
    }
}
