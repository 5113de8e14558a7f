//! `switchyard mock-server`: the built-in mock provider served over HTTP as
//! an OpenAI-compatible upstream (the benchmark's "direct" target).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::post;
use axum::serve::ListenerExt;
use futures_util::StreamExt;
use tokio::net::TcpListener;

use crate::config::MockSettings;
use crate::providers::mock;

pub async fn serve(settings: MockSettings, listener: TcpListener) -> std::io::Result<()> {
    let app = Router::new()
        .route("/v1/chat/completions", post(answer))
        .route("/chat/completions", post(answer))
        .route("/v1/embeddings", post(answer))
        .route("/embeddings", post(answer))
        .with_state(Arc::new(settings));
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

async fn answer(State(settings): State<Arc<MockSettings>>, uri: Uri, body: Bytes) -> Response {
    let upstream = mock::respond(&settings, uri.path(), &body).await;
    let mut response = Response::new(Body::from_stream(
        upstream
            .body
            .map(|r| r.map_err(|e| std::io::Error::other(e.message))),
    ));
    *response.status_mut() = upstream.status;
    *response.headers_mut() = upstream.headers;
    response
}
