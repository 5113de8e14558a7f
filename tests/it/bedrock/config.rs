//! Bedrock's settings: region and keys from `litellm_params` or the
//! standard AWS environment variables, session tokens, the endpoint, and
//! configuration errors with file and line.

use switchyard::config::load_str;

use super::user;
use crate::support::bedrock_api::{
    ACCESS_KEY_ID, Answer, BedrockApi, CLAUDE, REGION, SECRET_ACCESS_KEY, SESSION_TOKEN, script,
    text_answer,
};
use crate::support::{Gateway, error_of};

#[tokio::test]
async fn a_session_token_is_sent_and_signed() {
    let api = BedrockApi::with_session_token(script(|_| Answer::Json(text_answer("ok")))).await;
    let gw = Gateway::with_models(&api.entry("b", CLAUDE, "")).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 200, "{body}");
    let call = api.last();
    assert_eq!(call.headers["x-amz-security-token"], SESSION_TOKEN);
    let auth = call.headers["authorization"].to_str().unwrap();
    assert!(auth.contains("x-amz-date;x-amz-security-token"), "{auth}");

    // The mock checks what Bedrock checks: a missing token or a wrong secret.
    let plain = BedrockApi::start(script(|_| Answer::Json(text_answer("ok")))).await;
    let without_token = plain
        .entry("b", CLAUDE, "")
        .replace(&plain.endpoint, &api.endpoint);
    let gw = Gateway::with_models(&without_token).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_of(&body)["type"], "authentication_error");
    assert_eq!(error_of(&body)["code"], "UnrecognizedClientException");
    let wrong_secret = plain
        .entry("b", CLAUDE, "")
        .replace(SECRET_ACCESS_KEY, "not-the-secret");
    let gw = Gateway::with_models(&wrong_secret).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_of(&body)["code"], "InvalidSignatureException");
    assert!(plain.requests().is_empty());
}

#[tokio::test]
async fn credentials_and_region_come_from_the_environment() {
    let api = BedrockApi::with_session_token(script(|_| Answer::Json(text_answer("ok")))).await;
    let yaml = format!(
        "general_settings:\n  master_key: {}\nenvironment_variables:\n  AWS_ACCESS_KEY_ID: {ACCESS_KEY_ID}\n  AWS_SECRET_ACCESS_KEY: '{SECRET_ACCESS_KEY}'\n  AWS_SESSION_TOKEN: '{SESSION_TOKEN}'\n  AWS_REGION: {REGION}\nmodel_list:\n- model_name: b\n  litellm_params:\n    model: bedrock/converse/{CLAUDE}\n    aws_bedrock_runtime_endpoint: {}\n",
        crate::support::MASTER_KEY,
        api.endpoint
    );
    let gw = Gateway::start(&yaml).await;
    let (status, _, body) = gw.post("/v1/chat/completions", &user("x")).await;
    assert_eq!(status, 200, "{body}");
    // `converse/` names the route, not the model.
    assert_eq!(api.last().model, CLAUDE);
}

#[test]
fn the_default_endpoint_is_regional_and_describe_shows_no_secret() {
    let yaml = "model_list:\n- model_name: b\n  litellm_params:\n    model: bedrock/amazon.nova-pro-v1:0\n    aws_region_name: eu-central-1\n    aws_access_key_id: AKIDTEST\n    aws_secret_access_key: very-secret-value\n";
    let loaded = load_str(yaml, "c.yaml").unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let d = &loaded.config.deployments[0];
    assert_eq!(
        d.api_base,
        "https://bedrock-runtime.eu-central-1.amazonaws.com"
    );
    let described = switchyard::config::describe(&loaded.config);
    assert!(
        described.contains("aws_region_name: eu-central-1"),
        "{described}"
    );
    assert!(!described.contains("very-secret-value"), "{described}");
    // region_name is LiteLLM's other spelling.
    let other = yaml.replace("aws_region_name: eu-central-1", "region_name: us-west-2");
    let loaded = load_str(&other, "c.yaml").unwrap();
    assert_eq!(
        loaded.config.deployments[0].api_base,
        "https://bedrock-runtime.us-west-2.amazonaws.com"
    );
}

#[test]
fn missing_region_or_keys_are_errors_with_file_and_line() {
    let yaml = "\
model_list:
  - model_name: no-region
    litellm_params:
      model: bedrock/amazon.nova-pro-v1:0
      aws_access_key_id: AKIDTEST
      aws_secret_access_key: s
  - model_name: half-keys
    litellm_params:
      model: bedrock/amazon.nova-pro-v1:0
      aws_region_name: eu-central-1
      aws_access_key_id: AKIDTEST
  - model_name: no-keys
    litellm_params:
      model: bedrock/amazon.nova-pro-v1:0
      aws_region_name: eu-central-1
  - model_name: not-bedrock
    litellm_params:
      model: openai/gpt-4o
      aws_region_name: eu-central-1
";
    // The process environment may hold AWS variables; these tests must not
    // depend on it, so the variables are looked up in an empty environment.
    let yaml_isolated = format!(
        "environment_variables:\n  AWS_ACCESS_KEY_ID: ''\n  AWS_SECRET_ACCESS_KEY: ''\n  AWS_REGION: ''\n  AWS_DEFAULT_REGION: ''\n{yaml}"
    );
    let errors = load_str(&yaml_isolated, "conf/b.yaml")
        .err()
        .expect("must fail")
        .0;
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let expect = [
        "conf/b.yaml:9: model_list[0].litellm_params.aws_region_name: is required for bedrock/ models",
        "conf/b.yaml:16: model_list[1].litellm_params.aws_secret_access_key: is required with aws_access_key_id",
        "conf/b.yaml:19: model_list[2].litellm_params.aws_access_key_id: bedrock/ models need aws_access_key_id and aws_secret_access_key",
    ];
    for e in expect {
        assert!(
            lines.iter().any(|l| l.starts_with(e)),
            "missing {e:?} in:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(lines.len(), expect.len(), "{}", lines.join("\n"));
    let fine = yaml_isolated
        .split("  - model_name: no-region")
        .next()
        .unwrap()
        .to_string()
        + "  - model_name: not-bedrock\n    litellm_params:\n      model: openai/gpt-4o\n      aws_region_name: eu-central-1\n";
    let warnings = load_str(&fine, "conf/b.yaml").unwrap().warnings;
    assert!(
        warnings.iter().any(|w| w
            .to_string()
            .contains("aws_region_name: only used by bedrock/ models")),
        "{warnings:?}"
    );
}
