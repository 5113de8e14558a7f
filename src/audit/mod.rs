//! The tamper-evident audit log: one record per request, admin action and
//! configuration load in `sy_audit`, which the database keeps append-only
//! (triggers) and which forms a hash chain whose head is anchored outside
//! the database. Written off the request path by the [`AuditWriter`];
//! checked by `switchyard audit verify`, handed to auditors by
//! `switchyard audit export`. See docs/audit.md.

pub mod anchor;
pub mod chain;
pub mod cli;
pub mod export;
pub mod record;
mod rows;
pub mod secret;
pub mod verify;
mod writer;

pub use anchor::{Anchor, AnchorOptions};
pub use chain::{GENESIS, Head};
pub use record::{Attempt, AuditEntry, AuditKind, AuditRecord};
pub use secret::AuditSecret;
pub use verify::{Finding, verify};
pub use writer::{AuditCounters, AuditOptions, AuditWriter};

/// Every stored record, by sequence number (for tools and tests).
pub async fn records(store: &crate::store::Store) -> Result<Vec<AuditRecord>, sqlx::Error> {
    rows::all(store).await
}
