//! The two kinds of problem this crate reports: a definition that is rejected
//! ([`DefinitionErrors`], for the author of a process) and an answer that is not acceptable
//! ([`AnswerError`], for the person filling in the form).
//!
//! Both serialize to JSON as they are, so that the server can return them without mapping.

use std::fmt;

use serde::Serialize;

/// One problem in a definition document.
///
/// Displays as the spec shows it:
/// `steps[1].fields[3].visible_if.field: unknown field "injurd" (line 42, column 20)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionError {
    /// Where in the document, e.g. `steps[1].fields[3].visible_if.field`; empty for a problem
    /// with the document as a whole (a syntax error, the size limit).
    pub path: String,
    /// What is wrong, in plain English.
    pub message: String,
    /// The line (1-based) of the offending node, when known.
    pub line: Option<usize>,
    /// The column (1-based, in characters) of the offending node, when known.
    pub column: Option<usize>,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, " (line {line}, column {column})"),
            (Some(line), None) => write!(f, " (line {line})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for DefinitionError {}

/// Every problem found in a rejected definition, in document order as far as possible.
///
/// Displays one problem per line. Never empty when returned by [`crate::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DefinitionErrors(pub Vec<DefinitionError>);

impl fmt::Display for DefinitionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DefinitionErrors {}

impl From<DefinitionError> for DefinitionErrors {
    fn from(error: DefinitionError) -> Self {
        DefinitionErrors(vec![error])
    }
}

/// A problem with one answer, worded for the person filling in the form
/// (e.g. "This field is required", "Enter a valid email address").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerError {
    /// The id of the field (the answer's key).
    pub field: String,
    /// What is wrong, in plain English; the pattern message of a text field when it has one.
    pub message: String,
}

impl AnswerError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Self {
        AnswerError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for AnswerError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(path: &str, line: Option<usize>, column: Option<usize>) -> DefinitionError {
        DefinitionError {
            path: path.to_owned(),
            message: "unknown field \"injurd\"".to_owned(),
            line,
            column,
        }
    }

    #[test]
    fn displays_like_the_spec() {
        let e = error("steps[1].fields[3].visible_if.field", Some(42), Some(20));
        assert_eq!(
            e.to_string(),
            "steps[1].fields[3].visible_if.field: unknown field \"injurd\" (line 42, column 20)"
        );
        assert_eq!(
            error("", Some(1), Some(2)).to_string(),
            "unknown field \"injurd\" (line 1, column 2)"
        );
        assert_eq!(
            error("slug", None, None).to_string(),
            "slug: unknown field \"injurd\""
        );
    }

    #[test]
    fn displays_one_problem_per_line_and_serializes_as_a_list() {
        let errors = DefinitionErrors(vec![error("a", None, None), error("b", Some(3), Some(1))]);
        assert_eq!(
            errors.to_string(),
            "a: unknown field \"injurd\"\nb: unknown field \"injurd\" (line 3, column 1)"
        );
        let json = serde_json::to_value(&errors).expect("serializes");
        assert_eq!(json[1]["line"], 3);
        assert_eq!(json[0]["path"], "a");
        assert!(json[0]["column"].is_null());
    }
}
