//! Between HTML forms and answers: what a posted form means as an answer, and what to put back
//! into a form to show an answer.
//!
//! The HTML controls this assumes: text inputs and textareas; a text input for a number (see
//! [`read_number`]: `12`, `-0.5`, `1e3`, and a decimal comma as in `1500,50`); `type=date`
//! (`YYYY-MM-DD`); radio buttons or a select for a choice; checkboxes for a multichoice; two
//! radio buttons with the values `yes` and `no` for a boolean; one checkbox with the value `yes`
//! for a consent.
//!
//! Numbers are typed as text rather than into `type=number`, whose reading depends on the
//! browser's language (a German browser read `1.500,50` as 1.5005). The rule, the same in the
//! page script (`assets/form.js`), is the same for everyone: `.` or `,` is the decimal
//! separator; thousands separators are refused with a message, never guessed at, and so is a
//! number that only a thousands separator could explain (`1.500` could be 1500 or 1.5).
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
        // Numbers are written so that they read back unambiguously: 1.125 as `1.1250`.
        let Some(answer) = answer else {
            return Vec::new();
        };
        match (&self.kind, answer) {
            (FieldKind::Boolean, Value::Bool(b)) => vec![if *b { "yes" } else { "no" }.to_owned()],
            (FieldKind::Consent, Value::Bool(true)) => vec!["yes".to_owned()],
            (FieldKind::Consent, _) => Vec::new(),
            (_, Value::Number(n)) => n
                .as_f64()
                .map(|n| unambiguous(format_number(n)))
                .into_iter()
                .collect(),
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
            read_number(trimmed).map(Some)
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

/// What to tell a person whose number is written with thousands separators.
pub(crate) const NUMBER_GROUPED_MESSAGE: &str =
    "Write the number without thousands separators, for example 1500 or 1500.50 (or 1500,50)";
const NUMBER_MESSAGE: &str = "Enter a number, for example 12 or 12.5";

/// Reads a number as typed into a number field's text input: [`parse_number`]'s decimal
/// numbers, with `,` accepted as the decimal separator. Refused with a message for the person:
/// thousands separators (`1.500,50`, `1,500.50`, `1 500`, `1'500`, `1.000.000`), and a single
/// separator followed by exactly three digits after one to three digits (`1.500`, `12,345`),
/// which in half the world is a thousands separator: the message names both readings.
pub(crate) fn read_number(text: &str) -> Result<Value, String> {
    let text = text.trim();
    let (sign, unsigned) = match text.strip_prefix(['-', '+']) {
        Some(rest) => (&text[..1], rest),
        None => ("", text),
    };
    let separators = unsigned.matches(['.', ',']).count();
    let grouping = |c: char| matches!(c, ' ' | '\'' | '_' | '\u{a0}' | '\u{202f}' | '’');
    if separators > 1 || unsigned.contains(grouping) {
        let bare: String = unsigned.chars().filter(|c| !grouping(*c)).collect();
        let looks_grouped = bare
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
            && bare.chars().any(|c| c.is_ascii_digit());
        return Err(if looks_grouped {
            NUMBER_GROUPED_MESSAGE
        } else {
            NUMBER_MESSAGE
        }
        .to_owned());
    }
    if let Some((whole, fraction)) = unsigned.split_once(['.', ','])
        && (1..=3).contains(&whole.len())
        && !whole.starts_with('0')
        && fraction.len() == 3
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        let decimals = fraction.trim_end_matches('0');
        let small = if decimals.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{decimals}")
        };
        return Err(format!(
            "{text} could mean {sign}{whole}{fraction} or {small}: write one of these, \
             without a thousands separator"
        ));
    }
    parse_number(&text.replacen(',', ".", 1)).ok_or_else(|| NUMBER_MESSAGE.to_owned())
}

/// A number as [`format_number`] writes it, made unambiguous for [`read_number`]: `1.125`
/// becomes `1.1250`.
fn unambiguous(text: String) -> String {
    match read_number(&text) {
        Err(_) => format!("{text}0"),
        Ok(_) => text,
    }
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

    #[test]
    fn a_decimal_comma_is_read_as_a_decimal_point() {
        for (text, expected) in [
            ("1500,50", json!(1500.5)),
            ("1500.50", json!(1500.5)),
            ("-1,5", json!(-1.5)),
            (",5", json!(0.5)),
            ("0,125", json!(0.125)),
            ("1234,567", json!(1234.567)),
            (" 1250,50 ", json!(1250.5)),
            ("1,5e3", json!(1500)),
            ("12", json!(12)),
        ] {
            assert_eq!(read_number(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn thousands_separators_are_refused_not_misread() {
        for grouped in [
            "1.500,50",
            "1,500.50",
            "1.000.000",
            "1,000,000",
            "1 500",
            "1'500,50",
            "1\u{a0}500",
            "-1.500,5",
        ] {
            assert_eq!(
                read_number(grouped),
                Err(NUMBER_GROUPED_MESSAGE.to_owned()),
                "{grouped}"
            );
        }
        assert_eq!(
            read_number("1.500"),
            Err(
                "1.500 could mean 1500 or 1.5: write one of these, without a thousands separator"
                    .to_owned()
            )
        );
        assert_eq!(
            read_number("-12,250"),
            Err("-12,250 could mean -12250 or -12.25: write one of these, without a thousands separator".to_owned())
        );
        assert_eq!(
            read_number("2,000"),
            Err(
                "2,000 could mean 2000 or 2: write one of these, without a thousands separator"
                    .to_owned()
            )
        );
        for bad in ["twelve", "1,2,x", "NaN", "1.5.x"] {
            assert_eq!(read_number(bad), Err(NUMBER_MESSAGE.to_owned()), "{bad}");
        }
    }

    #[test]
    fn numbers_put_back_into_the_form_read_back_the_same() {
        for n in [1.125, -1.125, 1.5, 12.345, 1500.5, 1e20, 0.001] {
            let field = Field {
                id: "n".to_owned(),
                label: "N".to_owned(),
                help: None,
                required: false,
                visible_if: None,
                kind: FieldKind::Number {
                    min: None,
                    max: None,
                    integer: false,
                },
            };
            let values = field.form_values(Some(&json!(n)));
            let posted: Vec<&str> = values.iter().map(String::as_str).collect();
            assert_eq!(
                field.answer_from_form(&posted),
                Ok(Some(json!(n))),
                "{n}: {values:?}"
            );
        }
    }
}
