//! The textual formats of answers: email addresses, phone numbers, `YYYY-MM-DD` dates and the
//! way numbers are written back out. Pure functions, shared by answer checking, form conversion
//! and definition parsing.

use jiff::civil::Date;

use crate::model::{EMAIL_MAX_LENGTH, TEL_MAX_LENGTH};

/// A practical syntactic check of an email address: one `@`, a non-empty local part without
/// spaces, a domain of at least two dot-separated labels made of letters, digits and hyphens,
/// at most 254 characters in all. It does not promise that the address exists.
pub fn is_valid_email(address: &str) -> bool {
    if address.chars().count() > EMAIL_MAX_LENGTH {
        return false;
    }
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A phone number: only digits, spaces and `+ - ( )`, with 6 to 20 digits.
pub fn is_valid_tel(number: &str) -> bool {
    if number.chars().count() > TEL_MAX_LENGTH {
        return false;
    }
    let mut digits = 0;
    for c in number.chars() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '+' | '-' | '(' | ')' => {}
            _ => return false,
        }
    }
    (6..=20).contains(&digits)
}

/// Reads a date written exactly `YYYY-MM-DD` (the answer format), rejecting impossible dates.
pub fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year: i16 = text[0..4].parse().ok()?;
    let month: i8 = text[5..7].parse().ok()?;
    let day: i8 = text[8..10].parse().ok()?;
    Date::new(year, month, day).ok()
}

/// Writes a number as a person (and an HTML number input) expects it: no `.0` on whole
/// numbers, no exponent. Reading the text back gives the same number.
pub fn format_number(n: f64) -> String {
    if n == 0.0 {
        // No "-0".
        return "0".to_owned();
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Exact: whole numbers of this size are represented exactly.
        #[allow(clippy::cast_possible_truncation)]
        return (n as i64).to_string();
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in [
            "a@b.co",
            "first.last+tag@example.com",
            "x@sub.domain-name.org",
            "o'neil@example.ie",
            "jürgen@müller.de",
        ] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "a@b .com",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@.b.com",
            "a@b.com.",
            "a@b_c.com",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn phone_numbers() {
        for good in [
            "+49 (0)30 1234567",
            "012345",
            "555-0100 12",
            "+1 (555) 010-0199",
        ] {
            assert!(is_valid_tel(good), "{good}");
        }
        for bad in [
            "",
            "12345",
            "123456789012345678901",
            "call me",
            "0301234567 ext 3",
            "030/123456",
        ] {
            assert!(!is_valid_tel(bad), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2024-02-29"),
            Some(jiff::civil::date(2024, 2, 29))
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00",
            " 2024-01-01",
            "+024-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(12.5), "12.5");
        assert_eq!(format_number(1e20), "100000000000000000000");
        assert_eq!(format_number(1e-7), "0.0000001");
        assert_eq!(format_number(-3.0), "-3");
    }
}
