//! Vertex AI: the same dialect behind Google Cloud's endpoint, authorized by
//! an access token the gateway gets for its service account and caches.

use std::time::Duration;

use serde_json::json;

use super::{gateway, user};
use crate::support::error_of;
use crate::support::google_api::{Answer, CLIENT_EMAIL, GoogleApi, script, text_answer, usage};

fn vertex_stream() -> Answer {
    Answer::Sse(vec![
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]},
        "finishReason": "STOP"}], "usageMetadata": usage(2, 1)}),
    ])
}

#[tokio::test]
async fn requests_carry_a_bearer_token_exchanged_once_and_cached() {
    let api = GoogleApi::vertex(script(|call| {
        if call.method() == "streamGenerateContent" {
            vertex_stream()
        } else {
            Answer::Json(200, text_answer("Hello from Vertex"))
        }
    }))
    .await;
    let gw = gateway(&api, "").await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("Hi")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from Vertex"
    );
    let call = api.last();
    assert_eq!(
        call.path,
        "/v1/projects/test-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        call.headers["authorization"],
        "Bearer ya29.test-only-token-1"
    );
    assert!(call.headers.get("x-goog-api-key").is_none());

    let (status, _, _) = gw.post("/v1/chat/completions", &user("Again")).await;
    assert_eq!(status, 200);
    let stream =
        json!({"model": "g", "stream": true, "messages": [{"role": "user", "content": "s"}]});
    let (status, _, body) = gw.post_stream("/v1/chat/completions", &stream).await;
    assert_eq!(status, 200);
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    assert_eq!(api.requests().len(), 3);
    assert_eq!(
        api.token_exchanges(),
        1,
        "the token is cached across requests"
    );
}

#[tokio::test]
async fn concurrent_first_requests_share_one_exchange() {
    let api = GoogleApi::vertex(script(|_| Answer::Json(200, text_answer("ok")))).await;
    let gw = std::sync::Arc::new(gateway(&api, "").await);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            gw.post("/v1/chat/completions", &user("x")).await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(api.token_exchanges(), 1);
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires() {
    let api = GoogleApi::vertex(script(|_| Answer::Json(200, text_answer("ok")))).await;
    api.set_token_lifetime(1);
    let gw = gateway(&api, "").await;
    assert_eq!(gw.post("/v1/chat/completions", &user("x")).await.0, 200);
    // Renewed once half of a short life has passed.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(gw.post("/v1/chat/completions", &user("x")).await.0, 200);
    assert_eq!(api.token_exchanges(), 2);
    assert_eq!(
        api.last().headers["authorization"],
        "Bearer ya29.test-only-token-2"
    );
}

#[tokio::test]
async fn a_refused_token_exchange_is_an_authentication_error() {
    let api = GoogleApi::vertex(script(|_| Answer::Json(200, text_answer("ok")))).await;
    // The mock's token endpoint only trusts its own service account's email.
    let entry = api.entry("g", "gemini-2.5-flash", "").replace(
        CLIENT_EMAIL,
        "someone-else@test-project.iam.gserviceaccount.com",
    );
    let gw = crate::support::Gateway::with_models(&entry).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 401, "{body}");
    let e = error_of(&body);
    assert_eq!(e["type"], "authentication_error");
    assert!(
        e["message"].as_str().unwrap().contains("invalid_grant"),
        "{body}"
    );
    assert!(api.requests().is_empty());
    assert_eq!(api.token_exchanges(), 0);
}

fn load(yaml: &str) -> Result<switchyard::config::Loaded, String> {
    switchyard::config::load_str(yaml, "vertex.yaml").map_err(|e| e.to_string())
}

fn load_err(yaml: &str) -> String {
    load(yaml)
        .err()
        .expect("the configuration must be rejected")
}

#[tokio::test]
async fn vertex_settings_are_validated_with_their_line() {
    let api = GoogleApi::vertex(script(|_| Answer::Json(200, text_answer("ok")))).await;
    let sa = api.service_account().to_string();
    // Project from the key, region by default, endpoint from the region.
    let loaded = load(&format!(
        "model_list:\n- model_name: v\n  litellm_params:\n    model: vertex_ai/gemini-2.5-flash\n    vertex_credentials: '{sa}'\n"
    ))
    .unwrap();
    let d = &loaded.config.deployments[0];
    assert_eq!(d.vertex_project.as_deref(), Some("test-project"));
    assert_eq!(d.vertex_location.as_deref(), Some("us-central1"));
    assert_eq!(d.api_base, "https://us-central1-aiplatform.googleapis.com");
    // A key file, named through environment_variables; the global endpoint.
    let file = std::env::temp_dir().join(format!("switchyard-sa-{}.json", std::process::id()));
    std::fs::write(&file, &sa).unwrap();
    let loaded = load(&format!(
        "environment_variables:\n  SA_FILE: {}\nmodel_list:\n- model_name: v\n  litellm_params:\n    model: vertex_ai/gemini-2.5-flash\n    vertex_location: global\n    vertex_credentials: os.environ/SA_FILE\n",
        file.display()
    ))
    .unwrap();
    assert_eq!(
        loaded.config.deployments[0].api_base,
        "https://aiplatform.googleapis.com"
    );
    std::fs::remove_file(&file).unwrap();

    let e = load_err(
        "model_list:\n- model_name: v\n  litellm_params:\n    model: vertex_ai/gemini-2.5-flash\n    vertex_credentials: '{\"type\": \"service_account\"'\n",
    );
    assert!(
        e.contains("vertex.yaml:5")
            && e.contains("vertex_credentials")
            && e.contains("not valid JSON"),
        "{e}"
    );
    let e = load_err(
        "model_list:\n- model_name: v\n  litellm_params:\n    model: vertex_ai/gemini-2.5-flash\n    vertex_credentials: /nonexistent/key.json\n",
    );
    assert!(
        e.contains("vertex.yaml:5") && e.contains("cannot read credentials file"),
        "{e}"
    );
    let no_project = sa.replace("\"project_id\":\"test-project\",", "");
    assert_ne!(no_project, sa);
    let e = load_err(&format!(
        "model_list:\n- model_name: v\n  litellm_params:\n    model: vertex_ai/gemini-2.5-flash\n    vertex_credentials: '{no_project}'\n"
    ));
    assert!(
        e.contains("vertex_project") && e.contains("required"),
        "{e}"
    );
    // On another provider the Vertex keys are only a warning.
    let loaded = load("model_list:\n- model_name: o\n  litellm_params:\n    model: openai/gpt-4o\n    api_key: k\n    vertex_project: p\n").unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.to_string().contains("only used by vertex_ai/"))
    );
}
