//! Turns the YAML tree into a typed `Config`, collecting every error and
//! warning with its line instead of stopping at the first.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::alert_settings::alert_settings;
use super::diag::{ConfigErrors, Findings};
use super::env::Env;
use super::group_refs;
use super::keys;
use super::provider_settings::{aws_settings, mock_settings, vertex_settings};
use super::router_settings;
use super::storage_settings::storage_settings;
use super::values::{
    flag, headers, key_line, number, positive_at, resolved_string, seconds_at, string, string_list,
};
use super::yaml::{self, Kind, Node};
use super::{Config, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_TIMEOUT, Deployment, Loaded, Secret};
use crate::cost::PriceTable;
use crate::providers::ProviderKind;

pub fn build(
    text: &str,
    file: &str,
    process_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigErrors> {
    let mut f = Findings::new(file.to_string());
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(e) => {
            f.error(e.line, "(yaml)", format!("not valid YAML: {}", e.message));
            return Err(ConfigErrors(f.errors));
        }
    };
    let entries = match &root.kind {
        Kind::Map(entries) => entries.as_slice(),
        _ if root.is_null() => &[],
        _ => {
            f.error(
                root.line,
                "(root)",
                "the configuration must be a mapping of sections",
            );
            return Err(ConfigErrors(f.errors));
        }
    };
    for (key, line, _) in entries {
        if keys::LATER_SECTIONS.contains(&key.as_str()) {
            f.warn(*line, key, "accepted, but not acted on yet");
        } else if !keys::SECTIONS.contains(&key.as_str()) {
            f.warn(*line, key, "unknown section, ignored");
        }
    }

    let env = Env {
        overrides: environment_variables(root.get("environment_variables"), &mut f),
        process: process_env,
    };
    let general = root.get("general_settings");
    let router = root.get("router_settings");
    let litellm = root.get("litellm_settings");
    warn_unacted(general, "general_settings", keys::GENERAL_SETTINGS, &mut f);
    warn_unacted(router, "router_settings", keys::ROUTER_SETTINGS, &mut f);
    warn_unacted(litellm, "litellm_settings", keys::LITELLM_SETTINGS, &mut f);

    let router_settings = router_settings::router_settings(router, litellm, &mut f);
    let global = Globals {
        timeout: seconds_at(router, "timeout", "router_settings", &mut f)
            .or_else(|| seconds_at(litellm, "request_timeout", "litellm_settings", &mut f))
            .unwrap_or(DEFAULT_TIMEOUT),
        stream_timeout: seconds_at(router, "stream_timeout", "router_settings", &mut f),
        drop_params: litellm
            .and_then(|l| l.get("drop_params"))
            .and_then(|n| flag(n, "litellm_settings.drop_params", &mut f))
            .unwrap_or(false),
    };

    let master_key = match general.and_then(|g| g.get("master_key")) {
        Some(node) => {
            resolved_string(node, "general_settings.master_key", &env, &mut f).map(Secret)
        }
        None => env
            .get("SWITCHYARD_MASTER_KEY")
            .or_else(|| env.get("LITELLM_MASTER_KEY"))
            .map(Secret),
    };
    let max_request_bytes = match general.and_then(|g| g.get("max_request_size_mb")) {
        Some(node) => match number(node) {
            Some(mb) if mb > 0.0 => (mb * 1024.0 * 1024.0) as usize,
            _ => {
                f.error(
                    node.line,
                    "general_settings.max_request_size_mb",
                    "must be a positive number of megabytes",
                );
                DEFAULT_MAX_REQUEST_BYTES
            }
        },
        None => DEFAULT_MAX_REQUEST_BYTES,
    };

    let storage = storage_settings(general, &env, &mut f);
    let alerts = alert_settings(general, &env, &mut f);
    let tag_budgets = super::tag_budgets::tag_budgets(router, &mut f);
    let compliance = super::compliance::compliance(&root, &mut f);
    let audit = super::audit_settings::audit_settings(&root, &compliance, &env, &mut f);
    let guardrails = super::guardrail_settings::guardrails(&root, &mut f);
    let network = super::network_rules::network_settings(&root, general, &compliance, &mut f);
    let prices = Arc::new(price_table(litellm, file, &env, &mut f));

    let mut deployments = Vec::new();
    match root.get("model_list") {
        None => {}
        Some(node) if node.is_null() => {}
        Some(Node {
            kind: Kind::Seq(items),
            ..
        }) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(d) =
                    deployment(item, &format!("model_list[{i}]"), &global, &env, &mut f)
                {
                    let d = Deployment {
                        index: deployments.len(),
                        price: prices.price_for(&d),
                        ..d
                    };
                    deployments.push(Arc::new(d));
                }
            }
        }
        Some(node) => f.error(node.line, "model_list", "must be a list of models"),
    }
    let mut seen_ids: HashMap<&str, usize> = HashMap::new();
    for (i, d) in deployments.iter().enumerate() {
        if let Some(first) = seen_ids.insert(&d.id, i) {
            let line = root.get("model_list").map_or(0, |n| n.line);
            f.error(
                line,
                &format!("model_list[{i}].model_info.id"),
                format!("id {:?} is already used by model_list[{first}]", d.id),
            );
        }
    }

    let groups: Vec<&str> = deployments.iter().map(|d| d.group.as_str()).collect();
    group_refs::check(router, litellm, &groups, &mut f);

    if !f.errors.is_empty() {
        f.errors.sort_by_key(|d| d.line);
        return Err(ConfigErrors(f.errors));
    }
    f.warnings.sort_by_key(|d| d.line);
    Ok(Loaded {
        config: Config {
            source: file.to_string(),
            deployments,
            master_key,
            max_request_bytes,
            router: router_settings,
            storage,
            alerts,
            tag_budgets,
            compliance,
            network,
            audit,
            guardrails,
            prices,
        },
        warnings: f.warnings,
    })
}

