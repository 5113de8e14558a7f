//! Spend logs and reports: the background writer on SQLite and PostgreSQL,
//! `/spend/logs`, `/global/spend/report` and `switchyard report`, over the
//! seven requests of `spend/seed.rs`.

mod cli;
mod logs;
mod report;
mod seed;
mod writer;
