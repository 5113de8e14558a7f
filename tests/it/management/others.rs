//! Teams and their members, users, customers and budgets, on SQLite and
//! PostgreSQL.

use serde_json::json;

use super::{admin, admin_get, assert_error, call, chat, start};
use crate::support::MASTER_KEY;
use crate::support::databases::{BOTH, TestDb};

#[tokio::test]
async fn teams_members_and_their_keys() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(Some(&db)).await;
        let team = admin(
            &gw,
            "/team/new",
            json!({"team_alias": "Research", "tpm_limit": 5000,
                   "members_with_roles": [{"role": "admin", "user_id": "lead"},
                                          {"user_email": "new@example.com"}]}),
        )
        .await;
        let team_id = team["team_id"].as_str().unwrap().to_string();
        assert_eq!(
            team["members_with_roles"].as_array().unwrap().len(),
            2,
            "{kind:?}: {team}"
        );
        // Members that were not users are now users.
        admin_get(&gw, "/user/info?user_id=lead").await;

        let added = admin(
            &gw,
            "/team/member_add",
            json!({"team_id": team_id, "member": [{"role": "user", "user_id": "dev"}]}),
        )
        .await;
        assert_eq!(
            added["members_with_roles"].as_array().unwrap().len(),
            3,
            "{added}"
        );
        assert_eq!(added["updated_users"][0]["user_id"], "dev", "{added}");
        admin(
            &gw,
            "/team/member_delete",
            json!({"team_id": team_id, "user_id": "dev"}),
        )
        .await;
        let (s, body) = call(
            &gw,
            Some(MASTER_KEY),
            "/team/member_delete",
            Some(json!({"team_id": team_id, "user_id": "dev"})),
            None,
        )
        .await;
        assert_error(s, &body, 404, Some("user_id"));

        let key = admin(&gw, "/key/generate", json!({"team_id": team_id})).await;
        let key = key["key"].as_str().unwrap().to_string();
        let info = admin_get(&gw, &format!("/team/info?team_id={team_id}")).await;
        assert_eq!(info["team_info"]["team_alias"], "Research", "{info}");
        assert_eq!(info["keys"].as_array().unwrap().len(), 1, "{info}");
        assert_eq!(
            info["team_memberships"].as_array().unwrap().len(),
            2,
            "{info}"
        );
        let updated = admin(
            &gw,
            "/team/update",
            json!({"team_id": team_id, "max_budget": 50}),
        )
        .await;
        assert_eq!(updated["data"]["max_budget"], 50.0, "{updated}");
        let teams = admin_get(&gw, "/team/list?user_id=lead").await;
        assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");

        // A blocked team's keys are refused; a deleted team's keys are gone.
        admin(&gw, "/team/block", json!({"team_id": team_id})).await;
        let (s, refused) = chat(&gw, &key).await;
        assert_error(s, &refused, 401, None);
        admin(&gw, "/team/unblock", json!({"team_id": team_id})).await;
        assert_eq!(chat(&gw, &key).await.0, 200);
        let deleted = admin(&gw, "/team/delete", json!({"team_ids": [team_id]})).await;
        assert_eq!(
            deleted["deleted_keys"].as_array().unwrap().len(),
            1,
            "{deleted}"
        );
        assert_eq!(chat(&gw, &key).await.0, 401);
    }
}

#[tokio::test]
async fn users_with_their_keys_and_teams() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(Some(&db)).await;
        admin(&gw, "/team/new", json!({"team_id": "sales"})).await;
        let made = admin(
            &gw,
            "/user/new",
            json!({"user_email": "sam@example.com", "teams": ["sales"], "max_budget": 25,
                   "key_alias": "sam-key"}),
        )
        .await;
        let user_id = made["user_id"].as_str().unwrap().to_string();
        let key = made["key"].as_str().unwrap().to_string();
        assert_eq!(made["user_role"], "internal_user", "{kind:?}: {made}");
        assert_eq!(chat(&gw, &key).await.0, 200, "the key /user/new made works");

        let info = admin_get(&gw, &format!("/user/info?user_id={user_id}")).await;
        assert_eq!(info["user_info"]["max_budget"], 25.0, "{info}");
        assert_eq!(info["keys"][0]["key_alias"], "sam-key", "{info}");
        assert_eq!(info["teams"][0]["team_id"], "sales", "{info}");

        let updated = admin(
            &gw,
            "/user/update",
            json!({"user_email": "sam@example.com", "budget_duration": "7d"}),
        )
        .await;
        assert_eq!(updated["data"]["budget_duration"], "7d", "{updated}");
        let list = admin_get(&gw, "/user/list?page_size=10").await;
        assert_eq!(
            (&list["total"], &list["page"]),
            (&json!(1), &json!(1)),
            "{list}"
        );

        let deleted = admin(&gw, "/user/delete", json!({"user_ids": [user_id]})).await;
        assert_eq!(deleted["deleted_users"], json!([user_id]), "{deleted}");
        assert_eq!(
            chat(&gw, &key).await.0,
            401,
            "a deleted user's keys are gone"
        );
        let team = admin_get(&gw, "/team/info?team_id=sales").await;
        assert_eq!(team["team_memberships"], json!([]), "{team}");
    }
}

