//! Answers against a process: the light check on save, the complete check when leaving a step,
//! visibility, and what goes into a submission.

use holdfast_definition::{AnswerError, Answers, Process, parse};
use jiff::civil::{Date, date};
use serde_json::{Value, json};

const ALL_TYPES: &str = r#"
slug: all-types
title: All types
steps:
  - id: one
    title: One
    fields:
      - {id: name, type: text, label: Name, required: true, min_length: 2, max_length: 10, pattern: "[A-Z][a-z]+", pattern_message: Start with a capital letter}
      - {id: code, type: text, label: Code, pattern: "[0-9]+"}
      - {id: story, type: textarea, label: Story, min_length: 5, max_length: 20}
      - {id: email, type: email, label: Email, required: true}
      - {id: phone, type: tel, label: Phone}
      - {id: amount, type: number, label: Amount, min: 1, max: 100, integer: true}
      - {id: price, type: number, label: Price, min: 0.5}
      - {id: day, type: date, label: Day, min: 2025-01-01, max: today}
      - {id: later, type: date, label: Later, min: today, max: 2030-12-31}
      - {id: vehicle, type: choice, label: Vehicle, required: true, options: [car, van]}
      - {id: extras, type: multichoice, label: Extras, options: [a, b, c, d], min_selected: 2, max_selected: 3}
      - {id: injured, type: boolean, label: Injured, required: true}
      - {id: agree, type: consent, label: Agree, required: true}
  - id: two
    title: Two
    fields:
      - {id: optional_choice, type: choice, label: Maybe, options: [x, y], display: select}
      - {id: needed, type: multichoice, label: Needed, required: true, options: [p, q]}
      - {id: note, type: text, label: Note, required: true}
"#;

const TODAY: Date = date(2025, 6, 15);

fn process(source: &str) -> Process {
    parse(source).unwrap_or_else(|e| panic!("{e}"))
}

fn answers(value: Value) -> Answers {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// A complete, valid set of answers for the first step.
fn good_step_one() -> Answers {
    answers(json!({
        "name": "Ada",
        "code": "123",
        "story": "Once upon",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "amount": 42,
        "price": 0.5,
        "day": "2025-06-15",
        "later": "2030-12-31",
        "vehicle": "van",
        "extras": ["a", "c"],
        "injured": false,
        "agree": true
    }))
}

fn pairs(errors: &[AnswerError]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect()
}

/// The problem `validate_step` finds with one answer of the first step (others being good).
fn step_one_problem(field: &str, value: Value) -> Option<String> {
    let p = process(ALL_TYPES);
    let mut a = good_step_one();
    a.insert(field.to_owned(), value);
    let errors = p.validate_step(0, &a, TODAY);
    assert!(errors.len() <= 1, "{errors:?}");
    errors.into_iter().next().map(|e| {
        assert_eq!(e.field, field);
        e.message
    })
}

fn save_problem(field: &str, value: Value) -> Option<String> {
    let p = process(ALL_TYPES);
    let mut a = Answers::new();
    a.insert(field.to_owned(), value);
    match p.check_values(&a) {
        Ok(()) => None,
        Err(errors) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, field);
            Some(errors[0].message.clone())
        }
    }
}

#[test]
fn good_answers_pass_every_check() {
    let p = process(ALL_TYPES);
    let a = good_step_one();
    assert_eq!(p.check_values(&a), Ok(()));
    assert_eq!(p.validate_step(0, &a, TODAY), []);
}

