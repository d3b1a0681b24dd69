//! Reading one field: its common keys, its type, and the keys that belong to that type only.

use std::collections::HashMap;

use crate::condition::Condition;
use crate::document::{Node, Pos, Value};
use crate::formats::parse_date;
use crate::model::{
    ChoiceDisplay, ChoiceOption, DateBound, Field, FieldKind, Pattern, TEXT_MAX_LENGTH,
    TEXTAREA_MAX_LENGTH,
};
use crate::parse::is_field_id;
use crate::parse::reader::{self, Map, Reader, index};

/// Most options of one choice or multichoice field.
pub const MAX_OPTIONS: usize = 200;

const COMMON_KEYS: [&str; 6] = ["id", "type", "label", "help", "required", "visible_if"];

/// The field types, with the keys that only they take.
const TYPES: [(&str, &[&str]); 10] = [
    (
        "text",
        &["min_length", "max_length", "pattern", "pattern_message"],
    ),
    ("textarea", &["min_length", "max_length"]),
    ("email", &[]),
    ("tel", &[]),
    ("number", &["min", "max", "integer"]),
    ("date", &["min", "max"]),
    ("choice", &["options", "display"]),
    ("multichoice", &["options", "min_selected", "max_selected"]),
    ("boolean", &[]),
    ("consent", &[]),
];

/// A field as read, before its condition is read; each part is `None` if it had a problem.
pub(super) struct FieldDraft<'n> {
    pub(super) id: Option<String>,
    /// Where the id was written, for duplicate reports.
    pub(super) id_at: Option<(String, Pos)>,
    pub(super) path: String,
    pub(super) step: usize,
    pub(super) kind: Option<FieldKind>,
    pub(super) visible_if: Option<&'n Node>,
    label: Option<String>,
    help: Option<Option<String>>,
    required: Option<bool>,
}

impl FieldDraft<'_> {
    /// The field, if every part was read without a problem.
    pub(super) fn build(self, visible_if: Option<Condition>) -> Option<Field> {
        if self.visible_if.is_some() && visible_if.is_none() {
            return None;
        }
        Some(Field {
            id: self.id?,
            label: self.label?,
            help: self.help?,
            required: self.required?,
            visible_if,
            kind: self.kind?,
        })
    }
}

pub(super) fn read_field<'n>(
    r: &mut Reader,
    node: &'n Node,
    path: String,
    step: usize,
) -> FieldDraft<'n> {
    let mut draft = FieldDraft {
        id: None,
        id_at: None,
        path: path.clone(),
        step,
        kind: None,
        visible_if: None,
        label: None,
        help: None,
        required: None,
    };
    let Some(map) = r.mapping(node, &path) else {
        return draft;
    };

    if let Some(node) = r.required(&map, "id") {
        let path = map.path_of("id");
        if let Some(id) = r.string(node, &path) {
            if is_field_id(id) {
                draft.id = Some(id.to_owned());
                draft.id_at = Some((path, node.pos));
            } else {
                r.error(
                    &path,
                    node.pos,
                    format!(
                        "invalid field id {id:?}: use 1 to 64 lowercase letters, digits and \
                         underscores, starting with a letter"
                    ),
                );
            }
        }
    }

    let type_name = r.required(&map, "type").and_then(|node| {
        let path = map.path_of("type");
        let name = r.string(node, &path)?;
        if TYPES.iter().any(|(t, _)| *t == name) {
            Some(name)
        } else {
            let expected: Vec<&str> = TYPES.iter().map(|(t, _)| *t).collect();
            r.error(
                &path,
                node.pos,
                format!(
                    "unknown type {name:?}; expected one of {}",
                    expected.join(", ")
                ),
            );
            None
        }
    });

    // Keys: the common ones plus those of the type; when the type is not known, any key that
    // some type takes is let through rather than reported twice.
    let extras: Vec<&str> = match type_name {
        Some(name) => TYPES
            .iter()
            .find(|(t, _)| *t == name)
            .map(|(_, keys)| keys.to_vec())
            .unwrap_or_default(),
        None => TYPES
            .iter()
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect(),
    };
    let allowed: Vec<&str> = COMMON_KEYS
        .iter()
        .copied()
        .chain(extras.iter().copied())
        .collect();
    let misplaced = |key: &str| -> Option<String> {
        let name = type_name?;
        let owners: Vec<&str> = TYPES
            .iter()
            .filter(|(_, keys)| keys.contains(&key))
            .map(|(t, _)| *t)
            .collect();
        if owners.is_empty() {
            return None;
        }
        let takes = if extras.is_empty() {
            "which take no extra keys".to_owned()
        } else {
            format!("which take {}", extras.join(", "))
        };
        Some(format!(
            "key \"{key}\" does not apply to {name} fields ({takes}); it belongs to {}",
            owners.join(" and ")
        ))
    };
    r.check_keys(&map, &allowed, &misplaced);

    draft.label = r
        .required(&map, "label")
        .and_then(|node| r.text(node, &map.path_of("label"), 1, 500));
    draft.help = match map.get("help") {
        Some(node) => r
            .text(node, &map.path_of("help"), 0, 1000)
            .map(reader::non_blank),
        None => Some(None),
    };
    draft.required = match map.get("required") {
        Some(node) => r.boolean(node, &map.path_of("required")),
        None => Some(false),
    };
    draft.visible_if = map.get("visible_if");
    draft.kind = type_name.and_then(|name| read_kind(r, &map, name));
    draft
}

