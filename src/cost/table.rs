//! The price table: the bundled prices (`prices.json`, compiled in),
//! overlaid at start-up by the user's price file when the config names one.
//! Nothing is ever fetched from the network.
//!
//! A file is a JSON object whose `models` member maps model names to
//! entries in LiteLLM's field names (see `price.rs`); an object without
//! `models` is read as that map itself, so LiteLLM's own
//! `model_prices_and_context_window.json` (or a part of it) works as a
//! price file. A name may be scoped to a provider (`groq/…`), and
//! `provider/*` prices every model of a provider (`ollama/*` is free).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use super::names::candidates;
use super::price::{Price, PriceEntry};
use crate::config::Deployment;
use crate::providers::ProviderKind;

const BUNDLED: &str = include_str!("prices.json");

#[derive(Clone, Default)]
pub struct PriceTable {
    entries: Vec<PriceEntry>,
    /// Every name and alias, to its entry.
    names: HashMap<String, usize>,
    /// Names given as entries (not aliases): an overlay of one of these
    /// changes the entry, and so every alias of it.
    canonical: Vec<String>,
}

impl fmt::Debug for PriceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PriceTable({} models, {} names)",
            self.entries.len(),
            self.names.len()
        )
    }
}

impl PriceTable {
    /// The prices that ship with the gateway.
    pub fn bundled() -> PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE
            .get_or_init(|| {
                // The file is ours and a unit test parses it: a failure here
                // is a build defect, not a condition to serve around.
                PriceTable::default()
                    .overlay_json(BUNDLED)
                    .unwrap_or_else(|e| panic!("src/cost/prices.json: {e}"))
            })
            .clone()
    }

    /// This table with the price file at `path` laid over it.
    pub fn with_file(self, path: &Path) -> Result<PriceTable, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.overlay_json(&text)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// This table with the entries of a price file's text laid over it:
    /// a known name gets the fields the file gives, a new name is added.
    pub fn overlay_json(mut self, text: &str) -> Result<PriceTable, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let models = match root.get("models") {
            Some(Value::Object(models)) => models,
            Some(_) => return Err("`models` must be an object of model names".into()),
            None => root
                .as_object()
                .ok_or("the file must be a JSON object of model names")?,
        };
        for (name, value) in models {
            if is_not_a_model(name, value) {
                continue;
            }
            let entry: PriceEntry =
                serde_json::from_value(value.clone()).map_err(|e| format!("{name}: {e}"))?;
            entry.check().map_err(|e| format!("{name}: {e}"))?;
            self.insert(name, entry);
        }
        Ok(self)
    }

    fn insert(&mut self, name: &str, entry: PriceEntry) {
        let aliases = entry.aliases.clone();
        let index = match self.names.get(name) {
            Some(&i) if self.canonical.iter().any(|c| c == name) => {
                self.entries[i] = entry.over(&self.entries[i]);
                i
            }
            // An alias given its own prices becomes a model of its own.
            Some(&i) => self.push(name, entry.over(&self.entries[i])),
            None => self.push(name, entry.over(&PriceEntry::default())),
        };
        for alias in aliases {
            self.names.insert(alias, index);
        }
    }

    fn push(&mut self, name: &str, entry: PriceEntry) -> usize {
        self.entries.push(entry);
        self.canonical.push(name.to_string());
        let index = self.entries.len() - 1;
        self.names.insert(name.to_string(), index);
        index
    }

    /// The entry for `model` served by `provider`: the first candidate
    /// name (see `names.rs`) scoped to the provider (`groq/…`), else the
    /// provider's `provider/*` entry (a local server is free whatever its
    /// model is called), else the first bare candidate name.
    pub fn lookup(&self, provider: ProviderKind, model: &str) -> Option<&PriceEntry> {
        let prefix = provider.prefix();
        let names = candidates(model);
        names
            .iter()
            .find_map(|name| self.names.get(&format!("{prefix}/{name}")))
            .or_else(|| self.names.get(&format!("{prefix}/*")))
            .or_else(|| names.iter().find_map(|name| self.names.get(name)))
            .map(|&i| &self.entries[i])
    }

    /// The price of `model` as `d` serves it: the deployment's own prices
    /// (`litellm_params`, else `model_info`) over the table's entry.
    /// `None` when neither names a price.
    pub fn price_of(&self, d: &Deployment, model: &str) -> Option<Price> {
        let table = self.lookup(d.provider, model).cloned().unwrap_or_default();
        let limits = PriceEntry::limits_in(&d.model_info);
        d.price_override.over(&limits.over(&table)).resolve()
    }

    /// The price of the deployment's own model: `model_info.base_model`
    /// when it names one (an Azure deployment is named by its owner, not
    /// by its model), else the upstream model.
    pub fn price_for(&self, d: &Deployment) -> Option<Price> {
        let base = d.model_info.get("base_model").and_then(Value::as_str);
        match base {
            Some(base) if self.lookup(d.provider, base).is_some() => self.price_of(d, base),
            _ => self.price_of(d, &d.upstream_model),
        }
    }

    /// The number of models (not counting aliases).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// LiteLLM's price map documents itself in a `sample_spec` entry; our
