//! `budget_duration`: how often a budget starts again from zero.
//!
//! LiteLLM's strings: `30s`, `30m`, `30h`, `30d`, `2w`, and `1mo` (a calendar
//! month, in UTC); a bare number counts seconds, as in LiteLLM. A period rolls
//! forward from the start of the current one: a budget whose period started
//! on the 15th at 10:00 with `1mo` resets on the 15th of the next month at
//! 10:00 (a day the month lacks becomes its last day).

use std::fmt;
use std::str::FromStr;

use super::civil;

/// How long one budget period lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A fixed number of seconds (`s`, `m`, `h`, `d`, `w`; never zero).
    Seconds(u64),
    /// Calendar months in UTC (`mo`; never zero).
    Months(u32),
}

/// A `budget_duration` that is not one of LiteLLM's forms; names the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError {
    pub value: String,
}

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid budget_duration {:?}: expected a positive whole number and a unit \
             (s, m, h, d, w or mo), e.g. \"30s\", \"30m\", \"30h\", \"30d\", \"1mo\"",
            self.value
        )
    }
}

impl std::error::Error for PeriodError {}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let error = || PeriodError {
            value: value.to_string(),
        };
        let text = value.trim();
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let number: u64 = number.parse().map_err(|_| error())?;
        if number == 0 {
            return Err(error());
        }
        let seconds_per_unit = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            "mo" => {
                let months = u32::try_from(number).map_err(|_| error())?;
                return Ok(Period::Months(months));
            }
            _ => return Err(error()),
        };
        number
            .checked_mul(seconds_per_unit)
            .map(Period::Seconds)
            .ok_or_else(error)
    }
}

impl fmt::Display for Period {
    /// The shortest LiteLLM spelling: `Seconds(86400)` is `1d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Months(n) => write!(f, "{n}mo"),
            Period::Seconds(s) => {
                let units = [(604_800, "w"), (86_400, "d"), (3_600, "h"), (60, "m")];
                match units.iter().find(|(size, _)| s % size == 0) {
                    Some((size, unit)) => write!(f, "{}{unit}", s / size),
                    None => write!(f, "{s}s"),
                }
            }
        }
    }
}

impl Period {
    /// Parses a `budget_duration` string (same as `str::parse`).
    pub fn parse(value: &str) -> Result<Self, PeriodError> {
        value.parse()
    }

    /// When a period that starts at `start` (unix seconds) ends.
    pub fn next_reset(&self, start: u64) -> u64 {
        match *self {
            Period::Seconds(s) => start.saturating_add(s),
            Period::Months(n) => civil::add_months(start, n),
        }
    }

    /// The start of the period that ends at `reset` (a stored
    /// `budget_reset_at`): the inverse of `next_reset`.
    pub fn previous_start(&self, reset: u64) -> u64 {
        const DAY: u64 = 86_400;
        match *self {
            Period::Seconds(s) => reset.saturating_sub(s),
            Period::Months(n) => {
                // Months are 28 to 31 days: try each day in that span.
                let n64 = u64::from(n);
                (28 * n64..=31 * n64)
                    .map(|days| reset.saturating_sub(days * DAY))
                    .find(|start| civil::add_months(*start, n) == reset)
                    .unwrap_or(reset.saturating_sub(30 * n64 * DAY))
            }
        }
    }

    /// The start of the period containing `now`, stepping whole periods
    /// forward from `boundary` (a reset time at or before `now`), so that
    /// periods stay on their cadence however long a budget sat unused.
    pub(crate) fn current_start(&self, boundary: u64, now: u64) -> u64 {
        match *self {
            Period::Seconds(s) => boundary + (now.saturating_sub(boundary) / s) * s,
            Period::Months(_) => {
                let mut start = boundary;
                // At most twelve steps per idle year.
                loop {
                    let next = self.next_reset(start);
                    if next > now || next <= start {
                        return start;
                    }
                    start = next;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_start_inverts_next_reset() {
        for period in ["30s", "2h", "7d", "1mo", "3mo"] {
            let p = Period::parse(period).unwrap();
            // 2026-01-31 10:00 UTC and 2026-11-21 00:00 UTC.
            for start in [1_769_853_600, 1_795_219_200] {
                assert_eq!(p.previous_start(p.next_reset(start)), start, "{period}");
            }
        }
    }

    #[test]
    fn parses_litellm_forms() {
        assert_eq!(Period::parse("30s"), Ok(Period::Seconds(30)));
        assert_eq!(Period::parse("30m"), Ok(Period::Seconds(1_800)));
        assert_eq!(Period::parse("30h"), Ok(Period::Seconds(108_000)));
        assert_eq!(Period::parse("30d"), Ok(Period::Seconds(2_592_000)));
        assert_eq!(Period::parse("2w"), Ok(Period::Seconds(1_209_600)));
        assert_eq!(Period::parse("1mo"), Ok(Period::Months(1)));
        assert_eq!(Period::parse(" 3mo "), Ok(Period::Months(3)));
        assert_eq!(Period::parse("45"), Ok(Period::Seconds(45)));
    }

    #[test]
    fn rejects_other_strings_naming_the_value() {
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "1.5h",
            "1y",
            "1 d",
            "10days",
            "99999999999999999999s",
        ] {
            let err = Period::parse(bad).unwrap_err();
            assert_eq!(err.value, bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn displays_the_shortest_spelling() {
        for (text, shown) in [
            ("86400s", "1d"),
            ("90m", "90m"),
            ("61s", "61s"),
            ("2mo", "2mo"),
        ] {
            assert_eq!(Period::parse(text).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn next_reset_adds_the_period() {
        assert_eq!(Period::Seconds(30).next_reset(1_000), 1_030);
        // 2026-01-15T10:00:00Z + 1mo = 2026-02-15T10:00:00Z
        assert_eq!(Period::Months(1).next_reset(1_768_471_200), 1_771_149_600);
    }

    #[test]
    fn current_start_keeps_the_cadence() {
        let day = Period::Seconds(86_400);
        assert_eq!(day.current_start(1_000, 1_000), 1_000);
        assert_eq!(
            day.current_start(1_000, 1_000 + 3 * 86_400 + 5),
            1_000 + 3 * 86_400
        );
        let month = Period::Months(1);
        // from 2026-01-15T10:00Z, at 2026-04-20 → 2026-04-15T10:00Z
        let jan15 = 1_768_471_200;
        let apr20 = jan15 + 95 * 86_400;
        assert_eq!(month.current_start(jan15, apr20), 1_776_247_200);
    }
}
