//! Conditions (`visible_if`) and what they mean: which fields are visible for given answers.
//!
//! The rules, which the page script must follow too:
//! - A field whose condition is false is hidden; a hidden field counts as unanswered in every
//!   condition that refers to it (so hiding cascades).
//! - "Answered" means present, not null, not empty (text: not blank after trimming; multichoice:
//!   at least one option; consent: ticked).
//! - `equals` is true when the referenced field is answered with that value (numbers compare by
//!   value, so `1` equals `1.0`); for a multichoice field, when that option is among those chosen.
//! - `not_equals` is true when the field is answered with a different value (multichoice: answered
//!   without that option); an unanswered field is neither equal nor not equal. Use
//!   `not: {equals}` for "anything but".
//! - `in` is true when the field is answered with one of the values (multichoice: any of them).
//!
//! Parsing conditions out of a document lives in `parse`; this module owns their meaning.

use std::collections::HashMap;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use crate::answers::{Answers, is_answered};
use crate::model::{Field, FieldKind, Process};

/// When a field is visible. Serializes to the definition format (`{"field": …, "equals": …}`,
/// `{"all": […]}` …), e.g. for a page script that shows and hides fields as the person types.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The field is answered with this value (multichoice: this option is chosen).
    Equals {
        /// The referenced field's id.
        field: String,
        /// The value compared with.
        value: Value,
    },
    /// The field is answered with another value (multichoice: answered, without this option).
    NotEquals {
        /// The referenced field's id.
        field: String,
        /// The value compared with.
        value: Value,
    },
    /// The field is answered with one of these values (multichoice: any of them is chosen).
    In {
        /// The referenced field's id.
        field: String,
        /// The values compared with; at least one.
        values: Vec<Value>,
    },
    /// The field is answered (`true`) or not (`false`).
    Answered {
        /// The referenced field's id.
        field: String,
        /// Whether an answer is wanted.
        answered: bool,
    },
    /// Every condition holds (at least one condition).
    All(Vec<Condition>),
    /// At least one condition holds (at least one condition).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

impl Condition {
    /// The ids of the fields this condition refers to, in order of appearance.
    pub fn referenced_fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(condition) = stack.pop() {
            match condition {
                Condition::Equals { field, .. }
                | Condition::NotEquals { field, .. }
                | Condition::In { field, .. }
                | Condition::Answered { field, .. } => out.push(field.as_str()),
                Condition::All(list) | Condition::Any(list) => stack.extend(list.iter().rev()),
                Condition::Not(inner) => stack.push(inner),
            }
        }
        out
    }

    /// Evaluates the condition; `answer_of` gives the answer of a field only if that field is
    /// visible and answered, with the field itself.
    fn holds<'a>(&self, answer_of: &mut dyn FnMut(&str) -> Option<(&'a Field, &'a Value)>) -> bool {
        match self {
            Condition::Equals { field, value } => {
                answer_of(field).is_some_and(|(f, answer)| matches(f, answer, value))
            }
            Condition::NotEquals { field, value } => {
                answer_of(field).is_some_and(|(f, answer)| !matches(f, answer, value))
            }
            Condition::In { field, values } => answer_of(field)
                .is_some_and(|(f, answer)| values.iter().any(|v| matches(f, answer, v))),
            Condition::Answered { field, answered } => answer_of(field).is_some() == *answered,
            Condition::All(list) => list.iter().all(|c| c.holds(answer_of)),
            Condition::Any(list) => list.iter().any(|c| c.holds(answer_of)),
            Condition::Not(inner) => !inner.holds(answer_of),
        }
    }
}

/// Whether an answer "equals" a condition's value, by the rules in the module doc.
fn matches(field: &Field, answer: &Value, value: &Value) -> bool {
    match (&field.kind, answer) {
        (FieldKind::Multichoice { .. }, Value::Array(chosen)) => {
            chosen.iter().any(|c| same_value(c, value))
        }
        _ => same_value(answer, value),
    }
}

