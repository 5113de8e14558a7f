//! Reading management request bodies field by field, so that every
//! validation error is a 400 naming its field (`param`). Unknown fields are
//! ignored, as LiteLLM's other options are.
//!
//! A field that is absent leaves a setting as it is; `null` clears it.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::api::error::ApiError;
use crate::limits::Period;
use crate::store::accounts::{JsonObject, ModelLimits};

pub struct Fields(Map<String, Value>);

/// A `budget_duration` as sent (`None` for `null`), and when the first
/// period, starting now, ends.
pub struct BudgetPeriod {
    pub duration: Option<String>,
    pub reset_at: Option<i64>,
}

impl Fields {
    /// A JSON object body; an empty body reads as `{}`.
    pub fn parse(body: &Bytes) -> Result<Fields, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields(Map::new()));
        }
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(Fields(map)),
            Ok(_) => Err(ApiError::invalid("The request body must be a JSON object.")),
            Err(e) => Err(ApiError::invalid(format!(
                "The request body is not valid JSON: {e}."
            ))),
        }
    }

    /// Whether the field was sent (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong(name, "a string")),
        }
    }

    /// A string that must be there and not empty.
    pub fn required_string(&self, name: &str) -> Result<String, ApiError> {
        match self.string(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::param(name, format!("{name} is required."))),
        }
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong(name, "true or false")),
        }
    }

    /// A budget in USD: a finite number, not negative.
    pub fn money(&self, name: &str) -> Result<Option<f64>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                _ => Err(wrong(name, "a number of USD, 0 or more")),
            },
        }
    }

    /// A limit or count: a whole number, not negative.
    pub fn count(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => whole(v)
                .map(Some)
                .ok_or_else(|| wrong(name, "a whole number, 0 or more")),
        }
    }

    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| wrong(name, "a list of strings")),
            Some(_) => Err(wrong(name, "a list of strings")),
        }
    }

    pub fn object(&self, name: &str) -> Result<Option<JsonObject>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map.clone())),
            Some(_) => Err(wrong(name, "a JSON object")),
        }
    }

    /// `{"model": limit}` with whole-number limits.
    pub fn model_limits(&self, name: &str) -> Result<Option<ModelLimits>, ApiError> {
        let Some(map) = self.object(name)? else {
            return Ok(None);
        };
        map.iter()
            .map(|(model, v)| whole(v).map(|n| (model.clone(), n)))
            .collect::<Option<ModelLimits>>()
            .map(Some)
            .ok_or_else(|| wrong(name, "an object of model names to whole numbers"))
    }

    /// A period (`30s`, `5m`, `1h`, `7d`, `1mo`), checked and kept as sent.
    pub fn period(&self, name: &str) -> Result<Option<(String, Period)>, ApiError> {
        let Some(text) = self.string(name)? else {
            return Ok(None);
        };
        Period::parse(&text)
            .map(|p| Some((text.trim().to_string(), p)))
            .map_err(|_| {
                ApiError::param(
                    name,
                    format!(
                        "{name} {text:?} is not a duration: expected a whole number and a unit \
                         (s, m, h, d, w or mo), e.g. \"30s\", \"30m\", \"30h\", \"30d\", \"1mo\"."
                    ),
                )
            })
    }

    /// When something sent as a duration from `now` (`duration`) ends:
    /// `None` if not sent, `Some(None)` if sent as `null` (never).
    pub fn expiry(&self, name: &str, now: i64) -> Result<Option<Option<i64>>, ApiError> {
        if !self.has(name) {
            return Ok(None);
        }
        Ok(Some(self.period(name)?.map(|(_, p)| ends(&p, now))))
    }

    /// `budget_duration`, when sent.
    pub fn budget_duration(&self, now: i64) -> Result<Option<BudgetPeriod>, ApiError> {
        if !self.has("budget_duration") {
            return Ok(None);
        }
        Ok(Some(match self.period("budget_duration")? {
            Some((text, p)) => BudgetPeriod {
                duration: Some(text),
                reset_at: Some(ends(&p, now)),
            },
            None => BudgetPeriod {
                duration: None,
                reset_at: None,
            },
        }))
    }

    /// A list of ids, or one id on its own.
    pub fn ids(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.value(name) {
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            _ => self.strings(name),
        }
    }

    /// The raw value, for fields with their own shape.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.value(name)
    }
}

/// Copies a field onto a row when the request sent it:
/// `take!(fields, row, field, reader)` sets `row.field` to what
/// `fields.reader("field")` reads; with `default` appended, `null` sets the
/// type's default (an empty list or object) rather than `None`.
macro_rules! take {
    ($f:expr, $row:expr, $field:ident, $read:ident) => {
        if $f.has(stringify!($field)) {
            $row.$field = $f.$read(stringify!($field))?;
        }
    };
    ($f:expr, $row:expr, $field:ident, $read:ident, default) => {
        if $f.has(stringify!($field)) {
            $row.$field = $f.$read(stringify!($field))?.unwrap_or_default();
        }
    };
}
pub(crate) use take;

/// The end of a period starting at `now` (unix seconds).
fn ends(p: &Period, now: i64) -> i64 {
    i64::try_from(p.next_reset(now.max(0) as u64)).unwrap_or(i64::MAX)
}

fn whole(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    })
}

fn wrong(name: &str, expected: &str) -> ApiError {
    ApiError::param(name, format!("{name} must be {expected}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        Fields::parse(&Bytes::from(json.to_string())).unwrap()
    }

    #[test]
    fn errors_name_the_field() {
        let f =
            fields(r#"{"max_budget": -1, "rpm_limit": 1.5, "models": [1], "duration": "soon"}"#);
        for (name, e) in [
            ("max_budget", f.money("max_budget").unwrap_err()),
            ("rpm_limit", f.count("rpm_limit").unwrap_err()),
            ("models", f.strings("models").unwrap_err()),
            ("duration", f.period("duration").unwrap_err()),
        ] {
            assert_eq!(e.status, 400);
            assert_eq!(e.param.as_deref(), Some(name));
        }
    }

    #[test]
    fn absent_and_null_read_as_none_but_null_is_sent() {
        let f = fields(r#"{"max_budget": null}"#);
        assert_eq!(f.money("max_budget").unwrap(), None);
        assert!(f.has("max_budget"));
        assert!(!f.has("rpm_limit"));
    }

    #[test]
    fn values_of_the_right_shape_are_read() {
        let f = fields(
            r#"{"tpm_limit": 1000, "max_budget": 2.5, "budget_duration": "1mo",
                "model_rpm_limit": {"gpt-4o": 10}, "keys": "sk-1"}"#,
        );
        assert_eq!(f.count("tpm_limit").unwrap(), Some(1000));
        assert_eq!(f.money("max_budget").unwrap(), Some(2.5));
        assert_eq!(f.period("budget_duration").unwrap().unwrap().0, "1mo");
        assert_eq!(
            f.model_limits("model_rpm_limit").unwrap().unwrap()["gpt-4o"],
            10
        );
        assert_eq!(f.ids("keys").unwrap(), Some(vec!["sk-1".to_string()]));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert!(Fields::parse(&Bytes::from_static(b"[1]")).is_err());
        assert!(Fields::parse(&Bytes::from_static(b"{nope")).is_err());
        assert!(Fields::parse(&Bytes::from_static(b"")).is_ok());
    }
}
