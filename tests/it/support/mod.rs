//! Test support: the gateway served in-process on a loopback port, and
//! upstream mocks that follow each provider's documented HTTP API.

pub mod anthropic_api;
pub mod bedrock_api;
pub mod cohere_api;
pub mod databases;
pub mod google_api;
pub mod ollama_api;
pub mod upstream;

use std::net::SocketAddr;

use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub const MASTER_KEY: &str = "sk-test-master-1234";

/// A gateway serving `yaml` on 127.0.0.1 for the life of the value.
pub struct Gateway {
    pub addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl Gateway {
    pub async fn start(yaml: &str) -> Gateway {
        let loaded =
            switchyard::config::load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = switchyard::server::spawn(loaded.config, listener);
        Gateway { addr, task }
    }

    /// A gateway with the master key set and the given `model_list` entries.
    pub async fn with_models(model_list: &str) -> Gateway {
        Gateway::start(&format!(
            "general_settings:\n  master_key: {MASTER_KEY}\nmodel_list:\n{model_list}"
        ))
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends JSON with the master key; the response is the caller's to read.
    pub async fn send(&self, path: &str, body: &Value) -> reqwest::Response {
        client()
            .post(self.url(path))
            .bearer_auth(MASTER_KEY)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// POSTs JSON with the master key and returns status, headers and JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, HeaderMap, Value) {
        read_json(self.send(path, body).await).await
    }

    /// POSTs a streaming request and returns status, headers and the raw body.
    pub async fn post_stream(&self, path: &str, body: &Value) -> (u16, HeaderMap, String) {
        let response = self.send(path, body).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    /// GETs with the given key (none: no auth header) and reads JSON.
    pub async fn get(&self, path: &str, key: Option<&str>) -> (u16, HeaderMap, Value) {
        let mut request = client().get(self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        read_json(request.send().await.unwrap()).await
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One client per test thread (each test has its own runtime, and pooled
/// connections must not outlive theirs); building one loads the CA roots.
pub fn client() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = {
            switchyard::transport::install_tls_provider();
            reqwest::Client::builder().no_proxy().build().unwrap()
        };
    }
    CLIENT.with(Clone::clone)
}

pub async fn read_json(response: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, headers, json)
}

/// The `data:` payloads of an SSE body, in order.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

/// Asserts an OpenAI-shaped error body and returns its `error` object.
pub fn error_of(body: &Value) -> &Value {
    let e = body
        .get("error")
        .unwrap_or_else(|| panic!("no error object in {body}"));
    assert!(
        e["message"].is_string(),
        "error.message must be a string: {body}"
    );
    assert!(e["type"].is_string(), "error.type must be a string: {body}");
    assert!(
        e.get("param").is_some() && e.get("code").is_some(),
        "param and code must be present: {body}"
    );
    e
}
