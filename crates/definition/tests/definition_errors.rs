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

/// The only problem of a document.
fn only_problem(source: &str) -> String {
    let all = problems(source);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.into_iter().next().unwrap_or_default()
}

#[test]
fn the_fields_helper_is_valid_on_its_own() {
    parse(&with_fields("")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn missing_keys_are_reported_at_their_mapping() {
    assert_eq!(
        problems("title: T\n"),
        [
            "missing required key \"slug\" (line 1, column 1)",
            "missing required key \"steps\" (line 1, column 1)",
        ]
    );
    assert_eq!(
        only_problem(
            "slug: a\ntitle: T\nsteps:\n  - title: One\n    fields:\n      - {id: a, type: email, label: A}\n"
        ),
        "steps[0]: missing required key \"id\" (line 4, column 5)"
    );
    assert_eq!(
        problems(
            "slug: a\ntitle: T\nsteps:\n  - id: one\n    title: One\n    fields:\n      - {id: a}\n"
        ),
        [
            "steps[0].fields[0]: missing required key \"type\" (line 7, column 9)",
            "steps[0].fields[0]: missing required key \"label\" (line 7, column 9)",
        ]
    );
    assert_eq!(
        only_problem(&with_fields("      - {id: b, type: choice, label: B}\n")),
        "steps[0].fields[1]: missing required key \"options\" (line 10, column 9)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: multichoice, label: B}\n"
        )),
        "steps[0].fields[1]: missing required key \"options\" (line 10, column 9)"
    );
}

#[test]
fn the_document_must_be_a_mapping() {
    assert_eq!(
        only_problem("- a\n- b\n"),
        "expected a mapping (key: value pairs), found a list (line 1, column 1)"
    );
    assert_eq!(
        only_problem("just text"),
        "expected a mapping (key: value pairs), found a string (line 1, column 1)"
    );
}

#[test]
fn syntax_errors_are_one_problem_with_a_position() {
    let problem = only_problem("slug: a\ntitle: [T\nsteps: []\n");
    assert!(problem.starts_with("invalid YAML: "), "{problem}");
    assert!(problem.contains("(line "), "{problem}");
    let problem = only_problem("{\"slug\": \"a\",\n \"title\": \"T\"\n \"steps\": []}");
    assert!(problem.starts_with("invalid YAML: "), "{problem}");
    assert!(problem.ends_with("(line 3, column 2)"), "{problem}");
}

#[test]
fn duplicate_keys_are_problems() {
    assert_eq!(
        only_problem(&with_fields("        label: Again\n")),
        "steps[0].fields[0].label: duplicate key \"label\" (line 10, column 9)"
    );
}

#[test]
fn counts_are_limited() {
    assert_eq!(
        only_problem("slug: a\ntitle: T\nsteps: []\n"),
        "steps: needs at least one step (line 3, column 8)"
    );
    let step = |i: usize| {
        format!("  - id: s{i}\n    title: S\n    fields: [{{id: f{i}, type: boolean, label: F}}]\n")
    };
    let many: String = (0..51).map(step).collect();
    assert_eq!(
        only_problem(&format!("slug: a\ntitle: T\nsteps:\n{many}")),
        "steps: has 51 steps; at most 50 are allowed (line 4, column 3)"
    );
    assert_eq!(
        only_problem("slug: a\ntitle: T\nsteps:\n  - {id: one, title: One, fields: []}\n"),
        "steps[0].fields: needs at least one field (line 4, column 35)"
    );
    let fields = |step: usize, count: usize| -> String {
        (0..count)
            .map(|i| format!("      - {{id: f{step}_{i}, type: boolean, label: F}}\n"))
            .collect()
    };
    assert_eq!(
        only_problem(&format!(
            "slug: a\ntitle: T\nsteps:\n  - id: one\n    title: One\n    fields:\n{}",
            fields(0, 101)
        )),
        "steps[0].fields: has 101 fields; at most 100 are allowed (line 7, column 7)"
    );
    let steps: String = (0..6)
        .map(|s| format!("  - id: s{s}\n    title: S\n    fields:\n{}", fields(s, 90)))
        .collect();
    assert_eq!(
        only_problem(&format!("slug: a\ntitle: T\nsteps:\n{steps}")),
        "steps: has 540 fields in all; at most 500 are allowed (line 4, column 3)"
    );
    let options: Vec<String> = (0..201).map(|i| format!("o{i}")).collect();
    assert_eq!(
        only_problem(&with_fields(&format!(
            "      - {{id: b, type: choice, label: B, options: [{}]}}\n",
            options.join(", ")
        ))),
        "steps[0].fields[1].options: has 201 options; at most 200 are allowed (line 10, column 50)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: multichoice, label: B, options: []}\n"
        )),
        "steps[0].fields[1].options: needs at least one option (line 10, column 55)"
    );
}

