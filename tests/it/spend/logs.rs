//! `GET /spend/logs`: LiteLLM's filters and row shape, its per-day summary
//! when both dates are given, and admin-only access.

use serde_json::{Value, json};
use switchyard::spend;

use super::seed::{self, ALPHA, BETA};
use crate::support::databases::{BOTH, TestDb};
use crate::support::{Gateway, MASTER_KEY, error_of};

/// A gateway with the master key over the database at `url`.
pub async fn gateway_on(url: &str) -> Gateway {
    Gateway::start(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  database_url: \"{url}\"\n\
         model_list:\n  - model_name: m\n    litellm_params:\n      model: mock/m\n"
    ))
    .await
}

fn ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect()
}

async fn get_ok(gw: &Gateway, path: &str) -> Value {
    let (status, _, body) = gw.get(path, Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn filters_select_rows_newest_first() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        let all = get_ok(&gw, "/spend/logs").await;
        assert_eq!(
            ids(&all),
            ["r7", "r5", "r4", "r3", "r2", "r1", "r6"],
            "{kind:?}"
        );
        // A plaintext key is hashed; a hash is taken as it is.
        let by_key = get_ok(&gw, &format!("/spend/logs?api_key={ALPHA}")).await;
        assert_eq!(ids(&by_key), ["r2", "r1", "r6"], "{kind:?}");
        let hash = spend::key_hash(BETA);
        let by_hash = get_ok(&gw, &format!("/spend/logs?api_key={hash}")).await;
        assert_eq!(ids(&by_hash), ["r7", "r5", "r3"], "{kind:?}");
        let by_user = get_ok(&gw, "/spend/logs?user_id=u-ann").await;
        assert_eq!(ids(&by_user), ["r4", "r2", "r1", "r6"], "{kind:?}");
        let by_team = get_ok(&gw, "/spend/logs?team_id=t-eng").await;
        assert_eq!(ids(&by_team), ["r7", "r5", "r3"], "{kind:?}");
        let both = get_ok(&gw, "/spend/logs?user_id=u-ann&team_id=t-mkt").await;
        assert_eq!(ids(&both), ["r2", "r1", "r6"], "{kind:?}");
        let none = get_ok(&gw, "/spend/logs?request_id=nope").await;
        assert_eq!(none, json!([]), "{kind:?}");
        let limited = get_ok(&gw, "/spend/logs?limit=2").await;
        assert_eq!(ids(&limited), ["r7", "r5"], "{kind:?}");
    }
}

#[tokio::test]
async fn a_date_range_is_whole_utc_days_inclusive() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        // r6 ends October a millisecond before midnight, r3 starts 2 November.
        let one_day = "/spend/logs?start_date=2026-11-01&end_date=2026-11-01&summarize=false";
        assert_eq!(ids(&get_ok(&gw, one_day).await), ["r2", "r1"], "{kind:?}");
        let from = get_ok(&gw, "/spend/logs?start_date=2026-11-30").await;
        assert_eq!(ids(&from), ["r7", "r5"], "{kind:?}");
        let until = get_ok(&gw, "/spend/logs?end_date=2026-10-31").await;
        assert_eq!(ids(&until), ["r6"], "{kind:?}");
        let keyed =
            "/spend/logs?start_date=2026-11-01&end_date=2026-11-30&summarize=false&api_key=sk-beta";
        assert_eq!(ids(&get_ok(&gw, keyed).await), ["r5", "r3"], "{kind:?}");
    }
}

#[tokio::test]
async fn rows_have_litellms_fields() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        let rows = get_ok(&gw, "/spend/logs?request_id=r1").await;
        let row = &rows[0];
        let expected = json!({
            "request_id": "r1",
            "call_type": "chat",
            "api_key": spend::key_hash(ALPHA),
            "spend": 1.0,
            "total_tokens": 150,
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "startTime": "2026-11-01T10:00:00Z",
            "endTime": "2026-11-01T10:00:00.8Z",
            "completionStartTime": "2026-11-01T10:00:00.12Z",
            "model": "gpt-4o-upstream",
            "model_id": "gpt-4o-deployment",
            "model_group": "gpt-4o",
            "custom_llm_provider": "openai",
            "api_base": "https://api.example.test/v1",
            "user": "u-ann",
            "team_id": "t-mkt",
            "end_user": "acme",
            "request_tags": ["prod", "web"],
            "cache_hit": false,
            "status": "success",
        });
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&row[field], value, "{kind:?}: {field} in {row}");
        }
        assert_eq!(row["metadata"]["user_api_key_alias"], "alpha", "{kind:?}");
        assert_eq!(row["metadata"]["http_status"], 200, "{kind:?}");
    }
}

