//! Which log rows a query looks at: the filters of `/spend/logs` and of the
//! reports, turned into a `WHERE` clause with numbered placeholders (`$n`,
//! which SQLite and PostgreSQL both read) and the values to bind to them.
//! Only column names written here go into the SQL text; every value is bound.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs};

/// Every field set narrows the rows; none set is every row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogFilter {
    pub key_hash: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub end_user: Option<String>,
    pub request_id: Option<String>,
    /// Rows that started at or after this time (unix ms).
    pub start_ms: Option<i64>,
    /// Rows that started before this time (unix ms, exclusive).
    pub end_ms: Option<i64>,
}

/// A value for a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A `WHERE …` clause (empty when nothing is filtered) and its values,
/// numbered from `$1`.
#[derive(Debug, Default)]
pub struct Clause {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl LogFilter {
    /// The clause over the log table aliased `l`.
    pub fn clause(&self) -> Clause {
        let mut conditions: Vec<String> = Vec::new();
        let mut binds = Vec::new();
        let mut add = |condition: &str, value: Bind| {
            binds.push(value);
            conditions.push(condition.replace('?', &format!("${}", binds.len())));
        };
        let texts = [
            ("l.key_hash = ?", &self.key_hash),
            ("l.user_id = ?", &self.user_id),
            ("l.team_id = ?", &self.team_id),
            ("l.end_user = ?", &self.end_user),
            ("l.request_id = ?", &self.request_id),
        ];
        for (condition, value) in texts {
            if let Some(v) = value {
                add(condition, Bind::Text(v.clone()));
            }
        }
        if let Some(ms) = self.start_ms {
            add("l.start_time >= ?", Bind::Int(ms));
        }
        if let Some(ms) = self.end_ms {
            add("l.start_time < ?", Bind::Int(ms));
        }
        let sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        Clause { sql, binds }
    }
}

/// Binds the values in order.
pub fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    binds: &[Bind],
) -> Query<'q, Any, AnyArguments> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.clone()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

/// [`bind_all`] for a query that maps rows to a type.
pub fn bind_all_as<'q, O>(
    mut query: QueryAs<'q, Any, O, AnyArguments>,
    binds: &[Bind],
) -> QueryAs<'q, Any, O, AnyArguments> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.clone()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_filter_is_no_clause() {
        let c = LogFilter::default().clause();
        assert_eq!(c.sql, "");
        assert!(c.binds.is_empty());
    }

    #[test]
    fn filters_are_numbered_in_order_and_bound_not_formatted() {
        let c = LogFilter {
            key_hash: Some("k'; DROP TABLE x".into()),
            team_id: Some("t".into()),
            start_ms: Some(10),
            end_ms: Some(20),
            ..LogFilter::default()
        }
        .clause();
        assert_eq!(
            c.sql,
            "WHERE l.key_hash = $1 AND l.team_id = $2 AND l.start_time >= $3 AND l.start_time < $4"
        );
        assert_eq!(
            c.binds,
            [
                Bind::Text("k'; DROP TABLE x".into()),
                Bind::Text("t".into()),
                Bind::Int(10),
                Bind::Int(20)
            ]
        );
    }
}
