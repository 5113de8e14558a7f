//! OpenAI's rate-limit response headers, so that clients written for OpenAI
//! read the gateway's limits the same way:
//!
//! | header | value |
//! | --- | --- |
//! | `x-ratelimit-limit-requests` / `-tokens` | the limit per minute |
//! | `x-ratelimit-remaining-requests` / `-tokens` | what is left of it |
//! | `x-ratelimit-reset-requests` / `-tokens` | until it is whole again, as OpenAI writes durations: `1s`, `6m0s`, `12ms` |
//! | `retry-after` (429 only) | whole seconds until the request would fit |

use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderName, HeaderValue};

use super::quota::{Quota, RateSnapshot};
use super::rate::Denied;

/// A duration the way OpenAI (Go's `time.Duration`) writes it: `12ms` under a
/// second, else hours, minutes and seconds from the first non-zero unit with
/// the seconds' fraction: `1.5s`, `6m0s`, `1h0m0s`; zero is `0s`.
pub fn format_reset(d: Duration) -> String {
    let millis = d.as_millis();
    if millis == 0 {
        return "0s".into();
    }
    if millis < 1_000 {
        return format!("{millis}ms");
    }
    let (hours, minutes) = (millis / 3_600_000, millis / 60_000 % 60);
    let (seconds, fraction) = (millis / 1_000 % 60, millis % 1_000);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&seconds.to_string());
    if fraction > 0 {
        let digits = format!("{fraction:03}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('s');
    out
}

fn push_quota(out: &mut Vec<(HeaderName, HeaderValue)>, names: [&'static str; 3], quota: &Quota) {
    let [limit, remaining, reset] = names.map(HeaderName::from_static);
    out.push((limit, HeaderValue::from(quota.limit)));
    out.push((remaining, HeaderValue::from(quota.remaining)));
    // Digits, letters and a dot: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&format_reset(quota.reset)) {
        out.push((reset, value));
    }
}

/// The `x-ratelimit-*` headers of a snapshot (only the dimensions it has).
pub fn quota_headers(snapshot: &RateSnapshot) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::with_capacity(7);
    if let Some(quota) = &snapshot.requests {
        let names = [
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ];
        push_quota(&mut out, names, quota);
    }
    if let Some(quota) = &snapshot.tokens {
        let names = [
            "x-ratelimit-limit-tokens",
            "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens",
        ];
        push_quota(&mut out, names, quota);
    }
    out
}

impl Denied {
    /// `retry-after` (whole seconds, at least 1) and the `x-ratelimit-*`
    /// headers for the 429.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = quota_headers(&self.snapshot);
        out.push((RETRY_AFTER, HeaderValue::from(self.retry_after_secs())));
        out
    }

    /// `retry_after` rounded up to whole seconds, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_millis().div_ceil(1_000).max(1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{RateKind, ScopeId};

    #[test]
    fn formats_durations_like_openai() {
        let cases = [
            (0, "0s"),
            (12, "12ms"),
            (999, "999ms"),
            (1_000, "1s"),
            (1_500, "1.5s"),
            (1_250, "1.25s"),
            (59_001, "59.001s"),
            (360_000, "6m0s"),
            (61_000, "1m1s"),
            (3_600_000, "1h0m0s"),
            (3_723_400, "1h2m3.4s"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_reset(Duration::from_millis(ms)), text);
        }
    }

    fn get<'a>(headers: &'a [(HeaderName, HeaderValue)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_str().unwrap())
    }

    #[test]
    fn denied_carries_retry_after_and_both_quotas() {
        let denied = Denied {
            scope: ScopeId::Key("ab".into()),
            which: RateKind::Rpm,
            limit: 10,
            remaining: 0,
            retry_after: Duration::from_millis(2_100),
            snapshot: RateSnapshot {
                requests: Some(Quota {
                    limit: 10,
                    remaining: 0,
                    reset: Duration::from_secs(90),
                }),
                tokens: Some(Quota {
                    limit: 5_000,
                    remaining: 4_000,
                    reset: Duration::from_millis(30_500),
                }),
            },
        };
        let headers = denied.headers();
        assert_eq!(get(&headers, "retry-after"), Some("3"));
        assert_eq!(get(&headers, "x-ratelimit-limit-requests"), Some("10"));
        assert_eq!(get(&headers, "x-ratelimit-remaining-requests"), Some("0"));
        assert_eq!(get(&headers, "x-ratelimit-reset-requests"), Some("1m30s"));
        assert_eq!(get(&headers, "x-ratelimit-limit-tokens"), Some("5000"));
        assert_eq!(get(&headers, "x-ratelimit-remaining-tokens"), Some("4000"));
        assert_eq!(get(&headers, "x-ratelimit-reset-tokens"), Some("30.5s"));
    }

    #[test]
    fn only_the_dimensions_that_are_limited() {
        let snapshot = RateSnapshot {
            requests: None,
            tokens: Some(Quota {
                limit: 100,
                remaining: 100,
                reset: Duration::ZERO,
            }),
        };
        let headers = quota_headers(&snapshot);
        assert_eq!(headers.len(), 3);
        assert_eq!(get(&headers, "x-ratelimit-reset-tokens"), Some("0s"));
        assert!(get(&headers, "x-ratelimit-limit-requests").is_none());
    }
}
