//! Reading `visible_if` conditions: exactly one form each, references to existing fields of the
//! same or an earlier step (never the field itself), values that fit the referenced field, a
//! nesting limit, and no circles among the conditions of one step.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::condition::Condition;
use crate::document::{Node, Pos, Value};
use crate::formats::parse_date;
use crate::model::FieldKind;
use crate::parse::field::FieldDraft;
use crate::parse::reader::{Map, Reader, index, join};
use crate::parse::suggest::did_you_mean;

/// How deeply conditions may nest (`all` inside `not` inside `any` …).
pub const MAX_CONDITION_DEPTH: usize = 16;

const TESTS: [&str; 4] = ["equals", "not_equals", "in", "answered"];
const COMBINATIONS: [&str; 3] = ["all", "any", "not"];
const KEYS: [&str; 8] = [
    "field",
    "equals",
    "not_equals",
    "in",
    "answered",
    "all",
    "any",
    "not",
];

/// What a condition needs to know of a field it refers to.
struct Target<'a> {
    step: usize,
    kind: Option<&'a FieldKind>,
}

struct Context<'a> {
    fields: HashMap<&'a str, Target<'a>>,
    /// The field whose condition is being read.
    own_id: Option<&'a str>,
    own_step: usize,
}

/// Reads the condition of every field (in the order of `fields`); `None` where a field has no
/// condition or its condition has a problem.
pub(super) fn read_conditions(
    r: &mut Reader,
    fields: &[&FieldDraft<'_>],
) -> Vec<Option<Condition>> {
    let mut targets: HashMap<&str, Target<'_>> = HashMap::new();
    for field in fields {
        if let Some(id) = &field.id {
            targets.entry(id.as_str()).or_insert(Target {
                step: field.step,
                kind: field.kind.as_ref(),
            });
        }
    }
    let mut context = Context {
        fields: targets,
        own_id: None,
        own_step: 0,
    };
    fields
        .iter()
        .map(|field| {
            let node = field.visible_if?;
            context.own_id = field.id.as_deref();
            context.own_step = field.step;
            read_condition(r, &context, node, &join(&field.path, "visible_if"), 1)
        })
        .collect()
}

fn read_condition(
    r: &mut Reader,
    cx: &Context<'_>,
    node: &Node,
    path: &str,
    depth: usize,
) -> Option<Condition> {
    if depth > MAX_CONDITION_DEPTH {
        r.error(
            path,
            node.pos,
            format!("conditions nest more than {MAX_CONDITION_DEPTH} levels deep"),
        );
        return None;
    }
    let map = r.mapping(node, path)?;
    r.check_keys(&map, &KEYS, &|_| None);
    let tests: Vec<&str> = TESTS.iter().copied().filter(|k| map.has(k)).collect();
    let combinations: Vec<&str> = COMBINATIONS
        .iter()
        .copied()
        .filter(|k| map.has(k))
        .collect();

    if map.has("field") || !tests.is_empty() {
        if let Some(other) = combinations.first() {
            r.error(
                path,
                map.pos,
                format!(
                    "a condition is either a test of one field or one of all, any, not; this one \
                     has both field and {other}"
                ),
            );
            return None;
        }
        return read_test(r, cx, &map, &tests);
    }
    match combinations.as_slice() {
        [] => {
            r.error(
                path,
                map.pos,
                "a condition needs field (with equals, not_equals, in or answered), all, any or not",
            );
            None
        }
        [one] => {
            let key = *one;
            let child = map.get(key)?;
            let child_path = map.path_of(key);
            if key == "not" {
                let inner = read_condition(r, cx, child, &child_path, depth + 1)?;
                return Some(Condition::Not(Box::new(inner)));
            }
            let items = r.list_of(child, &child_path, (1, usize::MAX), "condition")?;
            let mut list = Vec::with_capacity(items.len());
            let mut ok = !items.is_empty();
            for (i, item) in items.iter().enumerate() {
                match read_condition(r, cx, item, &index(&child_path, i), depth + 1) {
                    Some(c) => list.push(c),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Some(if key == "all" {
                Condition::All(list)
            } else {
                Condition::Any(list)
            })
        }
        [first, second, ..] => {
            r.error(
                path,
                map.pos,
                format!(
                    "a condition has one form; this one has both {first} and {second} (put them \
                     in an all or any list)"
                ),
            );
            None
        }
    }
}

/// `{field, equals | not_equals | in | answered}`.
fn read_test(r: &mut Reader, cx: &Context<'_>, map: &Map<'_>, tests: &[&str]) -> Option<Condition> {
    let target = read_reference(r, cx, map);
    let test = match tests {
        [] => {
            r.error(
                &map.path,
                map.pos,
                "a condition on a field needs one of equals, not_equals, in, answered",
            );
            return None;
        }
        [one] => *one,
        [first, second, ..] => {
            r.error(
                &map.path,
                map.pos,
                format!("a condition tests one thing; this one has both {first} and {second}"),
            );
            return None;
        }
    };
    let node = map.get(test)?;
    let path = map.path_of(test);
    let kind = target.as_ref().and_then(|(_, t)| t.kind);
    let field_name = target.as_ref().map_or("", |(id, _)| id.as_str());
    let condition_value = match test {
        "answered" => {
            let answered = r.boolean(node, &path)?;
            let (field, _) = target?;
            return Some(Condition::Answered { field, answered });
        }
        "in" => {
            let items = r.list_of(node, &path, (1, usize::MAX), "value")?;
            let mut values = Vec::with_capacity(items.len());
            let mut ok = !items.is_empty();
            for (i, item) in items.iter().enumerate() {
                match compared_value(r, item, &index(&path, i), field_name, kind) {
                    Some(v) => values.push(v),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            let (field, _) = target?;
            return Some(Condition::In { field, values });
        }
        _ => compared_value(r, node, &path, field_name, kind)?,
    };
    let (field, _) = target?;
    Some(if test == "equals" {
        Condition::Equals {
            field,
            value: condition_value,
        }
    } else {
        Condition::NotEquals {
            field,
            value: condition_value,
        }
    })
}

/// The `field` of a test: it must exist, be in the same or an earlier step, and not be the
/// field itself.
fn read_reference<'a>(
    r: &mut Reader,
    cx: &'a Context<'a>,
    map: &Map<'_>,
) -> Option<(String, &'a Target<'a>)> {
    let node = r.required(map, "field")?;
    let path = map.path_of("field");
    let id = r.string(node, &path)?;
    let Some(target) = cx.fields.get(id) else {
        let mut message = format!("unknown field {id:?}");
        if let Some(near) = did_you_mean(id, cx.fields.keys().copied()) {
            message.push_str(&format!("; did you mean {near:?}?"));
        }
        r.error(&path, node.pos, message);
        return None;
    };
    if cx.own_id == Some(id) {
        r.error(
            &path,
            node.pos,
            format!("field {id:?} cannot depend on itself"),
        );
        return None;
    }
    if target.step > cx.own_step {
        r.error(
            &path,
            node.pos,
            format!(
                "field {id:?} is in a later step (steps[{}]); a condition may refer only to \
                 fields of the same or an earlier step",
                target.step
            ),
        );
        return None;
    }
    Some((id.to_owned(), target))
}

/// A value compared with a field's answer, checked against the field's type where known.
fn compared_value(
    r: &mut Reader,
    node: &Node,
    path: &str,
    field: &str,
    kind: Option<&FieldKind>,
) -> Option<Json> {
    let json = match &node.value {
        Value::Null => {
            r.error(
                path,
                node.pos,
                "expected a value to compare with; to test for no answer use answered: false",
            );
            return None;
        }
        Value::Seq(_) | Value::Map(_) => {
            r.error(
                path,
                node.pos,
                format!("expected a single value, found {}", node.value.describe()),
            );
            return None;
        }
        Value::Float(f) if !f.is_finite() => {
            r.error(path, node.pos, "expected a finite number");
            return None;
        }
        _ => node.to_json(),
    };
    let Some(kind) = kind else {
        return Some(json);
    };
    let mismatch = |r: &mut Reader, what: &str| {
        r.error(
            path,
            node.pos,
            format!(
                "field {field:?} is a {} field; compare it with {what}, not {}",
                kind.name(),
                node.value.describe()
            ),
        );
    };
    match kind {
        FieldKind::Text { .. } | FieldKind::Textarea { .. } | FieldKind::Email | FieldKind::Tel => {
            match &node.value {
                Value::Str(_) => Some(json),
                Value::Int(i) => Some(Json::String(i.to_string())),
                _ => {
                    mismatch(r, "text");
                    None
                }
            }
        }
        FieldKind::Number { .. } => match node.value {
            Value::Int(_) | Value::Float(_) => Some(json),
            _ => {
                mismatch(r, "a number");
                None
            }
        },
        FieldKind::Date { .. } => match &node.value {
            Value::Str(s) if parse_date(s).is_some() => Some(json),
            _ => {
                mismatch(r, "a date written YYYY-MM-DD");
                None
            }
        },
        FieldKind::Choice { options, .. } | FieldKind::Multichoice { options, .. } => {
            let text = match &node.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                _ => {
                    mismatch(r, "one of its options");
                    return None;
                }
            };
            if options.iter().any(|o| o.value == text) {
                return Some(Json::String(text));
            }
            let mut names: Vec<&str> = options.iter().take(10).map(|o| o.value.as_str()).collect();
            if options.len() > 10 {
                names.push("…");
            }
            r.error(
                path,
                node.pos,
                format!(
                    "{text:?} is not an option of field {field:?} (options: {})",
                    names.join(", ")
                ),
            );
            None
        }
        FieldKind::Boolean => match node.value {
            Value::Bool(_) => Some(json),
            _ => {
                mismatch(r, "true or false");
                None
            }
        },
        FieldKind::Consent => match node.value {
            Value::Bool(true) => Some(json),
            _ => {
                r.error(
                    path,
                    node.pos,
                    format!(
                        "field {field:?} is a consent box, answered true when ticked; compare it \
                         with true, or test for unticked with answered: false"
                    ),
                );
                None
            }
        },
    }
}

/// Reports circles among the conditions of one step (`a` shown if `b`, `b` shown if `a`). A
/// condition refers only to the same or earlier steps, so a circle never spans steps.
pub(super) fn check_cycles(
    r: &mut Reader,
    fields: &[&FieldDraft<'_>],
    conditions: &[Option<Condition>],
) {
    let position: HashMap<&str, usize> = fields
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, f)| f.id.as_deref().map(|id| (id, i)))
        .collect();
    let edges: Vec<Vec<usize>> = fields
        .iter()
        .zip(conditions)
        .map(|(field, condition)| {
            let Some(condition) = condition else {
                return Vec::new();
            };
            condition
                .referenced_fields()
                .into_iter()
                .filter_map(|id| position.get(id).copied())
                .filter(|&j| fields[j].step == field.step && fields[j].id != field.id)
                .collect()
        })
        .collect();

    // Depth-first search with colours; each circle is reported once, at the field where it
    // was entered.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        New,
        Open,
        Done,
    }
    let mut colour = vec![Colour::New; fields.len()];
    for start in 0..fields.len() {
        if colour[start] != Colour::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = Colour::Open;
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if let Some(&target) = edges[node].get(next) {
                top.1 += 1;
                match colour[target] {
                    Colour::New => {
                        colour[target] = Colour::Open;
                        stack.push((target, 0));
                    }
                    Colour::Open => {
                        let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let names: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(n, _)| *n)
                            .chain(std::iter::once(target))
                            .filter_map(|n| fields[n].id.as_deref())
                            .collect();
                        let field = fields[target];
                        let pos = field
                            .visible_if
                            .map_or(Pos { line: 1, column: 1 }, |n| n.pos);
                        r.error(
                            &join(&field.path, "visible_if"),
                            pos,
                            format!(
                                "these conditions depend on each other in a circle: {}",
                                names.join(" → ")
                            ),
                        );
                    }
                    Colour::Done => {}
                }
            } else {
                colour[node] = Colour::Done;
                stack.pop();
            }
        }
    }
}
