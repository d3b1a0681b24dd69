//! Whatever it is given, the crate answers (a process or problems) and never panics.

use holdfast_definition::{Answers, parse};
use jiff::civil::date;
use proptest::prelude::*;
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../examples/motor-claim.yaml");

/// A small edit of a document.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Indent { line: usize, by: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let yamlish = "[-:{}\\[\\],&*!|>'\"#?%@` \na-z0-9_.]{1,8}";
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), yamlish).prop_map(|(at, text)| Edit::Insert { at, text }),
        any::<usize>().prop_map(|line| Edit::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
        (any::<usize>(), 1usize..4).prop_map(|(line, by)| Edit::Indent { line, by }),
    ]
}

fn apply(source: &str, edit: &Edit) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
    match edit {
        Edit::Delete { at, len } => {
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert { at, text } => {
            let at = at % (chars.len() + 1);
            chars[..at].iter().collect::<String>() + text + &chars[at..].iter().collect::<String>()
        }
        Edit::DuplicateLine { line } => {
            let line = line % lines.len();
            let copy = lines[line].clone();
            lines.insert(line, copy);
            lines.join("\n")
        }
        Edit::SwapLines { a, b } => {
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            lines.join("\n")
        }
        Edit::Indent { line, by } => {
            let line = line % lines.len();
            lines[line] = format!("{}{}", " ".repeat(*by), lines[line]);
            lines.join("\n")
        }
    }
}

/// Parses and checks the answer to the one promise: a process, or a non-empty list of problems
/// each with a position (except the few about the whole document).
fn parse_answers(source: &str) -> Result<(), TestCaseError> {
    match parse(source) {
        Ok(process) => prop_assert!(!process.steps.is_empty()),
        Err(errors) => {
            prop_assert!(!errors.0.is_empty());
            for error in &errors.0 {
                prop_assert!(!error.message.is_empty());
                prop_assert!(error.line.is_some() || error.path.is_empty(), "{}", error);
            }
        }
    }
    Ok(())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}|car|van|yes|2025-01-31|AB123456".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_any_text(source in "\\PC{0,300}") {
        parse_answers(&source)?;
    }

    #[test]
    fn parse_never_panics_on_yaml_like_text(source in "[-:{}\\[\\],&*!|>'\"#?%@` \n\ta-z0-9_.]{0,300}") {
        parse_answers(&source)?;
    }

    #[test]
    fn parse_never_panics_on_small_edits_of_the_example(edits in prop::collection::vec(edit(), 1..4)) {
        let mut source = EXAMPLE.to_owned();
        for e in &edits {
            source = apply(&source, e);
        }
        parse_answers(&source)?;
    }

    #[test]
    fn answer_checks_never_panic_on_any_answers(
        entries in prop::collection::vec((
            prop::sample::select(vec![
                "full_name", "email", "phone", "policy_number", "incident_date", "vehicle",
                "injured", "injury_details", "damage", "estimate", "account_holder", "agree", "other",
            ]),
            json_value(),
        ), 0..12),
    ) {
        let process = parse(EXAMPLE).expect("the example parses");
        let answers: Answers = entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let today = date(2025, 6, 15);
        let saved = process.check_values(&answers);
        let all = process.validate_all(&answers, today);
        let submitted = process.submission_answers(&answers);
        for field in process.fields() {
            let _ = process.is_visible(field, &answers);
            let _ = field.form_values(answers.get(&field.id));
        }
        // What the save check and the complete check accept is submitted as it is.
        if saved.is_ok() && all.is_empty() {
            prop_assert!(process.check_values(&submitted).is_ok());
            prop_assert!(process.validate_all(&submitted, today).is_empty());
        }
    }
}

#[test]
fn the_largest_valid_document_parses_and_evaluates() {
    let options: Vec<String> = (0..200).map(|i| format!("o{i}")).collect();
    let options = options.join(", ");
    let mut source = String::from("slug: big\ntitle: Big\nsteps:\n");
    for s in 0..50 {
        source.push_str(&format!("  - id: s{s}\n    title: Step {s}\n    fields:\n"));
        for f in 0..10 {
            let condition = if f > 0 {
                format!(", visible_if: {{field: f{s}_{}, in: [o1, o2]}}", f - 1)
            } else {
                String::new()
            };
            source.push_str(&format!(
                "      - {{id: f{s}_{f}, type: choice, label: F, options: [{options}]{condition}}}\n"
            ));
        }
    }
    assert!(
        source.len() < holdfast_definition::MAX_DOCUMENT_BYTES,
        "{}",
        source.len()
    );
    let process = parse(&source).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(process.fields().count(), 500);
    // A chain of 500 conditions is still cheap to evaluate.
    let answers: Answers = process
        .fields()
        .map(|f| (f.id.clone(), Value::String("o1".into())))
        .collect();
    assert_eq!(process.submission_answers(&answers).len(), 500);
    assert!(process.validate_all(&answers, date(2025, 1, 1)).is_empty());
}