/// JSON equality, except that numbers compare by value.
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Condition::Equals { field, value } => {
                map.serialize_entry("field", field)?;
                map.serialize_entry("equals", value)?;
            }
            Condition::NotEquals { field, value } => {
                map.serialize_entry("field", field)?;
                map.serialize_entry("not_equals", value)?;
            }
            Condition::In { field, values } => {
                map.serialize_entry("field", field)?;
                map.serialize_entry("in", values)?;
            }
            Condition::Answered { field, answered } => {
                map.serialize_entry("field", field)?;
                map.serialize_entry("answered", answered)?;
            }
            Condition::All(list) => map.serialize_entry("all", list)?,
            Condition::Any(list) => map.serialize_entry("any", list)?,
            Condition::Not(inner) => map.serialize_entry("not", inner)?,
        }
        map.end()
    }
}

/// Works out which fields are visible for one set of answers, remembering what it found so that
/// asking about every field costs one evaluation of each condition.
pub(crate) struct Visibility<'a> {
    answers: &'a Answers,
    by_id: HashMap<&'a str, &'a Field>,
    known: HashMap<&'a str, Known>,
}

#[derive(Clone, Copy)]
enum Known {
    /// Being worked out: met again only through a cycle, which a parsed process cannot have;
    /// a field in a cycle counts as hidden.
    Visiting,
    Visible(bool),
}

impl<'a> Visibility<'a> {
    pub(crate) fn new(process: &'a Process, answers: &'a Answers) -> Self {
        Visibility {
            answers,
            by_id: process.fields().map(|f| (f.id.as_str(), f)).collect(),
            known: HashMap::new(),
        }
    }

    /// Whether `field` (of this process or not) is visible.
    pub(crate) fn is_visible(&mut self, field: &'a Field) -> bool {
        let Some(condition) = &field.visible_if else {
            return true;
        };
        // Only fields of the process are remembered by id; another field with the same id
        // (a caller's copy) is worked out afresh.
        let ours = self
            .by_id
            .get(field.id.as_str())
            .is_some_and(|f| std::ptr::eq(*f, field));
        if ours {
            match self.known.get(field.id.as_str()) {
                Some(Known::Visible(v)) => return *v,
                Some(Known::Visiting) => return false,
                None => {}
            }
            self.known.insert(&field.id, Known::Visiting);
        }
        let visible = condition.holds(&mut |id| self.answer_if_visible(id));
        if ours {
            self.known.insert(&field.id, Known::Visible(visible));
        }
        visible
    }

    /// The answer of the field with this id, if the field exists, is visible and is answered.
    fn answer_if_visible(&mut self, id: &str) -> Option<(&'a Field, &'a Value)> {
        let field = *self.by_id.get(id)?;
        let answer = self.answers.get(id)?;
        if !is_answered(field, answer) || !self.is_visible(field) {
            return None;
        }
        Some((field, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_to_the_definition_format() {
        let condition = Condition::All(vec![
            Condition::Equals {
                field: "injured".into(),
                value: json!(true),
            },
            Condition::Not(Box::new(Condition::In {
                field: "vehicle".into(),
                values: vec![json!("van"), json!("truck")],
            })),
            Condition::Any(vec![
                Condition::Answered {
                    field: "phone".into(),
                    answered: false,
                },
                Condition::NotEquals {
                    field: "amount".into(),
                    value: json!(3),
                },
            ]),
        ]);
        assert_eq!(
            serde_json::to_value(&condition).expect("serializes"),
            json!({"all": [
                {"field": "injured", "equals": true},
                {"not": {"field": "vehicle", "in": ["van", "truck"]}},
                {"any": [
                    {"field": "phone", "answered": false},
                    {"field": "amount", "not_equals": 3}
                ]}
            ]})
        );
        assert_eq!(
            condition.referenced_fields(),
            ["injured", "vehicle", "phone", "amount"]
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same_value(&json!(1), &json!(1.0)));
        assert!(!same_value(&json!(1), &json!("1")));
    }
}
