//! Just enough proleptic-Gregorian calendar, in UTC, to add calendar months
//! to a unix timestamp: `budget_duration: 1mo` means "the same day next
//! month", not 30 days. `std` has no calendar and this is a few lines of
//! integer arithmetic (the well-known days-from-civil conversion with years
//! starting in March, so that the leap day is the last day of a year), so no
//! date crate is pulled in for it.

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (`month` 1–12, `day` 1–31).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Count years from March so February's leap day ends the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `unix_secs` moved `months` calendar months later at the same time of day;
/// a day the target month lacks becomes its last day (Jan 31 + 1 → Feb 28/29).
pub fn add_months(unix_secs: u64, months: u32) -> u64 {
    let secs = unix_secs as i64;
    let (days, time_of_day) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let month_index = i64::from(month - 1) + i64::from(months);
    let year = year + month_index / 12;
    let month = (month_index % 12) as u32 + 1;
    let day = day.min(days_in_month(year, month));
    (days_from_civil(year, month, day) * SECS_PER_DAY + time_of_day) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn adds_calendar_months_and_clamps_the_day() {
        // 2026-01-15T10:00:00Z → 2026-02-15T10:00:00Z
        assert_eq!(add_months(1_768_471_200, 1), 1_771_149_600);
        // 2026-01-31 → 2026-02-28 (not a leap year), 2024-01-31 → 2024-02-29
        let jan31_2026 = days_from_civil(2026, 1, 31) as u64 * 86_400;
        assert_eq!(
            add_months(jan31_2026, 1),
            days_from_civil(2026, 2, 28) as u64 * 86_400
        );
        let jan31_2024 = days_from_civil(2024, 1, 31) as u64 * 86_400;
        assert_eq!(
            add_months(jan31_2024, 1),
            days_from_civil(2024, 2, 29) as u64 * 86_400
        );
        // across a year end, keeping the time of day
        let nov30 = days_from_civil(2026, 11, 30) as u64 * 86_400 + 3_661;
        assert_eq!(
            add_months(nov30, 3),
            days_from_civil(2027, 2, 28) as u64 * 86_400 + 3_661
        );
        assert_eq!(
            add_months(nov30, 12),
            days_from_civil(2027, 11, 30) as u64 * 86_400 + 3_661
        );
    }
}
