//! Serving a gateway on a socket until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::api::{self, Gateway};
use crate::config::Config;

/// Serves until the process is asked to stop; in-flight requests finish.
pub async fn serve(config: Config, listener: TcpListener) -> std::io::Result<()> {
    let gateway = Gateway::open(config).await.map_err(std::io::Error::other)?;
    serve_gateway(gateway, listener).await
}

/// Serves a gateway already opened (its store reachable, its schema
/// current) until the process is asked to stop.
pub async fn serve_gateway(gateway: Gateway, listener: TcpListener) -> std::io::Result<()> {
    let gateway = Arc::new(gateway);
    let app = api::routes(gateway.clone());
    let resets = crate::enforce::spawn_reset_persister(gateway.clone());
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    // Requests have finished: write every spend record they queued.
    gateway.spend.shutdown().await;
    gateway.alerter.flush().await;
    if let Some(audit) = &gateway.audit {
        audit.shutdown().await;
    }
    resets.abort();
    served
}

/// Starts serving in the background on an already bound listener; for tests
/// and embedding.
pub fn spawn(
    config: Config,
    listener: TcpListener,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    tokio::spawn(serve(config, listener))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
