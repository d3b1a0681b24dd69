//! Checking answers against a process: the light check on every save (type, option membership,
//! length limits), the complete check when a step is left or the process submitted (required,
//! pattern, min/max, formats), and what goes into a submission.
//!
//! Save-time checks are deliberately lenient: an answer that is merely incomplete or not yet in
//! the right format (half an email address, too short a text, a date past `max`) is still saved,
//! so that nothing the person typed is lost; it is refused only when the step is left.
//! Messages are written for the person filling in the form.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use serde_json::Value;

use crate::condition::Visibility;
use crate::error::AnswerError;
use crate::formats::{format_number, is_valid_email, is_valid_tel, parse_date};
use crate::model::{
    ChoiceOption, DateBound, EMAIL_MAX_LENGTH, Field, FieldKind, Process, TEL_MAX_LENGTH,
};

/// The answers of a session: field id → value of the field's answer type.
pub type Answers = serde_json::Map<String, Value>;

/// Whether a value counts as an answer: not null, not blank text, not an empty selection, and
/// for `consent` ticked (true).
pub(crate) fn is_answered(field: &Field, value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Bool(b) => *b || !matches!(field.kind, FieldKind::Consent),
        Value::Number(_) | Value::Object(_) => true,
    }
}

/// Up to how many answers [`Process::check_values`] finds each field by a scan.
const FEW_ANSWERS: usize = 8;