/// files may carry notes under `_` names.
fn is_not_a_model(name: &str, value: &Value) -> bool {
    name == "sample_spec" || name.starts_with('_') || !value.is_object()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: &PriceTable, p: ProviderKind, model: &str) -> Option<f64> {
        t.lookup(p, model).and_then(|e| e.input_cost_per_token)
    }

    #[test]
    fn the_bundled_table_parses_and_prices_every_model() {
        let t = PriceTable::bundled();
        assert!(t.len() > 100, "{}", t.len());
        for (i, e) in t.entries.iter().enumerate() {
            assert!(e.resolve().is_some(), "{} prices nothing", t.canonical[i]);
        }
    }

    #[test]
    fn upstream_names_find_their_entry() {
        let t = PriceTable::bundled();
        use ProviderKind::*;
        assert_eq!(input(&t, OpenAi, "gpt-4o-2024-08-06"), Some(2.5e-6));
        assert_eq!(input(&t, OpenAi, "gpt-4o-2024-05-13"), Some(5e-6));
        assert_eq!(input(&t, Azure, "gpt-4o-mini"), Some(0.15e-6));
        assert_eq!(
            input(&t, Anthropic, "claude-sonnet-4-5-20250929"),
            Some(3e-6)
        );
        assert_eq!(input(&t, Anthropic, "claude-opus-4-0"), Some(15e-6));
        assert_eq!(input(&t, VertexAi, "claude-haiku-4-5@20251001"), Some(1e-6));
        assert_eq!(input(&t, VertexAi, "gemini-2.0-flash-001"), Some(0.1e-6));
        assert_eq!(
            input(&t, Bedrock, "us.anthropic.claude-3-5-haiku-20241022-v1:0"),
            Some(0.8e-6)
        );
        assert_eq!(input(&t, Bedrock, "eu.amazon.nova-pro-v1:0"), Some(0.8e-6));
        assert_eq!(
            input(&t, Bedrock, "amazon.titan-embed-text-v2:0"),
            Some(0.02e-6)
        );
        assert_eq!(input(&t, Mistral, "mistral-large-latest"), Some(0.5e-6));
        assert_eq!(input(&t, OpenAi, "no-such-model"), None);
    }

    #[test]
    fn provider_scoped_names_and_free_local_servers() {
        let t = PriceTable::bundled();
        let out = |p, m| t.lookup(p, m).and_then(|e| e.output_cost_per_token);
        assert_eq!(out(ProviderKind::Groq, "openai/gpt-oss-120b"), Some(0.6e-6));
        assert_eq!(
            out(ProviderKind::Groq, "llama-3.3-70b-versatile"),
            Some(0.79e-6)
        );
        assert_eq!(
            out(ProviderKind::TogetherAi, "openai/gpt-oss-120b"),
            Some(0.6e-6)
        );
        // Groq's name means nothing to another provider.
        assert_eq!(out(ProviderKind::OpenAi, "llama-3.3-70b-versatile"), None);
        // A local server is free whatever its model is called.
        assert_eq!(input(&t, ProviderKind::Ollama, "gpt-4o"), Some(0.0));
        assert_eq!(
            input(&t, ProviderKind::HostedVllm, "meta-llama/Llama-3.1-8B"),
            Some(0.0)
        );
        assert_eq!(input(&t, ProviderKind::Mock, "anything"), Some(0.0));
    }

    #[test]
    fn a_price_file_overrides_field_by_field_and_adds_models() {
        let t = PriceTable::bundled()
            .overlay_json(
                r#"{"models": {"gpt-4o": {"output_cost_per_token": 1e-5},
                   "claude-sonnet-4": {"output_cost_per_token": 1e-5},
                   "claude-opus-4-0": {"input_cost_per_token": 1e-6},
                   "my-finetune": {"input_cost_per_token": 4e-6, "output_cost_per_token": 8e-6,
                                   "aliases": ["my-ft"]}}}"#,
            )
            .unwrap();
        let gpt = t.lookup(ProviderKind::OpenAi, "gpt-4o").unwrap();
        assert_eq!(
            (gpt.input_cost_per_token, gpt.output_cost_per_token),
            (Some(2.5e-6), Some(1e-5))
        );
        let dated = t.lookup(ProviderKind::OpenAi, "gpt-4o-2024-11-20").unwrap();
        assert_eq!(dated.output_cost_per_token, Some(1e-5));
        // The canonical entry's aliases follow it ...
        let alias = t
            .lookup(ProviderKind::Anthropic, "claude-sonnet-4-0")
            .unwrap();
        assert_eq!(alias.output_cost_per_token, Some(1e-5));
        // ... but an alias given prices of its own leaves the entry alone.
        assert_eq!(
            input(&t, ProviderKind::Anthropic, "claude-opus-4-0"),
            Some(1e-6)
        );
        assert_eq!(
            input(&t, ProviderKind::Anthropic, "claude-opus-4"),
            Some(15e-6)
        );
        assert_eq!(input(&t, ProviderKind::OpenAi, "my-ft"), Some(4e-6));
    }

    #[test]
    fn litellms_flat_price_map_is_a_price_file() {
        let t = PriceTable::default()
            .overlay_json(
                r#"{"sample_spec": {"max_tokens": "LEGACY parameter", "input_cost_per_token": 0.0},
                    "azure/gpt-4o": {"input_cost_per_token": 2.75e-6, "litellm_provider": "azure",
                                     "mode": "chat", "supports_vision": true}}"#,
            )
            .unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(input(&t, ProviderKind::Azure, "gpt-4o"), Some(2.75e-6));
        assert_eq!(input(&t, ProviderKind::OpenAi, "gpt-4o"), None);
    }

    #[test]
    fn bad_price_files_say_what_is_wrong() {
        let err = |text| PriceTable::default().overlay_json(text).unwrap_err();
        assert!(err("{").contains("not JSON"));
        assert!(err("[]").contains("JSON object"));
        assert!(err(r#"{"models": []}"#).contains("models"));
        let e = err(r#"{"m": {"input_cost_per_token": "cheap"}}"#);
        assert!(e.starts_with("m: "), "{e}");
        let e = err(r#"{"m": {"output_cost_per_token": -1}}"#);
        assert!(
            e.contains("output_cost_per_token must be at least 0"),
            "{e}"
        );
        let missing = PriceTable::default().with_file(Path::new("/nonexistent/prices.json"));
        assert!(
            missing
                .unwrap_err()
                .contains("cannot read /nonexistent/prices.json")
        );
    }
}