#[test]
fn saving_checks_types_options_and_length_limits() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(12), "Must be text"),
        (
            "name",
            json!("Abcdefghijk"),
            "Must be at most 10 characters",
        ),
        (
            "story",
            json!("x".repeat(21)),
            "Must be at most 20 characters",
        ),
        ("email", json!(["a@b.co"]), "Must be text"),
        (
            "email",
            json!(format!("{}@example.com", "a".repeat(250))),
            "Must be at most 254 characters",
        ),
        (
            "phone",
            json!("1".repeat(41)),
            "Must be at most 40 characters",
        ),
        ("amount", json!("12"), "Must be a number"),
        (
            "day",
            json!("15/06/2025"),
            "Enter a real date as YYYY-MM-DD, for example 2025-03-17",
        ),
        (
            "day",
            json!("2025-02-29"),
            "Enter a real date as YYYY-MM-DD, for example 2025-03-17",
        ),
        ("vehicle", json!("truck"), "Choose one of the options"),
        ("vehicle", json!(["car"]), "Choose one of the options"),
        ("extras", json!("a"), "Choose from the options given"),
        ("extras", json!(["a", "z"]), "Choose from the options given"),
        ("extras", json!(["a", "a"]), "Choose each option only once"),
        ("injured", json!("yes"), "Answer yes or no"),
        ("agree", json!(false), "Tick the box, or leave it unticked"),
        ("nonsense", json!("x"), "Unknown field"),
    ];
    for (field, value, message) in cases {
        assert_eq!(
            save_problem(field, value.clone()).as_deref(),
            Some(message),
            "{field} = {value}"
        );
    }
}

#[test]
fn saving_keeps_what_is_merely_incomplete() {
    // Half-typed or not yet valid answers are saved: nothing typed is lost.
    for (field, value) in [
        ("email", json!("ada@")),
        ("phone", json!("12")),
        ("name", json!("a")),
        ("code", json!("abc")),
        ("amount", json!(1000.5)),
        ("day", json!("2000-01-01")),
        ("extras", json!(["a", "b", "c", "d"])),
        ("extras", json!([])),
        ("name", json!("   ")),
    ] {
        assert_eq!(
            save_problem(field, value.clone()),
            None,
            "{field} = {value}"
        );
    }
}

#[test]
fn null_removes_any_answer_and_all_problems_are_reported() {
    let p = process(ALL_TYPES);
    let mut a = Answers::new();
    for field in p.fields() {
        a.insert(field.id.clone(), Value::Null);
    }
    assert_eq!(p.check_values(&a), Ok(()));
    let a = answers(json!({"name": 1, "vehicle": "truck", "zzz": 1}));
    let errors = p.check_values(&a).expect_err("three problems");
    let mut found = pairs(&errors);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            ("name", "Must be text"),
            ("vehicle", "Choose one of the options"),
            ("zzz", "Unknown field")
        ]
    );
}

#[test]
fn leaving_a_step_needs_required_answers() {
    let p = process(ALL_TYPES);
    assert_eq!(
        pairs(&p.validate_step(0, &Answers::new(), TODAY)),
        [
            ("name", "This field is required"),
            ("email", "This field is required"),
            ("vehicle", "Choose one of the options"),
            ("injured", "Answer yes or no"),
            ("agree", "Tick this box to continue"),
        ]
    );
    let blank = answers(json!({"optional_choice": null, "needed": [], "note": "  \n "}));
    assert_eq!(
        pairs(&p.validate_step(1, &blank, TODAY)),
        [
            ("needed", "Choose at least one option"),
            ("note", "This field is required")
        ]
    );
    // A required boolean answered "no" is answered; an unticked consent is not.
    assert_eq!(step_one_problem("injured", json!(false)), None);
    assert_eq!(
        step_one_problem("agree", json!(false)).as_deref(),
        Some("Tick this box to continue")
    );
}