/// Reads the keys of one type into its [`FieldKind`].
fn read_kind(r: &mut Reader, map: &Map<'_>, name: &str) -> Option<FieldKind> {
    match name {
        "text" | "textarea" => {
            let default = if name == "text" {
                TEXT_MAX_LENGTH
            } else {
                TEXTAREA_MAX_LENGTH
            };
            let min_length = optional(r, map, "min_length", |r, n, p| r.count(n, p, 0));
            let max_length = optional(r, map, "max_length", |r, n, p| r.count(n, p, 1));
            if let (Some(Some(min)), Some(max)) = (min_length, max_length) {
                let max = max.unwrap_or(default);
                if min > max {
                    let node = map.get("min_length");
                    let suffix = if map.has("max_length") {
                        ""
                    } else {
                        ", the default"
                    };
                    r.error(
                        &map.path_of("min_length"),
                        node.map_or(map.pos, |n| n.pos),
                        format!("min_length ({min}) is greater than max_length ({max}{suffix})"),
                    );
                    return None;
                }
            }
            let (min_length, max_length) = (min_length?, max_length?.unwrap_or(default));
            if name == "textarea" {
                return Some(FieldKind::Textarea {
                    min_length,
                    max_length,
                });
            }
            let pattern = optional(r, map, "pattern", |r, node, path| {
                let source = r.string(node, path)?;
                match Pattern::new(source) {
                    Ok(pattern) => Some(pattern),
                    Err(message) => {
                        r.error(path, node.pos, message);
                        None
                    }
                }
            });
            let pattern_message =
                optional(r, map, "pattern_message", |r, n, p| r.text(n, p, 1, 500));
            Some(FieldKind::Text {
                min_length,
                max_length,
                pattern: pattern?,
                pattern_message: pattern_message?,
            })
        }
        "email" => Some(FieldKind::Email),
        "tel" => Some(FieldKind::Tel),
        "boolean" => Some(FieldKind::Boolean),
        "consent" => Some(FieldKind::Consent),
        "number" => {
            let min = optional(r, map, "min", Reader::number);
            let max = optional(r, map, "max", Reader::number);
            let integer = optional(r, map, "integer", Reader::boolean);
            if let (Some(Some(lo)), Some(Some(hi))) = (min, max)
                && lo > hi
            {
                min_above_max(r, map, "min", "max");
                return None;
            }
            Some(FieldKind::Number {
                min: min?,
                max: max?,
                integer: integer?.unwrap_or(false),
            })
        }
        "date" => {
            let min = optional(r, map, "min", date_bound);
            let max = optional(r, map, "max", date_bound);
            if let (Some(Some(DateBound::Date(lo))), Some(Some(DateBound::Date(hi)))) = (min, max)
                && lo > hi
            {
                min_above_max(r, map, "min", "max");
                return None;
            }
            Some(FieldKind::Date {
                min: min?,
                max: max?,
            })
        }
        "choice" => {
            let options = read_options(r, map);
            let display = optional(r, map, "display", |r, node, path| {
                match r.string(node, path)? {
                    "radio" => Some(ChoiceDisplay::Radio),
                    "select" => Some(ChoiceDisplay::Select),
                    other => {
                        r.error(
                            path,
                            node.pos,
                            format!("unknown display {other:?}; expected radio or select"),
                        );
                        None
                    }
                }
            });
            Some(FieldKind::Choice {
                options: options?,
                display: display?.unwrap_or_default(),
            })
        }
        "multichoice" => {
            let options = read_options(r, map);
            let min_selected = optional(r, map, "min_selected", |r, n, p| r.count(n, p, 0));
            let max_selected = optional(r, map, "max_selected", |r, n, p| r.count(n, p, 1));
            if let (Some(Some(lo)), Some(Some(hi))) = (min_selected, max_selected)
                && lo > hi
            {
                min_above_max(r, map, "min_selected", "max_selected");
                return None;
            }
            if let (Some(options), Some(Some(lo))) = (&options, min_selected)
                && lo > options.len()
            {
                r.error(
                    &map.path_of("min_selected"),
                    map.get("min_selected").map_or(map.pos, |n| n.pos),
                    format!(
                        "min_selected ({lo}) is more than the number of options ({})",
                        options.len()
                    ),
                );
                return None;
            }
            Some(FieldKind::Multichoice {
                options: options?,
                min_selected: min_selected?,
                max_selected: max_selected?,
            })
        }
        _ => None,
    }
}

