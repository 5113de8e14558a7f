//! Guardrails of issue 7: pure detectors the request path calls before a
//! request goes upstream (`pre_call`) and on the answer (`post_call`).
//! Nothing here does I/O; see docs/guardrails.md for the rules and figures.

pub mod answer;
pub mod injection;
pub mod openai_answer;
pub mod pii;
