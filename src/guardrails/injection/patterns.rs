//! The rules of the prompt-injection heuristic: (name, weight, pattern).
//! A text whose matched weights add up to `THRESHOLD` counts as an attack;
//! weaker signals (a lone `</s>`, a `system:` line) weigh half, so that they
//! need a second signal. All patterns are case-insensitive.

/// The score at which a text counts as an injection attempt.
pub const THRESHOLD: f32 = 1.0;

pub(super) const RULES: &[(&str, f32, &str)] = &[
    // Instruction override: "ignore all previous instructions" and kin. The
    // object must be instructions/rules/prompt, so "ignore the previous
    // paragraph's typo" is left alone.
    (
        "override_previous_instructions",
        1.0,
        r"\b(ignore|disregard|forget|override|bypass|skip|discard|drop|abandon)\s+(all\s+|any\s+|every\s+)?(of\s+)?(the\s+|your\s+|my\s+)?(previous|prior|above|earlier|preceding|former|original|initial|existing)\s+(\w+\s+)?(instructions?|prompts?|rules|directions|directives|guidelines|commands|context)\b",
    ),
    (
        "override_all_instructions",
        1.0,
        r"\b(ignore|disregard|forget|bypass|discard)\s+(all|any|every)\s+(of\s+)?(your\s+|the\s+)?(instructions?|rules|guidelines|restrictions|safety)",
    ),
    (
        "override_system_prompt",
        1.0,
        r"\b(ignore|disregard|forget|override|bypass)\s+(\w+\s+){0,2}(system\s+(prompt|message|instructions?)|guardrails|content\s+polic(y|ies))",
    ),
    (
        "exfiltrate_system_prompt",
        1.0,
        r"\b(reveal|print|repeat|leak|output|show|tell)\s+(me\s+)?(your|the)\s+(full\s+|entire\s+|exact\s+)?(system|initial|original|hidden|secret)\s+(prompt|instructions|message)",
    ),
    (
        "new_instructions",
        1.0,
        r"\b(new|updated|real|actual|true)\s+(instructions|system\s+prompt)\s*:|\byour\s+(new|real|true)\s+(instructions|task|purpose|goal)\s+(is|are)\b",
    ),
    // Personas: DAN ("do anything now") and unrestricted alter egos; the
    // text must address the model ("you"), so "imagine a world without
    // rules" is a thought experiment, not a persona.
    (
        "persona_dan",
        1.0,
        r"\b(you\s+are|you're|act\s+as|pretend\s+to\s+be|du\s+bist|tu\s+es|sei)\s+(now\s+|jetzt\s+|maintenant\s+|ora\s+)?(a\s+)?DAN\b|\bdo\s+anything\s+now\b",
    ),
    (
        "persona_unrestricted",
        1.0,
        r"\b(pretend|imagine|act\s+as\s+if|behave\s+as\s+if|from\s+now\s+on)\b.{0,20}\b(you|to\s+be)\b.{0,60}\b(no|without|free\s+of|free\s+from)\s+(any\s+)?(restrictions|limitations|limits|rules|filters|guidelines|censorship|ethics|ethical)|\byou\s+are\s+(now\s+)?(an?\s+)?(unrestricted|unfiltered|uncensored|jailbroken|amoral)\b",
    ),
    (
        "developer_mode",
        1.0,
        r"\b(act|respond|operate|answer|now)\s+(as|in|with)\s+(\w+\s+){0,2}(developer|god|jailbreak|sudo)\s+mode\b|\b(enter|enable|activate|switch\s+to)\s+(\w+\s+)?(god|jailbreak|dan|unrestricted)\s+mode\b|\b(developer|god|jailbreak)\s+mode\s+(enabled|activated|is\s+now\s+on)\b",
    ),
    (
        "override_above",
        1.0,
        r"\b(ignore|disregard|forget|discard|set\s+aside)\s+(all\s+|everything\s+)?(of\s+)?(the\s+)?(above|everything\s+(above|before|you\s+(were|have\s+been)\s+told))",
    ),
    (
        "instructions_void",
        1.0,
        r"\b(previous|prior|earlier|above|old)\s+(instructions|prompts|rules)\s+(are|is)\s+(now\s+)?(void|cancelled|canceled|null|invalid|obsolete|revoked)",
    ),
    (
        "disable_safety",
        1.0,
        r"\b(drop|disable|remove|turn\s+off|deactivate|switch\s+off)\s+(all\s+|your\s+|any\s+)+(safety|content|ethical)\s+(measures|filters|guidelines|rules|restrictions|protocols)",
    ),
    (
        "exfiltrate_context",
        1.0,
        r"\b(what\s+(was|is)\s+written|repeat|quote|print|output)\b.{0,40}\b(beginning|start|top)\s+of\s+(this|the|our)\s+(conversation|chat|prompt|context)",
    ),
    // An acronym persona in capitals ("you are now STAN"), DAN's many clones.
    (
        "persona_acronym",
        1.0,
        r"\byou\s+are\s+now\s+(?-i:[A-Z]{3,})\b",
    ),
    // German, French and Italian versions of the most common overrides.
    (
        "override_de",
        1.0,
        r"\b(ignoriere|ignorier|vergiss|missachte|übergehe)\s+(\w+\s+){0,2}(anweisungen|instruktionen|befehle|regeln|vorgaben|systemanweisung|systemprompt)\b|\btu\s+so,?\s+als\s+(ob\s+du\s+keine|hättest\s+du\s+keine)\s+(einschränkungen|regeln|grenzen)",
    ),
    (
        "override_fr",
        1.0,
        r"\b(ignore|ignorez|oublie|oubliez)\s+(toutes\s+)?(les|tes|vos)\s+(instructions|consignes|règles)(\s+(précédentes|antérieures))?\b|\bfais\s+comme\s+si\s+tu\s+n'avais\s+(aucune|pas\s+de)\s+(restriction|limite|règle)",
    ),
    (
        "override_it",
        1.0,
        r"\b(ignora|dimentica)\s+(tutte\s+)?(le\s+)?(tue\s+)?(istruzioni|regole)\b|\bfai\s+finta\s+di\s+non\s+avere\s+(alcuna\s+|nessuna\s+)?(restrizion|limit|regol)",
    ),
    // Role-marker smuggling: chat-template tokens inside user content.
    (
        "role_marker_chatml",
        1.0,
        r"<\|(im_start|im_end|system|endoftext|start_header_id|end_header_id|eot_id)\|>",
    ),
    // `[INST]` alone is ordinary bracketed text in documentation.
    ("role_marker_inst", 0.5, r"\[/?INST\]"),
    ("role_marker_sys", 0.5, r"<</?SYS>>"),
    ("role_marker_eos", 0.5, r"</s>"),
    (
        "role_marker_heading",
        1.0,
        r"(?m)^[ \t]*#{1,6}[ \t]*(system|assistant)([ \t]+(prompt|message))?[ \t]*:",
    ),
    // A forged assistant turn that starts to comply.
    (
        "role_marker_fake_reply",
        1.0,
        r"(?m)^[ \t]*assistant[ \t]*:[ \t]*(sure|of\s+course|certainly|absolutely|here\s+is|ok)\b",
    ),
    (
        "role_marker_line",
        0.5,
        r"(?m)^[ \t]*(system|assistant)[ \t]*:",
    ),
];
