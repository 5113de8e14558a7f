//! Spend grouped by team, key, user, customer, model or tag, per day or
//! month: what `/global/spend/report`, `/spend/logs`' summary and
//! `switchyard report` print. The database sums per UTC day (plain integer
//! arithmetic on the millisecond times, the same on SQLite and PostgreSQL);
//! days are folded into months here.

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use time::Date;

use super::dates::{self, Month};
use super::filter::{LogFilter, bind_all};
use super::queries::count;
use crate::store::Store;

/// What the spend is grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Team,
    /// The virtual key (its hash).
    Key,
    /// The internal user who owns the key.
    User,
    /// The end user: the request's `user` field.
    Customer,
    /// The model group the client asked for.
    Model,
    Tag,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Team => "team",
            GroupBy::Key => "key",
            GroupBy::User => "user",
            GroupBy::Customer => "customer",
            GroupBy::Model => "model",
            GroupBy::Tag => "tag",
        }
    }

    /// The grouped column; fixed text, never input.
    fn column(self) -> &'static str {
        match self {
            GroupBy::Team => "l.team_id",
            GroupBy::Key => "l.key_hash",
            GroupBy::User => "l.user_id",
            GroupBy::Customer => "l.end_user",
            GroupBy::Model => "l.model_group",
            GroupBy::Tag => "t.tag",
        }
    }

    /// A readable name beside the id: a team's alias (from the accounts
    /// table, where the team still exists), a key's alias (as logged).
    fn label(self) -> &'static str {
        match self {
            GroupBy::Team => "MAX(tm.team_alias)",
            GroupBy::Key => "MAX(l.key_alias)",
            _ => "CAST(NULL AS TEXT)",
        }
    }

    fn tables(self) -> &'static str {
        match self {
            GroupBy::Team => "sy_spend_logs l LEFT JOIN sy_teams tm ON tm.team_id = l.team_id",
            GroupBy::Tag => {
                "sy_spend_log_tags t JOIN sy_spend_logs l ON l.request_id = t.request_id"
            }
            _ => "sy_spend_logs l",
        }
    }
}

impl FromStr for GroupBy {
    type Err = String;