/// Reads an optional key: `Some(None)` when absent, `None` when present but wrong.
fn optional<T>(
    r: &mut Reader,
    map: &Map<'_>,
    key: &str,
    read: impl FnOnce(&mut Reader, &Node, &str) -> Option<T>,
) -> Option<Option<T>> {
    match map.get(key) {
        None => Some(None),
        Some(node) => read(r, node, &map.path_of(key)).map(Some),
    }
}

fn min_above_max(r: &mut Reader, map: &Map<'_>, min: &str, max: &str) {
    let pos = map.get(min).map_or(map.pos, |n| n.pos);
    r.error(
        &map.path_of(min),
        pos,
        format!("{min} is greater than {max}"),
    );
}

fn date_bound(r: &mut Reader, node: &Node, path: &str) -> Option<DateBound> {
    let text = match &node.value {
        Value::Str(s) => s.as_str(),
        _ => {
            r.error(
                path,
                node.pos,
                format!(
                    "expected a date as YYYY-MM-DD or today, found {}",
                    node.value.describe()
                ),
            );
            return None;
        }
    };
    if text == "today" {
        return Some(DateBound::Today);
    }
    match parse_date(text) {
        Some(date) => Some(DateBound::Date(date)),
        None => {
            r.error(
                path,
                node.pos,
                format!("invalid date {text:?}; write a date as YYYY-MM-DD, or today"),
            );
            None
        }
    }
}

/// The `options` of a choice or multichoice field (required).
fn read_options(r: &mut Reader, map: &Map<'_>) -> Option<Vec<ChoiceOption>> {
    let node = r.required(map, "options")?;
    let path = map.path_of("options");
    let items = r.list_of(node, &path, (1, MAX_OPTIONS), "option")?;
    let mut options = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut ok = items.len() <= MAX_OPTIONS && !items.is_empty();
    for (i, item) in items.iter().enumerate() {
        let path = index(&path, i);
        let Some((option, value_pos, value_path)) = read_option(r, item, &path) else {
            ok = false;
            continue;
        };
        if let Some(first) = seen.get(&option.value) {
            r.error(
                &value_path,
                value_pos,
                format!("duplicate option value {:?} (also {first})", option.value),
            );
            ok = false;
            continue;
        }
        seen.insert(option.value.clone(), path);
        options.push(option);
    }
    ok.then_some(options)
}

/// One option: a string (value and label at once) or `{value, label}`; label defaults to the
/// value. Whole numbers are taken as their text (`options: [1, 2, 3]`).
fn read_option(r: &mut Reader, node: &Node, path: &str) -> Option<(ChoiceOption, Pos, String)> {
    match &node.value {
        Value::Map(_) => {
            let map = r.mapping(node, path)?;
            r.check_keys(&map, &["value", "label"], &|_| None);
            let value_node = r.required(&map, "value");
            let value_path = map.path_of("value");
            let value = value_node.and_then(|n| option_value(r, n, &value_path));
            let label = match map.get("label") {
                Some(n) => r.text(n, &map.path_of("label"), 1, 500),
                None => value.clone(),
            };
            let pos = value_node.map_or(node.pos, |n| n.pos);
            let value = value?;
            Some((
                ChoiceOption {
                    value,
                    label: label?,
                },
                pos,
                value_path,
            ))
        }
        _ => {
            let value = option_value(r, node, path)?;
            Some((
                ChoiceOption {
                    label: value.clone(),
                    value,
                },
                node.pos,
                path.to_owned(),
            ))
        }
    }
}

fn option_value(r: &mut Reader, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Int(i) => Some(i.to_string()),
        Value::Str(_) => r.text(node, path, 1, 200),
        other => {
            r.error(
                path,
                node.pos,
                format!(
                    "expected an option (a string, or value and label), found {}",
                    other.describe()
                ),
            );
            None
        }
    }
}

/// Field ids are unique in the whole process.
pub(super) fn check_unique_ids(r: &mut Reader, fields: &[&FieldDraft<'_>]) {
    let mut first: HashMap<&str, &str> = HashMap::new();
    for field in fields {
        let (Some(id), Some((path, pos))) = (&field.id, &field.id_at) else {
            continue;
        };
        match first.get(id.as_str()) {
            Some(other) => r.error(
                path,
                *pos,
                format!("duplicate field id {id:?} (also used at {other})"),
            ),
            None => {
                first.insert(id, &field.path);
            }
        }
    }
}