#[test]
fn leaving_a_step_checks_every_rule() {
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("name", json!("A"), Some("Must be at least 2 characters")),
        ("name", json!("ada"), Some("Start with a capital letter")),
        (
            "name",
            json!("Ada Lovelace"),
            Some("Must be at most 10 characters"),
        ),
        (
            "code",
            json!("12a"),
            Some("Enter a value in the expected format"),
        ),
        ("code", json!(""), None),
        (
            "story",
            json!("Once"),
            Some("Must be at least 5 characters"),
        ),
        ("story", json!("Once\nupon"), None),
        (
            "email",
            json!("ada@example"),
            Some("Enter a valid email address, like name@example.com"),
        ),
        ("email", json!(" ada@example.com "), None),
        (
            "phone",
            json!("12345"),
            Some("Enter a valid phone number: digits, spaces and + - ( ), 6 to 20 digits"),
        ),
        ("phone", json!("(030) 123-456"), None),
        ("amount", json!(4.5), Some("Must be a whole number")),
        ("amount", json!(4.0), None),
        ("amount", json!(0), Some("Must be at least 1")),
        ("amount", json!(101), Some("Must be at most 100")),
        ("price", json!(0.25), Some("Must be at least 0.5")),
        ("price", json!(1e9), None),
        (
            "day",
            json!("2024-12-31"),
            Some("Must be on or after 2025-01-01"),
        ),
        ("day", json!("2025-06-16"), Some("Must be today or earlier")),
        ("day", json!("2025-01-01"), None),
        ("later", json!("2025-06-14"), Some("Must be today or later")),
        (
            "later",
            json!("2031-01-01"),
            Some("Must be on or before 2030-12-31"),
        ),
        ("later", json!("2025-06-15"), None),
        ("vehicle", json!("bus"), Some("Choose one of the options")),
        ("extras", json!(["a"]), Some("Choose at least 2 options")),
        (
            "extras",
            json!(["a", "b", "c", "d"]),
            Some("Choose at most 3 options"),
        ),
        ("extras", json!([]), None),
        ("extras", json!(["d", "a"]), None),
        ("injured", json!(true), None),
    ];
    for (field, value, expected) in cases {
        assert_eq!(
            step_one_problem(field, value.clone()).as_deref(),
            expected,
            "{field} = {value}"
        );
    }
}

#[test]
fn validate_all_covers_every_step_and_no_step_beyond() {
    let p = process(ALL_TYPES);
    let mut a = good_step_one();
    a.insert("note".into(), json!("ok"));
    assert_eq!(
        pairs(&p.validate_all(&a, TODAY)),
        [("needed", "Choose at least one option")]
    );
    a.insert("needed".into(), json!(["q"]));
    assert_eq!(p.validate_all(&a, TODAY), []);
    assert_eq!(p.validate_step(7, &a, TODAY), []);
}

const CONDITIONS: &str = r#"
slug: conditions
title: Conditions
steps:
  - id: one
    title: One
    fields:
      - {id: vehicle, type: choice, label: Vehicle, options: [car, van, truck]}
      - {id: injured, type: boolean, label: Injured}
      - {id: amount, type: number, label: Amount}
      - {id: damage, type: multichoice, label: Damage, options: [glass, engine, body]}
      - {id: phone, type: tel, label: Phone}
      - {id: not_car, type: text, label: Not a car, visible_if: {field: vehicle, not_equals: car}}
      - {id: big, type: text, label: Big, visible_if: {field: vehicle, in: [van, truck]}}
      - {id: no_phone, type: text, label: No phone, visible_if: {field: phone, answered: false}}
      - {id: glass, type: text, label: Glass, visible_if: {field: damage, equals: glass}}
      - {id: round, type: text, label: Round, visible_if: {field: amount, equals: 100}}
  - id: two
    title: Two
    fields:
      - id: injury_details
        type: textarea
        label: Injuries
        required: true
        visible_if: {field: injured, equals: true}
      - id: injury_cost
        type: number
        label: Cost of injuries
        required: true
        visible_if: {field: injury_details, answered: true}
      - id: review
        type: text
        label: Review
        required: true
        visible_if:
          any:
            - all: [{field: big, answered: true}, {not: {field: amount, in: [0, 1]}}]
            - {not: {any: [{field: injured, answered: true}, {field: phone, answered: true}]}}
"#;

fn visible(p: &Process, a: &Answers) -> Vec<String> {
    p.fields()
        .filter(|f| f.visible_if.is_some() && p.is_visible(f, a))
        .map(|f| f.id.clone())
        .collect()
}

#[test]
fn simple_conditions() {
    let p = process(CONDITIONS);
    let nothing = Answers::new();
    // Unanswered: not_equals and in are false, answered: false is true, and "review" is
    // visible through its second branch.
    assert_eq!(visible(&p, &nothing), ["no_phone", "review"]);
    let a = answers(json!({"vehicle": "car", "phone": "  "}));
    assert_eq!(visible(&p, &a), ["no_phone", "review"]);
    let a = answers(json!({"vehicle": "van", "phone": "0301234567"}));
    assert_eq!(visible(&p, &a), ["not_car", "big"]);
    let a = answers(
        json!({"vehicle": "truck", "damage": ["engine", "glass"], "amount": 100.0, "injured": false}),
    );
    assert_eq!(
        visible(&p, &a),
        ["not_car", "big", "no_phone", "glass", "round"]
    );
}

