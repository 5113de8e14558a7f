//! `GET /global/spend/report`: every grouping per day and per month, with
//! sums checked by hand against the table in `seed.rs`.

use serde_json::{Value, json};
use switchyard::spend;

use super::logs::gateway_on;
use super::seed::{self, ALPHA, BETA, GAMMA};
use crate::support::databases::{BOTH, TestDb};
use crate::support::{Gateway, MASTER_KEY};

async fn report(gw: &Gateway, query: &str) -> Value {
    let path = format!("/global/spend/report?{query}");
    let (status, _, body) = gw.get(&path, Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// A group's name, total spend and requests.
type Row = (Value, f64, u64);

/// The rows of each group of a period, in order.
fn groups(period: &Value, list: &str, name: &str) -> Vec<Row> {
    period[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {period}"))
        .iter()
        .map(|g| {
            (
                g[name].clone(),
                g["total_spend"].as_f64().unwrap(),
                g["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

const NOVEMBER: &str = "start_date=2026-11-01&end_date=2026-11-30";

#[tokio::test]
async fn per_team_per_day_in_litellms_shape() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        let days = report(
            &gw,
            "start_date=2026-11-01&end_date=2026-11-02&group_by=team",
        )
        .await;
        let days = days.as_array().unwrap();
        assert_eq!(days.len(), 2, "{kind:?}: {days:?}");
        assert_eq!(days[0]["group_by_day"], "2026-11-01T00:00:00+00:00");
        assert_eq!(
            groups(&days[0], "teams", "team_name"),
            [(json!("Marketing"), 1.5, 2)],
            "{kind:?}"
        );
        let team = &days[0]["teams"][0];
        assert_eq!(team["team_id"], "t-mkt");
        assert_eq!(team["total_tokens"], 165);
        let mut metadata = team["metadata"].as_array().unwrap().clone();
        metadata.sort_by(|a, b| a["model"].as_str().cmp(&b["model"].as_str()));
        let alpha = spend::key_hash(ALPHA);
        assert_eq!(
            metadata,
            [
                json!({"model": "claude", "api_key": alpha, "spend": 0.5, "total_tokens": 15, "requests": 1}),
                json!({"model": "gpt-4o", "api_key": alpha, "spend": 1.0, "total_tokens": 150, "requests": 1}),
            ],
            "{kind:?}"
        );
        assert_eq!(days[1]["group_by_day"], "2026-11-02T00:00:00+00:00");
        assert_eq!(
            groups(&days[1], "teams", "team_name"),
            [
                (json!("Engineering"), 2.0, 1),
                (json!("Unassigned Team"), 0.25, 1)
            ],
            "{kind:?}"
        );
        assert_eq!(days[1]["teams"][1]["team_id"], Value::Null);
    }
}

#[tokio::test]
async fn every_grouping_per_month() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        let (alpha, beta, gamma) = (
            spend::key_hash(ALPHA),
            spend::key_hash(BETA),
            spend::key_hash(GAMMA),
        );
        let cases: [(&str, &str, &str, Vec<Row>); 6] = [
            (
                "team",
                "teams",
                "team_name",
                vec![
                    (json!("Engineering"), 6.0, 2),
                    (json!("Marketing"), 1.5, 2),
                    (json!("Unassigned Team"), 0.25, 1),
                ],
            ),
            (
                "key",
                "keys",
                "api_key",
                vec![
                    (json!(beta), 6.0, 2),
                    (json!(alpha), 1.5, 2),
                    (json!(gamma), 0.25, 1),
                ],
            ),
            (
                "user",
                "users",
                "user_id",
                vec![(json!("u-bob"), 6.0, 2), (json!("u-ann"), 1.75, 3)],
            ),
            (
                "customer",
                "customers",
                "customer",
                vec![
                    (json!("globex"), 6.0, 2),
                    (json!("acme"), 1.5, 2),
                    (Value::Null, 0.25, 1),
                ],
            ),
            (
                "model",
                "models",
                "model",
                vec![(json!("claude"), 4.5, 2), (json!("gpt-4o"), 3.25, 3)],
            ),
            (
                "tag",
                "tags",
                "tag",
                vec![
                    (json!("batch"), 6.0, 2),
                    (json!("prod"), 5.5, 3),
                    (json!("web"), 1.0, 1),
                ],
            ),
        ];
        for (by, list, name, expected) in cases {
            let months = report(&gw, &format!("{NOVEMBER}&group_by={by}&granularity=month")).await;
            assert_eq!(
                months.as_array().unwrap().len(),
                1,
                "{kind:?} {by}: {months}"
            );
            assert_eq!(months[0]["period"], "2026-11", "{kind:?} {by}");
            assert!(months[0].get("group_by_day").is_none(), "{kind:?} {by}");
            assert_eq!(groups(&months[0], list, name), expected, "{kind:?} {by}");
        }
        assert_eq!(
            report(&gw, &format!("{NOVEMBER}&group_by=key&granularity=month")).await[0]["keys"][1]
                ["key_alias"],
            "alpha",
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn months_split_at_utc_midnight_and_filters_narrow() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        let quarter = "start_date=2026-10-01&end_date=2026-12-31&granularity=month";
        let months = report(&gw, quarter).await;
        let periods: Vec<&str> = months
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["period"].as_str().unwrap())
            .collect();
        assert_eq!(periods, ["2026-10", "2026-11", "2026-12"], "{kind:?}");
        assert_eq!(
            groups(&months[0], "teams", "team_name"),
            [(json!("Marketing"), 8.0, 1)]
        );
        assert_eq!(
            groups(&months[2], "teams", "team_name"),
            [(json!("Engineering"), 16.0, 1)]
        );
        // LiteLLM's filters: one team, one customer, one key's owner.
        let team = report(&gw, &format!("{quarter}&team_id=t-eng&group_by=model")).await;
        assert_eq!(
            groups(&team[0], "models", "model"),
            [(json!("claude"), 4.0, 1), (json!("gpt-4o"), 2.0, 1)]
        );
        let customer = report(
            &gw,
            &format!("{NOVEMBER}&customer_id=acme&group_by=customer"),
        )
        .await;
        assert_eq!(
            customer.as_array().unwrap().len(),
            1,
            "{kind:?}: {customer}"
        );
        assert_eq!(
            groups(&customer[0], "customers", "customer"),
            [(json!("acme"), 1.5, 2)]
        );
        let owner = report(
            &gw,
            &format!("{NOVEMBER}&internal_user_id=u-ann&api_key={GAMMA}&group_by=user"),
        )
        .await;
        assert_eq!(owner.as_array().unwrap().len(), 1, "{kind:?}: {owner}");
        assert_eq!(
            groups(&owner[0], "users", "user_id"),
            [(json!("u-ann"), 0.25, 1)]
        );
        let empty = report(&gw, "start_date=2025-01-01&end_date=2025-01-31").await;
        assert_eq!(empty, json!([]), "{kind:?}");
    }
}
