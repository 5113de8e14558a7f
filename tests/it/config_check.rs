//! Configuration: LiteLLM's format, every error with file, line and key and
//! all reported at once; keys not acted on yet are warnings, never fatal.

use switchyard::config::load_str;

#[test]
fn every_error_names_file_line_and_key_and_all_are_reported() {
    let yaml = "\
model_list:
  - model_name: good
    litellm_params:
      model: openai/gpt-4o
  - model_name: bad-provider
    litellm_params:
      model: nosuch/x
  - model_name: no-model
    litellm_params:
      api_key: x
  - model_name: bad-timeout
    litellm_params:
      model: openai/x
      timeout: soon
  - litellm_params:
      model: openai/y
  - model_name: azure-no-base
    litellm_params:
      model: azure/dep
      api_key: os.environ/SWITCHYARD_TEST_SURELY_UNSET
general_settings:
  max_request_size_mb: -1
";
    let errors = load_str(yaml, "conf/test.yaml").err().expect("must fail").0;
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let expect = [
        "conf/test.yaml:7: model_list[1].litellm_params.model: unknown provider \"nosuch\"",
        "conf/test.yaml:9: model_list[2].litellm_params.model: is required",
        "conf/test.yaml:14: model_list[3].litellm_params.timeout: must be a positive number of seconds",
        "conf/test.yaml:15: model_list[4].model_name: is required",
        "conf/test.yaml:18: model_list[5].litellm_params.api_base: is required for azure/ models",
        "conf/test.yaml:20: model_list[5].litellm_params.api_key: environment variable SWITCHYARD_TEST_SURELY_UNSET is not set",
        "conf/test.yaml:22: general_settings.max_request_size_mb: must be a positive number",
    ];
    for e in expect {
        assert!(
            lines.iter().any(|l| l.starts_with(e)),
            "missing {e:?} in:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(lines.len(), expect.len(), "{}", lines.join("\n"));
}

#[test]
fn invalid_yaml_names_the_line() {
    let errors = load_str(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x\n",
        "c.yaml",
    )
    .err()
    .unwrap()
    .0;
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().starts_with("c.yaml:"),
        "{}",
        errors[0]
    );
    assert!(errors[0].line >= 3, "{}", errors[0]);
}

#[test]
fn keys_not_acted_on_are_warnings_with_their_line() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params:
      model: openai/x
      max_budget: 3
      temprature: 0.5
router_settings:
  routing_strategy: provider-budget-routing
  redis_host: localhost
litellm_settings:
  cache: true
credential_list: []
weird_section: 1
";
    let loaded = load_str(yaml, "w.yaml").unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let expect = [
        "w.yaml:5: model_list[0].litellm_params.max_budget: accepted, but not acted on yet",
        "w.yaml:6: model_list[0].litellm_params.temprature: not a known setting",
        "w.yaml:8: router_settings.routing_strategy: \"provider-budget-routing\" is not implemented yet",
        "w.yaml:9: router_settings.redis_host: accepted, but not acted on yet",
        "w.yaml:11: litellm_settings.cache: accepted, but not acted on yet",
        "w.yaml:12: credential_list: accepted, but not acted on yet",
        "w.yaml:13: weird_section: unknown section",
    ];
    for e in expect {
        assert!(
            warnings.iter().any(|w| w.starts_with(e)),
            "missing {e:?} in:\n{}",
            warnings.join("\n")
        );
    }
    assert_eq!(warnings.len(), expect.len(), "{}", warnings.join("\n"));
}

#[test]
fn environment_references_and_provider_defaults_resolve() {
    let yaml = "\
environment_variables:
  MY_TEST_KEY: sk-from-section
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/MY_TEST_KEY
      temperature: 0.3
  - model_name: b
    litellm_params: {model: groq/llama-3.3-70b-versatile, timeout: 5, stream_timeout: 2}
  - model_name: c
    litellm_params: {model: azure/dep, api_base: 'https://r.openai.azure.com/'}
router_settings:
  timeout: 30
";
    let c = load_str(yaml, "e.yaml").unwrap().config;
    let a = &c.deployments[0];
    assert_eq!(a.api_key.as_ref().unwrap().expose(), "sk-from-section");
    assert_eq!(a.api_base, "https://api.openai.com/v1");
    assert_eq!(a.defaults["temperature"], 0.3);
    assert_eq!(a.timeout.as_secs(), 30);
    assert_eq!(a.stream_timeout.as_secs(), 30);
    let b = &c.deployments[1];
    assert_eq!(b.api_base, "https://api.groq.com/openai/v1");
    assert_eq!(b.upstream_model, "llama-3.3-70b-versatile");
    assert_eq!((b.timeout.as_secs(), b.stream_timeout.as_secs()), (5, 2));
    let az = &c.deployments[2];
    assert_eq!(az.api_base, "https://r.openai.azure.com");
    assert_eq!(az.api_version.as_deref(), Some("2024-10-21"));
    assert_eq!(
        c.deployments[0].id.len(),
        64,
        "ids default to a stable hash"
    );
    assert_eq!(
        load_str(yaml, "e.yaml").unwrap().config.deployments[0].id,
        a.id
    );
}

