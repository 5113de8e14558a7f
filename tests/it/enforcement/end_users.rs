//! A blocked end user (the request's `user` field) is refused with 403,
//! whichever key sends it, until unblocked.

use serde_json::json;

use super::{chat_as, new_key, ok, start};
use crate::management::admin;
use crate::support::databases::{BOTH, TestDb};

#[tokio::test]
async fn a_blocked_end_user_is_refused() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = start(&db).await;
        let key = new_key(&gw, json!({})).await;
        ok(chat_as(&gw, &key, "m", "acme").await);

        admin(&gw, "/customer/block", json!({"user_ids": ["acme"]})).await;
        let refused = chat_as(&gw, &key, "m", "acme").await;
        refused.assert_refused(403, "permission_error", Some("end_user_blocked"));
        // Other end users of the same key are served.
        ok(chat_as(&gw, &key, "m", "globex").await);

        admin(&gw, "/customer/unblock", json!({"user_ids": ["acme"]})).await;
        ok(chat_as(&gw, &key, "m", "acme").await);
    }
}