#[tokio::test]
async fn customers_and_budgets() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(Some(&db)).await;
        let budget = admin(
            &gw,
            "/budget/new",
            json!({"budget_id": "free-tier", "max_budget": 1.5, "rpm_limit": 10,
                   "budget_duration": "1d"}),
        )
        .await;
        assert_eq!(budget["max_budget"], 1.5, "{kind:?}: {budget}");
        assert!(budget["budget_reset_at"].is_string(), "{budget}");

        let customer = admin(
            &gw,
            "/customer/new",
            json!({"user_id": "acme", "alias": "ACME", "budget_id": "free-tier",
                   "allowed_model_region": "eu"}),
        )
        .await;
        assert_eq!(
            customer["litellm_budget_table"]["max_budget"], 1.5,
            "{customer}"
        );
        let (s, dup) = call(
            &gw,
            Some(MASTER_KEY),
            "/customer/new",
            Some(json!({"user_id": "acme"})),
            None,
        )
        .await;
        assert_error(s, &dup, 400, Some("user_id"));

        let updated = admin(
            &gw,
            "/customer/update",
            json!({"user_id": "acme", "tpm_limit": 100}),
        )
        .await;
        assert_eq!(updated["tpm_limit"], 100, "{updated}");
        let blocked = admin(
            &gw,
            "/customer/block",
            json!({"user_ids": ["acme", "stranger"]}),
        )
        .await;
        assert_eq!(
            blocked["blocked_users"].as_array().unwrap().len(),
            2,
            "{blocked}"
        );
        let info = admin_get(&gw, "/customer/info?end_user_id=stranger").await;
        assert_eq!(
            info["blocked"], true,
            "a customer blocked before being seen: {info}"
        );
        admin(&gw, "/customer/unblock", json!({"user_ids": ["acme"]})).await;
        assert_eq!(
            admin_get(&gw, "/customer/info?end_user_id=acme").await["blocked"],
            false
        );
        assert_eq!(
            admin_get(&gw, "/customer/list")
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // A budget in use is not deleted.
        let (s, in_use) = call(
            &gw,
            Some(MASTER_KEY),
            "/budget/delete",
            Some(json!({"id": "free-tier"})),
            None,
        )
        .await;
        assert_error(s, &in_use, 400, Some("id"));
        let info = admin(&gw, "/budget/info", json!({"budgets": ["free-tier"]})).await;
        assert_eq!(info[0]["rpm_limit"], 10, "{info}");
        let updated = admin(
            &gw,
            "/budget/update",
            json!({"budget_id": "free-tier", "max_budget": 3}),
        )
        .await;
        assert_eq!(updated["max_budget"], 3.0, "{updated}");

        let deleted = admin(
            &gw,
            "/customer/delete",
            json!({"user_ids": ["acme", "stranger"]}),
        )
        .await;
        assert_eq!(deleted["deleted_customers"], 2, "{deleted}");
        admin(&gw, "/budget/delete", json!({"id": "free-tier"})).await;
        assert_eq!(admin_get(&gw, "/budget/list").await, json!([]));
    }
}

#[tokio::test]
async fn lists_come_a_page_at_a_time() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(Some(&db)).await;
        for n in 0..3 {
            admin(
                &gw,
                "/key/generate",
                json!({"user_id": "pat", "key_alias": format!("k{n}")}),
            )
            .await;
        }
        let first = admin_get(&gw, "/key/list?user_id=pat&size=2").await;
        let second = admin_get(&gw, "/key/list?user_id=pat&size=2&page=2").await;
        assert_eq!(
            first["keys"].as_array().unwrap().len(),
            2,
            "{kind:?}: {first}"
        );
        assert_eq!(second["keys"].as_array().unwrap().len(), 1, "{second}");
        assert_eq!(
            (&second["total_count"], &second["total_pages"]),
            (&json!(3), &json!(2))
        );
        assert_eq!(second["current_page"], 2);
        for n in 0..3 {
            admin(
                &gw,
                "/user/new",
                json!({"user_id": format!("u{n}"), "user_role": "proxy_admin_viewer"}),
            )
            .await;
        }
        let viewers = admin_get(&gw, "/user/list?role=proxy_admin_viewer&page_size=2&page=2").await;
        assert_eq!(viewers["users"].as_array().unwrap().len(), 1, "{viewers}");
        assert_eq!(
            (&viewers["total"], &viewers["total_pages"]),
            (&json!(3), &json!(2))
        );
    }
}