#[test]
fn texts_have_length_limits() {
    let long = |n: usize| "x".repeat(n);
    assert_eq!(
        only_problem(&format!(
            "slug: a\ntitle: {}\nsteps: [{{id: one, title: One, fields: [{{id: a, type: email, label: A}}]}}]\n",
            long(201)
        )),
        "title: must be at most 200 characters (it has 201) (line 2, column 8)"
    );
    assert_eq!(
        only_problem(&format!(
            "slug: a\ntitle: T\ndescription: {}\nsteps: [{{id: one, title: One, fields: [{{id: a, type: email, label: A}}]}}]\n",
            long(2001)
        )),
        "description: must be at most 2000 characters (it has 2001) (line 3, column 14)"
    );
    parse(&format!("slug: a\ntitle: {}\ndescription: {}\nsteps: [{{id: one, title: One, fields: [{{id: a, type: email, label: A, help: {}}}]}}]\n", long(200), long(2000), long(1000)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        only_problem(&with_fields(&format!("        help: {}\n", long(1001)))),
        "steps[0].fields[0].help: must be at most 1000 characters (it has 1001) (line 10, column 15)"
    );
    assert_eq!(
        only_problem(&with_fields(&format!(
            "      - {{id: b, type: tel, label: {}}}\n",
            long(501)
        ))),
        "steps[0].fields[1].label: must be at most 500 characters (it has 501) (line 10, column 35)"
    );
    assert_eq!(
        only_problem(&with_fields("      - {id: b, type: tel, label: '  '}\n")),
        "steps[0].fields[1].label: must not be empty (line 10, column 35)"
    );
}

#[test]
fn ids_have_a_shape() {
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: Full-Name, type: tel, label: B}\n"
        )),
        "steps[0].fields[1].id: invalid field id \"Full-Name\": use 1 to 64 lowercase letters, digits and underscores, starting with a letter (line 10, column 14)"
    );
    assert_eq!(
        only_problem(
            "slug: a\ntitle: T\nsteps: [{id: 12, title: One, fields: [{id: a, type: email, label: A}]}]\n"
        ),
        "steps[0].id: expected a string, found a number (line 3, column 14)"
    );
    assert_eq!(
        only_problem(
            "slug: a\ntitle: T\nsteps: [{id: One, title: One, fields: [{id: a, type: email, label: A}]}]\n"
        ),
        "steps[0].id: invalid step id \"One\": use 1 to 64 lowercase letters, digits, hyphens and underscores, starting with a letter (line 3, column 14)"
    );
}

#[test]
fn keys_of_other_types_are_refused() {
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: number, label: B, pattern: x}\n"
        )),
        "steps[0].fields[1].pattern: key \"pattern\" does not apply to number fields (which take min, max, integer); it belongs to text (line 10, column 41)"
    );
    assert_eq!(
        only_problem(&with_fields("        options: [a]\n")),
        "steps[0].fields[0].options: key \"options\" does not apply to text fields (which take min_length, max_length, pattern, pattern_message); it belongs to choice and multichoice (line 10, column 9)"
    );
    assert_eq!(
        only_problem(&with_fields("        max_lenght: 3\n")),
        "steps[0].fields[0].max_lenght: unknown key \"max_lenght\"; did you mean \"max_length\"? (line 10, column 9)"
    );
}

