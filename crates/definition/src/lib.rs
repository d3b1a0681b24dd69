//! Holdfast's process definition format (its JSON Schema is
//! `schema/process-definition.schema.json`, served at `/schema/process-definition.json`;
//! `examples/motor-claim.yaml` is a definition): reading a definition written in YAML or JSON,
//! checking it and reporting every problem with its path and position, and the meaning of a
//! valid definition — which fields are visible, whether answers are acceptable, how answers
//! travel through an HTML form.
//!
//! This crate owns the format and the rules about answers; it knows nothing about HTTP, storage
//! or rendering. Everything here is pure: the one input that depends on the clock, today's date,
//! is a parameter.
//!
//! - [`parse`] turns a document into a [`Process`] or [`DefinitionErrors`].
//! - [`Process::check_values`] is the light check on every save; [`Process::validate_step`] and
//!   [`Process::validate_all`] the complete checks; [`Process::submission_answers`] what is
//!   submitted.
//! - [`Field::answer_from_form`] and [`Field::form_values`] convert between form posts and
//!   answers.
//! - [`FORMAT_JSON_SCHEMA`] describes the format for editors and API clients.

#![forbid(unsafe_code)]

mod answers;
mod condition;
mod document;
mod error;
mod form;
mod formats;
mod model;
mod parse;

pub use answers::Answers;
pub use condition::Condition;
pub use document::MAX_DOCUMENT_BYTES;
pub use error::{AnswerError, DefinitionError, DefinitionErrors};
pub use formats::{format_number, is_valid_email, is_valid_tel, parse_date};
pub use model::{
    ChoiceDisplay, ChoiceOption, DateBound, EMAIL_MAX_LENGTH, Field, FieldKind, PATTERN_MAX_LENGTH,
    Pattern, Process, Step, TEL_MAX_LENGTH, TEXT_MAX_LENGTH, TEXTAREA_MAX_LENGTH,
};
pub use parse::{
    MAX_CONDITION_DEPTH, MAX_FIELDS, MAX_FIELDS_PER_STEP, MAX_OPTIONS, MAX_REPORTED_ERRORS,
    MAX_STEPS,
};

/// The JSON Schema (draft 2020-12) of the definition format, for editors and API clients.
/// It describes the shape; some rules (unique ids, references between fields, min ≤ max) only
/// [`parse`] checks.
pub const FORMAT_JSON_SCHEMA: &str = include_str!("../schema/process-definition.schema.json");

/// Reads and checks a definition written in YAML or JSON.
///
/// Documents over [`MAX_DOCUMENT_BYTES`] are refused before they are read; nesting and alias
/// expansion are capped, so hostile documents fail fast. On failure every problem is reported
/// (up to [`MAX_REPORTED_ERRORS`]), in document order, each with its path and line and column.
pub fn parse(source: &str) -> Result<Process, DefinitionErrors> {
    parse::parse(source)
}

/// Reads a YAML or JSON document into JSON without checking it against the format (with the
/// same limits as [`parse`]): e.g. to store or show a YAML definition as JSON.
pub fn to_json(source: &str) -> Result<serde_json::Value, DefinitionErrors> {
    let loaded = document::load(source).map_err(DefinitionErrors::from)?;
    if loaded.problems.is_empty() {
        Ok(loaded.root.to_json())
    } else {
        Err(DefinitionErrors(loaded.problems))
    }
}
