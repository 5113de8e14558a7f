//! Budgets hold under concurrency: 50 callers race with one key whose
//! budget affords exactly 10 requests.

use serde_json::json;

use super::{COST, assert_cost, chat, flushed, new_key, start};
use crate::management::admin_get;
use crate::support::databases::{BOTH, TestDb};

const CALLERS: usize = 50;
const AFFORDED: usize = 10;

#[tokio::test]
async fn fifty_callers_cannot_overspend_a_budget_for_ten() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let max_budget = AFFORDED as f64 * COST;
        let key = new_key(&gw, json!({"max_budget": max_budget})).await;

        // `race` answers after 200 ms, so the callers are in flight together.
        let replies =
            futures_util::future::join_all((0..CALLERS).map(|_| chat(&gw, &key, "race"))).await;
        let mut succeeded = 0;
        for reply in &replies {
            match reply.status {
                200 => succeeded += 1,
                _ => {
                    reply.assert_refused(429, "budget_exceeded", None);
                }
            }
        }
        // Each request reserves its worst case before the call: no charge
        // for the prompt plus `max_tokens` (10) at the output price, which
        // is exactly what the 10-word answer costs. The overspend bound,
        // Σ max(0, real cost − reserved) over the requests, is therefore 0:
        // the spend never passes `max_budget`, and since every reservation
        // is exact, exactly 10 fit.
        assert_eq!(succeeded, AFFORDED, "{kind:?}: successes");

        let key_info = format!("/key/info?key={key}");
        let (gw, key_info) = (&gw, key_info.as_str());
        let spent = flushed(max_budget, move || async move {
            admin_get(gw, key_info).await["info"]["spend"]
                .as_f64()
                .unwrap()
        })
        .await;
        const OVERSPEND_BOUND: f64 = 0.0;
        assert!(
            spent <= max_budget + OVERSPEND_BOUND + 1e-12,
            "{kind:?}: spent {spent} of {max_budget}"
        );
        assert_cost(spent, succeeded as f64 * COST, &format!("{kind:?}: spend"));

        let logs = admin_get(gw, &format!("/spend/logs?api_key={key}")).await;
        let successes = logs
            .as_array()
            .unwrap_or_else(|| panic!("{logs}"))
            .iter()
            .filter(|row| row["status"] == "success")
            .count();
        assert_eq!(successes, succeeded, "{kind:?}: success rows");
    }
}