impl Process {
    /// The save-time check: every key must be a field of the process, every value of the field's
    /// answer type, within its length limit and (for choices) one of its options, a multichoice
    /// without repeats. A null value means "remove this answer" and is accepted for any field.
    /// Returns every problem, at most one per answer.
    pub fn check_values(&self, answers: &Answers) -> Result<(), Vec<AnswerError>> {
        // An autosave carries a few answers: finding each by a scan costs less than indexing
        // every field first. Many answers at once (a prefilled session) get the index.
        let by_id: Option<HashMap<&str, &Field>> = (answers.len() > FEW_ANSWERS)
            .then(|| self.fields().map(|f| (f.id.as_str(), f)).collect());
        let find = |id: &str| match &by_id {
            Some(by_id) => by_id.get(id).copied(),
            None => self.field(id),
        };
        let mut errors = Vec::new();
        for (id, value) in answers {
            let Some(field) = find(id) else {
                errors.push(AnswerError::new(id, "Unknown field"));
                continue;
            };
            if value.is_null() {
                continue;
            }
            if let Err(message) = check_value(field, value) {
                errors.push(AnswerError::new(id, message));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Whether `field` is visible for these answers: its condition holds, where a hidden field
    /// counts as unanswered.
    pub fn is_visible(&self, field: &Field, answers: &Answers) -> bool {
        Visibility::new(self, answers).is_visible(field)
    }

    /// The complete check of one step (0-based), for leaving it: every visible field of the step
    /// is checked (required, type, length, pattern, format, min/max, date bounds against `today`,
    /// number of options chosen); hidden fields are not. At most one problem per field, in the
    /// order of the fields. A step that does not exist has no problems.
    pub fn validate_step(&self, step: usize, answers: &Answers, today: Date) -> Vec<AnswerError> {
        let Some(step) = self.steps.get(step) else {
            return Vec::new();
        };
        let mut visibility = Visibility::new(self, answers);
        step.fields
            .iter()
            .filter(|field| visibility.is_visible(field))
            .filter_map(|field| {
                validate_field(field, answers.get(&field.id), today)
                    .map(|message| AnswerError::new(&field.id, message))
            })
            .collect()
    }

    /// The complete check of every step, for submission; problems in step order.
    pub fn validate_all(&self, answers: &Answers, today: Date) -> Vec<AnswerError> {
        (0..self.steps.len())
            .flat_map(|step| self.validate_step(step, answers, today))
            .collect()
    }

    /// The answers that go into a submission: those of visible fields that are answered.
    /// Hidden fields, blank answers and keys that are not fields are left out.
    pub fn submission_answers(&self, answers: &Answers) -> Answers {
        let mut visibility = Visibility::new(self, answers);
        let mut out = Answers::new();
        for field in self.fields() {
            if let Some(value) = answers.get(&field.id)
                && is_answered(field, value)
                && visibility.is_visible(field)
            {
                out.insert(field.id.clone(), value.clone());
            }
        }
        out
    }
}

/// The save-time check of one non-null value.
fn check_value(field: &Field, value: &Value) -> Result<(), String> {
    match &field.kind {
        FieldKind::Text { max_length, .. } | FieldKind::Textarea { max_length, .. } => {
            text_within(value, *max_length)
        }
        FieldKind::Email => text_within(value, EMAIL_MAX_LENGTH),
        FieldKind::Tel => text_within(value, TEL_MAX_LENGTH),
        FieldKind::Number { .. } => match value {
            Value::Number(_) => Ok(()),
            _ => Err("Must be a number".to_owned()),
        },
        FieldKind::Date { .. } => match value.as_str().map(parse_date) {
            Some(Some(_)) => Ok(()),
            _ => Err("Enter a real date as YYYY-MM-DD, for example 2025-03-17".to_owned()),
        },
        FieldKind::Choice { options, .. } => match value.as_str() {
            Some(chosen) if is_option(options, chosen) => Ok(()),
            _ => Err("Choose one of the options".to_owned()),
        },
        FieldKind::Multichoice { options, .. } => {
            let Some(items) = value.as_array() else {
                return Err("Choose from the options given".to_owned());
            };
            let mut seen = HashSet::new();
            for item in items {
                match item.as_str() {
                    Some(chosen) if is_option(options, chosen) => {
                        if !seen.insert(chosen) {
                            return Err("Choose each option only once".to_owned());
                        }
                    }
                    _ => return Err("Choose from the options given".to_owned()),
                }
            }
            Ok(())
        }
        FieldKind::Boolean => match value {
            Value::Bool(_) => Ok(()),
            _ => Err("Answer yes or no".to_owned()),
        },
        FieldKind::Consent => match value {
            Value::Bool(true) => Ok(()),
            _ => Err("Tick the box, or leave it unticked".to_owned()),
        },
    }
}

fn is_option(options: &[ChoiceOption], value: &str) -> bool {
    options.iter().any(|o| o.value == value)
}

fn text_within(value: &Value, max: usize) -> Result<(), String> {
    let Value::String(text) = value else {
        return Err("Must be text".to_owned());
    };
    if text.chars().count() > max {
        return Err(format!("Must be at most {max} characters"));
    }
    Ok(())
}

/// The complete check of one visible field; the problem, if any.
fn validate_field(field: &Field, value: Option<&Value>, today: Date) -> Option<String> {
    let value = match value {
        Some(v) if is_answered(field, v) => v,
        _ => {
            return field
                .required
                .then(|| required_message(&field.kind).to_owned());
        }
    };
    if let Err(message) = check_value(field, value) {
        return Some(message);
    }
    let text = value.as_str().unwrap_or_default();
    match &field.kind {
        FieldKind::Text {
            min_length,
            pattern,
            pattern_message,
            ..
        } => {
            if let Some(message) = too_short(text, *min_length) {
                return Some(message);
            }
            if let Some(pattern) = pattern
                && !pattern.is_match(text)
            {
                return Some(
                    pattern_message
                        .clone()
                        .unwrap_or_else(|| "Enter a value in the expected format".to_owned()),
                );
            }
            None
        }
        FieldKind::Textarea { min_length, .. } => too_short(text, *min_length),
        FieldKind::Email => (!is_valid_email(text.trim()))
            .then(|| "Enter a valid email address, like name@example.com".to_owned()),
        FieldKind::Tel => (!is_valid_tel(text.trim())).then(|| {
            "Enter a valid phone number: digits, spaces and + - ( ), 6 to 20 digits".to_owned()
        }),
        FieldKind::Number { min, max, integer } => {
            let n = value.as_f64()?;
            if *integer && n.fract() != 0.0 {
                return Some("Must be a whole number".to_owned());
            }
            if let Some(min) = min
                && n < *min
            {
                return Some(format!("Must be at least {}", format_number(*min)));
            }
            if let Some(max) = max
                && n > *max
            {
                return Some(format!("Must be at most {}", format_number(*max)));
            }
            None
        }
        FieldKind::Date { min, max } => {
            let date = parse_date(text)?;
            if let Some(min) = min
                && date < min.resolve(today)
            {
                return Some(match min {
                    DateBound::Today => "Must be today or later".to_owned(),
                    DateBound::Date(d) => format!("Must be on or after {d}"),
                });
            }
            if let Some(max) = max
                && date > max.resolve(today)
            {
                return Some(match max {
                    DateBound::Today => "Must be today or earlier".to_owned(),
                    DateBound::Date(d) => format!("Must be on or before {d}"),
                });
            }
            None
        }
        FieldKind::Multichoice {
            min_selected,
            max_selected,
            ..
        } => {
            let count = value.as_array().map_or(0, Vec::len);
            if let Some(min) = min_selected
                && count < *min
            {
                return Some(match min {
                    1 => "Choose at least one option".to_owned(),
                    n => format!("Choose at least {n} options"),
                });
            }
            if let Some(max) = max_selected
                && count > *max
            {
                return Some(match max {
                    1 => "Choose only one option".to_owned(),
                    n => format!("Choose at most {n} options"),
                });
            }
            None
        }
        FieldKind::Choice { .. } | FieldKind::Boolean | FieldKind::Consent => None,
    }
}

fn too_short(text: &str, min_length: Option<usize>) -> Option<String> {
    let min = min_length?;
    (text.chars().count() < min).then(|| match min {
        1 => "Must be at least 1 character".to_owned(),
        n => format!("Must be at least {n} characters"),
    })
}

fn required_message(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Choice { .. } => "Choose one of the options",
        FieldKind::Multichoice { .. } => "Choose at least one option",
        FieldKind::Boolean => "Answer yes or no",
        FieldKind::Consent => "Tick this box to continue",
        _ => "This field is required",
    }
}
