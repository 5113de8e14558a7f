//! The HTTP surface: routes (each with and without `/v1`), shared state.

pub mod body;
pub mod error;
mod health;
mod management;
mod messages;
mod models;
mod router_state;
mod spend;
pub mod wire;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router as Routes;
use axum::body::Body;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use crate::accounts::Accounts;
use crate::alerts::Alerter;
use crate::audit::{AnchorOptions, AuditOptions, AuditSecret, AuditWriter};
use crate::auth::Authenticator;
use crate::config::Config;
use crate::enforce::Enforcer;
use crate::pipeline;
use crate::providers::Operation;
use crate::router::Router;
use crate::spend::{SpendWriter, WriterOptions};
use crate::store::Store;
use crate::transport::Transport;

/// Everything a request needs, built once at start-up.
pub struct Gateway {
    pub config: Config,
    pub auth: Authenticator,
    pub router: Router,
    pub transport: Transport,
    pub store: Store,
    /// Keys, teams, users, end users and budgets, in memory.
    pub accounts: Arc<Accounts>,
    /// Spend-log rows go here, never straight to the database.
    pub spend: SpendWriter,
    /// Rate limits and budgets, counted in memory.
    pub enforcer: Arc<Enforcer>,
    /// Budget alerts to the configured webhooks, sent in the background.
    pub alerter: Alerter,
    /// The tamper-evident audit log (`compliance.audit`), written in the
    /// background like spend.
    pub audit: Option<AuditWriter>,
    pub started_at: SystemTime,
}

impl Gateway {
    /// Opens the store (creating its schema on first start) and builds the
    /// in-memory state every request reads.
    pub async fn open(config: Config) -> Result<Gateway, String> {
        let store = Store::open_configured(config.storage.database_url.as_deref()).await?;
        let accounts = Arc::new(Accounts::load(&store).await?);
        accounts.spawn_refresh(store.clone(), config.storage.accounts_refresh_interval);
        let spend = SpendWriter::start(
            store.clone(),
            WriterOptions {
                interval: config.storage.batch_write_interval,
                ..WriterOptions::default()
            },
        );
        let transport = Transport::new();
        let audit = config.audit.as_ref().map(|a| {
            let options = AuditOptions {
                anchors: AnchorOptions {
                    every_records: a.anchor_every_records,
                    every: a.anchor_every,
                    file: a.anchor_file.clone(),
                    webhook: a.anchor_webhook.as_ref().map(|w| w.expose().to_string()),
                    client: Some(transport.client().clone()),
                },
                ..AuditOptions::default()
            };
            let secret = AuditSecret::new(a.secret.expose().as_bytes());
            AuditWriter::start(store.clone(), secret, options)
        });
        if let Some(audit) = &audit {
            audit.record(crate::audit::AuditEntry {
                time_ms: crate::store::accounts::now() * 1000,
                kind: crate::audit::AuditKind::ConfigLoad,
                data_class_reason: Some(format!("configuration {}", config.source)),
                ..Default::default()
            });
        }
        let enforcer = Arc::new(Enforcer::new(config.alerts.budget_alert_threshold));
        crate::enforce::seed_tag_budgets(&store, &enforcer, &config.tag_budgets).await?;
        Ok(Gateway {
            store,
            spend,
            auth: Authenticator::new(
                config.master_key.as_ref().map(|k| k.expose()),
                accounts.clone(),
            ),
            accounts,
            enforcer,
            audit,
            alerter: Alerter::new(&config.alerts, transport.client().clone()),
            transport,
            router: Router::new(&config.deployments, &config.router),
            started_at: SystemTime::now(),
            config,
        })
    }
}

pub fn routes(gw: Arc<Gateway>) -> Routes {
    let mut routes = Routes::new()
        .route("/health/liveliness", get(models::liveliness))
        .route("/health/liveness", get(models::liveliness))
        .route("/health/readiness", get(models::readiness))
        .route("/router/state", get(router_state::state))
        .route("/health", get(health::health))
        .route("/spend/logs", get(spend::logs))
        .route("/global/spend/report", get(spend::global_report));
    for prefix in ["", "/v1"] {
        routes = routes
            .route(&format!("{prefix}/chat/completions"), post(chat))
            .route(&format!("{prefix}/embeddings"), post(embeddings))
            .route(&format!("{prefix}/rerank"), post(rerank))
            .route(&format!("{prefix}/messages"), post(messages::create))
            .route(
                &format!("{prefix}/messages/count_tokens"),
                post(messages::count_tokens),
            )
            .route(&format!("{prefix}/models"), get(models::list))
            .route(
                &format!("{prefix}/models/{{*model}}"),
                get(models::retrieve),
            );
    }
    routes
        .merge(management::routes())
        .fallback(models::not_found)
        .with_state(gw)
}

/// The socket peer, as the server records it.
pub type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

pub fn peer_addr(peer: Peer) -> Option<SocketAddr> {
    peer.map(|Extension(ConnectInfo(addr))| addr)
}

async fn chat(
    State(gw): State<Arc<Gateway>>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    pipeline::handle(gw, Operation::Chat, peer_addr(peer), headers, body).await
}

async fn rerank(
    State(gw): State<Arc<Gateway>>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    pipeline::handle(gw, Operation::Rerank, peer_addr(peer), headers, body).await
}

async fn embeddings(
    State(gw): State<Arc<Gateway>>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    pipeline::handle(gw, Operation::Embeddings, peer_addr(peer), headers, body).await
}
