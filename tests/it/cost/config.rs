//! Where a deployment's price comes from: its `litellm_params`, else its
//! `model_info`, else the price file (`litellm_settings.price_file`), else
//! the bundled table, field by field.

use std::path::PathBuf;

use switchyard::config::{load_file, load_str};

/// A fresh folder under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "switchyard-cost-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, text: &str) -> PathBuf {
        let path = self.0.join(file);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PRICE_FILE: &str = r#"{"models": {"gpt-4o": {"output_cost_per_token": 20e-6, "cache_read_input_token_cost": 1e-6},
    "acme-llm": {"input_cost_per_token": 4e-6, "output_cost_per_token": 8e-6, "max_input_tokens": 32000}}}"#;

#[test]
fn the_most_specific_source_wins_field_by_field() {
    let dir = TempDir::new("precedence");
    let file = dir.write("prices.json", PRICE_FILE);
    let yaml = format!(
        "litellm_settings:\n  price_file: {}\nmodel_list:\n\
         - model_name: m\n  litellm_params:\n    model: openai/gpt-4o\n    input_cost_per_token: 3.0e-6\n\
         \x20 model_info:\n    input_cost_per_token: 7.0e-6\n    max_output_tokens: 1000\n",
        file.display()
    );
    let loaded = load_str(&yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    let p = loaded.config.deployments[0].price.clone().unwrap();
    // input: litellm_params over model_info; output and cache read: the
    // price file over the bundled table; max_input_tokens: bundled;
    // max_output_tokens: model_info over the bundled table.
    assert_eq!(
        (
            p.input,
            p.output,
            p.cache_read,
            p.max_input_tokens,
            p.max_output_tokens
        ),
        (3e-6, 20e-6, Some(1e-6), Some(128000), Some(1000))
    );
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| !w.key.contains("price_file"))
    );
}

#[test]
fn cache_prices_in_litellm_params_are_acted_on_not_forwarded() {
    let yaml = "model_list:\n\
        - model_name: m\n  litellm_params:\n    model: anthropic/my-claude-proxy\n    api_key: k\n\
        \x20   input_cost_per_token: 0.000003\n    output_cost_per_token: 0.000015\n\
        \x20   cache_read_input_token_cost: 0.0000003\n    cache_creation_input_token_cost: 0.00000375\n";
    let loaded = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        loaded.warnings.iter().all(|w| !w.key.contains("cost")),
        "{:?}",
        loaded.warnings
    );
    let d = &loaded.config.deployments[0];
    assert!(d.defaults.keys().all(|k| !k.contains("cost")));
    let p = d.price.clone().unwrap();
    assert_eq!((p.cache_read, p.cache_write), (Some(3e-7), Some(3.75e-6)));
}

#[test]
fn a_relative_price_file_is_read_beside_the_config() {
    let dir = TempDir::new("relative");
    dir.write("prices.json", PRICE_FILE);
    let config = dir.write(
        "config.yaml",
        "litellm_settings:\n  price_file: prices.json\nmodel_list:\n\
         - model_name: a\n  litellm_params:\n    model: openai/acme-llm\n",
    );
    let loaded = load_file(&config).unwrap_or_else(|e| panic!("{e}"));
    let p = loaded.config.deployments[0].price.clone().unwrap();
    assert_eq!(
        (p.input, p.output, p.max_input_tokens),
        (4e-6, 8e-6, Some(32000))
    );
}

#[test]
fn a_bad_price_file_is_a_config_error_at_its_line() {
    let dir = TempDir::new("bad");
    let bad = dir.write(
        "prices.json",
        r#"{"models": {"m": {"input_cost_per_token": -1}}}"#,
    );
    for (path, says) in [
        (
            bad.display().to_string(),
            "input_cost_per_token must be at least 0",
        ),
        (
            dir.0.join("missing.json").display().to_string(),
            "cannot read",
        ),
    ] {
        let yaml = format!("model_list: []\nlitellm_settings:\n  price_file: {path}\n");
        let errors = load_str(&yaml, "test.yaml")
            .err()
            .expect("a config error")
            .0;
        let e = &errors[0];
        assert_eq!((e.line, e.key.as_str()), (3, "litellm_settings.price_file"));
        assert!(e.message.contains(says), "{}", e.message);
    }
}

#[test]
fn unknown_models_have_no_price_and_azure_names_its_base_model() {
    let yaml = "model_list:\n\
        - model_name: a\n  litellm_params:\n    model: openai/acme-unknown\n\
        - model_name: b\n  litellm_params:\n    model: azure/prod-east-4o\n    api_base: https://x.openai.azure.com\n\
        \x20 model_info:\n    base_model: gpt-4o-mini\n\
        - model_name: c\n  litellm_params:\n    model: ollama/llama3.1\n";
    let loaded = load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    let d = &loaded.config.deployments;
    assert!(d[0].price.is_none());
    assert_eq!(d[1].price.as_ref().unwrap().input, 0.15e-6);
    let local = d[2].price.as_ref().unwrap();
    assert_eq!((local.input, local.output), (0.0, 0.0));
}
