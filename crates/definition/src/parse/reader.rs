//! Reading typed values out of the document tree while collecting every problem: each getter
//! either returns the value or records why it cannot and returns `None`, so that the caller
//! carries on and the next problem is found too.

use crate::document::{Entry, Node, Pos, Value};
use crate::error::DefinitionError;
use crate::parse::suggest::did_you_mean;

/// `path.key`, or `key` at the top.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `path[index]`.
pub(super) fn index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// Optional text that is blank counts as absent.
pub(super) fn non_blank(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// A mapping of the document with its path.
pub(super) struct Map<'n> {
    pub(super) entries: &'n [Entry],
    pub(super) pos: Pos,
    pub(super) path: String,
}

impl<'n> Map<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }

    pub(super) fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }
}

/// Collects the problems of one document.
#[derive(Default)]
pub(super) struct Reader {
    pub(super) errors: Vec<DefinitionError>,
}

impl Reader {
    pub(super) fn error(&mut self, path: &str, pos: Pos, message: impl Into<String>) {
        self.errors.push(DefinitionError {
            path: path.to_owned(),
            message: message.into(),
            line: Some(pos.line),
            column: Some(pos.column),
        });
    }

    fn expected(&mut self, node: &Node, path: &str, what: &str) {
        let found = node.value.describe();
        self.error(path, node.pos, format!("expected {what}, found {found}"));
    }

    pub(super) fn mapping<'n>(&mut self, node: &'n Node, path: &str) -> Option<Map<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Map {
                entries,
                pos: node.pos,
                path: path.to_owned(),
            }),
            _ => {
                self.expected(node, path, "a mapping (key: value pairs)");
                None
            }
        }
    }

    /// Reports keys outside `allowed`. `misplaced` may explain a key that is known but does not
    /// belong here (e.g. `pattern` on a number field); other keys get a did-you-mean.
    pub(super) fn check_keys(
        &mut self,
        map: &Map<'_>,
        allowed: &[&str],
        misplaced: &dyn Fn(&str) -> Option<String>,
    ) {
        for entry in map.entries {
            if allowed.contains(&entry.key.as_str()) {
                continue;
            }
            let path = map.path_of(&entry.key);
            let message = misplaced(&entry.key).unwrap_or_else(|| {
                let mut message = format!("unknown key \"{}\"", entry.key);
                if let Some(near) = did_you_mean(&entry.key, allowed.iter().copied()) {
                    message.push_str(&format!("; did you mean \"{near}\"?"));
                }
                message
            });
            self.error(&path, entry.key_pos, message);
        }
    }

    /// The value of a key that must be there.
    pub(super) fn required<'n>(&mut self, map: &Map<'n>, key: &str) -> Option<&'n Node> {
        let node = map.get(key);
        if node.is_none() {
            self.error(
                &map.path,
                map.pos,
                format!("missing required key \"{key}\""),
            );
        }
        node
    }

    pub(super) fn string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        match &node.value {
            Value::Str(s) => Some(s),
            _ => {
                self.expected(node, path, "a string");
                None
            }
        }
    }

    /// Plain text of `min..=max` characters; blank text counts as empty.
    pub(super) fn text(
        &mut self,
        node: &Node,
        path: &str,
        min: usize,
        max: usize,
    ) -> Option<String> {
        let text = self.string(node, path)?;
        let length = text.chars().count();
        if min > 0 && text.trim().is_empty() {
            self.error(path, node.pos, "must not be empty");
            return None;
        }
        if length > max {
            self.error(
                path,
                node.pos,
                format!("must be at most {max} characters (it has {length})"),
            );
            return None;
        }
        Some(text.to_owned())
    }

    pub(super) fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.expected(node, path, "true or false");
                None
            }
        }
    }

    /// A finite number.
    pub(super) fn number(&mut self, node: &Node, path: &str) -> Option<f64> {
        match node.value {
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.expected(node, path, "a number");
                None
            }
        }
    }

    /// A whole number of at least `min`.
    pub(super) fn count(&mut self, node: &Node, path: &str, min: usize) -> Option<usize> {
        let n = match node.value {
            Value::Int(i) => usize::try_from(i).ok(),
            Value::Float(f) if f.fract() == 0.0 && (0.0..9e15).contains(&f) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(f as usize)
            }
            _ => None,
        };
        match n {
            Some(n) if n >= min => Some(n),
            _ => {
                self.expected(node, path, &format!("a whole number of {min} or more"));
                None
            }
        }
    }

    pub(super) fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.expected(node, path, "a list");
                None
            }
        }
    }

    /// A list of `min..=max` items.
    pub(super) fn list_of<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        (min, max): (usize, usize),
        what: &str,
    ) -> Option<&'n [Node]> {
        let items = self.list(node, path)?;
        if items.len() < min {
            let message = if min == 1 {
                format!("needs at least one {what}")
            } else {
                format!("needs at least {min} {what}s")
            };
            self.error(path, node.pos, message);
        } else if items.len() > max {
            self.error(
                path,
                node.pos,
                format!("has {} {what}s; at most {max} are allowed", items.len()),
            );
        }
        Some(items)
    }
}
