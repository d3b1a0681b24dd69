//! Server-rendered HTML: the templates (in `templates/`) and the view models that feed them.
//!
//! Every value is HTML-escaped by the template engine; nothing here builds markup by hand.

use askama::Template;
use holdfast_definition::{ChoiceDisplay, Field, FieldKind, Process};
use serde_json::Value;

/// A problem shown in the error summary at the top of a step.
pub struct SummaryItem {
    /// The element id to jump to.
    pub anchor: String,
    /// The field's label.
    pub label: String,
    /// What is wrong.
    pub message: String,
}

/// One option of a choice, multichoice or boolean field.
pub struct OptionView {
    /// The value posted.
    pub value: String,
    /// The text shown.
    pub label: String,
    /// Whether it is selected.
    pub checked: bool,
}

/// How a field is drawn.
pub enum Control {
    /// A single `<input>`.
    Input {
        /// `text`, `email`, `tel` or `date` (a number is typed into a `text` input: see
        /// `holdfast_definition`'s form module for why and how it is read).
        input_type: &'static str,
        /// The `inputmode` hint, if any.
        inputmode: Option<&'static str>,
        /// The `autocomplete` hint, if any.
        autocomplete: Option<&'static str>,
        /// Other attributes (maxlength, spellcheck).
        attrs: Vec<(&'static str, String)>,
    },
    /// A `<textarea>`.
    Textarea {
        /// Other attributes (maxlength).
        attrs: Vec<(&'static str, String)>,
    },
    /// A `<select>` (a choice shown as a list).
    Select {
        /// The options.
        options: Vec<OptionView>,
    },
    /// A `<fieldset>` of radios or checkboxes (choice, multichoice, boolean).
    Group {
        /// `radio` or `checkbox`.
        input_type: &'static str,
        /// The options.
        options: Vec<OptionView>,
    },
    /// A single consent checkbox.
    Consent,
}

/// A field ready to draw.
pub struct FieldView {
    /// The field id (also the form name).
    pub id: String,
    /// The label.
    pub label: String,
    /// Help text, if any.
    pub help: Option<String>,
    /// Whether it must be answered.
    pub required: bool,
    /// The current value, for single-value controls.
    pub value: String,
    /// The message of the error at this field, if any.
    pub error: Option<String>,
    /// Hidden because its condition is false.
    pub hidden: bool,
    /// The condition as JSON, for the page script.
    pub visible_if: Option<String>,
    /// Ids of the help and error elements, for `aria-describedby`.
    pub described_by: Option<String>,
    /// How it is drawn.
    pub control: Control,
}

impl FieldView {
    /// Builds the view of `field` showing `values` (what the form should hold).
    pub fn new(field: &Field, values: &[String], error: Option<String>, hidden: bool) -> Self {
        let first = values.first().cloned().unwrap_or_default();
        let options_of = |options: &[holdfast_definition::ChoiceOption]| -> Vec<OptionView> {
            options
                .iter()
                .map(|o| OptionView {
                    value: o.value.clone(),
                    label: o.label.clone(),
                    checked: values.iter().any(|v| v == &o.value),
                })
                .collect()
        };
        // Every text-like input is limited to what the server accepts (HTML counts UTF-16
        // units, the server characters: the page is never the more lenient).
        let maxlength = || {
            field
                .kind
                .max_chars()
                .map(|max| ("maxlength", max.to_string()))
        };
        let control = match &field.kind {
            FieldKind::Text { .. } => Control::Input {
                input_type: "text",
                inputmode: None,
                autocomplete: None,
                attrs: maxlength().into_iter().collect(),
            },
            FieldKind::Textarea { .. } => Control::Textarea {
                attrs: maxlength().into_iter().collect(),
            },
            FieldKind::Email => Control::Input {
                input_type: "email",
                inputmode: None,
                autocomplete: Some("email"),
                attrs: [("spellcheck", "false".to_owned())]
                    .into_iter()
                    .chain(maxlength())
                    .collect(),
            },
            FieldKind::Tel => Control::Input {
                input_type: "tel",
                inputmode: None,
                autocomplete: Some("tel"),
                attrs: maxlength().into_iter().collect(),
            },
            // Not `type=number`: its reading depends on the browser's language.
            FieldKind::Number { integer, .. } => Control::Input {
                input_type: "text",
                inputmode: Some(if *integer { "numeric" } else { "decimal" }),
                autocomplete: Some("off"),
                attrs: vec![("spellcheck", "false".to_owned())],
            },
            FieldKind::Date { .. } => Control::Input {
                input_type: "date",
                inputmode: None,
                autocomplete: None,
                attrs: Vec::new(),
            },
            FieldKind::Choice { options, display } => match display {
                ChoiceDisplay::Select => Control::Select {
                    options: options_of(options),
                },
                ChoiceDisplay::Radio => Control::Group {
                    input_type: "radio",
                    options: options_of(options),
                },
            },
            FieldKind::Multichoice { options, .. } => Control::Group {
                input_type: "checkbox",
                options: options_of(options),
            },
            FieldKind::Boolean => Control::Group {
                input_type: "radio",
                options: [("yes", "Yes"), ("no", "No")]
                    .into_iter()
                    .map(|(value, label)| OptionView {
                        value: value.to_owned(),
                        label: label.to_owned(),
                        checked: first == value,
                    })
                    .collect(),
            },
            FieldKind::Consent => Control::Consent,
        };
        let mut described = Vec::new();
        if field.help.is_some() {
            described.push(format!("f-{}-help", field.id));
        }
        if error.is_some() {
            described.push(format!("f-{}-error", field.id));
        }
        FieldView {
            id: field.id.clone(),
            label: field.label.clone(),
            help: field.help.clone(),
            required: field.required,
            value: first,
            error,
            hidden,
            visible_if: field
                .visible_if
                .as_ref()
                .and_then(|c| serde_json::to_string(&condition_json(c)).ok()),
            described_by: (!described.is_empty()).then(|| described.join(" ")),
            control,
        }
    }
}

/// The condition in the JSON form of the spec, for the page script.
fn condition_json(condition: &holdfast_definition::Condition) -> Value {
    use holdfast_definition::Condition;
    match condition {
        Condition::Equals { field, value } => serde_json::json!({"field": field, "equals": value}),
        Condition::NotEquals { field, value } => {
            serde_json::json!({"field": field, "not_equals": value})
        }
        Condition::In { field, values } => serde_json::json!({"field": field, "in": values}),
        Condition::Answered { field, answered } => {
            serde_json::json!({"field": field, "answered": answered})
        }
        Condition::All(list) => {
            serde_json::json!({"all": list.iter().map(condition_json).collect::<Vec<_>>()})
        }
        Condition::Any(list) => {
            serde_json::json!({"any": list.iter().map(condition_json).collect::<Vec<_>>()})
        }
        Condition::Not(inner) => serde_json::json!({"not": condition_json(inner)}),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page with a title and one paragraph (errors, notices).
pub fn message_page(title: &str, message: &str) -> String {
    render(&MessagePage { title, message })
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage<'a> {
    title: &'a str,
    description: Option<&'a str>,
    steps: usize,
    action: &'a str,
}

/// The start page of a process.
pub fn start_page(process: &Process, action: &str) -> String {
    render(&StartPage {
        title: &process.title,
        description: process.description.as_deref(),
        steps: process.steps.len(),
        action,
    })
}

/// Everything the step page shows.
#[derive(Template)]
#[template(path = "step.html")]
pub struct StepPage {
    /// The process title.
    pub title: String,
    /// The step's title.
    pub step_title: String,
    /// 0-based index of the step.
    pub step_index: usize,
    /// 1-based number of the step.
    pub step_number: usize,
    /// How many steps there are.
    pub step_count: usize,
    /// Whether this is the last step (Submit instead of Next).
    pub is_last: bool,
    /// The error summary.
    pub problems: Vec<SummaryItem>,
    /// The fields of the step.
    pub fields: Vec<FieldView>,
    /// Where the form posts to (the session's path).
    pub action: String,
    /// The session's resume link.
    pub resume_url: String,
    /// The session token, for the page script.
    pub token: String,
    /// The session's revision when the page was drawn, for the page script.
    pub revision: i64,
    /// The answers the server holds (all steps) as JSON, for the page script: it needs the
    /// answers of other steps to show and hide fields as the person types.
    pub answers_json: String,
    /// Every field of the process as JSON (`{"id": {"type": …, "visible_if": …}}`), for the
    /// page script.
    pub fields_json: String,
    /// A fresh key sent with Submit, so that a repeated Submit cannot submit twice.
    pub idempotency_key: String,
    /// The ids of the fields whose answer was changed elsewhere while the person's page was
    /// open, as a JSON array, for the page script (the page shows the person's answer, and the
    /// other value in the field's error).
    pub conflicts_json: String,
    /// The ids of the fields shown with what the person posted rather than the stored answer
    /// (it could not be read, or it conflicts), as a JSON array: the page script must not take
    /// them for typing.
    pub shown_json: String,
}

/// Renders the step page.
pub fn step_page(page: &StepPage) -> String {
    render(page)
}

/// Every field of `process` with its type and condition, as the page script reads them:
/// `{"field id": {"type": "boolean", "visible_if": {…}}}`.
pub fn fields_json(process: &Process) -> String {
    let fields: serde_json::Map<String, Value> = process
        .fields()
        .map(|field| {
            let mut spec = serde_json::Map::new();
            spec.insert("type".to_owned(), Value::from(field.kind.name()));
            if let Some(condition) = &field.visible_if {
                spec.insert("visible_if".to_owned(), condition_json(condition));
            }
            (field.id.clone(), Value::Object(spec))
        })
        .collect();
    Value::Object(fields).to_string()
}

#[derive(Template)]
#[template(path = "done.html")]
struct DonePage<'a> {
    title: &'a str,
    reference: &'a str,
    token: &'a str,
}

/// The confirmation after Submit. `token` lets the page script forget what it kept of the
/// session on the device.
pub fn done_page(title: &str, reference: &str, token: &str) -> String {
    render(&DonePage {
        title,
        reference,
        token,
    })
}

fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|error| {
        tracing::error!(%error, "a page template failed to render");
        String::from("<!doctype html><title>Error</title><p>Something went wrong on our side.</p>")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_script_gets_every_field_with_its_type_and_condition() {
        let process = holdfast_definition::parse(
            r#"
slug: claim
title: Claim
steps:
  - id: one
    title: One
    fields:
      - {id: injured, type: boolean, label: Injured?}
  - id: two
    title: Two
    fields:
      - {id: details, type: textarea, label: Details, visible_if: {field: injured, equals: true}}
"#,
        )
        .expect("the definition parses");
        let fields: Value = serde_json::from_str(&fields_json(&process)).expect("JSON");
        assert_eq!(
            fields,
            serde_json::json!({
                "injured": {"type": "boolean"},
                "details": {"type": "textarea", "visible_if": {"field": "injured", "equals": true}},
            })
        );
    }
}
