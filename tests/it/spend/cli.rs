//! `switchyard report`: the built binary over a seeded database.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};

use super::seed;
use crate::support::databases::{BOTH, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

/// A config in a directory of its own; `database_url` when given.
fn config(database_url: Option<&str>) -> (TempDir, PathBuf) {
    let dir = TempDir::new();
    let general = database_url
        .map(|url| format!("general_settings:\n  database_url: \"{url}\"\n"))
        .unwrap_or_default();
    let path = dir.0.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "{general}model_list:\n  - model_name: m\n    litellm_params:\n      model: mock/m\n"
        ),
    )
    .unwrap();
    (dir, path)
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "switchyard-report-{}-{:08x}",
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

fn run(args: &[&str]) -> Output {
    Command::new(BIN).arg("report").args(args).output().unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

const HEADER: &str =
    "team_id,team_alias,spend,requests,prompt_tokens,completion_tokens,total_tokens\n";

#[tokio::test]
async fn the_month_per_team_as_csv_and_json() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let (_dir, path) = config(Some(&db.url));
        let path = path.to_str().unwrap();
        let csv = stdout_of(&run(&[
            "--config", path, "--month", "2026-11", "--by", "team", "--format", "csv",
        ]));
        assert_eq!(
            csv,
            format!(
                "{HEADER}t-eng,Engineering,6,2,600,300,900\nt-mkt,Marketing,1.5,2,110,55,165\n,,0.25,1,20,10,30\n"
            ),
            "{kind:?}"
        );
        let text = stdout_of(&run(&[
            "--config", path, "--month", "2026-11", "--format", "json",
        ]));
        let rows: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            rows,
            json!([
                {"team_id": "t-eng", "team_alias": "Engineering", "spend": 6.0, "requests": 2,
                 "prompt_tokens": 600, "completion_tokens": 300, "total_tokens": 900},
                {"team_id": "t-mkt", "team_alias": "Marketing", "spend": 1.5, "requests": 2,
                 "prompt_tokens": 110, "completion_tokens": 55, "total_tokens": 165},
                {"team_id": null, "team_alias": null, "spend": 0.25, "requests": 1,
                 "prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
            ]),
            "{kind:?}"
        );
        let by_tag = stdout_of(&run(&[
            "--config", path, "--month", "2026-11", "--by", "tag",
        ]));
        assert_eq!(
            by_tag,
            "tag,spend,requests,prompt_tokens,completion_tokens,total_tokens\n\
             batch,6,2,600,300,900\nprod,5.5,3,510,255,765\nweb,1,1,100,50,150\n",
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_month_is_the_header_or_an_empty_array() {
    let db = TestDb::fresh(crate::support::databases::Db::Sqlite).await;
    seed::seeded(&db.url).await;
    let (_dir, path) = config(Some(&db.url));
    let path = path.to_str().unwrap();
    assert_eq!(
        stdout_of(&run(&["--config", path, "--month", "2025-01"])),
        HEADER
    );
    let json = stdout_of(&run(&[
        "--config", path, "--month", "2025-01", "--format", "json",
    ]));
    assert_eq!(json.trim(), "[]");
}

#[tokio::test]
async fn database_url_overrides_the_config() {
    let db = TestDb::fresh(crate::support::databases::Db::Sqlite).await;
    seed::seeded(&db.url).await;
    // No database_url: the config's own database is a new, empty file
    // beside it.
    let (dir, path) = config(None);
    let path = path.to_str().unwrap();
    let own = stdout_of(&run(&["--config", path, "--month", "2026-12"]));
    assert_eq!(own, HEADER);
    assert!(dir.0.join("switchyard.db").exists());
    let other = stdout_of(&run(&[
        "--config",
        path,
        "--database-url",
        &db.url,
        "--month",
        "2026-12",
    ]));
    assert_eq!(other, format!("{HEADER}t-eng,Engineering,16,1,1,1,2\n"));
}

#[test]
fn a_bad_month_or_grouping_is_a_usage_error() {
    for args in [
        ["--month", "2026-13", "--by", "team"],
        ["--month", "Nov-2026", "--by", "team"],
        ["--month", "2026-11", "--by", "department"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = if args[3] == "department" {
            "team, key, user"
        } else {
            "YYYY-MM"
        };
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
