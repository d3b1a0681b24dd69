//! The parsed process: what a valid definition means, as plain Rust values.
//!
//! Values of these types come from [`crate::parse`] and are valid by construction (ids unique,
//! conditions refer to existing earlier fields, limits consistent). This module owns the shape
//! and the look-ups; answer checking lives in `answers`, form conversion in `form`.

use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::condition::Condition;

/// Default `max_length` of a `text` field.
pub const TEXT_MAX_LENGTH: usize = 1000;
/// Default `max_length` of a `textarea` field.
pub const TEXTAREA_MAX_LENGTH: usize = 10_000;
/// Longest email address accepted, in characters.
pub const EMAIL_MAX_LENGTH: usize = 254;
/// Longest phone number accepted, in characters (spaces and punctuation included).
pub const TEL_MAX_LENGTH: usize = 40;

/// A process: a multi-step form.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    /// URL name, `^[a-z0-9][a-z0-9-]{0,63}$`.
    pub slug: String,
    /// Title shown to the person, plain text.
    pub title: String,
    /// Optional introduction, plain text.
    pub description: Option<String>,
    /// The steps, in the order they are shown; at least one.
    pub steps: Vec<Step>,
}

/// One page of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Id, unique among the steps.
    pub id: String,
    /// Title of the page.
    pub title: String,
    /// The fields, in order; at least one.
    pub fields: Vec<Field>,
}

/// One question.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Id, unique in the whole process: the key of the answer.
    pub id: String,
    /// The question, plain text (always HTML-escaped when shown).
    pub label: String,
    /// Optional help text, plain text.
    pub help: Option<String>,
    /// Whether an answer is needed to leave the step (for `consent`: the box must be ticked).
    pub required: bool,
    /// When the field is shown; `None` means always.
    pub visible_if: Option<Condition>,
    /// The type of the field with its type-specific settings.
    pub kind: FieldKind,
}

/// The type of a field and the settings that belong to that type.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// One line of text; answer: string.
    Text {
        /// Fewest characters of a (non-empty) answer.
        min_length: Option<usize>,
        /// Most characters; default [`TEXT_MAX_LENGTH`].
        max_length: usize,
        /// A regular expression the whole answer must match.
        pattern: Option<Pattern>,
        /// What to tell the person when the pattern does not match.
        pattern_message: Option<String>,
    },
    /// Several lines of text; answer: string.
    Textarea {
        /// Fewest characters of a (non-empty) answer.
        min_length: Option<usize>,
        /// Most characters; default [`TEXTAREA_MAX_LENGTH`].
        max_length: usize,
    },
    /// An email address; answer: string.
    Email,
    /// A phone number; answer: string.
    Tel,
    /// A number; answer: JSON number.
    Number {
        /// Smallest value allowed.
        min: Option<f64>,
        /// Largest value allowed.
        max: Option<f64>,
        /// Whether only whole numbers are allowed.
        integer: bool,
    },
    /// A calendar date; answer: string `YYYY-MM-DD`.
    Date {
        /// Earliest date allowed.
        min: Option<DateBound>,
        /// Latest date allowed.
        max: Option<DateBound>,
    },
    /// One of a list of options; answer: the option's value (string).
    Choice {
        /// The options, in order; values unique.
        options: Vec<ChoiceOption>,
        /// How the options are shown.
        display: ChoiceDisplay,
    },
    /// Any of a list of options; answer: array of option values, no repeats.
    Multichoice {
        /// The options, in order; values unique.
        options: Vec<ChoiceOption>,
        /// Fewest options to choose (when any are chosen, or when required).
        min_selected: Option<usize>,
        /// Most options to choose.
        max_selected: Option<usize>,
    },
    /// Yes or no; answer: true or false.
    Boolean,
    /// A checkbox; answer: true (ticked) or absent.
    Consent,
}

