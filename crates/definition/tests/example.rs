//! The example shipped with the project parses, means what it says, and reads the same as JSON.

use holdfast_definition::{
    ChoiceDisplay, ChoiceOption, Condition, DateBound, FieldKind, parse, to_json,
};
use serde_json::json;

const EXAMPLE: &str = include_str!("../../../examples/motor-claim.yaml");

#[test]
fn the_example_parses() {
    let process = parse(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(process.slug, "motor-claim");
    assert_eq!(process.title, "Motor insurance claim");
    assert!(
        process
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("Report damage"))
    );
    let steps: Vec<&str> = process.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(steps, ["about-you", "incident", "confirm"]);
    let fields: Vec<(&str, &str)> = process
        .fields()
        .map(|f| (f.id.as_str(), f.kind.name()))
        .collect();
    assert_eq!(
        fields,
        [
            ("full_name", "text"),
            ("email", "email"),
            ("phone", "tel"),
            ("policy_number", "text"),
            ("incident_date", "date"),
            ("vehicle", "choice"),
            ("injured", "boolean"),
            ("injury_details", "textarea"),
            ("damage", "multichoice"),
            ("estimate", "number"),
            ("account_holder", "text"),
            ("agree", "consent"),
        ]
    );

    let full_name = process.field("full_name").expect("full_name");
    assert!(full_name.required);
    assert_eq!(full_name.help.as_deref(), Some("As written on your policy"));
    assert!(matches!(
        full_name.kind,
        FieldKind::Text {
            max_length: 200,
            min_length: None,
            pattern: None,
            ..
        }
    ));
    let FieldKind::Text {
        pattern: Some(pattern),
        pattern_message: Some(message),
        max_length,
        ..
    } = &process.field("policy_number").expect("policy_number").kind
    else {
        panic!("policy_number is a text field with a pattern");
    };
    assert_eq!(pattern.source(), "^[A-Z]{2}[0-9]{6}$");
    assert_eq!(*max_length, 1000);
    assert!(message.starts_with("Two capital letters"));
    assert!(!process.field("phone").expect("phone").required);

    assert_eq!(
        process.field("incident_date").expect("date").kind,
        FieldKind::Date {
            min: None,
            max: Some(DateBound::Today)
        }
    );
    assert_eq!(
        process.field("vehicle").expect("vehicle").kind,
        FieldKind::Choice {
            options: vec![
                ChoiceOption {
                    value: "car".into(),
                    label: "car".into()
                },
                ChoiceOption {
                    value: "motorbike".into(),
                    label: "motorbike".into()
                },
                ChoiceOption {
                    value: "van".into(),
                    label: "Van or minibus".into()
                },
            ],
            display: ChoiceDisplay::Radio,
        }
    );
    assert_eq!(
        process.field("injury_details").expect("details").visible_if,
        Some(Condition::Equals {
            field: "injured".into(),
            value: json!(true)
        })
    );
    assert!(matches!(
        &process.field("damage").expect("damage").kind,
        FieldKind::Multichoice { options, min_selected: None, max_selected: None } if options.len() == 5
    ));
    assert_eq!(
        process.field("estimate").expect("estimate").kind,
        FieldKind::Number {
            min: Some(0.0),
            max: Some(1_000_000.0),
            integer: false
        }
    );
    assert_eq!(
        process.field("agree").expect("agree").kind,
        FieldKind::Consent
    );
    assert_eq!(process.step_of_field("injured"), Some(1));
    assert_eq!(process.step_of_field("agree"), Some(2));
    assert_eq!(process.step_of_field("nope"), None);
}

#[test]
fn the_example_in_json_parses_to_the_same_process() {
    let yaml = parse(EXAMPLE).expect("yaml parses");
    let value = to_json(EXAMPLE).expect("reads as JSON");
    assert_eq!(
        value["steps"][1]["fields"][1]["options"][2],
        json!({"value": "van", "label": "Van or minibus"})
    );
    for text in [
        serde_json::to_string_pretty(&value).expect("pretty"),
        serde_json::to_string(&value).expect("compact"),
    ] {
        let from_json = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(from_json, yaml);
    }
}

#[test]
fn json_documents_report_line_and_column() {
    let source = r#"{
  "slug": "json-claim",
  "title": "Claim",
  "steps": [
    {
      "id": "one",
      "title": "One",
      "fields": [
        {"id": "name", "type": "txt", "label": "Name"},
        {"id": "age", "type": "number", "label": "Age", "requird": true}
      ]
    }
  ]
}"#;
    let errors = parse(source).expect_err("two problems");
    let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "steps[0].fields[0].type: unknown type \"txt\"; expected one of text, textarea, email, \
             tel, number, date, choice, multichoice, boolean, consent (line 9, column 32)",
            "steps[0].fields[1].requird: unknown key \"requird\"; did you mean \"required\"? \
             (line 10, column 57)",
        ]
    );
}

#[test]
fn yaml_conveniences_read_as_expected() {
    // Anchors and aliases reuse an option list; blank help counts as none; block scalars work.
    let source = "\
slug: conveniences
title: Conveniences
description: |
  Two lines
  of text.
steps:
  - id: one
    title: One
    fields:
      - id: first_car
        type: choice
        label: First car
        help: ''
        options: &cars [car, van]
      - id: second_car
        type: choice
        label: Second car
        options: *cars
";
    let process = parse(source).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        process.description.as_deref(),
        Some("Two lines\nof text.\n")
    );
    let first = process.field("first_car").expect("first");
    let second = process.field("second_car").expect("second");
    assert_eq!(first.help, None);
    assert_eq!(first.kind, second.kind);
}
