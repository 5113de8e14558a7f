//! A YAML document as a tree whose every node remembers its line, so that
//! configuration errors and warnings can name the file, the line and the key.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Clone, Debug)]
pub struct Node {
    pub line: usize,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub enum Kind {
    /// Entries in document order: (key, the key's line, value).
    Map(Vec<(String, usize, Node)>),
    Seq(Vec<Node>),
    /// A scalar and whether it was written plain (unquoted), which decides
    /// whether `true`, `12` or `null` mean a bool, a number or nothing.
    Scalar(String, bool),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s, true) if is_null_word(s))
    }

    /// The node as plain JSON (numbers, bools and null resolved the YAML 1.2 way).
    pub fn to_json(&self) -> Value {
        match &self.kind {
            Kind::Map(entries) => {
                let mut map = Map::new();
                for (k, _, v) in entries {
                    map.insert(k.clone(), v.to_json());
                }
                Value::Object(map)
            }
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Scalar(s, false) => Value::String(s.clone()),
            Kind::Scalar(s, true) => plain_scalar(s),
        }
    }
}

fn is_null_word(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn plain_scalar(s: &str) -> Value {
    if is_null_word(s) {
        return Value::Null;
    }
    match s {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Value::Number(i.into());
    }
    if s.contains(['.', 'e', 'E'])
        && let Ok(f) = s.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(s.to_string())
}

/// A parse failure with the line where the parser stopped.
#[derive(Debug)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses one YAML document. An empty document is an empty map.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| ParseError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
    if let Some(message) = builder.error {
        return Err(ParseError {
            line: builder.error_line,
            message,
        });
    }
    Ok(builder.root.unwrap_or(Node {
        line: 1,
        kind: Kind::Map(Vec::new()),
    }))
}

/// Collects parser events into nodes.
#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<String>,
    error_line: usize,
}

struct Open {
    node: Node,
    anchor: usize,
    /// For maps: the key read and waiting for its value.
    pending_key: Option<(String, usize)>,
}

impl Builder {
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut parent.node.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => match parent.pending_key.take() {
                Some((key, line)) => entries.push((key, line, node)),
                None => match node.kind {
                    Kind::Scalar(key, _) => parent.pending_key = Some((key, node.line)),
                    _ => {
                        if self.error.is_none() {
                            self.error = Some("only plain keys are supported in mappings".into());
                            self.error_line = node.line;
                        }
                        parent.pending_key = Some((String::new(), node.line));
                    }
                },
            },
            Kind::Scalar(..) => unreachable!("scalars are never open"),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(value, style, anchor, _tag) => {
                let plain = style == TScalarStyle::Plain;
                self.complete(
                    Node {
                        line,
                        kind: Kind::Scalar(value, plain),
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open {
                node: Node {
                    line,
                    kind: Kind::Seq(Vec::new()),
                },
                anchor,
                pending_key: None,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Open {
                node: Node {
                    line,
                    kind: Kind::Map(Vec::new()),
                },
                anchor,
                pending_key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    self.complete(open.node, open.anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.complete(node, 0),
                None => {
                    self.error
                        .get_or_insert_with(|| "alias to an unknown anchor".into());
                    self.error_line = line;
                }
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_scalars() {
        let n = parse("a: 1\nb:\n  - x\n  - 'true'\nc: true\nd: ~\ne: 1.5\n").unwrap();
        assert_eq!(n.get("b").unwrap().line, 3);
        let Kind::Map(entries) = &n.kind else {
            panic!()
        };
        assert_eq!(entries[2].1, 5);
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a":1,"b":["x","true"],"c":true,"d":null,"e":1.5})
        );
    }

    #[test]
    fn anchors_and_errors() {
        let n = parse("base: &b {x: 1}\nother: *b\n").unwrap();
        assert_eq!(
            n.get("other").unwrap().to_json(),
            serde_json::json!({"x":1})
        );
        let err = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }
}
