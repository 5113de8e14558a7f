//! `os.environ/NAME` references, resolved from the `environment_variables`
//! section first (as LiteLLM sets those into its environment) and then from
//! the process environment.

use std::collections::HashMap;

pub const PREFIX: &str = "os.environ/";

pub struct Env<'a> {
    pub overrides: HashMap<String, String>,
    pub process: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    pub fn get(&self, name: &str) -> Option<String> {
        self.overrides
            .get(name)
            .cloned()
            .or_else(|| (self.process)(name))
    }

    /// Resolves a value that may be a reference. `Err` carries the variable
    /// name that is not set.
    pub fn resolve(&self, value: &str) -> Result<String, String> {
        match value.strip_prefix(PREFIX) {
            Some(name) => self.get(name).ok_or_else(|| name.to_string()),
            None => Ok(value.to_string()),
        }
    }
}
