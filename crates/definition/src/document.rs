//! The document tree: YAML (or JSON, which is YAML) read into a small value tree whose every
//! node knows its line and column.
//!
//! This module owns the YAML side only: syntax, scalar resolution (YAML 1.2 core schema), anchors
//! and aliases, duplicate keys, and the limits that keep hostile documents cheap (size, nesting
//! depth, alias expansion). It knows nothing about processes; [`crate::parse`] reads the tree.
//!
//! The tree is built from `saphyr-parser` events with an explicit stack, so no input can make it
//! recurse deeply, and aliases are expanded under a budget, so an alias bomb stops early.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use crate::error::DefinitionError;

/// The largest definition document accepted, in bytes (1 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// How deeply sequences and mappings may nest. The format itself needs about 40 levels at most
/// (a condition nested 16 deep inside a field).
pub(crate) const MAX_DEPTH: usize = 64;

/// How much aliases may copy, counted as nodes plus bytes of text. Anchors are rare in
/// definitions; this is far above any honest use and far below what hurts.
const ALIAS_BUDGET: usize = 1_000_000;

/// A position in the source: both 1-based, the column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Pos {
    fn of(marker: &Marker) -> Pos {
        Pos {
            line: marker.line(),
            column: marker.col() + 1,
        }
    }
}

/// A node of the tree with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) pos: Pos,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping. Keys are always text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_pos: Pos,
    pub(crate) value: Node,
}

impl Value {
    /// How a value is named in messages: "found a string".
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "true/false",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The node as JSON (mappings keep their order of keys as far as `serde_json` does).
    /// Non-finite floats, which JSON cannot hold, become null.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Nodes plus bytes of text: what copying this node costs.
    fn weight(&self) -> usize {
        // Iterative, as the tree may be as deep as MAX_DEPTH only, but stays cheap anyway.
        let mut total = 0usize;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            total = total.saturating_add(1);
            match &node.value {
                Value::Str(s) => total = total.saturating_add(s.len()),
                Value::Seq(items) => stack.extend(items),
                Value::Map(entries) => {
                    for e in entries {
                        total = total.saturating_add(e.key.len() + 1);
                        stack.push(&e.value);
                    }
                }
                _ => {}
            }
        }
        total
    }
}

/// A document read into a tree, with the problems that did not stop the reading (duplicate keys,
/// unsupported tags, keys that are not text).
pub(crate) struct Loaded {
    pub(crate) root: Node,
    pub(crate) problems: Vec<DefinitionError>,
}

/// Reads `source` into a tree. A problem that stops the reading (syntax, limits) is the error;
/// the others come back with the tree.
pub(crate) fn load(source: &str) -> Result<Loaded, DefinitionError> {
    if source.len() > MAX_DOCUMENT_BYTES {
        return Err(DefinitionError {
            path: String::new(),
            message: format!(
                "the document is {} bytes; at most {MAX_DOCUMENT_BYTES} (1 MiB) are accepted",
                source.len()
            ),
            line: None,
            column: None,
        });
    }
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(source);
    let mut documents = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| syntax_error(&e))?;
        let pos = Pos::of(&span.start);
        match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(fatal(
                        pos,
                        "the file holds more than one YAML document; a definition is one document",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                builder.scalar(text, style, anchor, tag.as_deref(), pos)?;
            }
            Event::Alias(anchor) => builder.alias(anchor, pos)?,
            Event::SequenceStart(anchor, tag) => {
                builder.check_collection_tag(tag.as_deref(), "seq", pos);
                builder.open(Frame::Seq(Vec::new()), anchor, pos)?;
            }
            Event::MappingStart(anchor, tag) => {
                builder.check_collection_tag(tag.as_deref(), "map", pos);
                builder.open(
                    Frame::Map {
                        entries: Vec::new(),
                        seen: HashSet::new(),
                        key: None,
                    },
                    anchor,
                    pos,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
        }
    }
    match builder.root {
        Some(root) => Ok(Loaded {
            root,
            problems: builder.problems,
        }),
        None => Err(fatal(Pos { line: 1, column: 1 }, "the document is empty")),
    }
}

fn fatal(pos: Pos, message: impl Into<String>) -> DefinitionError {
    DefinitionError {
        path: String::new(),
        message: message.into(),
        line: Some(pos.line),
        column: Some(pos.column),
    }
}

fn syntax_error(error: &ScanError) -> DefinitionError {
    fatal(
        Pos::of(error.marker()),
        format!("invalid YAML: {}", error.info()),
    )
}

/// The key awaiting its value in an open mapping.
struct PendingKey {
    key: String,
    pos: Pos,
    /// A duplicate or a key that is not text: its value is read and dropped.
    drop: bool,
}