#[tokio::test]
async fn both_dates_summarise_per_day_as_litellm_does() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        seed::seeded(&db.url).await;
        let gw = gateway_on(&db.url).await;
        let days = get_ok(&gw, "/spend/logs?start_date=2026-11-01&end_date=2026-11-03").await;
        let (alpha, beta, gamma) = (
            spend::key_hash(ALPHA),
            spend::key_hash(BETA),
            spend::key_hash(seed::GAMMA),
        );
        let mut first = json!({"startTime": "2026-11-01", "spend": 1.5,
            "users": {"u-ann": 1.5}, "models": {"gpt-4o": 1.0, "claude": 0.5}});
        first[&alpha] = json!(1.5);
        let mut second = json!({"startTime": "2026-11-02", "spend": 2.25,
            "users": {"u-bob": 2.0, "u-ann": 0.25}, "models": {"gpt-4o": 2.25}});
        second[&beta] = json!(2.0);
        second[&gamma] = json!(0.25);
        let third = json!({"startTime": "2026-11-03", "spend": 0.0, "users": {}, "models": {}});
        assert_eq!(days, json!([first, second, third]), "{kind:?}");
    }
}

#[tokio::test]
async fn admins_only_and_bad_parameters_are_400s() {
    let db = TestDb::fresh(crate::support::databases::Db::Sqlite).await;
    seed::seeded(&db.url).await;
    let gw = gateway_on(&db.url).await;
    let (status, _, body) = gw.get("/spend/logs", None).await;
    assert_eq!(status, 401, "{body}");
    error_of(&body);
    let (status, _, body) = gw.get("/global/spend/report", Some("sk-wrong")).await;
    assert_eq!(status, 401, "{body}");
    for (path, param) in [
        ("/spend/logs?start_date=2026-13-01", "start_date"),
        (
            "/spend/logs?start_date=2026-11-02&end_date=2026-11-01",
            "end_date",
        ),
        ("/spend/logs?limit=0", "limit"),
        (
            "/spend/logs?start_date=2000-01-01&end_date=2026-01-01",
            "end_date",
        ),
        (
            "/spend/logs?start_date=2026-11-01&end_date=2026-11-02&summarize=maybe",
            "summarize",
        ),
        ("/global/spend/report?end_date=2026-11-01", "start_date"),
        (
            "/global/spend/report?start_date=2026-11-01&end_date=2026-11-01&group_by=dept",
            "group_by",
        ),
        (
            "/global/spend/report?start_date=2026-11-01&end_date=2026-11-01&granularity=week",
            "granularity",
        ),
    ] {
        let (status, _, body) = gw.get(path, Some(MASTER_KEY)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(error_of(&body)["param"], param, "{path}: {body}");
    }
}

#[tokio::test]
async fn keys_of_admin_and_viewer_users_read_spend_other_keys_do_not() {
    let db = TestDb::fresh(crate::support::databases::Db::Sqlite).await;
    seed::seeded(&db.url).await;
    let gw = gateway_on(&db.url).await;
    let key_of = |body: Value| body["key"].as_str().unwrap().to_string();
    let (status, _, plain) = gw.post("/key/generate", &json!({})).await;
    assert_eq!(status, 200, "{plain}");
    let mut keys = vec![(key_of(plain), 403)];
    for (role, expected) in [
        ("internal_user", 403),
        ("proxy_admin_viewer", 200),
        ("proxy_admin", 200),
    ] {
        let body = json!({"user_id": format!("user-{role}"), "user_role": role});
        let (status, _, user) = gw.post("/user/new", &body).await;
        assert_eq!(status, 200, "{user}");
        keys.push((key_of(user), expected));
    }
    for (key, expected) in keys {
        for path in [
            "/spend/logs",
            "/global/spend/report?start_date=2026-11-01&end_date=2026-11-30",
        ] {
            let (status, _, body) = gw.get(path, Some(&key)).await;
            assert_eq!(status, expected, "{path}: {body}");
            if expected == 403 {
                assert_eq!(error_of(&body)["type"], "permission_error");
            }
        }
    }
}
