//! Between HTML form posts and answers, both ways.

use holdfast_definition::{Field, Process, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

const FORM: &str = r#"
slug: form
title: Form
steps:
  - id: one
    title: One
    fields:
      - {id: name, type: text, label: Name}
      - {id: story, type: textarea, label: Story}
      - {id: email, type: email, label: Email}
      - {id: phone, type: tel, label: Phone}
      - {id: amount, type: number, label: Amount}
      - {id: day, type: date, label: Day}
      - {id: vehicle, type: choice, label: Vehicle, options: [car, {value: van, label: Van or minibus}, truck]}
      - {id: damage, type: multichoice, label: Damage, options: [glass, engine, body, lights]}
      - {id: injured, type: boolean, label: Injured}
      - {id: agree, type: consent, label: Agree}
"#;

fn process() -> Process {
    parse(FORM).unwrap_or_else(|e| panic!("{e}"))
}

fn field<'p>(p: &'p Process, id: &str) -> &'p Field {
    p.field(id).unwrap_or_else(|| panic!("no field {id}"))
}

fn convert(id: &str, values: &[&str]) -> Result<Option<Value>, String> {
    field(&process(), id).answer_from_form(values)
}

#[test]
fn text_is_kept_as_typed_and_blank_is_no_answer() {
    for id in ["name", "story", "email", "phone"] {
        assert_eq!(convert(id, &[]), Ok(None));
        assert_eq!(convert(id, &[""]), Ok(None));
        assert_eq!(convert(id, &["  \t"]), Ok(None));
        assert_eq!(convert(id, &[" Ada "]), Ok(Some(json!(" Ada "))));
        assert_eq!(convert(id, &["a", "a"]), Ok(Some(json!("a"))));
        assert_eq!(
            convert(id, &["a", "b"]),
            Err("Give only one answer".to_owned())
        );
    }
    assert_eq!(
        convert("story", &["one\r\ntwo\n"]),
        Ok(Some(json!("one\ntwo\n")))
    );
    assert_eq!(
        convert("name", &["one\r\ntwo"]),
        Ok(Some(json!("one\r\ntwo")))
    );
}

#[test]
fn numbers_are_read_as_a_number_input_sends_them() {
    assert_eq!(convert("amount", &["12"]), Ok(Some(json!(12))));
    assert_eq!(convert("amount", &["12.5"]), Ok(Some(json!(12.5))));
    assert_eq!(convert("amount", &["1e3"]), Ok(Some(json!(1000))));
    assert_eq!(convert("amount", &[" -7 "]), Ok(Some(json!(-7))));
    assert_eq!(convert("amount", &["  "]), Ok(None));
    // A decimal comma is a decimal point; thousands separators are refused (form.rs).
    assert_eq!(convert("amount", &["12,5"]), Ok(Some(json!(12.5))));
    assert!(convert("amount", &["1 000"]).is_err());
    for bad in ["twelve", "NaN", "inf", "0x1F"] {
        assert_eq!(
            convert("amount", &[bad]),
            Err("Enter a number, for example 12 or 12.5".to_owned()),
            "{bad}"
        );
    }
}

#[test]
fn dates_are_checked() {
    assert_eq!(
        convert("day", &["2025-03-17"]),
        Ok(Some(json!("2025-03-17")))
    );
    assert_eq!(convert("day", &[""]), Ok(None));
    for bad in ["2025-02-30", "17.03.2025", "2025-3-17"] {
        assert_eq!(
            convert("day", &[bad]),
            Err("Enter a real date as YYYY-MM-DD, for example 2025-03-17".to_owned())
        );
    }
}

#[test]
fn choices_must_be_options() {
    assert_eq!(convert("vehicle", &["van"]), Ok(Some(json!("van"))));
    assert_eq!(convert("vehicle", &[]), Ok(None));
    assert_eq!(convert("vehicle", &[""]), Ok(None));
    assert_eq!(
        convert("vehicle", &["Van or minibus"]),
        Err("Choose one of the options".to_owned())
    );
    assert_eq!(
        convert("damage", &["lights", "glass", "lights"]),
        Ok(Some(json!(["glass", "lights"])))
    );
    assert_eq!(convert("damage", &[]), Ok(None));
    assert_eq!(convert("damage", &[""]), Ok(None));
    assert_eq!(
        convert("damage", &["glass", "wheels"]),
        Err("Choose from the options given".to_owned())
    );
}

#[test]
fn booleans_and_consent() {
    assert_eq!(convert("injured", &["yes"]), Ok(Some(json!(true))));
    assert_eq!(convert("injured", &["no"]), Ok(Some(json!(false))));
    assert_eq!(convert("injured", &[]), Ok(None));
    assert_eq!(
        convert("injured", &["maybe"]),
        Err("Answer yes or no".to_owned())
    );
    assert_eq!(convert("agree", &["yes"]), Ok(Some(json!(true))));
    assert_eq!(convert("agree", &["on"]), Ok(Some(json!(true))));
    assert_eq!(convert("agree", &[]), Ok(None));
    assert_eq!(
        convert("agree", &["no"]),
        Err("Tick the box, or leave it unticked".to_owned())
    );
}

