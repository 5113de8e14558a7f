//! The tamper-evident audit log on SQLite and PostgreSQL: the triggers
//! refuse changes, the writer chains and flushes, `switchyard audit verify`
//! names the first bad record after each kind of tampering, and
//! `switchyard audit export` hands an auditor what they need.

mod cli;
mod export;
mod seed;
mod tamper;
mod triggers;
mod writer;
