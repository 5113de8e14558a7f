//! Integration tests over real HTTP on loopback, in one test binary.

mod support;

mod anthropic;
mod bad_input;
mod chat;
mod cli;
mod config_check;
mod embeddings;
mod gemini;
mod messages;
mod sdk;
mod streaming;
mod upstream_errors;
