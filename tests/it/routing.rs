//! Routing and resilience over loopback HTTP: retries, fallbacks, cooldowns
//! and selection, against fault-injecting OpenAI mocks. Each test says what
//! the client got, how many attempts reached each upstream, and which
//! deployments cooled down.

mod choice;
mod cooldowns;
mod fallbacks;
mod faults;
mod load;
mod native;
mod precall;
mod selection;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::upstream::{Reply, Upstream, completion, script};
use crate::support::{Gateway, MASTER_KEY};

const KEY: &str = "sk-up-key";

/// A `model_list` entry for an OpenAI mock with a fixed id; `extra` is more
/// `litellm_params` lines (4-space indented).
fn entry(group: &str, id: &str, up: &Upstream, extra: &str) -> String {
    format!(
        "- model_name: {group}\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {}\n    api_key: {KEY}\n{extra}  model_info:\n    id: {id}\n",
        up.api_base
    )
}

/// A gateway with `router_settings` (2-space indented lines) and entries.
async fn gateway(router_settings: &str, entries: &[String]) -> Gateway {
    Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\nrouter_settings:\n{router_settings}model_list:\n{}",
        entries.concat()
    ))
    .await
}

fn ask(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

async fn ok(text: &'static str) -> Upstream {
    Upstream::openai(
        KEY,
        script(move |_| Reply::Json(200, completion("gpt-4o", text))),
    )
    .await
}

async fn failing(status: u16) -> Upstream {
    Upstream::openai(
        KEY,
        script(move |_| {
            Reply::Json(
                status,
                json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
            )
        }),
    )
    .await
}

/// Fails the first `n` requests with `status`, then answers.
async fn failing_first(n: usize, status: u16) -> Upstream {
    let seen = Arc::new(AtomicUsize::new(0));
    Upstream::openai(
        KEY,
        script(move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) < n {
                Reply::Json(
                    status,
                    json!({"error": {"message": "transient", "type": "server_error", "param": null, "code": null}}),
                )
            } else {
                Reply::Json(200, completion("gpt-4o", "recovered"))
            }
        }),
    )
    .await
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .unwrap_or_else(|| panic!("no {name} header in {h:?}"))
        .to_str()
        .unwrap()
}

fn text_of(body: &Value) -> &str {
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no answer: {body}"))
}
