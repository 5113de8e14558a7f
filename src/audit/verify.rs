//! `switchyard audit verify`: recompute the chain and hold it against the
//! anchors; name the first record that is not what was written.
//!
//! Walking the records by sequence number, the first of these decides:
//! a gap in the numbers (records deleted); a record whose `prev_hash` is
//! not its predecessor's hash (reordered when it names a later record,
//! inserted when its predecessor does not belong, else the chain is broken
//! there); a record whose content no longer gives its hash (modified).
//! Then each anchor: a sequence number beyond the last record (the tail was
//! cut off), or a record whose hash differs from the anchored one (the log
//! was rewritten up to it, hashes and all).

use std::collections::HashMap;
use std::fmt;

use super::anchor::Anchor;
use super::chain::{GENESIS, Head, hash_of};
use super::record::AuditRecord;
use super::rows;
use crate::store::Store;

/// What an honest log looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub records: usize,
    pub head: Head,
    pub anchors: usize,
}

/// The first thing wrong with the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Records `first..=last` are missing.
    Deleted { first: i64, last: i64 },
    /// The record's content does not give its hash.
    Modified { seq: i64 },
    /// The record does not belong in the chain.
    Inserted { seq: i64 },
    /// The record follows a record that comes after it.
    Reordered { seq: i64 },
    /// The record does not follow its predecessor, for no reason the chain
    /// can tell: the predecessor was rewritten, or this one forged.
    Broken { seq: i64 },
    /// An anchor names a record beyond the last one: the tail is gone.
    Truncated { last: i64, anchored: i64 },
    /// The record at an anchored number is not the anchored one: the log
    /// was rewritten (hashes recomputed) after `after`, up to `seq`.
    AnchorMismatch { seq: i64, after: i64 },
}

impl Finding {
    /// The first record that is not what was written.
    pub fn first_bad(&self) -> i64 {
        match *self {
            Finding::Deleted { first, .. } => first,
            Finding::Modified { seq }
            | Finding::Inserted { seq }
            | Finding::Reordered { seq }
            | Finding::Broken { seq } => seq,
            Finding::Truncated { last, .. } => last + 1,
            Finding::AnchorMismatch { after, .. } => after + 1,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Finding::Deleted { first, last } if first == last => {
                write!(f, "record {first} was deleted (missing from the sequence)")
            }
            Finding::Deleted { first, last } => write!(
                f,
                "records {first} to {last} were deleted (missing from the sequence)"
            ),
            Finding::Modified { seq } => write!(
                f,
                "record {seq} was modified: its content no longer matches its hash"
            ),
            Finding::Inserted { seq } => write!(
                f,
                "record {seq} was inserted: the record after it follows the one before it"
            ),
            Finding::Reordered { seq } => write!(
                f,
                "record {seq} was reordered: it follows a record that now comes after it"
            ),
            Finding::Broken { seq } => write!(
                f,
                "record {seq} does not follow the record before it: it was inserted, or its predecessor was rewritten"
            ),
            Finding::Truncated { last, anchored } => write!(
                f,
                "the log was truncated: it ends at record {last}, but an anchor names record {anchored}; records {} to {anchored} were deleted",
                last + 1
            ),
            Finding::AnchorMismatch { seq, after } => write!(
                f,
                "the log was rewritten, hashes and all, between record {} and record {seq}: record {seq} does not match its anchor",
                after + 1
            ),
        }
    }
}

/// Reads the log and checks it against `anchors`. The outer error is the
/// database's; the inner one the log's.
pub async fn verify(
    store: &Store,
    anchors: &[Anchor],
) -> Result<Result<Verified, Finding>, sqlx::Error> {
    let records = rows::all(store).await?;
    Ok(check(&records, anchors))
}

/// Checks `records` (sorted by seq, as stored or as exported from the first
/// record on) against `anchors`.
pub fn check(records: &[AuditRecord], anchors: &[Anchor]) -> Result<Verified, Finding> {
    check_from(records, anchors, true)
}

/// Like [`check`], for a part of the log (an export of a date range): its
/// first record is taken as the start, whatever its number and `prev_hash`.
pub fn check_segment(records: &[AuditRecord], anchors: &[Anchor]) -> Result<Verified, Finding> {
    check_from(records, anchors, false)
}

fn check_from(
    records: &[AuditRecord],
    anchors: &[Anchor],
    whole: bool,
) -> Result<Verified, Finding> {
    check_chain(records, whole)?;
    let head = records.last().map_or_else(Head::genesis, |r| Head {
        seq: r.seq,
        hash: r.hash.clone(),
    });
    check_anchors(records, anchors, &head)?;
    Ok(Verified {
        records: records.len(),
        head,
        anchors: anchors.len(),
    })
}

