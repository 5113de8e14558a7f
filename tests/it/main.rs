//! Integration tests over real HTTP on loopback, in one test binary.

mod support;

mod alerts;
mod anthropic;
mod audit;
mod bad_input;
mod bedrock;
mod chat;
mod cli;
mod cohere;
mod compliance;
mod config_check;
mod cost;
mod embeddings;
mod enforcement;
mod gemini;
mod guardrails;
mod management;
mod messages;
mod ollama;
mod params;
mod routing;
mod sdk;
mod shutdown;
mod spend;
mod storage;
mod streaming;
mod upstream_errors;
