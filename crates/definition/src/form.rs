//! Between HTML forms and answers: what a posted form means as an answer, and what to put back
//! into a form to show an answer.
//!
//! The HTML controls this assumes: text inputs and textareas; `type=number` (the value is a
//! decimal number such as `12`, `-0.5` or `1e3`); `type=date` (`YYYY-MM-DD`); radio buttons or a
//! select for a choice; checkboxes for a multichoice; two radio buttons with the values `yes`
//! and `no` for a boolean; one checkbox with the value `yes` for a consent.
//!
//! Conversion reads only the shape of the input; limits (length, options chosen …) are the
//! business of the answer checks in `answers`.

use serde_json::Value;

use crate::formats::{format_number, parse_date};
use crate::model::{Field, FieldKind};

/// Whole numbers up to this size become JSON integers; beyond, they stay floating point.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

impl Field {
    /// Turns what an HTML form posted under this field's name (all values, possibly none) into
    /// an answer. `Ok(None)` means no answer (blank text, nothing chosen, box unticked).
    ///
    /// Text is kept as typed (a textarea's CRLF line breaks, which browsers send, become LF);
    /// only text that is blank after trimming counts as no answer. The error is a message for
    /// the person, e.g. "Enter a number".
    pub fn answer_from_form(&self, values: &[&str]) -> Result<Option<Value>, String> {
        match &self.kind {
            FieldKind::Multichoice { options, .. } => {
                let mut chosen = Vec::new();
                for value in values.iter().filter(|v| !v.is_empty()) {
                    if !options.iter().any(|o| o.value == *value) {
                        return Err("Choose from the options given".to_owned());
                    }
                }
                for option in options {
                    if values.contains(&option.value.as_str()) {
                        chosen.push(Value::String(option.value.clone()));
                    }
                }
                Ok((!chosen.is_empty()).then_some(Value::Array(chosen)))
            }
            kind => {
                let given: Vec<&str> = values.iter().copied().filter(|v| !v.is_empty()).collect();
                let value = match given.as_slice() {
                    [] => return Ok(None),
                    [one] => *one,
                    // Only a tampered form sends two values for a one-value field.
                    [first, rest @ ..] if rest.iter().all(|v| v == first) => *first,
                    _ => return Err("Give only one answer".to_owned()),
                };
                single(kind, value)
            }
        }
    }

    /// The value(s) to put back into the form for an answer: the reverse of
    /// [`Field::answer_from_form`] (a number as `12.5`, a boolean as `yes`/`no`, a multichoice
    /// as its chosen values). No answer, or one of the wrong type, gives nothing.
    pub fn form_values(&self, answer: Option<&Value>) -> Vec<String> {
        let Some(answer) = answer else {
            return Vec::new();
        };
        match (&self.kind, answer) {
            (FieldKind::Boolean, Value::Bool(b)) => vec![if *b { "yes" } else { "no" }.to_owned()],
            (FieldKind::Consent, Value::Bool(true)) => vec!["yes".to_owned()],
            (FieldKind::Consent, _) => Vec::new(),
            (_, Value::Number(n)) => n.as_f64().map(format_number).into_iter().collect(),
            (_, Value::String(s)) => vec![s.clone()],
            (FieldKind::Multichoice { .. }, Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One posted value of a one-value field.
fn single(kind: &FieldKind, value: &str) -> Result<Option<Value>, String> {
    match kind {
        FieldKind::Text { .. } | FieldKind::Email | FieldKind::Tel => Ok(text(value.to_owned())),
        FieldKind::Textarea { .. } => Ok(text(value.replace("\r\n", "\n"))),
        FieldKind::Number { .. } => {
            let trimmed = value.trim();
            if trimmed.is_empty() {
                return Ok(None);
            }
            parse_number(trimmed)
                .map(Some)
                .ok_or_else(|| "Enter a number, for example 12 or 12.5".to_owned())
        }
        FieldKind::Date { .. } => {
            let trimmed = value.trim();
            if trimmed.is_empty() {
                return Ok(None);
            }
            match parse_date(trimmed) {
                Some(date) => Ok(Some(Value::String(date.to_string()))),
                None => Err("Enter a real date as YYYY-MM-DD, for example 2025-03-17".to_owned()),
            }
        }
        FieldKind::Choice { options, .. } => {
            if options.iter().any(|o| o.value == value) {
                Ok(Some(Value::String(value.to_owned())))
            } else {
                Err("Choose one of the options".to_owned())
            }
        }
        FieldKind::Boolean => match value {
            "yes" => Ok(Some(Value::Bool(true))),
            "no" => Ok(Some(Value::Bool(false))),
            _ => Err("Answer yes or no".to_owned()),
        },
        FieldKind::Consent => match value {
            // "on" is what a checkbox without a value attribute sends.
            "yes" | "on" => Ok(Some(Value::Bool(true))),
            _ => Err("Tick the box, or leave it unticked".to_owned()),
        },
        FieldKind::Multichoice { .. } => Err("Choose from the options given".to_owned()),
    }
}

fn text(value: String) -> Option<Value> {
    (!value.trim().is_empty()).then_some(Value::String(value))
}

/// A decimal number as an HTML number input sends it: an optional sign, digits with an
/// optional fraction, an optional exponent. No `inf`, `NaN`, hex or thousands separators.
fn parse_number(text: &str) -> Option<Value> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !mantissa_ok || !exponent_ok {
        return None;
    }
    let n: f64 = text.parse().ok()?;
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && n.abs() <= EXACT_INTEGER_LIMIT {
        #[allow(clippy::cast_possible_truncation)]
        let whole = n as i64;
        // -0 becomes 0.
        return Some(Value::from(whole));
    }
    serde_json::Number::from_f64(n).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_as_number_inputs_send_them() {
        for (text, expected) in [
            ("12", json!(12)),
            ("-12", json!(-12)),
            ("+3", json!(3)),
            ("12.5", json!(12.5)),
            ("12.", json!(12)),
            (".5", json!(0.5)),
            ("1e3", json!(1000)),
            ("1.5E-1", json!(0.15)),
            ("-0", json!(0)),
            ("1e20", json!(1e20)),
        ] {
            assert_eq!(parse_number(text), Some(expected), "{text}");
        }
        for bad in [
            "", ".", "e3", "1e", "1,5", "1 000", "0x10", "inf", "NaN", "1e999", "--1", "1.2.3",
            "١٢",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
