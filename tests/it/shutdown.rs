//! SIGTERM under load loses no spend: the built binary serves 20 clients
//! that never pause; it is asked to stop mid-stream of requests; after it
//! has exited, the database holds one successful spend-log row for every
//! 200 the clients received. On SQLite and on PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard::store::Store;

use crate::support::databases::{BOTH, TestDb};
use crate::support::{MASTER_KEY, client};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
const CLIENTS: usize = 20;

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Starts `serve` on `port` with `config` and waits until it listens. Its
/// log is read to the end on a thread of its own, so that the pipe never
/// fills and stalls the server.
fn serve(config: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(config)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
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
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut log = Vec::new();
    while !log.iter().any(|l: &String| l.contains("listening on")) {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("never started: {log:?}");
        }
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            log.push(line);
        }
    }
    child
}

/// Waits for the process to exit by itself, at most `limit`.
async fn exited(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("the gateway did not exit within {limit:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_under_load_keeps_one_spend_row_per_success() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        // The writer's interval is far longer than the test: the rows that
        // reach the database are those flushed on shutdown (and any written
        // at the interval's first, immediate tick, before there are any).
        let config = std::env::temp_dir().join(format!(
            "switchyard-shutdown-{}-{:08x}.yaml",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::write(
            &config,
            format!(
                "general_settings:\n  master_key: {MASTER_KEY}\n  database_url: '{}'\n\
                 \x20 proxy_batch_write_at: 60\nmodel_list:\n  - model_name: m\n\
                 \x20   litellm_params:\n      model: mock/m\n      mock_latency_ms: 50\n\
                 \x20     input_cost_per_token: 0.000001\n      output_cost_per_token: 0.000002\n",
                db.url
            ),
        )
        .unwrap();
        let port = free_port();
        let mut child = serve(&config, port);

        let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
        let succeeded = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (url, succeeded, stop) = (url.clone(), succeeded.clone(), stop.clone());
                tokio::spawn(async move {
                    let body = json!({"model": "m",
                        "messages": [{"role": "user", "content": format!("client {i}")}]});
                    while !stop.load(Ordering::SeqCst) {
                        let sent = client()
                            .post(&url)
                            .bearer_auth(MASTER_KEY)
                            .json(&body)
                            .send();
                        match sent.await {
                            // A 200 counts once its whole body has arrived.
                            Ok(r) if r.status() == 200 => {
                                if r.bytes().await.is_ok() {
                                    succeeded.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            Ok(r) => {
                                let _ = r.bytes().await;
                            }
                            // Refused once the gateway stops listening.
                            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                })
            })
            .collect();

        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = succeeded.load(Ordering::SeqCst);
        let term = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(term.success(), "kill -TERM failed");
        let status = exited(&mut child, Duration::from_secs(20)).await;
        stop.store(true, Ordering::SeqCst);
        for c in clients {
            c.await.unwrap();
        }
        std::fs::remove_file(&config).ok();
        assert!(status.success(), "{kind:?}: exit status {status:?}");
        let succeeded = succeeded.load(Ordering::SeqCst);
        assert!(
            before >= CLIENTS,
            "{kind:?}: only {before} successes in the first second: no load"
        );

        let store = Store::open(&db.url).await.unwrap();
        let (rows,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sy_spend_logs WHERE status = 'success'")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(
            rows as usize, succeeded,
            "{kind:?}: spend-log rows against the 200s the clients saw"
        );
        store.pool.close().await;
    }
}
