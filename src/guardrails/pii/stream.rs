//! Streams, chunk by chunk, never buffered whole.
//!
//! `StreamRestorer` puts masked values back into an answer's text deltas. A
//! placeholder may be split across chunks (`[EMA` + `IL_1]`), so it holds
//! back the tail from the last `[` while that tail is the start of a
//! placeholder it issued: at most `Mapping::longest_placeholder() - 1` bytes.
//!
//! `StreamScanner` applies a PII policy to an answer (`post_call`). An
//! entity may be split across chunks, so it holds back the last
//! `SCAN_HOLD_BACK` bytes (more when an entity straddles that point) and
//! releases text only once everything that could still change a finding in
//! it has arrived. Entities longer than `SCAN_HOLD_BACK` bytes (only very
//! long e-mail addresses) can be missed when they straddle a chunk edge.

use super::{Action, EntityType, Mapping, PiiPolicy, scan};

pub struct StreamRestorer {
    mapping: Mapping,
    pending: String,
}

impl StreamRestorer {
    pub fn new(mapping: Mapping) -> StreamRestorer {
        StreamRestorer {
            mapping,
            pending: String::new(),
        }
    }

    /// The restored text that can be released after `chunk`.
    pub fn push(&mut self, chunk: &str) -> String {
        self.pending.push_str(chunk);
        // A placeholder holds no `[`, so only the tail from the last one can
        // be an unfinished placeholder.
        let cut = match self.pending.rfind('[') {
            Some(i) if self.is_unfinished(&self.pending[i..]) => i,
            _ => self.pending.len(),
        };
        let rest = self.pending.split_off(cut);
        let ready = std::mem::replace(&mut self.pending, rest);
        self.mapping.restore(&ready)
    }

    /// What is left at the end of the stream.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.mapping.restore(&rest)
    }

    /// Bytes received but not yet released.
    pub fn held_back(&self) -> usize {
        self.pending.len()
    }

    fn is_unfinished(&self, tail: &str) -> bool {
        !tail.ends_with(']') && self.mapping.is_placeholder_prefix(tail)
    }
}

/// Bytes the scanner keeps back: longer than any phone, card, IBAN (34
/// characters plus spaces), AHV number or IP address, and than most e-mail
/// addresses.
pub const SCAN_HOLD_BACK: usize = 128;

pub struct StreamScanner {
    policy: PiiPolicy,
    mapping: Mapping,
    pending: String,
}

impl StreamScanner {
    pub fn new(policy: PiiPolicy) -> StreamScanner {
        StreamScanner {
            policy,
            mapping: Mapping::default(),
            pending: String::new(),
        }
    }

    /// The text that can be released after `chunk`, masked, or the entity
    /// type that blocks the answer.
    pub fn push(&mut self, chunk: &str) -> Result<String, EntityType> {
        self.pending.push_str(chunk);
        let mut cut = self.pending.len().saturating_sub(SCAN_HOLD_BACK);
        while !self.pending.is_char_boundary(cut) {
            cut -= 1;
        }
        let findings = scan(&self.pending);
        // Never cut through an entity, nor right after one (it may go on).
        if let Some(f) = findings
            .iter()
            .find(|f| f.range.end >= cut && f.range.start < cut)
        {
            cut = f.range.start;
        }
        self.release(cut)
    }

    /// The rest at the end of the stream.
    pub fn finish(&mut self) -> Result<String, EntityType> {
        self.release(self.pending.len())
    }

    /// Bytes received but not yet released.
    pub fn held_back(&self) -> usize {
        self.pending.len()
    }

    /// Placeholders issued so far.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn release(&mut self, cut: usize) -> Result<String, EntityType> {
        let rest = self.pending.split_off(cut);
        let ready = std::mem::replace(&mut self.pending, rest);
        let mut out = String::with_capacity(ready.len());
        let mut at = 0;
        for f in scan(&ready) {
            match self.policy.actions.get(&f.entity) {
                Some(Action::Block) => return Err(f.entity),
                Some(Action::Mask) => {
                    out.push_str(&ready[at..f.range.start]);
                    out.push_str(&self.mapping.placeholder(f.entity, &ready[f.range.clone()]));
                    at = f.range.end;
                }
                Some(Action::RaiseClass) | None => {}
            }
        }
        out.push_str(&ready[at..]);
        Ok(out)
    }
}
