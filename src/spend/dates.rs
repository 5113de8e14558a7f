//! Calendar days and months in UTC over the log's unix-millisecond times:
//! the date filters of the endpoints (`YYYY-MM-DD`, inclusive), the CLI's
//! `--month YYYY-MM`, and the labels of report periods.

use std::fmt;
use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

pub const MS_PER_DAY: i64 = 86_400_000;

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{s:?} is not a date in the form YYYY-MM-DD"))
}

/// Milliseconds since the epoch at 00:00 UTC of `date`.
pub fn start_of(date: Date) -> i64 {
    (date.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp()) * 1000
}

/// Days since 1970-01-01 of a time (UTC).
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_DAY)
}

/// The date of a day counted since 1970-01-01; out of range clamps.
pub fn date_of_day(day: i64) -> Date {
    let julian = (day + UNIX_EPOCH_JULIAN_DAY).clamp(
        i64::from(Date::MIN.to_julian_day()),
        i64::from(Date::MAX.to_julian_day()),
    );
    Date::from_julian_day(julian as i32).unwrap_or(Date::MIN)
}

/// `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-03T10:00:00.123Z`.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A calendar month, as `--month 2026-11` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: time::Month,
}

impl Month {
    /// The month a day falls in.
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// `[start, end)` in milliseconds: from its first day to the next
    /// month's.
    pub fn range_ms(self) -> (i64, i64) {
        let next = match self.month {
            time::Month::December => Month {
                year: self.year + 1,
                month: time::Month::January,
            },
            m => Month {
                year: self.year,
                month: m.next(),
            },
        };
        (start_of(self.first_day()), start_of(next.first_day()))
    }
}

impl FromStr for Month {
    type Err = String;

    fn from_str(s: &str) -> Result<Month, String> {
        let bad = || format!("{s:?} is not a month in the form YYYY-MM (e.g. 2026-11)");
        let (year, month) = s.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        Ok(Month { year, month })
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_map_to_days_and_back() {
        let d = parse_date("2026-11-03").unwrap();
        assert_eq!(start_of(d), 1_793_664_000_000);
        assert_eq!(day_of(start_of(d) + MS_PER_DAY - 1), day_of(start_of(d)));
        assert_eq!(format_date(date_of_day(day_of(start_of(d)))), "2026-11-03");
        assert_eq!(format_date(date_of_day(0)), "1970-01-01");
        assert!(parse_date("2026-11-31").is_err());
        assert!(parse_date("03/11/2026").is_err());
    }

    #[test]
    fn months_parse_strictly_and_span_their_days() {
        let m: Month = "2026-12".parse().unwrap();
        assert_eq!(m.to_string(), "2026-12");
        let (start, end) = m.range_ms();
        assert_eq!(start, start_of(parse_date("2026-12-01").unwrap()));
        assert_eq!(end, start_of(parse_date("2027-01-01").unwrap()));
        let feb: Month = "2028-02".parse().unwrap();
        let (start, end) = feb.range_ms();
        assert_eq!((end - start) / MS_PER_DAY, 29);
        for bad in [
            "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "november", "",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn times_format_as_rfc3339_utc() {
        assert_eq!(rfc3339(1_793_664_000_123), "2026-11-03T00:00:00.123Z");
    }
}