impl FieldKind {
    /// The type's name as written in a definition (`text`, `choice` …).
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::Textarea { .. } => "textarea",
            FieldKind::Email => "email",
            FieldKind::Tel => "tel",
            FieldKind::Number { .. } => "number",
            FieldKind::Date { .. } => "date",
            FieldKind::Choice { .. } => "choice",
            FieldKind::Multichoice { .. } => "multichoice",
            FieldKind::Boolean => "boolean",
            FieldKind::Consent => "consent",
        }
    }

    /// The options of a `choice` or `multichoice` field.
    pub fn options(&self) -> Option<&[ChoiceOption]> {
        match self {
            FieldKind::Choice { options, .. } | FieldKind::Multichoice { options, .. } => {
                Some(options)
            }
            _ => None,
        }
    }

    /// The most characters a text-like answer may have (for the `maxlength` attribute);
    /// `None` for types whose answer is not free text.
    pub fn max_chars(&self) -> Option<usize> {
        match self {
            FieldKind::Text { max_length, .. } | FieldKind::Textarea { max_length, .. } => {
                Some(*max_length)
            }
            FieldKind::Email => Some(EMAIL_MAX_LENGTH),
            FieldKind::Tel => Some(TEL_MAX_LENGTH),
            _ => None,
        }
    }
}

/// One option of a `choice` or `multichoice` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceOption {
    /// What is stored as the answer.
    pub value: String,
    /// What the person sees (the value itself when the definition gives a bare string).
    pub label: String,
}

/// How a `choice` field is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChoiceDisplay {
    /// Radio buttons (the default).
    #[default]
    Radio,
    /// A drop-down list.
    Select,
}

/// A limit of a `date` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    /// The day the answer is checked (given explicitly to the checks).
    Today,
    /// A fixed date.
    Date(jiff::civil::Date),
}

impl DateBound {
    /// The date this bound stands for on `today`.
    pub fn resolve(self, today: jiff::civil::Date) -> jiff::civil::Date {
        match self {
            DateBound::Today => today,
            DateBound::Date(date) => date,
        }
    }
}

/// A regular expression that a whole `text` answer must match.
///
/// The source is kept as written; the compiled expression is anchored as `^(?:source)$`, and
/// compiling is capped in size so that hostile patterns are refused rather than built.
/// Matching is linear in the answer's length (the `regex` crate never backtracks).
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

/// Longest pattern source accepted, in characters.
pub const PATTERN_MAX_LENGTH: usize = 1000;
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

impl Pattern {
    /// Compiles a pattern, or says (in plain English) why it cannot be used.
    pub fn new(source: &str) -> Result<Pattern, String> {
        if source.chars().count() > PATTERN_MAX_LENGTH {
            return Err(format!(
                "the pattern is longer than {PATTERN_MAX_LENGTH} characters"
            ));
        }
        let regex = RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .nest_limit(64)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => {
                    "the pattern is too complex (it compiles to too large a program)".to_owned()
                }
                // The message spans lines and points into the wrapped expression; the first
                // line of the explanation is the useful part.
                other => {
                    let text = other.to_string();
                    let reason = text
                        .lines()
                        .rev()
                        .find(|l| l.starts_with("error:"))
                        .map_or_else(
                            || text.clone(),
                            |l| l.trim_start_matches("error: ").to_owned(),
                        );
                    format!("invalid regular expression: {reason}")
                }
            })?;
        Ok(Pattern {
            source: source.to_owned(),
            regex,
        })
    }

    /// The pattern as written in the definition.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl Process {
    /// All fields of all steps, in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.steps.iter().flat_map(|s| s.fields.iter())
    }

    /// The field with this id.
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().find(|f| f.id == id)
    }

    /// The index (0-based) of the step holding the field with this id.
    pub fn step_of_field(&self, id: &str) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.fields.iter().any(|f| f.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_the_whole_value() {
        let p = Pattern::new("[A-Z]{2}[0-9]{6}").expect("compiles");
        assert!(p.is_match("AB123456"));
        assert!(!p.is_match("xAB123456"));
        assert!(!p.is_match("AB1234567"));
        let anchored = Pattern::new("^a|b$").expect("compiles");
        assert!(anchored.is_match("a") && anchored.is_match("b"));
        assert!(!anchored.is_match("ab"));
        assert_eq!(anchored.source(), "^a|b$");
    }

    #[test]
    fn bad_and_hostile_patterns_are_refused() {
        let error = Pattern::new("([a-z]").expect_err("unclosed group");
        assert!(error.starts_with("invalid regular expression"), "{error}");
        let error = Pattern::new("(\\w{100}){100}").expect_err("too big");
        assert!(error.contains("too complex"), "{error}");
        assert!(Pattern::new(&"a".repeat(1001)).is_err());
        assert!(Pattern::new(&"(".repeat(200)).is_err());
    }
}
