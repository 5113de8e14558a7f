//! The guardrail detectors of issue 7, as pure functions: PII masking,
//! blocking and class raising over chat bodies, the stream restorer and
//! scanner, and the prompt-injection detector on a labelled set.

mod injection;
mod pii;
mod stream;
