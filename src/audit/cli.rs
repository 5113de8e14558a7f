//! The work behind `switchyard audit verify` and `switchyard audit export`,
//! given an open store; `main.rs` only parses the arguments.

use std::path::Path;

use time::Date;

use super::anchor;
use super::export;
use super::verify;
use crate::store::Store;

/// A line for the operator when the log is honest; the finding as the
/// error otherwise (the command then exits 1).
pub async fn verify_command(store: &Store, anchors: Option<&Path>) -> Result<String, String> {
    let anchors = match anchors {
        Some(path) => anchor::read_file(path)?,
        None => Vec::new(),
    };
    let verified = verify::verify(store, &anchors)
        .await
        .map_err(|e| format!("reading the audit log: {e}"))?
        .map_err(|finding| format!("audit log tampered: {finding}"))?;
    Ok(format!(
        "audit log verified: {} records, head {} ({}), {} anchors checked",
        verified.records, verified.head.seq, verified.head.hash, verified.anchors
    ))
}

/// Writes the export to `out` (a file, replaced) or to standard output;
/// returns a line for the operator.
pub async fn export_command(
    store: &Store,
    from: Date,
    to: Date,
    out: Option<&Path>,
) -> Result<String, String> {
    let n = match out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            export::export(store, from, to, &mut std::io::BufWriter::new(file)).await?
        }
        None => export::export(store, from, to, &mut std::io::stdout()).await?,
    };
    Ok(format!("{n} audit records exported"))
}