/// An open collection.
enum Frame {
    Seq(Vec<Node>),
    Map {
        entries: Vec<Entry>,
        seen: HashSet<String>,
        key: Option<PendingKey>,
    },
}

struct Open {
    frame: Frame,
    anchor: usize,
    pos: Pos,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    copied: usize,
    problems: Vec<DefinitionError>,
}

impl Builder {
    /// The path of the node about to be added, for messages.
    fn path(&self) -> String {
        let mut path = String::new();
        for open in &self.stack {
            match &open.frame {
                Frame::Seq(items) => path.push_str(&format!("[{}]", items.len())),
                // The value of a key that is not text: no name to give.
                Frame::Map { key: Some(k), .. } if k.drop && k.key.is_empty() => {}
                Frame::Map { key: Some(k), .. } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&k.key);
                }
                Frame::Map { key: None, .. } => {}
            }
        }
        path
    }

    fn problem(&mut self, path: String, pos: Pos, message: impl Into<String>) {
        self.problems.push(DefinitionError {
            path,
            message: message.into(),
            line: Some(pos.line),
            column: Some(pos.column),
        });
    }

    /// Whether the next node completes a key of an open mapping (rather than a value).
    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Open {
                frame: Frame::Map { key: None, .. },
                ..
            })
        )
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        pos: Pos,
    ) -> Result<(), DefinitionError> {
        let value = if self.expecting_key() && tag.is_none() {
            // Keys are text whatever they look like (`1:` is the key "1").
            Value::Str(text.into_owned())
        } else {
            self.resolve(text, style, tag, pos)
        };
        self.complete(Node { value, pos }, anchor)
    }

    /// YAML 1.2 core schema: plain scalars may be null, booleans or numbers; quoted and block
    /// scalars are strings; a few core tags (`!!str`, `!!int` …) are honoured.
    fn resolve(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        pos: Pos,
    ) -> Value {
        if let Some(tag) = tag {
            let wanted = if tag.is_yaml_core_schema() {
                Some(tag.suffix.as_str())
            } else if tag.handle.is_empty() && tag.suffix == "!" {
                // The non-specific tag `!`: "a string, whatever it looks like".
                Some("str")
            } else {
                None
            };
            let resolved = match wanted {
                Some("str") => Some(Value::Str(text.to_string())),
                Some(kind @ ("int" | "float" | "bool" | "null")) => {
                    let plain = resolve_plain(&text);
                    let fits = matches!(
                        (kind, &plain),
                        ("int", Value::Int(_))
                            | ("float", Value::Float(_) | Value::Int(_))
                            | ("bool", Value::Bool(_))
                            | ("null", Value::Null)
                    );
                    fits.then(|| match plain {
                        Value::Int(i) if kind == "float" => Value::Float(i as f64),
                        other => other,
                    })
                }
                _ => None,
            };
            if let Some(value) = resolved {
                return value;
            }
            let path = self.path();
            self.problem(path, pos, format!("unsupported tag {tag} on {text:?}"));
        }
        match style {
            ScalarStyle::Plain => resolve_plain(&text),
            _ => Value::Str(text.into_owned()),
        }
    }

    fn check_collection_tag(&mut self, tag: Option<&Tag>, expected: &str, pos: Pos) {
        if let Some(tag) = tag
            && !(tag.is_yaml_core_schema() && tag.suffix == expected)
        {
            let path = self.path();
            self.problem(path, pos, format!("unsupported tag {tag}"));
        }
    }

    fn alias(&mut self, anchor: usize, pos: Pos) -> Result<(), DefinitionError> {
        let Some(node) = self.anchors.get(&anchor) else {
            return Err(fatal(pos, "an alias refers to a node that contains it"));
        };
        let weight = node.weight();
        self.copied = self.copied.saturating_add(weight);
        if self.copied > ALIAS_BUDGET {
            return Err(fatal(
                pos,
                "aliases expand to too much data; write the document out instead",
            ));
        }
        let mut node = node.clone();
        if self.expecting_key() {
            node.value = match node.value {
                Value::Str(s) => Value::Str(s),
                Value::Int(i) => Value::Str(i.to_string()),
                Value::Float(f) => Value::Str(f.to_string()),
                Value::Bool(b) => Value::Str(b.to_string()),
                Value::Null => Value::Str("null".to_owned()),
                other => other,
            };
        }
        self.complete(node, 0)
    }

    fn open(&mut self, frame: Frame, anchor: usize, pos: Pos) -> Result<(), DefinitionError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(fatal(
                pos,
                format!("the document nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.stack.push(Open { frame, anchor, pos });
        Ok(())
    }

    fn close(&mut self) -> Result<(), DefinitionError> {
        let Some(open) = self.stack.pop() else {
            return Ok(());
        };
        let value = match open.frame {
            Frame::Seq(items) => Value::Seq(items),
            Frame::Map { entries, .. } => Value::Map(entries),
        };
        self.complete(
            Node {
                value,
                pos: open.pos,
            },
            open.anchor,
        )
    }

    /// Adds a finished node to its parent (or makes it the root), remembering it if anchored.
    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), DefinitionError> {
        if anchor != 0 {
            self.copied = self.copied.saturating_add(node.weight());
            if self.copied > ALIAS_BUDGET {
                return Err(fatal(
                    node.pos,
                    "anchors and aliases copy too much data; write the document out instead",
                ));
            }
            self.anchors.insert(anchor, node.clone());
        }
        if self.expecting_key() {
            self.add_key(node);
            return Ok(());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open {
                frame: Frame::Seq(items),
                ..
            }) => items.push(node),
            Some(Open {
                frame: Frame::Map { entries, key, .. },
                ..
            }) => {
                if let Some(pending) = key.take()
                    && !pending.drop
                {
                    entries.push(Entry {
                        key: pending.key,
                        key_pos: pending.pos,
                        value: node,
                    });
                }
            }
        }
        Ok(())
    }

    /// Makes a finished node the pending key of the open mapping, reporting keys that are not
    /// text and keys met before (whose values are then dropped).
    fn add_key(&mut self, node: Node) {
        let text = match node.value {
            Value::Str(text) => Some(text),
            other => {
                // The path of the mapping itself: no key is pending yet.
                let path = self.path();
                let message = format!("a key must be text, found {}", other.describe());
                self.problem(path, node.pos, message);
                None
            }
        };
        let Some(Open {
            frame: Frame::Map { seen, key, .. },
            ..
        }) = self.stack.last_mut()
        else {
            return;
        };
        let Some(text) = text else {
            *key = Some(PendingKey {
                key: String::new(),
                pos: node.pos,
                drop: true,
            });
            return;
        };
        let duplicate = !seen.insert(text.clone());
        let message = duplicate.then(|| format!("duplicate key \"{text}\""));
        *key = Some(PendingKey {
            key: text,
            pos: node.pos,
            drop: duplicate,
        });
        if let Some(message) = message {
            // The path now ends with the key.
            let path = self.path();
            self.problem(path, node.pos, message);
        }
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return i64::from_str_radix(hex, 16)
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Int);
        }
        return Value::Str(text.to_owned());
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return i64::from_str_radix(oct, 8)
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Int);
        }
        return Value::Str(text.to_owned());
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => text
                .parse::<f64>()
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Float),
        };
    }
    if is_core_float(unsigned)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` without the sign.
fn is_core_float(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let whole = digits(&mut i);
    let mut fraction = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        fraction = digits(&mut i);
    } else if whole == 0 {
        return false;
    }
    if whole == 0 && fraction == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn root(source: &str) -> Node {
        let loaded = load(source).unwrap();
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        loaded.root
    }

    fn entries(node: &Node) -> &[Entry] {
        match &node.value {
            Value::Map(entries) => entries,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    #[test]
    fn resolves_scalars_by_the_core_schema() {
        for (text, expected) in [
            ("~", Value::Null),
            ("", Value::Null),
            ("true", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("yes", Value::Str("yes".into())),
            ("12", Value::Int(12)),
            ("-12", Value::Int(-12)),
            ("+3", Value::Int(3)),
            ("0x1F", Value::Int(31)),
            ("0o17", Value::Int(15)),
            ("1.5", Value::Float(1.5)),
            ("1e3", Value::Float(1000.0)),
            (".5", Value::Float(0.5)),
            ("1.", Value::Float(1.0)),
            ("2024-01-05", Value::Str("2024-01-05".into())),
            ("1_000", Value::Str("1_000".into())),
            ("e3", Value::Str("e3".into())),
            (".", Value::Str(".".into())),
            ("99999999999999999999", Value::Float(1e20)),
        ] {
            assert_eq!(resolve_plain(text), expected, "{text}");
        }
        assert_eq!(resolve_plain(".inf"), Value::Float(f64::INFINITY));
    }

    #[test]
    fn quoted_scalars_and_keys_are_text() {
        let node = root("'12': \"true\"\n13: [1, '1']\n");
        let e = entries(&node);
        assert_eq!(e[0].key, "12");
        assert_eq!(e[0].value.value, Value::Str("true".into()));
        assert_eq!(e[1].key, "13");
        assert_eq!(e[1].value.to_json(), serde_json::json!([1, "1"]));
    }

    #[test]
    fn positions_are_one_based() {
        let node = root("a: 1\nbb:\n  - x\n  - {c: d}\n");
        let e = entries(&node);
        assert_eq!(e[0].key_pos, Pos { line: 1, column: 1 });
        assert_eq!(e[0].value.pos, Pos { line: 1, column: 4 });
        assert_eq!(e[1].key_pos, Pos { line: 2, column: 1 });
        let Value::Seq(items) = &e[1].value.value else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        assert_eq!(items[1].pos, Pos { line: 4, column: 5 });
        assert_eq!(entries(&items[1])[0].value.pos, Pos { line: 4, column: 9 });
    }

    #[test]
    fn json_is_read_with_positions() {
        let node = root("{\n  \"a\": 1,\n  \"b\": [true, null, \"x\"]\n}");
        let e = entries(&node);
        assert_eq!(e[1].key, "b");
        assert_eq!(e[1].key_pos, Pos { line: 3, column: 3 });
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": 1, "b": [true, null, "x"]})
        );
        let compact = root(r#"{"a":{"b":[1,2.5,"c"]}}"#);
        assert_eq!(
            compact.to_json(),
            serde_json::json!({"a": {"b": [1, 2.5, "c"]}})
        );
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_first_kept() {
        let loaded = load("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n").unwrap();
        let messages: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "b.c: duplicate key \"c\" (line 4, column 3)",
                "a: duplicate key \"a\" (line 5, column 1)"
            ]
        );
        assert_eq!(
            loaded.root.to_json(),
            serde_json::json!({"a": 1, "b": {"c": 2}})
        );
    }

    #[test]
    fn complex_keys_are_reported() {
        let loaded = load("? [a, b]\n: 1\nc: 2\n").unwrap();
        assert_eq!(loaded.problems.len(), 1);
        assert_eq!(
            loaded.problems[0].message,
            "a key must be text, found a list"
        );
        assert_eq!(loaded.root.to_json(), serde_json::json!({"c": 2}));
    }

    #[test]
    fn anchors_and_aliases_are_expanded() {
        let node = root("a: &x [1, 2]\nb: *x\n");
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": [1, 2], "b": [1, 2]})
        );
    }

    #[test]
    fn tags_of_the_core_schema_are_honoured() {
        let node = root("a: !!str 12\nb: !!float 1\nc: ! 13\n");
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": "12", "b": 1.0, "c": "13"})
        );
        let loaded = load("a: !foo 12\nb: !!int x\n").unwrap();
        assert_eq!(loaded.problems.len(), 2);
        assert_eq!(loaded.problems[0].path, "a");
        assert_eq!(loaded.problems[1].path, "b");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let error = load("a: 1\nb: [1, 2\n").err().unwrap();
        assert_eq!(error.path, "");
        assert!(error.message.starts_with("invalid YAML"), "{error}");
        assert!(error.line.is_some() && error.column.is_some());
        let error = load("a: b: c\n").err().unwrap();
        assert_eq!((error.line, error.column), (Some(1), Some(5)), "{error}");
    }

    #[test]
    fn empty_and_multiple_documents_are_refused() {
        assert_eq!(load("").err().unwrap().message, "the document is empty");
        assert_eq!(
            load("# only a comment\n").err().unwrap().message,
            "the document is empty"
        );
        let error = load("a: 1\n---\nb: 2\n").err().unwrap();
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn oversized_documents_are_refused_before_reading() {
        let source = "a".repeat(MAX_DOCUMENT_BYTES + 1);
        let error = load(&source).err().unwrap();
        assert!(error.message.contains("1 MiB"));
        assert_eq!(error.line, None);
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        let flow = "[".repeat(200_000);
        assert!(load(&flow).is_err());
        let block: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let error = load(&block).err().unwrap();
        assert!(error.message.contains("nests more than"), "{error}");
        let dashes = "- ".repeat(10_000) + "x";
        assert!(load(&dashes).is_err());
    }

    #[test]
    fn alias_bombs_are_refused_quickly() {
        let mut bomb = String::from(
            "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let (prev, next) = (pair[0], pair[1]);
            let refs = vec![format!("*{prev}"); 9].join(", ");
            bomb.push_str(&format!("{next}: &{next} [{refs}]\n"));
        }
        let error = load(&bomb).err().unwrap();
        assert!(error.message.contains("too much"), "{error}");
    }

    #[test]
    fn self_referring_alias_is_refused() {
        // The parser itself may refuse it; either way it is an error, not a hang.
        assert!(load("a: &x [*x]\n").is_err());
    }
}