#[test]
fn key_values_have_types() {
    assert_eq!(
        only_problem(&with_fields("        max_length: many\n")),
        "steps[0].fields[0].max_length: expected a whole number of 1 or more, found a string (line 10, column 21)"
    );
    assert_eq!(
        only_problem(&with_fields("        min_length: -1\n")),
        "steps[0].fields[0].min_length: expected a whole number of 0 or more, found a number (line 10, column 21)"
    );
    assert_eq!(
        problems(&with_fields(
            "      - {id: b, type: number, label: B, min: low, integer: 1}\n"
        )),
        [
            "steps[0].fields[1].min: expected a number, found a string (line 10, column 46)",
            "steps[0].fields[1].integer: expected true or false, found a number (line 10, column 60)",
        ]
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: choice, label: B, options: [a], display: 3}\n"
        )),
        "steps[0].fields[1].display: expected a string, found a number (line 10, column 64)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: choice, label: B, options: [a, [b]]}\n"
        )),
        "steps[0].fields[1].options[1]: expected an option (a string, or value and label), found a list (line 10, column 54)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: choice, label: B, options: [{value: a, lable: A}]}\n"
        )),
        "steps[0].fields[1].options[0].lable: unknown key \"lable\"; did you mean \"label\"? (line 10, column 62)"
    );
}

#[test]
fn limits_must_be_consistent() {
    assert_eq!(
        only_problem(&with_fields(
            "        min_length: 5\n        max_length: 4\n"
        )),
        "steps[0].fields[0].min_length: min_length (5) is greater than max_length (4) (line 10, column 21)"
    );
    assert_eq!(
        only_problem(&with_fields("        min_length: 1001\n")),
        "steps[0].fields[0].min_length: min_length (1001) is greater than max_length (1000, the default) (line 10, column 21)"
    );
    assert_eq!(
        only_problem(&with_fields("        max_length: 0\n")),
        "steps[0].fields[0].max_length: expected a whole number of 1 or more, found a number (line 10, column 21)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: date, label: B, min: 2025-01-02, max: 2025-01-01}\n"
        )),
        "steps[0].fields[1].min: min is greater than max (line 10, column 44)"
    );
    parse(&with_fields(
        "      - {id: b, type: date, label: B, min: 2025-01-02, max: today}\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: multichoice, label: B, options: [a, b, c], min_selected: 3, max_selected: 2}\n"
        )),
        "steps[0].fields[1].min_selected: min_selected is greater than max_selected (line 10, column 80)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: multichoice, label: B, options: [a, b], min_selected: 3}\n"
        )),
        "steps[0].fields[1].min_selected: min_selected (3) is more than the number of options (2) (line 10, column 77)"
    );
    assert_eq!(
        only_problem(&with_fields(
            "      - {id: b, type: date, label: B, min: yesterday}\n"
        )),
        "steps[0].fields[1].min: invalid date \"yesterday\"; write a date as YYYY-MM-DD, or today (line 10, column 44)"
    );
}

#[test]
fn patterns_must_compile() {
    let problem = only_problem(&with_fields("        pattern: '([A-Z]'\n"));
    assert!(
        problem.starts_with("steps[0].fields[0].pattern: invalid regular expression: "),
        "{problem}"
    );
    assert!(problem.ends_with("(line 10, column 18)"), "{problem}");
    let problem = only_problem(&with_fields("        pattern: '(\\w{100}){100}'\n"));
    assert!(problem.contains("too complex"), "{problem}");
}

