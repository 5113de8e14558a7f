//! Whether a model list (a key's, team's or user's `models`) lets a model
//! through, with LiteLLM's conventions: an empty list allows every model,
//! as does `all-proxy-models` or `*`; `provider/*` allows every model
//! named under that prefix.

/// LiteLLM's name for "every model the gateway serves".
pub const ALL_PROXY_MODELS: &str = "all-proxy-models";

pub fn allows_model(models: &[String], model: &str) -> bool {
    models.is_empty()
        || models.iter().any(|m| {
            m == model
                || m == ALL_PROXY_MODELS
                || m == "*"
                || m.strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with('/') && model.starts_with(prefix))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(models: &[&str]) -> Vec<String> {
        models.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn empty_and_all_allow_everything() {
        assert!(allows_model(&[], "gpt-4o"));
        assert!(allows_model(&list(&["all-proxy-models"]), "gpt-4o"));
        assert!(allows_model(&list(&["*"]), "gpt-4o"));
    }

    #[test]
    fn names_and_prefix_wildcards() {
        let models = list(&["gpt-4o", "openai/*"]);
        assert!(allows_model(&models, "gpt-4o"));
        assert!(allows_model(&models, "openai/gpt-4.1"));
        assert!(!allows_model(&models, "gpt-4o-mini"));
        assert!(!allows_model(&models, "anthropic/claude"));
        assert!(!allows_model(&list(&["open*"]), "openai/gpt-4o"));
    }
}
