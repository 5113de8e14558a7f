//! The `switchyard` binary: `config check` and `serve`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{client, read_json};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

fn write_config(text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("switchyard-test-{}.yaml", uuid_like()));
    std::fs::write(&path, text).unwrap();
    path
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), Instant::now())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

#[test]
fn config_check_prints_groups_with_secrets_masked() {
    let path = write_config(
        "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-live-abcdefghijklmnop\n      max_budget: 2\ngeneral_settings:\n  master_key: sk-master-secret-value\n",
    );
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("gpt\n    - openai/gpt-4o"), "{stdout}");
    assert!(stdout.contains("api_key: sk-...mnop"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "warning: {}:6: model_list[0].litellm_params.max_budget",
            path.display()
        )),
        "{stdout}"
    );
    assert!(
        !stdout.contains("abcdefghijkl") && !stdout.contains("master-secret"),
        "secrets leaked: {stdout}"
    );
    std::fs::remove_file(path).ok();
}

#[test]
fn config_check_fails_listing_every_error() {
    let path = write_config(
        "model_list:\n  - model_name: a\n    litellm_params: {model: bogus}\n  - model_name: b\n    litellm_params: {model: openai/x, rpm: many}\n",
    );
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 configuration errors"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:3: model_list[0].litellm_params.model",
            path.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}:5: model_list[1].litellm_params.rpm",
            path.display()
        )),
        "{stderr}"
    );
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn serve_starts_with_the_example_config_and_answers() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}", dir.join("switchyard.db").display());
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.yaml");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--config",
            example,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        // Its own database: nothing is written beside the example config.
        .env("DATABASE_URL", &database)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = Vec::new();
    while !log.iter().any(|l: &String| l.contains("listening on")) {
        assert!(Instant::now() < deadline, "never started: {log:?}");
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            log.push(line);
        }
    }
    let response = client()
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .bearer_auth("sk-1234")
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = read_json(response).await;
    child.kill().ok();
    child.wait().ok();
    assert_eq!(status, 200, "{body}");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("ping")
    );
}
