//! The official OpenAI SDKs, Python and Node, against the gateway: chat
//! with and without streaming, tool calls, embeddings, the model list and
//! the SDKs' typed errors. Each SDK runs as a child process
//! (`tests/sdk/openai_python.py`, `tests/sdk/openai_node.mjs`) while the
//! gateway serves in-process; the scripts check everything themselves and
//! exit non-zero on the first failure.
//!
//! The SDKs are installed by `scripts/install-sdks.sh` into `target/sdk`;
//! without them these tests fail and say so.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::support::{Gateway, MASTER_KEY};

/// The models the scripts expect; their names and texts are repeated at the
/// top of both scripts.
const MODELS: &str = r#"
- model_name: gpt-4o
  litellm_params:
    model: mock/gpt-4o
    mock_response: "Hello from the mock"
    mock_chunk_delay_ms: 2
- model_name: text-embedding-3-small
  litellm_params:
    model: mock/text-embedding-3-small
  model_info:
    mode: embedding
- model_name: rate-limited
  litellm_params:
    model: mock/rate-limited
    mock_error_status: 429
    mock_error_rate: 1
"#;

const TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sdk_dir() -> PathBuf {
    repo().join("target").join("sdk")
}

/// Panics unless `path` exists, pointing at the install script.
fn require_installed(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run `scripts/install-sdks.sh` first",
        path.display()
    );
}

/// The venv's Python running `tests/sdk/{script}`; other test modules use
/// it for their own SDK scripts (e.g. the OpenAI SDK against other providers).
pub fn python_script(script: &str) -> Command {
    let python = sdk_dir().join("venv").join("bin").join("python");
    require_installed(&python, "The Python SDK venv");
    let mut command = Command::new(&python);
    command.arg(repo().join("tests").join("sdk").join(script));
    command
}

/// Runs `command` against `gw` (base URL and key in `SWITCHYARD_BASE_URL`
/// and `SWITCHYARD_API_KEY`) and asserts it succeeds, showing its output.
pub async fn run_against(gw: &Gateway, mut command: Command, what: &str) {
    command
        .current_dir(repo())
        .env("SWITCHYARD_BASE_URL", gw.url("/v1"))
        .env("SWITCHYARD_API_KEY", MASTER_KEY)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // The loopback gateway must be reached directly, and nothing from the
    // developer's own OpenAI setup may leak into the SDK clients.
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_LOG",
    ] {
        command.env_remove(var);
    }
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("waiting for {what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    print!("{stdout}");
    eprint!("{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk() {
    let gw = Gateway::with_models(MODELS).await;
    run_against(
        &gw,
        python_script("openai_python.py"),
        "the OpenAI Python SDK script",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_node_sdk() {
    let node_dir = sdk_dir().join("node");
    require_installed(
        &node_dir
            .join("node_modules")
            .join("openai")
            .join("package.json"),
        "The OpenAI Node SDK",
    );
    // ESM ignores NODE_PATH: the script loads the SDK from this directory.
    let mut command = Command::new("node");
    command
        .arg(repo().join("tests").join("sdk").join("openai_node.mjs"))
        .env("SWITCHYARD_OPENAI_NODE_DIR", &node_dir)
        .env_remove("NODE_OPTIONS");
    let gw = Gateway::with_models(MODELS).await;
    run_against(&gw, command, "the OpenAI Node SDK script (`node`)").await;
}
