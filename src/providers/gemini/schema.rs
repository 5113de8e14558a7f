//! JSON Schema (as OpenAI tools and `response_format` carry it) to Google's
//! `Schema`: "a select subset of an OpenAPI 3.0 schema object". Google
//! rejects fields outside that subset, so the conversion keeps the subset,
//! rewrites what has an equivalent and drops the rest:
//!
//! - `$ref` into `$defs`/`definitions` is inlined (recursion stops at a depth
//!   limit with a plain object); `oneOf` becomes `anyOf`; `allOf` is merged;
//! - `type: [T, "null"]` and a `null` member of `anyOf` become `nullable`;
//! - `const` becomes a one-value `enum`; `enum` values are strings, kept for
//!   string types only;
//! - `format` is kept where Google accepts it (string: `enum`, `date-time`;
//!   number: `float`, `double`; integer: `int32`, `int64`);
//! - `additionalProperties`, `$schema`, `$id`, `examples`, `exclusiveMinimum`,
//!   `strict` and every other keyword outside the subset are dropped;
//! - an object's `required` keeps only names it defines, and an empty
//!   `properties` is left out (Google rejects it).

use serde_json::{Map, Value};

/// How deep `$ref`s are followed before a recursive type is cut off.
const MAX_DEPTH: usize = 12;

/// Keywords copied as they are.
const KEPT: &[&str] = &[
    "title",
    "description",
    "nullable",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "default",
    "example",
    "propertyOrdering",
];

/// Converts a JSON Schema; `$ref`s resolve against its own `$defs`.
pub fn convert(schema: &Value) -> Value {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    Value::Object(node(schema, defs, 0))
}

/// Whether a converted object schema declares no properties (a function
/// without parameters: Google wants `parameters` left out then).
pub fn is_empty_object(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("OBJECT")
        && schema.get("properties").is_none()
        && schema.get("anyOf").is_none()
}

fn node(schema: &Value, defs: &Map<String, Value>, depth: usize) -> Map<String, Value> {
    let Value::Object(src) = schema else {
        return Map::new(); // `true`/`false` schemas: anything
    };
    if depth > MAX_DEPTH {
        return object_type();
    }
    if let Some(target) = src.get("$ref").and_then(Value::as_str) {
        let name = target
            .strip_prefix("#/$defs/")
            .or_else(|| target.strip_prefix("#/definitions/"));
        let mut out = match name.and_then(|n| defs.get(n)) {
            Some(def) => node(def, defs, depth + 1),
            None => object_type(),
        };
        // Siblings of $ref (a description, most often) describe this use.
        for key in ["description", "title"] {
            if let Some(v) = src.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        return out;
    }
    let mut out = Map::new();
    if let Some(Value::Array(parts)) = src.get("allOf") {
        for part in parts {
            merge(&mut out, node(part, defs, depth + 1));
        }
    }
    let mut nullable = false;
    match src.get("type") {
        Some(Value::String(t)) if t == "null" => nullable = true,
        Some(Value::String(t)) => {
            out.insert("type".into(), Value::String(t.to_ascii_uppercase()));
        }
        Some(Value::Array(types)) => {
            let mut kinds: Vec<String> = Vec::new();
            for t in types.iter().filter_map(Value::as_str) {
                if t == "null" {
                    nullable = true;
                } else {
                    kinds.push(t.to_ascii_uppercase());
                }
            }
            match kinds.len() {
                0 => {}
                1 => {
                    out.insert("type".into(), Value::String(kinds.remove(0)));
                }
                _ => {
                    let members = kinds.into_iter().map(|k| single("type", Value::String(k)));
                    out.insert("anyOf".into(), Value::Array(members.collect()));
                }
            }
        }
        _ => {}
    }
    let union = src.get("anyOf").or_else(|| src.get("oneOf"));
    if let Some(Value::Array(members)) = union {
        let mut kept = Vec::new();
        for m in members {
            let converted = node(m, defs, depth + 1);
            if converted.get("type").and_then(Value::as_str) == Some("NULL") || is_null(m) {
                nullable = true;
            } else {
                kept.push(converted);
            }
        }
        if kept.len() == 1 {
            merge(&mut out, kept.remove(0));
        } else if !kept.is_empty() {
            out.insert(
                "anyOf".into(),
                Value::Array(kept.into_iter().map(Value::Object).collect()),
            );
        }
    }
    for key in KEPT {
        if let Some(v) = src.get(*key) {
            out.insert((*key).into(), v.clone());
        }
    }
    let kind = out.get("type").and_then(Value::as_str).map(str::to_string);
    let values = src
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| src.get("const").map(|c| vec![c.clone()]));
    if let Some(values) = values {
        nullable |= values.iter().any(Value::is_null);
        let strings: Vec<Value> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            })
            .collect();
        if matches!(kind.as_deref(), Some("STRING") | None) && !strings.is_empty() {
            out.entry("type").or_insert_with(|| "STRING".into());
            out.insert("enum".into(), Value::Array(strings));
        }
    }
    if let Some(Value::String(format)) = src.get("format") {
        let accepted = match kind.as_deref() {
            Some("STRING") => matches!(format.as_str(), "enum" | "date-time"),
            Some("NUMBER") => matches!(format.as_str(), "float" | "double"),
            Some("INTEGER") => matches!(format.as_str(), "int32" | "int64"),
            _ => false,
        };
        if accepted {
            out.insert("format".into(), Value::String(format.clone()));
        }
    }
    if let Some(Value::Object(props)) = src.get("properties") {
        let converted: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), Value::Object(node(v, defs, depth + 1))))
            .collect();
        if !converted.is_empty() {
            out.insert("properties".into(), Value::Object(converted));
        }
    }
    if let Some(Value::Array(required)) = src.get("required") {
        let defined = out.get("properties").and_then(Value::as_object);
        let kept: Vec<Value> = required
            .iter()
            .filter(|r| {
                r.as_str()
                    .is_some_and(|n| defined.is_some_and(|p| p.contains_key(n)))
            })
            .cloned()
            .collect();
        if !kept.is_empty() {
            out.insert("required".into(), Value::Array(kept));
        }
    }
    match src.get("items") {
        Some(items @ Value::Object(_)) => {
            out.insert("items".into(), Value::Object(node(items, defs, depth + 1)));
        }
        // A tuple: Google has none; the first item's schema is the nearest.
        Some(Value::Array(items)) if !items.is_empty() => {
            out.insert(
                "items".into(),
                Value::Object(node(&items[0], defs, depth + 1)),
            );
        }
        _ => {}
    }
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    out
}

fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn object_type() -> Map<String, Value> {
    single("type", Value::String("OBJECT".into()))
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn single(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), value);
    Value::Object(m)
}

/// Merges `from` into `into`: properties and required lists are combined,
/// other keywords are taken where `into` has none.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) if k == "properties" => a.extend(b),
            (Some(Value::Array(a)), Value::Array(b)) if k == "required" => a.extend(b),
            (Some(_), _) => {}
            (None, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_the_subset_and_drops_the_rest() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object", "additionalProperties": false, "strict": true,
            "properties": {
                "city": {"type": "string", "description": "City", "format": "uri", "minLength": 1},
                "unit": {"enum": ["c", "f"]},
                "days": {"type": ["integer", "null"], "minimum": 1, "exclusiveMaximum": 15, "format": "int32"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                "when": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                "level": {"const": 3},
                "place": {"$ref": "#/$defs/Place", "description": "Where"},
                "any": {"oneOf": [{"type": "string"}, {"type": "number"}]}
            },
            "required": ["city", "ghost"],
            "$defs": {"Place": {"type": "object", "properties": {"lat": {"type": "number", "format": "double"}}}}
        });
        assert_eq!(
            convert(&schema),
            json!({
                "type": "OBJECT",
                "properties": {
                    "city": {"type": "STRING", "description": "City", "minLength": 1},
                    "unit": {"type": "STRING", "enum": ["c", "f"]},
                    "days": {"type": "INTEGER", "minimum": 1, "format": "int32", "nullable": true},
                    "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 3},
                    "when": {"type": "STRING", "format": "date-time", "nullable": true},
                    "level": {"type": "STRING", "enum": ["3"]},
                    "place": {"type": "OBJECT", "properties": {"lat": {"type": "NUMBER", "format": "double"}}, "description": "Where"},
                    "any": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn recursion_is_cut_off_and_empty_objects_are_recognised() {
        let schema = json!({"$ref": "#/definitions/Node", "definitions": {"Node": {
            "type": "object", "properties": {"child": {"$ref": "#/definitions/Node"}}}}});
        let out = convert(&schema);
        assert_eq!(out["type"], "OBJECT");
        assert!(out.to_string().len() < 2000);
        assert!(is_empty_object(&convert(
            &json!({"type": "object", "properties": {}})
        )));
        assert!(!is_empty_object(&convert(
            &json!({"type": "object", "properties": {"a": {"type": "string"}}})
        )));
        assert_eq!(convert(&json!(true)), json!({}));
        let all_of = json!({"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                                     {"properties": {"b": {"type": "string"}}, "required": ["b"]}]});
        assert_eq!(
            convert(&all_of),
            json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "STRING"}}, "required": ["a", "b"]})
        );
    }
}