#[test]
fn router_settings_are_read_and_bad_ones_named_by_line() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params: {model: openai/x, order: 1, max_parallel_requests: 2, cooldown_time: 0.5, max_retries: 1}
  - {model_name: b, litellm_params: {model: openai/b}}
  - {model_name: c, litellm_params: {model: openai/c}}
  - {model_name: big, litellm_params: {model: openai/big}}
  - {model_name: z, litellm_params: {model: openai/z}}
router_settings:
  routing_strategy: least-busy
  num_retries: 2
  allowed_fails: 1
  cooldown_time: 0.25
  fallbacks: [{a: [b, c]}]
  context_window_fallbacks: [{a: [big]}]
  default_fallbacks: [z]
  model_group_alias: {fast: a}
litellm_settings:
  num_retries: 9
";
    let loaded = load_str(yaml, "r.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let r = &loaded.config.router;
    assert_eq!(
        r.num_retries, 2,
        "router_settings wins over litellm_settings"
    );
    assert_eq!(r.allowed_fails, 1);
    assert_eq!(r.cooldown_time.as_secs_f64(), 0.25);
    assert_eq!(
        r.fallbacks,
        vec![("a".to_string(), vec!["b".to_string(), "c".to_string()])]
    );
    assert_eq!(r.context_window_fallbacks[0].1, vec!["big".to_string()]);
    assert_eq!(r.default_fallbacks, vec!["z".to_string()]);
    assert_eq!(
        r.model_group_alias,
        vec![("fast".to_string(), "a".to_string())]
    );
    let d = &loaded.config.deployments[0];
    assert_eq!(
        (d.order, d.max_parallel_requests, d.max_retries),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(d.cooldown_time.unwrap().as_secs_f64(), 0.5);

    let bad = "\
router_settings:
  num_retries: -1
  fallbacks: {a: b}
  cooldown_time: soon
";
    let errors: Vec<String> = load_str(bad, "b.yaml")
        .err()
        .expect("must fail")
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    for e in [
        "b.yaml:2: router_settings.num_retries",
        "b.yaml:3: router_settings.fallbacks",
        "b.yaml:4: router_settings.cooldown_time",
    ] {
        assert!(
            errors.iter().any(|x| x.starts_with(e)),
            "missing {e:?} in {errors:?}"
        );
    }
}

#[test]
fn fallbacks_and_aliases_must_name_model_groups() {
    let yaml = "\
model_list:
  - {model_name: a, litellm_params: {model: openai/a}}
  - {model_name: 'openai/*', litellm_params: {model: 'openai/*'}}
router_settings:
  fallbacks: [{a: [openai/gpt-4o, fast, bee]}, {ghost: [a]}]
  context_window_fallbacks: [{a: [large]}]
  default_fallbacks: [a, nowhere]
  model_group_alias:
    fast: a
    slow: {model: missing}
    ab: {splits: {a: 90, nope: 10}}
";
    let errors = load_str(yaml, "g.yaml")
        .err()
        .expect("unknown groups are errors")
        .to_string();
    for (line, key, name) in [
        (5, "router_settings.fallbacks.a", "\"bee\""),
        (6, "router_settings.context_window_fallbacks.a", "\"large\""),
        (7, "router_settings.default_fallbacks", "\"nowhere\""),
        (10, "router_settings.model_group_alias.slow", "\"missing\""),
        (11, "router_settings.model_group_alias.ab", "\"nope\""),
    ] {
        assert!(
            errors.contains(&format!("g.yaml:{line}: {key}:")) && errors.contains(name),
            "{line} {key} {name} in:\n{errors}"
        );
    }
    // A wildcard group covers openai/gpt-4o; an alias is a valid target.
    assert!(
        !errors.contains("openai/gpt-4o") && !errors.contains("\"fast\""),
        "{errors}"
    );
    let fixed = yaml
        .replace(", bee", "")
        .replace("large", "a")
        .replace(", nowhere", "")
        .replace("missing", "a")
        .replace(", nope: 10", "");
    let loaded = load_str(&fixed, "g.yaml").unwrap_or_else(|e| panic!("{e}"));
    let warned: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("g.yaml:5: router_settings.fallbacks.ghost")),
        "a fallback list for a group that does not exist is a warning: {warned:?}"
    );
}