#[test]
fn nested_all_any_not() {
    let p = process(CONDITIONS);
    let review = p.field("review").expect("review");
    // First branch: big is visible and answered, amount not in [0, 1].
    let a = answers(json!({"vehicle": "van", "big": "yes", "amount": 5, "injured": true}));
    assert!(p.is_visible(review, &a));
    let a = answers(json!({"vehicle": "van", "big": "yes", "amount": 1.0, "injured": true}));
    assert!(!p.is_visible(review, &a));
    // "big" answered but hidden (vehicle is a car) counts as unanswered.
    let a = answers(json!({"vehicle": "car", "big": "yes", "amount": 5, "injured": true}));
    assert!(!p.is_visible(review, &a));
    // Second branch: neither injured nor phone answered.
    let a = answers(json!({"vehicle": "car", "big": "yes", "amount": 5}));
    assert!(p.is_visible(review, &a));
}

#[test]
fn hiding_cascades_and_hidden_fields_are_not_validated() {
    let p = process(CONDITIONS);
    let a = answers(json!({"injured": true, "phone": "0301234567"}));
    assert_eq!(
        pairs(&p.validate_step(1, &a, TODAY)),
        [("injury_details", "This field is required")]
    );
    let a = answers(json!({"injured": true, "phone": "0301234567", "injury_details": "A cut"}));
    assert_eq!(
        pairs(&p.validate_step(1, &a, TODAY)),
        [("injury_cost", "This field is required")]
    );
    // Not injured: the details are hidden, so the cost (which depends on them) is hidden too,
    // even though an answer to the details is still stored.
    let a = answers(json!({"injured": false, "phone": "0301234567", "injury_details": "A cut"}));
    assert_eq!(p.validate_step(1, &a, TODAY), []);
    let cost = p.field("injury_cost").expect("cost");
    assert!(!p.is_visible(cost, &a));
}

#[test]
fn submissions_hold_only_visible_answered_fields() {
    let p = process(CONDITIONS);
    let a = answers(json!({
        "vehicle": "car",
        "injured": false,
        "phone": "0301234567",
        "big": "left over from a van",
        "injury_details": "left over",
        "injury_cost": 12,
        "damage": [],
        "not_car": null,
        "no_phone": "   ",
        "stray": "not a field"
    }));
    assert_eq!(
        Value::Object(p.submission_answers(&a)),
        json!({"vehicle": "car", "injured": false, "phone": "0301234567"})
    );
}

#[test]
fn the_example_story() {
    // A person fills in the motor claim, says nobody was injured after first saying yes.
    let p = process(include_str!("../../../examples/motor-claim.yaml"));
    let mut a = answers(json!({
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "policy_number": "ab123456",
    }));
    assert_eq!(
        pairs(&p.validate_step(0, &a, TODAY)),
        [(
            "policy_number",
            "Two capital letters followed by six digits, for example AB123456"
        )]
    );
    a.insert("policy_number".into(), json!("AB123456"));
    assert_eq!(p.validate_step(0, &a, TODAY), []);
    a.insert("incident_date".into(), json!("2025-06-16"));
    a.insert("vehicle".into(), json!("van"));
    a.insert("injured".into(), json!(true));
    assert_eq!(
        pairs(&p.validate_step(1, &a, TODAY)),
        [
            ("incident_date", "Must be today or earlier"),
            ("injury_details", "This field is required")
        ]
    );
    a.insert("incident_date".into(), json!("2025-06-14"));
    a.insert("injury_details".into(), json!("A bruise"));
    a.insert("injured".into(), json!(false));
    assert_eq!(p.validate_step(1, &a, TODAY), []);
    a.insert("account_holder".into(), json!("Ada Lovelace"));
    a.insert("agree".into(), json!(true));
    assert_eq!(p.check_values(&a), Ok(()));
    assert_eq!(p.validate_all(&a, TODAY), []);
    let submitted = p.submission_answers(&a);
    assert!(!submitted.contains_key("injury_details"));
    assert_eq!(submitted.len(), a.len() - 1);
}
