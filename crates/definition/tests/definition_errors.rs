//! A rejected definition reports every problem, each with its path, reason, line and column.

use holdfast_definition::{DefinitionErrors, parse};

/// Parses a document that must be rejected and returns its problems, one displayed per entry.
fn problems(source: &str) -> Vec<String> {
    match parse(source) {
        Ok(_) => panic!("expected problems in:\n{source}"),
        Err(DefinitionErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// A valid document with one field whose lines are replaced by `field`, for one-rule tests.
fn with_fields(fields: &str) -> String {
    format!(
        "slug: test\ntitle: Test\nsteps:\n  - id: one\n    title: One\n    fields:\n      - id: first\n        type: text\n        label: First\n{fields}"
    )
}

#[test]
fn a_document_with_many_problems_reports_each_one() {
    let source = "\
slug: Motor Claim
title: ''
colour: blue
steps:
  - id: about-you
    title: About you
    fields:
      - id: full_name
        type: txt
        label: Full name
        requird: true
      - id: email
        type: email
        label: Email
        required: \"yes\"
        pattern: \"^.*$\"
      - id: vehicle
        type: choice
        label: Vehicle
        options: [car, van]
      - id: size
        type: choice
        label: Size
        options: [small, large, small]
        display: dropdown
  - id: incident
    title: The incident
    fields:
      - id: injured
        type: boolean
        label: Injured?
        visible_if: {field: injurd, equals: true}
      - id: email
        type: number
        label: Amount
        min: 10
        max: 1
      - id: lorry
        type: text
        label: Lorry details
        visible_if: {field: vehicle, equals: truck}
      - id: early
        type: text
        label: Early
        visible_if: {field: later, answered: true}
  - id: about-you
    title: Again
    fields:
      - id: later
        type: date
        label: Later
        max: 2024-02-30
";
    assert_eq!(
        problems(source),
        [
            "slug: invalid slug \"Motor Claim\": use 1 to 64 lowercase letters, digits and hyphens, starting with a letter or digit (line 1, column 7)",
            "title: must not be empty (line 2, column 8)",
            "colour: unknown key \"colour\" (line 3, column 1)",
            "steps[0].fields[0].type: unknown type \"txt\"; expected one of text, textarea, email, tel, number, date, choice, multichoice, boolean, consent (line 9, column 15)",
            "steps[0].fields[0].requird: unknown key \"requird\"; did you mean \"required\"? (line 11, column 9)",
            "steps[0].fields[1].required: expected true or false, found a string (line 15, column 19)",
            "steps[0].fields[1].pattern: key \"pattern\" does not apply to email fields (which take no extra keys); it belongs to text (line 16, column 9)",
            "steps[0].fields[3].options[2]: duplicate option value \"small\" (also steps[0].fields[3].options[0]) (line 24, column 33)",
            "steps[0].fields[3].display: unknown display \"dropdown\"; expected radio or select (line 25, column 18)",
            "steps[1].fields[0].visible_if.field: unknown field \"injurd\"; did you mean \"injured\"? (line 32, column 29)",
            "steps[1].fields[1].id: duplicate field id \"email\" (also used at steps[0].fields[1]) (line 33, column 13)",
            "steps[1].fields[1].min: min is greater than max (line 36, column 14)",
            "steps[1].fields[2].visible_if.equals: \"truck\" is not an option of field \"vehicle\" (options: car, van) (line 41, column 46)",
            "steps[1].fields[3].visible_if.field: field \"later\" is in a later step (steps[2]); a condition may refer only to fields of the same or an earlier step (line 45, column 29)",
            "steps[2].id: duplicate step id \"about-you\" (also used at steps[0]) (line 46, column 9)",
            "steps[2].fields[0].max: invalid date \"2024-02-30\"; write a date as YYYY-MM-DD, or today (line 52, column 14)",
        ]
    );
}
