//! With `compliance.audit` on, every answered or failed request leaves one
//! record in the audit chain (and the configuration load one), with its
//! caller, data class and why, the deployment and its region, and keyed
//! hashes of prompt and answer; plaintext only up to the configured class.

use std::time::Duration;

use serde_json::json;

use crate::support::databases::{BOTH, TestDb};
use crate::support::{Gateway, MASTER_KEY, client, read_json};
use switchyard::store::Store;

#[tokio::test]
async fn every_request_is_recorded_in_a_chain_that_verifies() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let gw = Gateway::start(&format!(
            "general_settings:\n  master_key: {MASTER_KEY}\n  database_url: '{}'\n\
             compliance:\n  audit:\n    secret: audit-secret-for-tests-only\n    store_plaintext_up_to: public\n\
             model_list:\n\
             - {{model_name: eu, litellm_params: {{model: mock/eu, mock_response: fine}}, model_info: {{region: eu, max_data_class: confidential}}}}\n\
             - {{model_name: broken, litellm_params: {{model: mock/b, mock_error_status: 500}}, model_info: {{max_data_class: secret}}}}\n",
            db.url
        ))
        .await;
        let ask = |model: &str, class: &str| {
            client()
                .post(gw.url("/v1/chat/completions"))
                .bearer_auth(MASTER_KEY)
                .header("x-switchyard-data-class", class)
                .json(&json!({"model": model, "messages": [{"role": "user", "content": "the secret recipe"}]}))
                .send()
        };
        let (status, _, _) = read_json(ask("eu", "public").await.unwrap()).await;
        assert_eq!(status, 200);
        let (status, _, _) = read_json(ask("eu", "confidential").await.unwrap()).await;
        assert_eq!(status, 200);
        let (status, _, _) = read_json(ask("broken", "internal").await.unwrap()).await;
        assert_eq!(status, 500);
        let store = Store::open(&db.url).await.unwrap();
        let mut records = Vec::new();
        for _ in 0..50 {
            records = switchyard::audit::records(&store).await.unwrap();
            if records.len() >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            records.len(),
            4,
            "{kind:?}: the config load and three requests"
        );
        assert_eq!(records[0].kind, "config_load");
        let requests: Vec<_> = records.iter().filter(|r| r.kind == "request").collect();
        let public = requests
            .iter()
            .find(|r| r.data_class.as_deref() == Some("public"))
            .unwrap();
        assert!(
            public
                .prompt_plaintext
                .as_deref()
                .unwrap()
                .contains("the secret recipe")
        );
        assert!(
            public
                .response_plaintext
                .as_deref()
                .unwrap()
                .contains("fine")
        );
        let confidential = requests
            .iter()
            .find(|r| r.data_class.as_deref() == Some("confidential"))
            .unwrap();
        assert_eq!(confidential.data_class_reason.as_deref(), Some("request"));
        assert!(
            confidential.prompt_plaintext.is_none() && confidential.response_plaintext.is_none()
        );
        assert_eq!(
            confidential.prompt_hmac, public.prompt_hmac,
            "the same prompt, the same keyed hash"
        );
        assert!(
            confidential.attempts.contains("\"eu\""),
            "{}",
            confidential.attempts
        );
        assert_eq!(confidential.caller_addr.as_deref(), Some("127.0.0.1"));
        let failed = requests
            .iter()
            .find(|r| r.model_group.as_deref() == Some("broken"))
            .unwrap();
        assert!(failed.attempts.contains("500"), "{}", failed.attempts);
        let verdict = switchyard::audit::verify(&store, &[]).await.unwrap();
        assert!(verdict.is_ok(), "{kind:?}: {verdict:?}");
    }
}
