//! `switchyard audit export --from --to`: the records of a date range as
//! JSON Lines, one [`AuditRecord`] per line with every hashed field under
//! its own name (docs/audit.md gives the format and the hash recipe), so
//! that an auditor can recompute each hash and follow each link without
//! our code.

use std::io::Write;

use time::Date;

use super::record::AuditRecord;
use super::rows;
use crate::spend::dates::start_of;
use crate::store::Store;

const DAY_MS: i64 = 86_400_000;

/// Writes the records from the start of `from` to the end of `to` (UTC,
/// both days included), by sequence number; returns how many.
pub async fn export(
    store: &Store,
    from: Date,
    to: Date,
    out: &mut impl Write,
) -> Result<usize, String> {
    if to < from {
        return Err(format!("--to {to} is before --from {from}"));
    }
    let records = rows::between(store, start_of(from), start_of(to) + DAY_MS)
        .await
        .map_err(|e| format!("reading the audit log: {e}"))?;
    for r in &records {
        let line =
            serde_json::to_string(r).map_err(|e| format!("encoding record {}: {e}", r.seq))?;
        writeln!(out, "{line}").map_err(|e| format!("writing the export: {e}"))?;
    }
    out.flush()
        .map_err(|e| format!("writing the export: {e}"))?;
    Ok(records.len())
}

/// The records of an export, in file order; a line that does not parse is
/// an error naming its line number.
pub fn parse(text: &str) -> Result<Vec<AuditRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| format!("line {}: not a record: {e}", i + 1))
        })
        .collect()
}