fn check_chain(records: &[AuditRecord], whole: bool) -> Result<(), Finding> {
    let position: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.hash.as_str(), i))
        .collect();
    for (i, r) in records.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| &records[j]);
        let (expected_seq, expected_prev) = match before {
            Some(p) => (p.seq + 1, p.hash.as_str()),
            None if whole => (1, GENESIS),
            None => (r.seq, r.prev_hash.as_str()),
        };
        if r.seq > expected_seq {
            return Err(Finding::Deleted {
                first: expected_seq,
                last: r.seq - 1,
            });
        }
        if r.seq < expected_seq {
            // A number used twice (possible in an export, not in the table).
            return Err(Finding::Inserted { seq: r.seq });
        }
        if r.prev_hash != expected_prev {
            return Err(match (position.get(r.prev_hash.as_str()), before) {
                (Some(&j), _) if j > i => Finding::Reordered { seq: r.seq },
                (Some(&j), _) if j < i => Finding::Inserted {
                    seq: records[j + 1].seq,
                },
                (None, Some(p)) if p.prev_hash == r.prev_hash => Finding::Inserted { seq: p.seq },
                _ => Finding::Broken { seq: r.seq },
            });
        }
        if hash_of(r) != r.hash {
            return Err(Finding::Modified { seq: r.seq });
        }
    }
    Ok(())
}

fn check_anchors(records: &[AuditRecord], anchors: &[Anchor], head: &Head) -> Result<(), Finding> {
    let first = records.first().map_or(1, |r| r.seq);
    let mut sorted: Vec<&Anchor> = anchors.iter().collect();
    sorted.sort_by_key(|a| a.seq);
    let mut after = 0;
    for a in sorted {
        if a.seq > head.seq {
            return Err(Finding::Truncated {
                last: head.seq,
                anchored: a.seq,
            });
        }
        // An export may start later than the anchor; nothing to hold it to.
        let Some(r) = usize::try_from(a.seq - first)
            .ok()
            .and_then(|i| records.get(i))
        else {
            continue;
        };
        if r.hash != a.hash {
            return Err(Finding::AnchorMismatch { seq: a.seq, after });
        }
        after = a.seq;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::seal;
    use crate::audit::record::AuditEntry;
    use crate::audit::secret::AuditSecret;

    fn log(n: i64) -> Vec<AuditRecord> {
        let secret = AuditSecret::new(b"k".to_vec());
        let mut records: Vec<AuditRecord> = (0..n)
            .map(|i| {
                let entry = AuditEntry {
                    time_ms: 1_000 + i,
                    cost: i as f64 / 4.0,
                    ..AuditEntry::default()
                };
                AuditRecord::from_entry(entry, &secret)
            })
            .collect();
        seal(&Head::genesis(), &mut records);
        records
    }

    fn anchor(r: &AuditRecord) -> Anchor {
        Anchor {
            seq: r.seq,
            hash: r.hash.clone(),
            time_ms: 0,
            time: String::new(),
        }
    }

    #[test]
    fn an_honest_log_and_its_segments_pass() {
        let records = log(6);
        let verified = check(&records, &[anchor(&records[2]), anchor(&records[5])]).unwrap();
        assert_eq!(verified.records, 6);
        assert_eq!(verified.head.seq, 6);
        assert_eq!(check(&[], &[]).unwrap().head, Head::genesis());
        assert!(check_segment(&records[2..5], &[anchor(&records[0])]).is_ok());
        // A segment is not the whole log.
        assert_eq!(
            check(&records[2..], &[]),
            Err(Finding::Deleted { first: 1, last: 2 })
        );
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let records = log(6);
        let mut modified = records.clone();
        modified[2].cost = 99.0;
        assert_eq!(check(&modified, &[]), Err(Finding::Modified { seq: 3 }));

        let mut rehashed = records.clone();
        rehashed[2].user_id = Some("mallory".into());
        rehashed[2].hash = hash_of(&rehashed[2]);
        assert_eq!(check(&rehashed, &[]), Err(Finding::Broken { seq: 4 }));

        let mut swapped = records.clone();
        swapped.swap(2, 3);
        (swapped[2].seq, swapped[3].seq) = (3, 4);
        assert_eq!(check(&swapped, &[]), Err(Finding::Reordered { seq: 3 }));

        let truncated = &records[..4];
        let found = check(truncated, &[anchor(&records[1]), anchor(&records[5])]).unwrap_err();
        assert_eq!(
            found,
            Finding::Truncated {
                last: 4,
                anchored: 6
            }
        );
        assert_eq!(found.first_bad(), 5);

        // Every hash recomputed from record 3 on: only the anchor tells.
        let mut rewritten = records.clone();
        rewritten[2].cost = 7.0;
        let head = Head {
            seq: 2,
            hash: rewritten[1].hash.clone(),
        };
        seal(&head, &mut rewritten[2..]);
        let anchors = [anchor(&records[1]), anchor(&records[4])];
        assert_eq!(
            check(&rewritten, &anchors),
            Err(Finding::AnchorMismatch { seq: 5, after: 2 })
        );
    }
}
