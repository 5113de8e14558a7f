//! `switchyard audit export`: the records of the date range, each hash
//! recomputable by an auditor from the documented recipe alone.

use serde_json::Value;
use sha2::{Digest, Sha256};
use switchyard::audit::{self, export, verify};

use super::cli::audit as run;
use super::seed::{DAY, NOV_1, TempDir, config, write_log};
use crate::support::databases::{BOTH, TestDb};

/// The hashed fields in order, as docs/audit.md lists them.
const FIELDS: [&str; 21] = [
    "seq",
    "time_ms",
    "kind",
    "request_id",
    "key_hash",
    "user_id",
    "team_id",
    "caller_addr",
    "data_class",
    "data_class_reason",
    "guardrails",
    "model_group",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "prompt_hmac",
    "response_hmac",
    "prompt_plaintext",
    "response_plaintext",
    "prev_hash",
];

/// The recipe of docs/audit.md, applied to one exported line with nothing
/// but a JSON library and SHA-256.
fn auditor_hash(line: &Value) -> String {
    let mut fields = vec![Value::from("switchyard-audit-v1")];
    fields.extend(FIELDS.iter().map(|f| line[*f].clone()));
    let digest = Sha256::digest(Value::Array(fields).to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn export_round_trips_and_verifies_independently() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let dir = TempDir::new();
        // 40 records a day apart from 2026-11-01: 30 fall in November.
        let store = write_log(&db.url, 40, &dir.0.join("anchors.jsonl")).await;
        let config = config(&dir.0, &db.url);
        let out = dir.0.join("export.jsonl");
        let done = run(&[
            "export",
            "--config",
            config.to_str().unwrap(),
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            done.status.success(),
            "{kind:?}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        let text = std::fs::read_to_string(&out).unwrap();

        // The same records as stored, November only.
        let exported = export::parse(&text).unwrap();
        let stored = audit::records(&store).await.unwrap();
        assert_eq!(exported, stored[..30], "{kind:?}");
        assert!(
            exported
                .iter()
                .all(|r| (NOV_1..NOV_1 + 30 * DAY).contains(&r.time_ms))
        );
        verify::check_segment(&exported, &[]).unwrap();

        // What an auditor recomputes: every hash, every link.
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for pair in lines.windows(2) {
            assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "{kind:?}");
        }
        for line in &lines {
            assert_eq!(
                line["hash"].as_str().unwrap(),
                auditor_hash(line),
                "{kind:?}: {line}"
            );
        }
        assert!(
            lines[0]["cost"].is_string(),
            "cost is exported as the hashed text"
        );

        // To standard output, a later range.
        let december = run(&[
            "export",
            "--config",
            config.to_str().unwrap(),
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
        ]);
        assert!(december.status.success());
        let tail = export::parse(&String::from_utf8(december.stdout).unwrap()).unwrap();
        assert_eq!(tail, stored[30..], "{kind:?}");
    }
}

#[tokio::test]
async fn a_backwards_range_is_an_error() {
    let db = TestDb::fresh(crate::support::databases::Db::Sqlite).await;
    let dir = TempDir::new();
    let config = config(&dir.0, &db.url);
    let done = run(&[
        "export",
        "--config",
        config.to_str().unwrap(),
        "--from",
        "2026-11-30",
        "--to",
        "2026-11-01",
    ]);
    assert_eq!(done.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&done.stderr).contains("before --from"));
}
