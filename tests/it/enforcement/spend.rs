//! The spend the gateway reports for what a key did: each answer's
//! `x-litellm-response-cost`, and once the writer has flushed, `/key/info`,
//! `/team/info` and one `/spend/logs` row per request.

use serde_json::json;

use super::{P_COST, assert_cost, chat, flushed, new_key, ok, start};
use crate::management::{admin, admin_get};
use crate::support::databases::{BOTH, TestDb};

#[tokio::test]
async fn spend_shows_in_the_headers_key_team_and_logs() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        admin(&gw, "/team/new", json!({"team_id": "t"})).await;
        let key = new_key(&gw, json!({"team_id": "t"})).await;
        let teammate = new_key(&gw, json!({"team_id": "t"})).await;

        let mut call_ids = Vec::new();
        for k in [&key, &key, &key, &teammate] {
            let reply = ok(chat(&gw, k, "p").await);
            assert_cost(reply.number("x-litellm-response-cost"), P_COST, "header");
            let id = reply
                .header("x-litellm-call-id")
                .expect("x-litellm-call-id");
            call_ids.push(id.to_string());
        }
        let keys_calls = &call_ids[..3];

        let key_info = format!("/key/info?key={key}");
        let spend = flushed(3.0 * P_COST, || async {
            admin_get(&gw, &key_info).await["info"]["spend"]
                .as_f64()
                .unwrap()
        })
        .await;
        assert_cost(spend, 3.0 * P_COST, &format!("{kind:?}: /key/info spend"));
        let team = admin_get(&gw, "/team/info?team_id=t").await;
        let team_spend = team["team_info"]["spend"].as_f64().unwrap();
        assert_cost(team_spend, 4.0 * P_COST, &format!("{kind:?}: /team/info"));

        let logs = admin_get(&gw, &format!("/spend/logs?api_key={key}")).await;
        let rows = logs.as_array().unwrap_or_else(|| panic!("{logs}"));
        assert_eq!(rows.len(), 3, "{kind:?}: one row per request: {logs}");
        for row in rows {
            let id = row["request_id"].as_str().unwrap();
            assert!(keys_calls.iter().any(|c| c == id), "{kind:?}: {row}");
            assert_eq!(row["prompt_tokens"], 4, "{row}");
            assert_eq!(row["completion_tokens"], 10, "{row}");
            assert_eq!(row["total_tokens"], 14, "{row}");
            assert_cost(row["spend"].as_f64().unwrap(), P_COST, "row spend");
            assert_eq!(row["status"], "success", "{row}");
            assert_eq!(row["model_group"], "p", "{row}");
            assert_eq!(row["team_id"], "t", "{row}");
        }
    }
}
