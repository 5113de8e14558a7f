//! Configuration findings that name the file, the line and the key.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    /// The dotted path of the key, e.g. `model_list[2].litellm_params.api_key`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.key, self.message
        )
    }
}

/// Every error found in one configuration file, reported together.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} configuration error{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.0 {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors and warnings while a file is read.
pub struct Findings {
    pub file: String,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Findings {
    pub fn new(file: String) -> Self {
        Findings {
            file,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn make(&self, line: usize, key: &str, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            line,
            key: key.to_string(),
            message,
        }
    }

    pub fn error(&mut self, line: usize, key: &str, message: impl Into<String>) {
        let d = self.make(line, key, message.into());
        self.errors.push(d);
    }

    pub fn warn(&mut self, line: usize, key: &str, message: impl Into<String>) {
        let d = self.make(line, key, message.into());
        self.warnings.push(d);
    }
}
