//! A small audit log written by the real writer, with its anchor file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use switchyard::audit::{
    AnchorOptions, Attempt, AuditEntry, AuditKind, AuditOptions, AuditSecret, AuditWriter,
};
use switchyard::store::Store;

pub const SECRET: &[u8] = b"test-audit-secret";

/// 2026-11-01T00:00:00Z in unix milliseconds.
pub const NOV_1: i64 = 1_793_491_200_000;
pub const DAY: i64 = 86_400_000;

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "switchyard-audit-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `i`-th entry: requests, an admin action and a config load, with
/// every field set somewhere.
pub fn entry(i: i64, time_ms: i64) -> AuditEntry {
    let kind = match i % 4 {
        1 => AuditKind::AdminAction,
        2 => AuditKind::ConfigLoad,
        _ => AuditKind::Request,
    };
    AuditEntry {
        time_ms,
        kind,
        request_id: Some(format!("req-{i}")),
        key_hash: Some(switchyard::spend::key_hash("sk-alpha")),
        user_id: Some("zoë@example.ch".into()),
        team_id: Some("t-fin".into()),
        caller_addr: Some("10.1.2.3".into()),
        data_class: Some("confidential".into()),
        data_class_reason: Some(r#"{"floor":"key","tag":"client-data"}"#.into()),
        guardrails: json!({"pii": {"masked": ["EMAIL"]}, "prompt_injection": "pass"}),
        model_group: Some("gpt-4o".into()),
        attempts: vec![
            Attempt {
                deployment_id: "eu-1".into(),
                region: Some("eu".into()),
                outcome: "timeout".into(),
            },
            Attempt {
                deployment_id: "local-1".into(),
                region: Some("local".into()),
                outcome: "success".into(),
            },
        ],
        prompt_tokens: 100 + i,
        completion_tokens: 20 + i,
        cost: 0.0000125 * (i + 1) as f64,
        prompt: Some(format!("prompt {i} with \"quotes\"\nand a newline")),
        response: Some(format!("answer {i}")),
        store_plaintext: i % 2 == 0,
    }
}

/// `n` entries a day apart from 2026-11-01, written by the writer with an
/// anchor every 3 records (and one at shutdown) into `anchors`.
pub async fn write_log(url: &str, n: i64, anchors: &Path) -> Store {
    let store = Store::open(url).await.unwrap();
    let writer = AuditWriter::start(
        store.clone(),
        AuditSecret::new(SECRET.to_vec()),
        AuditOptions {
            interval: Duration::from_millis(20),
            max_batch: 2,
            anchors: AnchorOptions {
                every_records: 3,
                file: Some(anchors.to_path_buf()),
                ..AnchorOptions::default()
            },
            ..AuditOptions::default()
        },
    );
    for i in 0..n {
        writer.record(entry(i, NOV_1 + i * DAY));
    }
    writer.shutdown().await;
    assert_eq!(writer.counters().written, n as u64);
    store
}

/// A config naming `url` as the database.
pub fn config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "general_settings:\n  database_url: \"{url}\"\nmodel_list:\n  - model_name: m\n    litellm_params:\n      model: mock/m\n"
        ),
    )
    .unwrap();
    path
}