/// The bundled prices, with `litellm_settings.price_file` (a path relative
/// to the config file's folder) laid over them.
fn price_table(litellm: Option<&Node>, file: &str, env: &Env, f: &mut Findings) -> PriceTable {
    let key = "litellm_settings.price_file";
    let Some(node) = litellm.and_then(|l| l.get("price_file")) else {
        return PriceTable::bundled();
    };
    let Some(path) = resolved_string(node, key, env, f) else {
        return PriceTable::bundled();
    };
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    PriceTable::bundled()
        .with_file(&dir.join(path))
        .unwrap_or_else(|e| {
            f.error(node.line, key, e);
            PriceTable::bundled()
        })
}

/// Settings that apply to every deployment unless it sets its own.
struct Globals {
    timeout: Duration,
    stream_timeout: Option<Duration>,
    drop_params: bool,
}

fn environment_variables(node: Option<&Node>, f: &mut Findings) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return vars;
    };
    let Kind::Map(entries) = &node.kind else {
        f.error(
            node.line,
            "environment_variables",
            "must be a mapping of NAME: value",
        );
        return vars;
    };
    for (name, _, value) in entries {
        match &value.kind {
            Kind::Scalar(s, _) => {
                vars.insert(name.clone(), s.clone());
            }
            _ => f.error(
                value.line,
                &format!("environment_variables.{name}"),
                "must be a plain value",
            ),
        }
    }
    vars
}

fn warn_unacted(section: Option<&Node>, name: &str, acted: &[&str], f: &mut Findings) {
    let Some(section) = section.filter(|n| !n.is_null()) else {
        return;
    };
    let Kind::Map(entries) = &section.kind else {
        f.error(section.line, name, "must be a mapping");
        return;
    };
    for (key, line, _) in entries {
        if !acted.contains(&key.as_str()) {
            f.warn(
                *line,
                &format!("{name}.{key}"),
                "accepted, but not acted on yet",
            );
        }
    }
}