    fn from_str(s: &str) -> Result<GroupBy, String> {
        match s.trim() {
            "team" => Ok(GroupBy::Team),
            "key" | "api_key" => Ok(GroupBy::Key),
            "user" | "internal_user" => Ok(GroupBy::User),
            "customer" | "end_user" => Ok(GroupBy::Customer),
            "model" | "model_group" => Ok(GroupBy::Model),
            "tag" => Ok(GroupBy::Tag),
            other => Err(format!(
                "{other:?} is not one of team, key, user, customer, model, tag"
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Month,
}

impl FromStr for Granularity {
    type Err = String;

    fn from_str(s: &str) -> Result<Granularity, String> {
        match s.trim() {
            "day" | "daily" => Ok(Granularity::Day),
            "month" | "monthly" => Ok(Granularity::Month),
            other => Err(format!("{other:?} is not one of day, month")),
        }
    }
}

/// Sums over some log rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sums {
    /// USD.
    pub spend: f64,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.spend += other.spend;
        self.requests += other.requests;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// Dollars to a nano-dollar, for printing: sums of binary fractions show
/// as the amounts they are (0.3, not 0.30000000000000004).
pub fn usd(amount: f64) -> f64 {
    (amount * 1e9).round() / 1e9
}

/// One period (a day, or a month) of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    /// Its first day.
    pub start: Date,
    /// `2026-11-03` for a day, `2026-11` for a month.
    pub label: String,
    /// Highest spend first.
    pub groups: Vec<Group>,
}

/// One group's spend in a period.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The team id, key hash, user id, end user, model group or tag;
    /// `None` for rows that had none (e.g. keys in no team).
    pub id: Option<String>,
    /// The team's or key's alias, where known.
    pub label: Option<String>,
    pub sums: Sums,
    /// The same spend per model group and key, highest first.
    pub breakdown: Vec<Breakdown>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Breakdown {
    pub model_group: String,
    pub key_hash: Option<String>,
    pub sums: Sums,
}

/// The report over the rows `filter` selects, periods in order.
pub async fn report(
    store: &Store,
    by: GroupBy,
    granularity: Granularity,
    filter: &LogFilter,
) -> Result<Vec<Period>, sqlx::Error> {
    let clause = filter.clause();
    let (g, day) = (by.column(), "l.start_time / 86400000");
    let sql = format!(
        "SELECT {g} AS grp, {label} AS label, {day} AS day, l.model_group AS model_group,
                l.key_hash AS key_hash, COUNT(*) AS requests,
                CAST(SUM(l.cost) AS DOUBLE PRECISION) AS spend,
                CAST(SUM(l.prompt_tokens) AS BIGINT) AS prompt_tokens,
                CAST(SUM(l.completion_tokens) AS BIGINT) AS completion_tokens,
                CAST(SUM(l.total_tokens) AS BIGINT) AS total_tokens
         FROM {from} {filter}
         GROUP BY {g}, {day}, l.model_group, l.key_hash",
        label = by.label(),
        from = by.tables(),
        filter = clause.sql,
    );
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &clause.binds)
        .fetch_all(&store.pool)
        .await?;
    let mut cells = Vec::with_capacity(rows.len());
    for row in &rows {
        cells.push(Cell::of(row)?);
    }
    Ok(fold(cells, granularity))
}

/// One row of the grouped query: a group's spend on one model group with
/// one key on one day.
struct Cell {
    group: Option<String>,
    label: Option<String>,
    day: i64,
    model_group: String,
    key_hash: Option<String>,
    sums: Sums,
}

impl Cell {
    fn of(row: &AnyRow) -> Result<Cell, sqlx::Error> {
        Ok(Cell {
            group: row.try_get("grp")?,
            label: row.try_get("label")?,
            day: row.try_get("day")?,
            model_group: row.try_get("model_group")?,
            key_hash: row.try_get("key_hash")?,
            sums: Sums {
                spend: row.try_get("spend")?,
                requests: count(row, "requests")?,
                prompt_tokens: count(row, "prompt_tokens")?,
                completion_tokens: count(row, "completion_tokens")?,
                total_tokens: count(row, "total_tokens")?,
            },
        })
    }
}

type GroupKey = Option<String>;
type BreakdownKey = (String, Option<String>);
/// A period's groups while they are summed, each with its breakdown.
type Groups = BTreeMap<GroupKey, (Group, BTreeMap<BreakdownKey, Sums>)>;

/// Cells into periods, groups and breakdowns, each sorted.
fn fold(cells: Vec<Cell>, granularity: Granularity) -> Vec<Period> {
    let mut periods: BTreeMap<Date, Groups> = BTreeMap::new();
    for cell in cells {
        let day = dates::date_of_day(cell.day);
        let start = match granularity {
            Granularity::Day => day,
            Granularity::Month => Month::of(day).first_day(),
        };
        let (group, breakdown) = periods
            .entry(start)
            .or_default()
            .entry(cell.group.clone())
            .or_insert_with(|| {
                let group = Group {
                    id: cell.group.clone(),
                    label: None,
                    sums: Sums::default(),
                    breakdown: Vec::new(),
                };
                (group, BTreeMap::new())
            });
        group.sums.add(&cell.sums);
        if group.label.is_none() {
            group.label = cell.label;
        }
        breakdown
            .entry((cell.model_group, cell.key_hash))
            .or_default()
            .add(&cell.sums);
    }
    periods
        .into_iter()
        .map(|(start, groups)| Period {
            start,
            label: match granularity {
                Granularity::Day => dates::format_date(start),
                Granularity::Month => Month::of(start).to_string(),
            },
            groups: sorted(groups.into_values().map(|(mut group, breakdown)| {
                group.breakdown = breakdown
                    .into_iter()
                    .map(|((model_group, key_hash), sums)| Breakdown {
                        model_group,
                        key_hash,
                        sums,
                    })
                    .collect();
                group
                    .breakdown
                    .sort_by(|a, b| b.sums.spend.total_cmp(&a.sums.spend));
                group
            })),
        })
        .collect()
}

/// Highest spend first; ties by id, so the order is stable.
fn sorted(groups: impl Iterator<Item = Group>) -> Vec<Group> {
    let mut groups: Vec<Group> = groups.collect();
    groups.sort_by(|a, b| {
        b.sums
            .spend
            .total_cmp(&a.sums.spend)
            .then_with(|| a.id.cmp(&b.id))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(group: &str, day: i64, model: &str, spend: f64) -> Cell {
        Cell {
            group: Some(group.into()),
            label: None,
            day,
            model_group: model.into(),
            key_hash: None,
            sums: Sums {
                spend,
                requests: 1,
                ..Sums::default()
            },
        }
    }

    #[test]
    fn days_fold_into_months_and_sort_by_spend() {
        // 2026-11-01 is day 20758; 2026-12-01 is day 20788.
        let cells = vec![
            cell("a", 20758, "m1", 1.0),
            cell("b", 20759, "m1", 5.0),
            cell("a", 20780, "m2", 2.0),
            cell("a", 20788, "m1", 7.0),
        ];
        let months = fold(cells, Granularity::Month);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].label, "2026-11");
        let ids: Vec<_> = months[0].groups.iter().map(|g| g.id.as_deref()).collect();
        assert_eq!(ids, [Some("b"), Some("a")]);
        let a = &months[0].groups[1];
        assert_eq!((a.sums.spend, a.sums.requests), (3.0, 2));
        assert_eq!(a.breakdown[0].model_group, "m2");
        assert_eq!(months[1].label, "2026-12");
    }

    #[test]
    fn names_parse() {
        assert_eq!("customer".parse(), Ok(GroupBy::Customer));
        assert_eq!("end_user".parse(), Ok(GroupBy::Customer));
        assert!("department".parse::<GroupBy>().is_err());
        assert_eq!("month".parse(), Ok(Granularity::Month));
    }
}
