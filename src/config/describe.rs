//! The resolved configuration as `switchyard config check` prints it, with
//! every secret masked.

use std::fmt::Write;

use super::Config;

pub fn describe(config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: ok", config.source);
    let _ = writeln!(
        out,
        "master key: {}",
        config.master_key.as_ref().map_or_else(
            || "not set (the gateway is open)".to_string(),
            |k| k.masked()
        )
    );
    let _ = writeln!(out, "max request size: {} bytes", config.max_request_bytes);
    let r = &config.router;
    let _ = writeln!(
        out,
        "routing: {:?}, num_retries {}, allowed_fails {}, cooldown {} s{}",
        r.routing_strategy,
        r.num_retries,
        r.allowed_fails,
        r.cooldown_time.as_secs_f64(),
        if r.disable_cooldowns {
            " (disabled)"
        } else {
            ""
        }
    );
    for (group, targets) in r
        .fallbacks
        .iter()
        .chain(&r.context_window_fallbacks)
        .chain(&r.content_policy_fallbacks)
    {
        let _ = writeln!(out, "fallback: {group} -> {}", targets.join(", "));
    }
    let groups = config.groups();
    let _ = writeln!(out, "model groups: {}", groups.len());
    for group in groups {
        let _ = writeln!(out, "  {group}");
        for d in config.deployments.iter().filter(|d| d.group == group) {
            let _ = writeln!(
                out,
                "    - {}/{}  id={}",
                d.provider.prefix(),
                d.upstream_model,
                d.id
            );
            let _ = writeln!(out, "      api_base: {}", d.api_base);
            if let Some(key) = &d.api_key {
                let _ = writeln!(out, "      api_key: {}", key.masked());
            }
            if let Some(v) = &d.api_version {
                let _ = writeln!(out, "      api_version: {v}");
            }
            if let Some(region) = &d.aws_region {
                let _ = writeln!(out, "      aws_region_name: {region}");
            }
            let _ = writeln!(
                out,
                "      timeout: {} s, stream_timeout: {} s",
                d.timeout.as_secs_f64(),
                d.stream_timeout.as_secs_f64()
            );
            if let Some(w) = d.weight {
                let _ = writeln!(out, "      weight: {w}");
            }
            if !d.tags.is_empty() {
                let _ = writeln!(out, "      tags: {}", d.tags.join(", "));
            }
            if !d.defaults.is_empty() {
                let _ = writeln!(
                    out,
                    "      defaults: {}",
                    serde_json::Value::Object(d.defaults.clone())
                );
            }
            for (name, _) in &d.extra_headers {
                let _ = writeln!(out, "      extra header: {}: ****", name.as_str());
            }
        }
    }
    out
}