fn deployment(
    item: &Node,
    path: &str,
    global: &Globals,
    env: &Env,
    f: &mut Findings,
) -> Option<Deployment> {
    let Kind::Map(_) = item.kind else {
        f.error(
            item.line,
            path,
            "must be a mapping with model_name and litellm_params",
        );
        return None;
    };
    let errors_before = f.errors.len();
    let group = match item.get("model_name") {
        Some(node) => string(node, &format!("{path}.model_name"), f),
        None => {
            f.error(item.line, &format!("{path}.model_name"), "is required");
            None
        }
    };
    let params_path = format!("{path}.litellm_params");
    // A missing key is reported at the line of the mapping it belongs in.
    let params_line = key_line(item, "litellm_params").unwrap_or(item.line);
    let params = match item.get("litellm_params") {
        Some(
            node @ Node {
                kind: Kind::Map(_), ..
            },
        ) => node,
        Some(node) => {
            f.error(node.line, &params_path, "must be a mapping");
            return None;
        }
        None => {
            f.error(item.line, &params_path, "is required");
            return None;
        }
    };
    let key = |k: &str| format!("{params_path}.{k}");
    let (provider, upstream_model) = match params.get("model") {
        Some(node) => provider_and_model(node, &key("model"), f)?,
        None => {
            f.error(
                params_line,
                &key("model"),
                "is required (provider/model, e.g. openai/gpt-4o)",
            );
            return None;
        }
    };
    let text = |k: &str, f: &mut Findings| {
        params
            .get(k)
            .and_then(|n| resolved_string(n, &key(k), env, f))
    };
    let vertex = vertex_settings(params, &params_path, provider, env, f);
    let aws = aws_settings(params, &params_path, provider, env, f);
    let api_base = match text("api_base", f)
        .or_else(|| provider.default_api_base().map(str::to_string))
        .or_else(|| vertex.default_api_base())
        .or_else(|| aws.default_api_base())
    {
        Some(base) => base.trim_end_matches('/').to_string(),
        None => {
            // A Bedrock deployment without a region has been told so already.
            if provider != ProviderKind::Bedrock {
                f.error(
                    params_line,
                    &key("api_base"),
                    format!("is required for {}/ models", provider.prefix()),
                );
            }
            String::new()
        }
    };
    let api_key = text("api_key", f).map(Secret);
    let api_version =
        text("api_version", f).or_else(|| provider.default_api_version().map(str::to_string));
    let organization = text("organization", f);
    let timeout = seconds_at(Some(params), "timeout", &params_path, f)
        .or_else(|| seconds_at(Some(params), "request_timeout", &params_path, f))
        .unwrap_or(global.timeout);
    let stream_timeout = seconds_at(Some(params), "stream_timeout", &params_path, f)
        .or(global.stream_timeout)
        .unwrap_or(timeout);
    let weight = positive_at(params, "weight", &params_path, f);
    let drop_params = params
        .get("drop_params")
        .and_then(|n| flag(n, &key("drop_params"), f))
        .unwrap_or(global.drop_params);
    let rpm = positive_at(params, "rpm", &params_path, f).map(|v| v as u64);
    let tpm = positive_at(params, "tpm", &params_path, f).map(|v| v as u64);
    let tags = params
        .get("tags")
        .map(|n| string_list(n, &key("tags"), f))
        .unwrap_or_default();
    let extra_headers = params
        .get("extra_headers")
        .map(|n| headers(n, &key("extra_headers"), env, f))
        .unwrap_or_default();
    let mock = mock_settings(params, &params_path, f);
    let max_retries = router_settings::deployment_max_retries(params, &params_path, f);
    let cooldown_time = router_settings::deployment_cooldown(params, &params_path, f);

    let mut defaults = Map::new();
    if let Kind::Map(entries) = &params.kind {
        for (k, line, value) in entries {
            if keys::DEPLOYMENT_KEYS.contains(&k.as_str()) {
                continue;
            }
            if keys::DEPLOYMENT_KEYS_LATER.contains(&k.as_str()) {
                f.warn(*line, &key(k), "accepted, but not acted on yet");
                continue;
            }
            if !keys::REQUEST_PARAMS.contains(&k.as_str()) {
                f.warn(
                    *line,
                    &key(k),
                    "not a known setting; sent upstream as a request default",
                );
            }
            defaults.insert(k.clone(), value.to_json());
        }
    }

    let model_info = match item.get("model_info") {
        None => Map::new(),
        Some(n) if n.is_null() => Map::new(),
        Some(n) => match n.to_json() {
            Value::Object(map) => map,
            _ => {
                f.error(n.line, &format!("{path}.model_info"), "must be a mapping");
                Map::new()
            }
        },
    };
    let routing = router_settings::deployment_routing(params, &model_info, &params_path, f);
    let id = match model_info.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => stable_id(group.as_deref().unwrap_or(""), &params.to_json()),
    };
    if f.errors.len() > errors_before {
        return None;
    }
    Some(Deployment {
        index: 0,
        id,
        group: group?,
        provider,
        upstream_model,
        api_base,
        api_key,
        api_version,
        organization,
        extra_headers,
        timeout,
        stream_timeout,
        weight,
        rpm,
        tpm,
        tags,
        max_retries,
        cooldown_time,
        order: routing.order,
        max_parallel_requests: routing.max_parallel_requests,
        cost_per_token: routing.cost_per_token,
        price_override: routing.price_override,
        price: None,
        defaults,
        model_info,
        mock,
        drop_params,
        vertex_project: vertex.project,
        vertex_location: vertex.location,
        vertex_credentials: vertex.credentials,
        aws_region: aws.region,
        aws_credentials: aws.credentials,
    })
}

fn provider_and_model(node: &Node, key: &str, f: &mut Findings) -> Option<(ProviderKind, String)> {
    let model = string(node, key, f)?;
    let Some((prefix, rest)) = model.split_once('/').filter(|(_, rest)| !rest.is_empty()) else {
        f.error(
            node.line,
            key,
            format!("{model:?} must name its provider, e.g. openai/gpt-4o"),
        );
        return None;
    };
    match ProviderKind::from_prefix(prefix) {
        // `bedrock/converse/<model>` names the route we always use.
        Some(ProviderKind::Bedrock) => Some((
            ProviderKind::Bedrock,
            rest.strip_prefix("converse/").unwrap_or(rest).to_string(),
        )),
        Some(kind) => Some((kind, rest.to_string())),
        None => {
            f.error(
                node.line,
                key,
                format!(
                    "unknown provider {prefix:?}; known: {}",
                    ProviderKind::known_prefixes().join(", ")
                ),
            );
            None
        }
    }
}

/// LiteLLM's ids are a hash of the deployment's parameters; ours hashes the
/// entry as written (references unresolved), so no secret feeds the id.
fn stable_id(group: &str, params: &Value) -> String {
    let mut h = Sha256::new();
    h.update(group.as_bytes());
    h.update([0]);
    h.update(params.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
