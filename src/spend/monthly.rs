//! `switchyard report --month 2026-11 --by team`: one month's spend per
//! group, highest first, as CSV (a header line, then one line per group) or
//! as a JSON array. A month without spend is the header alone, or `[]`.

use std::str::FromStr;

use serde_json::{Map, Value, json};

use super::dates::Month;
use super::filter::LogFilter;
use super::report::{self, Granularity, Group, GroupBy, usd};
use crate::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Csv,
    Json,
}

impl FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<ReportFormat, String> {
        match s.trim() {
            "csv" => Ok(ReportFormat::Csv),
            "json" => Ok(ReportFormat::Json),
            other => Err(format!("{other:?} is not one of csv, json")),
        }
    }
}

/// The month's groups, highest spend first.
pub async fn monthly(store: &Store, month: Month, by: GroupBy) -> Result<Vec<Group>, sqlx::Error> {
    let (start, end) = month.range_ms();
    let filter = LogFilter {
        start_ms: Some(start),
        end_ms: Some(end),
        ..LogFilter::default()
    };
    let periods = report::report(store, by, Granularity::Month, &filter).await?;
    Ok(periods.into_iter().flat_map(|p| p.groups).collect())
}

/// The report as text in `format`, ending with a newline.
pub fn render(groups: &[Group], by: GroupBy, format: ReportFormat) -> String {
    match format {
        ReportFormat::Csv => csv_text(groups, by),
        ReportFormat::Json => {
            let rows: Vec<Value> = groups.iter().map(|g| Value::Object(row(g, by))).collect();
            let mut text = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into());
            text.push('\n');
            text
        }
    }
}

/// The columns naming a group: its id, and its alias where it has one.
fn name_columns(by: GroupBy) -> (&'static str, Option<&'static str>) {
    match by {
        GroupBy::Team => ("team_id", Some("team_alias")),
        GroupBy::Key => ("key_hash", Some("key_alias")),
        GroupBy::User => ("user_id", None),
        GroupBy::Customer => ("end_user", None),
        GroupBy::Model => ("model_group", None),
        GroupBy::Tag => ("tag", None),
    }
}

const SUM_COLUMNS: [&str; 5] = [
    "spend",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
];

fn row(g: &Group, by: GroupBy) -> Map<String, Value> {
    let (id, label) = name_columns(by);
    let mut row = Map::new();
    row.insert(id.into(), json!(g.id));
    if let Some(label) = label {
        row.insert(label.into(), json!(g.label));
    }
    let s = &g.sums;
    let sums = [
        json!(usd(s.spend)),
        json!(s.requests),
        json!(s.prompt_tokens),
        json!(s.completion_tokens),
        json!(s.total_tokens),
    ];
    for (name, value) in SUM_COLUMNS.into_iter().zip(sums) {
        row.insert(name.into(), value);
    }
    row
}

fn csv_text(groups: &[Group], by: GroupBy) -> String {
    let (id, label) = name_columns(by);
    let mut out = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = [Some(id), label]
        .into_iter()
        .flatten()
        .chain(SUM_COLUMNS)
        .collect();
    // Writing to memory cannot fail.
    let _ = out.write_record(&header);
    for g in groups {
        let s = &g.sums;
        let mut fields = vec![g.id.clone().unwrap_or_default()];
        if label.is_some() {
            fields.push(g.label.clone().unwrap_or_default());
        }
        fields.extend([
            usd(s.spend).to_string(),
            s.requests.to_string(),
            s.prompt_tokens.to_string(),
            s.completion_tokens.to_string(),
            s.total_tokens.to_string(),
        ]);
        let _ = out.write_record(&fields);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spend::report::Sums;

    fn group(id: Option<&str>, label: Option<&str>, spend: f64) -> Group {
        Group {
            id: id.map(str::to_string),
            label: label.map(str::to_string),
            sums: Sums {
                spend,
                requests: 2,
                prompt_tokens: 10,
                completion_tokens: 5,
                total_tokens: 15,
            },
            breakdown: Vec::new(),
        }
    }

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let groups = [
            group(Some("t1"), Some("Marketing, EU"), 0.1 + 0.2),
            group(None, None, 1.0),
        ];
        assert_eq!(
            render(&groups, GroupBy::Team, ReportFormat::Csv),
            "team_id,team_alias,spend,requests,prompt_tokens,completion_tokens,total_tokens\n\
             t1,\"Marketing, EU\",0.3,2,10,5,15\n,,1,2,10,5,15\n"
        );
        assert_eq!(
            render(&[], GroupBy::Model, ReportFormat::Csv),
            "model_group,spend,requests,prompt_tokens,completion_tokens,total_tokens\n"
        );
    }

    #[test]
    fn json_is_an_array_of_named_rows() {
        let text = render(
            &[group(Some("k"), None, 2.5)],
            GroupBy::Key,
            ReportFormat::Json,
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            json!([{"key_hash": "k", "key_alias": null, "spend": 2.5, "requests": 2,
                    "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}])
        );
        assert_eq!(render(&[], GroupBy::Team, ReportFormat::Json), "[]\n");
    }
}
