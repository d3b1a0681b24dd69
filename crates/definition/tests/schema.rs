//! The JSON Schema of the format is valid JSON, agrees with the parser about the format's keys
//! and types, and accepts the example. A small validator (the keywords the schema uses) stands
//! in for a schema crate.

use holdfast_definition::{FORMAT_JSON_SCHEMA, to_json};
use serde_json::{Value, json};

fn schema() -> Value {
    serde_json::from_str(FORMAT_JSON_SCHEMA).expect("the schema is valid JSON")
}

/// Problems of `value` against `schema` (a subset of draft 2020-12, enough for our schema).
fn validate(root: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        if schema == &json!(false) {
            out.push(format!("{path}: not allowed"));
        }
        return;
    };
    let mut out_here = Vec::new();
    macro_rules! fail {
        ($($arg:tt)*) => { out_here.push(format!("{path}: {}", format!($($arg)*))) };
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").expect("local reference");
        let target = &root["$defs"][name];
        assert!(!target.is_null(), "unknown reference {reference}");
        validate(root, target, value, path, out);
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type"),
        };
        let fits = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
            "null" => value.is_null(),
            other => panic!("unknown type {other}"),
        });
        if !fits {
            fail!("expected {types:?}, got {value}");
            out.extend(out_here);
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        fail!("{value} not in {options:?}");
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        fail!("{value} is not {constant}");
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && length < min
        {
            fail!("shorter than {min}");
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && length > max
        {
            fail!("longer than {max}");
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && !regex::Regex::new(pattern)
                .expect("pattern compiles")
                .is_match(text)
        {
            fail!("{text:?} does not match {pattern}");
        }
    }
    if let Some(n) = value.as_f64()
        && let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && n < min
    {
        fail!("{n} below {min}");
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            fail!("fewer than {min} items");
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && (items.len() as u64) > max
        {
            fail!("more than {max} items");
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(
                    root,
                    item_schema,
                    item,
                    &format!("{path}[{i}]"),
                    &mut out_here,
                );
            }
        }
    }
    if let Some(object) = value.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = key.as_str().expect("required key names");
            if !object.contains_key(key) {
                fail!("missing {key}");
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, item) in object {
            let item_path = format!("{path}.{key}");
            match properties.and_then(|p| p.get(key)) {
                Some(property) => validate(root, property, item, &item_path, &mut out_here),
                None => {
                    if let Some(additional) = schema.get("additionalProperties") {
                        validate(root, additional, item, &item_path, &mut out_here);
                    }
                }
            }
            if let Some(names) = schema.get("propertyNames") {
                validate(root, names, &json!(key), &item_path, &mut out_here);
            }
        }
    }
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(condition) = sub.get("if") {
            let mut probe = Vec::new();
            validate(root, condition, value, path, &mut probe);
            if probe.is_empty()
                && let Some(then) = sub.get("then")
            {
                validate(root, then, value, path, &mut out_here);
            }
        } else {
            validate(root, sub, value, path, &mut out_here);
        }
    }
    let passing = |subs: &Vec<Value>| {
        subs.iter()
            .filter(|sub| {
                let mut probe = Vec::new();
                validate(root, sub, value, path, &mut probe);
                probe.is_empty()
            })
            .count()
    };
    if let Some(subs) = schema.get("anyOf").and_then(Value::as_array)
        && passing(subs) == 0
    {
        out_here.push(format!("{path}: matches none of anyOf"));
    }
    if let Some(subs) = schema.get("oneOf").and_then(Value::as_array) {
        let n = passing(subs);
        if n != 1 {
            out_here.push(format!("{path}: matches {n} of oneOf"));
        }
    }
    out.extend(out_here);
}

fn problems(value: &Value) -> Vec<String> {
    let root = schema();
    let mut out = Vec::new();
    validate(&root, &root, value, "", &mut out);
    out
}

#[test]
fn the_schema_is_draft_2020_12_and_names_the_required_keys() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(s["required"], json!(["slug", "title", "steps"]));
    assert_eq!(
        s["$defs"]["step"]["required"],
        json!(["id", "title", "fields"])
    );
    assert_eq!(
        s["$defs"]["field"]["required"],
        json!(["id", "type", "label"])
    );
    assert_eq!(
        s["$defs"]["field"]["properties"]["type"]["enum"],
        json!([
            "text",
            "textarea",
            "email",
            "tel",
            "number",
            "date",
            "choice",
            "multichoice",
            "boolean",
            "consent"
        ])
    );
    assert_eq!(s["properties"]["steps"]["maxItems"], 50);
    assert_eq!(s["$defs"]["options"]["maxItems"], 200);
}

#[test]
fn the_example_satisfies_the_schema() {
    let example = to_json(include_str!("../../../examples/motor-claim.yaml")).expect("reads");
    assert_eq!(problems(&example), Vec::<String>::new());
}

#[test]
fn the_schema_refuses_what_the_parser_refuses() {
    let base = json!({
        "slug": "s",
        "title": "T",
        "steps": [{"id": "one", "title": "One", "fields": [
            {"id": "a", "type": "boolean", "label": "A"},
            {"id": "b", "type": "text", "label": "B", "visible_if": {"field": "a", "equals": true}}
        ]}]
    });
    assert_eq!(problems(&base), Vec::<String>::new());
    let with = |pointer: &str, value: Value| {
        let mut doc = base.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        match doc.pointer_mut(parent).expect("parent") {
            Value::Object(map) => {
                map.insert(key.to_owned(), value);
            }
            Value::Array(items) => items[key.parse::<usize>().expect("index")] = value,
            _ => panic!("cannot set {pointer}"),
        }
        doc
    };
    for bad in [
        with("/slug", json!("Not A Slug")),
        with("/title", json!("")),
        with("/steps", json!([])),
        with("/steps/0/fields/0/type", json!("txt")),
        with("/steps/0/fields/0/required", json!("yes")),
        with(
            "/steps/0/fields/0",
            json!({"id": "a", "type": "boolean", "label": "A", "requird": true}),
        ),
        with(
            "/steps/0/fields/0",
            json!({"id": "a", "type": "number", "label": "A", "pattern": "x"}),
        ),
        with(
            "/steps/0/fields/0",
            json!({"id": "a", "type": "choice", "label": "A"}),
        ),
        with(
            "/steps/0/fields/0",
            json!({"id": "a", "type": "date", "label": "A", "max": "tomorrow"}),
        ),
        with("/steps/0/fields/1/visible_if", json!({"field": "a"})),
        with(
            "/steps/0/fields/1/visible_if",
            json!({"field": "a", "equals": true, "in": [true]}),
        ),
        with("/steps/0/fields/1/visible_if", json!({"all": []})),
        with(
            "/steps/0/fields/1/visible_if",
            json!({"all": [{"field": "a", "answered": true}], "any": [{"field": "a", "answered": true}]}),
        ),
    ] {
        assert!(!problems(&bad).is_empty(), "accepted: {bad}");
        assert!(
            holdfast_definition::parse(&bad.to_string()).is_err(),
            "parser accepted: {bad}"
        );
    }
}