#[test]
fn answers_go_back_into_the_form() {
    let p = process();
    let values = |id: &str, answer: Option<Value>| field(&p, id).form_values(answer.as_ref());
    assert_eq!(values("name", None), Vec::<String>::new());
    assert_eq!(values("name", Some(json!(null))), Vec::<String>::new());
    assert_eq!(values("name", Some(json!(" Ada "))), [" Ada "]);
    assert_eq!(values("amount", Some(json!(12.5))), ["12.5"]);
    assert_eq!(values("amount", Some(json!(1000.0))), ["1000"]);
    assert_eq!(values("amount", Some(json!(-3))), ["-3"]);
    assert_eq!(values("day", Some(json!("2025-03-17"))), ["2025-03-17"]);
    assert_eq!(values("vehicle", Some(json!("van"))), ["van"]);
    assert_eq!(
        values("damage", Some(json!(["glass", "body"]))),
        ["glass", "body"]
    );
    assert_eq!(values("injured", Some(json!(true))), ["yes"]);
    assert_eq!(values("injured", Some(json!(false))), ["no"]);
    assert_eq!(values("agree", Some(json!(true))), ["yes"]);
    assert_eq!(values("agree", Some(json!(false))), Vec::<String>::new());
    // A value of the wrong type (never stored after check_values) still shows what it can.
    assert_eq!(values("amount", Some(json!("12"))), ["12"]);
    assert_eq!(
        values("injured", Some(json!({"a": 1}))),
        Vec::<String>::new()
    );
}

/// A valid answer of each field of FORM, as the answer checks accept it.
fn valid_answer() -> impl Strategy<Value = (&'static str, Value)> {
    let text = "\\PC*".prop_filter("not blank", |s: &String| !s.trim().is_empty());
    let lines = "[^\r]*".prop_filter("not blank", |s: &String| !s.trim().is_empty());
    let number = prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(|i| json!(i)),
        (-1_000_000i64..1_000_000, 0u32..6)
            .prop_map(|(i, places)| json!(i as f64 / 10f64.powi(places as i32))),
    ];
    let date = (1000i16..=9999, 1i8..=12, 1i8..=28)
        .prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}")));
    let vehicle = prop::sample::select(vec!["car", "van", "truck"]).prop_map(|v| json!(v));
    let damage = prop::sample::subsequence(vec!["glass", "engine", "body", "lights"], 1..=4)
        .prop_map(|v| json!(v));
    prop_oneof![
        text.clone().prop_map(|s| ("name", json!(s))),
        lines.prop_map(|s| ("story", json!(s))),
        text.clone().prop_map(|s| ("email", json!(s))),
        text.prop_map(|s| ("phone", json!(s))),
        number.prop_map(|n| ("amount", n)),
        date.prop_map(|d| ("day", d)),
        vehicle.prop_map(|v| ("vehicle", v)),
        damage.prop_map(|v| ("damage", v)),
        any::<bool>().prop_map(|b| ("injured", json!(b))),
        Just(("agree", json!(true))),
    ]
}

/// Numbers compare by value (the form may turn 1000.0 into 1000).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

proptest! {
    #[test]
    fn form_values_then_answer_from_form_gives_the_answer_back((id, answer) in valid_answer()) {
        let p = process();
        let f = field(&p, id);
        let mut check = holdfast_definition::Answers::new();
        check.insert(id.to_owned(), answer.clone());
        prop_assert!(p.check_values(&check).is_ok() || matches!(id, "name" | "story" | "email" | "phone"));
        let values = f.form_values(Some(&answer));
        let posted: Vec<&str> = values.iter().map(String::as_str).collect();
        let back = f.answer_from_form(&posted);
        prop_assert!(
            matches!(&back, Ok(Some(v)) if same(v, &answer)),
            "{} = {} → {:?} → {:?}", id, answer, values, back
        );
    }

    #[test]
    fn answer_from_form_never_panics_and_its_answers_pass_the_save_check(
        index in 0usize..10,
        values in prop::collection::vec("\\PC{0,12}|yes|no|car|glass|12.5|2025-01-31", 0..4),
    ) {
        let p = process();
        let f = p.fields().nth(index).expect("ten fields");
        let posted: Vec<&str> = values.iter().map(String::as_str).collect();
        if let Ok(Some(answer)) = f.answer_from_form(&posted) {
            let mut answers = holdfast_definition::Answers::new();
            answers.insert(f.id.clone(), answer.clone());
            // Text may be too long for the field, which the save check refuses; nothing else.
            let long = answer.as_str().is_some_and(|s| s.chars().count() > 40);
            prop_assert!(long || p.check_values(&answers).is_ok(), "{} = {}", f.id, answer);
            let again = f.form_values(Some(&answer));
            let again: Vec<&str> = again.iter().map(String::as_str).collect();
            prop_assert!(matches!(f.answer_from_form(&again), Ok(Some(v)) if same(&v, &answer)));
        }
    }
}
