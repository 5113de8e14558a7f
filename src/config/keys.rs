//! Which LiteLLM configuration keys the gateway acts on today, and which it
//! accepts but does not act on yet (those are reported once at start-up).

/// Top-level sections read today.
pub const SECTIONS: &[&str] = &[
    "model_list",
    "general_settings",
    "router_settings",
    "litellm_settings",
    "environment_variables",
];

/// Top-level sections LiteLLM users write that later work will act on.
pub const LATER_SECTIONS: &[&str] = &[
    "guardrails",
    "credential_list",
    "compliance",
    "callback_settings",
    "files_settings",
    "assistant_settings",
    "finetune_settings",
    "mcp_servers",
];

/// `litellm_params` keys that configure the deployment itself (acted on).
pub const DEPLOYMENT_KEYS: &[&str] = &[
    "model",
    "api_base",
    "api_key",
    "api_version",
    "timeout",
    "stream_timeout",
    "request_timeout",
    "weight",
    "rpm",
    "tpm",
    "tags",
    "max_retries",
    "num_retries",
    "cooldown_time",
    "order",
    "max_parallel_requests",
    "input_cost_per_token",
    "output_cost_per_token",
    "organization",
    "extra_headers",
    "drop_params",
    "mock_response",
    "mock_latency_ms",
    "mock_chunk_delay_ms",
    "mock_error_status",
    "mock_error_rate",
    "mock_error_message",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
    "aws_region_name",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_bedrock_runtime_endpoint",
];

/// `litellm_params` keys LiteLLM knows that are not acted on yet.
pub const DEPLOYMENT_KEYS_LATER: &[&str] = &[
    "aws_role_name",
    "aws_profile_name",
    "input_cost_per_second",
    "output_cost_per_second",
    "additional_drop_params",
    "custom_llm_provider",
    "use_in_pass_through",
    "merge_reasoning_content_in_choices",
    "budget_duration",
    "max_budget",
    "litellm_credential_name",
    "azure_ad_token",
    "configurable_clientside_auth_params",
];

/// OpenAI request parameters: in `litellm_params` they are defaults applied
/// when a request does not set them.
pub const REQUEST_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "user",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "service_tier",
    "modalities",
    "audio",
    "prediction",
    "store",
    "metadata",
    "stream_options",
    "web_search_options",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
    "dimensions",
    "encoding_format",
    // Ollama's own, as deployment defaults.
    "keep_alive",
    "num_ctx",
];

pub const GENERAL_SETTINGS: &[&str] = &[
    "master_key",
    "max_request_size_mb",
    "database_url",
    "proxy_batch_write_at",
];
pub const ROUTER_SETTINGS: &[&str] = &[
    "routing_strategy",
    "timeout",
    "stream_timeout",
    "num_retries",
    "retry_after",
    "max_fallbacks",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "allowed_fails",
    "cooldown_time",
    "disable_cooldowns",
    "routing_strategy_args",
    "model_group_alias",
    "enable_tag_filtering",
    "enable_pre_call_checks",
    "retry_policy",
    "allowed_fails_policy",
];
pub const LITELLM_SETTINGS: &[&str] = &[
    "request_timeout",
    "drop_params",
    "num_retries",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
];