#[test]
fn whole_number_options_are_text() {
    let process = parse(&with_fields("      - {id: b, type: choice, label: B, options: [1, 2, {value: 3, label: Three}]}\n      - {id: c, type: text, label: C, visible_if: {field: b, equals: 2}}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let options = process
        .field("b")
        .and_then(|f| f.kind.options())
        .expect("options");
    let values: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(values, ["1", "2", "3"]);
    assert_eq!(options[2].label, "Three");
    assert_eq!(
        process.field("c").and_then(|f| f.visible_if.clone()),
        Some(holdfast_definition::Condition::Equals {
            field: "b".into(),
            value: serde_json::json!("2")
        })
    );
}

fn condition_problem(condition: &str) -> String {
    let all = condition_problems(condition);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.into_iter().next().unwrap_or_default()
}

/// The problems of a condition on a field that follows five fields of every comparable type.
fn condition_problems(condition: &str) -> Vec<String> {
    problems(&with_fields(&format!(
        "      - {{id: kind, type: choice, label: K, options: [car, van]}}\n      - {{id: flag, type: boolean, label: F}}\n      - {{id: amount, type: number, label: A}}\n      - {{id: day, type: date, label: D}}\n      - {{id: ok, type: consent, label: O}}\n      - id: shown\n        type: text\n        label: S\n        visible_if: {condition}\n"
    )))
}

#[test]
fn conditions_have_exactly_one_form() {
    let at = "steps[0].fields[6].visible_if";
    assert_eq!(
        condition_problem("{field: kind}"),
        format!(
            "{at}: a condition on a field needs one of equals, not_equals, in, answered (line 18, column 21)"
        )
    );
    assert_eq!(
        condition_problem("{field: kind, equals: car, in: [van]}"),
        format!(
            "{at}: a condition tests one thing; this one has both equals and in (line 18, column 21)"
        )
    );
    assert_eq!(
        condition_problem("{equals: car}"),
        format!("{at}: missing required key \"field\" (line 18, column 21)")
    );
    assert_eq!(
        condition_problem("{field: kind, equals: car, all: [{field: flag, equals: true}]}"),
        format!(
            "{at}: a condition is either a test of one field or one of all, any, not; this one has both field and all (line 18, column 21)"
        )
    );
    assert_eq!(
        condition_problem("{}"),
        format!(
            "{at}: a condition needs field (with equals, not_equals, in or answered), all, any or not (line 18, column 21)"
        )
    );
    assert_eq!(
        condition_problem(
            "{all: [{field: flag, equals: true}], any: [{field: flag, equals: true}]}"
        ),
        format!(
            "{at}: a condition has one form; this one has both all and any (put them in an all or any list) (line 18, column 21)"
        )
    );
    assert_eq!(
        condition_problem("{any: []}"),
        format!("{at}.any: needs at least one condition (line 18, column 27)")
    );
    assert_eq!(
        condition_problem("{field: kind, equals: car, when: now}"),
        format!("{at}.when: unknown key \"when\" (line 18, column 48)")
    );
    assert_eq!(
        condition_problems("{feild: kind, equals: car}"),
        [
            format!("{at}: missing required key \"field\" (line 18, column 21)"),
            format!(
                "{at}.feild: unknown key \"feild\"; did you mean \"field\"? (line 18, column 22)"
            ),
        ]
    );
    assert_eq!(
        condition_problem("[kind]"),
        format!("{at}: expected a mapping (key: value pairs), found a list (line 18, column 21)")
    );
}

#[test]
fn conditions_refer_to_earlier_fields_with_fitting_values() {
    let at = "steps[0].fields[6].visible_if";
    assert_eq!(
        condition_problem("{field: shown, answered: true}"),
        format!("{at}.field: field \"shown\" cannot depend on itself (line 18, column 29)")
    );
    assert_eq!(
        condition_problem("{field: flag, equals: \"yes\"}"),
        format!(
            "{at}.equals: field \"flag\" is a boolean field; compare it with true or false, not a string (line 18, column 43)"
        )
    );
    assert_eq!(
        condition_problem("{field: amount, not_equals: lots}"),
        format!(
            "{at}.not_equals: field \"amount\" is a number field; compare it with a number, not a string (line 18, column 49)"
        )
    );
    assert_eq!(
        condition_problem("{field: day, equals: 2025-02-30}"),
        format!(
            "{at}.equals: field \"day\" is a date field; compare it with a date written YYYY-MM-DD, not a string (line 18, column 42)"
        )
    );
    assert_eq!(
        condition_problem("{field: kind, in: [car, truck]}"),
        format!(
            "{at}.in[1]: \"truck\" is not an option of field \"kind\" (options: car, van) (line 18, column 45)"
        )
    );
    assert_eq!(
        condition_problem("{field: ok, equals: false}"),
        format!(
            "{at}.equals: field \"ok\" is a consent box, answered true when ticked; compare it with true, or test for unticked with answered: false (line 18, column 41)"
        )
    );
    assert_eq!(
        condition_problem("{field: kind, equals: ~}"),
        format!(
            "{at}.equals: expected a value to compare with; to test for no answer use answered: false (line 18, column 43)"
        )
    );
    assert_eq!(
        condition_problem("{field: kind, answered: yes}"),
        format!("{at}.answered: expected true or false, found a string (line 18, column 45)")
    );
    assert_eq!(
        condition_problem(
            "{not: {all: [{field: flag, equals: true}, {field: nothing, equals: true}]}}"
        ),
        format!("{at}.not.all[1].field: unknown field \"nothing\" (line 18, column 71)")
    );
}

#[test]
fn conditions_must_not_go_round_in_circles() {
    let source = with_fields(
        "      - {id: a, type: boolean, label: A, visible_if: {field: b, equals: true}}\n      - {id: b, type: boolean, label: B, visible_if: {any: [{field: first, answered: true}, {field: a, equals: true}]}}\n",
    );
    assert_eq!(
        only_problem(&source),
        "steps[0].fields[1].visible_if: these conditions depend on each other in a circle: a → b → a (line 10, column 54)"
    );
    // Referring to a later field of the same step is fine as long as there is no circle.
    parse(&with_fields(
        "      - {id: a, type: boolean, label: A, visible_if: {field: b, equals: true}}\n      - {id: b, type: boolean, label: B}\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn conditions_nest_at_most_sixteen_deep() {
    let nested = |depth: usize| {
        let mut condition = "{field: first, answered: true}".to_owned();
        for _ in 1..depth {
            condition = format!("{{not: {condition}}}");
        }
        condition
    };
    parse(&with_fields(&format!(
        "      - {{id: b, type: tel, label: B, visible_if: {}}}\n",
        nested(16)
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    let problem = only_problem(&with_fields(&format!(
        "      - {{id: b, type: tel, label: B, visible_if: {}}}\n",
        nested(17)
    )));
    assert!(
        problem.contains("conditions nest more than 16 levels deep"),
        "{problem}"
    );
}

#[test]
fn hostile_documents_fail_fast() {
    let deep = format!("slug: a\ntitle: T\nsteps: {}", "[".repeat(500_000));
    assert!(parse(&deep).is_err());
    let deep_block: String = (0..2000)
        .map(|i| format!("{}- \n", " ".repeat(i * 2)))
        .collect();
    assert!(parse(&deep_block).is_err());
    let mut bomb = String::from(
        "slug: a\ntitle: T\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        let refs = vec![format!("*x{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("x{i}: &x{i} [{refs}]\n"));
    }
    let errors = parse(&bomb).expect_err("alias bomb");
    assert_eq!(errors.0.len(), 1);
    assert!(errors.0[0].message.contains("too much"), "{errors}");
    let too_big = format!(
        "slug: a\ntitle: T\ndescription: {}\n",
        "x".repeat(1024 * 1024)
    );
    let errors = parse(&too_big).expect_err("too big");
    assert!(errors.0[0].message.contains("1 MiB"), "{errors}");
}

#[test]
fn problems_are_capped() {
    let keys: String = (0..1500).map(|i| format!("k{i}: 1\n")).collect();
    let errors = parse(&format!("slug: a\ntitle: T\nsteps: [{{id: one, title: One, fields: [{{id: a, type: email, label: A}}]}}]\n{keys}"))
        .expect_err("many unknown keys");
    assert_eq!(errors.0.len(), holdfast_definition::MAX_REPORTED_ERRORS + 1);
    assert_eq!(
        errors.0.last().map(|e| e.message.as_str()),
        Some("… and 500 more problems")
    );
}
