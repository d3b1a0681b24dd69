//! From the document tree to a [`Process`], checking everything the format requires and
//! reporting every problem with its path and position.
//!
//! Three passes: the document, its steps and fields (`field`), then the conditions, which need
//! to know every field (`condition`), then cycles among conditions of one step. The process is
//! built only if no pass found a problem.

mod condition;
mod field;
mod reader;
pub(crate) mod suggest;

use std::collections::HashMap;

use crate::document::{self, Node};
use crate::error::{DefinitionError, DefinitionErrors};
use crate::model::{Process, Step};

pub use condition::MAX_CONDITION_DEPTH;
pub use field::MAX_OPTIONS;

use field::FieldDraft;
use reader::{Reader, index};

/// Most steps in a process.
pub const MAX_STEPS: usize = 50;
/// Most fields in one step.
pub const MAX_FIELDS_PER_STEP: usize = 100;
/// Most fields in a whole process.
pub const MAX_FIELDS: usize = 500;
/// Most problems reported for one document; the rest are summed up in one last line.
pub const MAX_REPORTED_ERRORS: usize = 1000;

const DOCUMENT_KEYS: [&str; 4] = ["slug", "title", "description", "steps"];
const STEP_KEYS: [&str; 3] = ["id", "title", "fields"];

/// Parses and checks a definition (YAML or JSON).
pub(crate) fn parse(source: &str) -> Result<Process, DefinitionErrors> {
    let loaded = document::load(source).map_err(DefinitionErrors::from)?;
    let mut reader = Reader {
        errors: loaded.problems,
    };
    let process = read_process(&mut reader, &loaded.root);
    match process {
        Some(process) if reader.errors.is_empty() => Ok(process),
        _ => Err(finish(reader.errors)),
    }
}

/// Orders the problems as they appear in the document and caps their number.
fn finish(mut errors: Vec<DefinitionError>) -> DefinitionErrors {
    errors.sort_by_key(|e| (e.line, e.column));
    if errors.len() > MAX_REPORTED_ERRORS {
        let more = errors.len() - MAX_REPORTED_ERRORS;
        errors.truncate(MAX_REPORTED_ERRORS);
        errors.push(DefinitionError {
            path: String::new(),
            message: format!("… and {more} more problems"),
            line: None,
            column: None,
        });
    }
    if errors.is_empty() {
        // Cannot happen (a part is missing only when a problem was recorded), but a rejection
        // must always say why.
        errors.push(DefinitionError {
            path: String::new(),
            message: "the definition is incomplete".to_owned(),
            line: None,
            column: None,
        });
    }
    DefinitionErrors(errors)
}

struct StepDraft<'n> {
    id: Option<String>,
    title: Option<String>,
    fields: Vec<FieldDraft<'n>>,
}

fn read_process(r: &mut Reader, root: &Node) -> Option<Process> {
    let map = r.mapping(root, "")?;
    r.check_keys(&map, &DOCUMENT_KEYS, &|_| None);

    let slug = r.required(&map, "slug").and_then(|node| {
        let path = map.path_of("slug");
        let slug = r.string(node, &path)?;
        if is_slug(slug) {
            Some(slug.to_owned())
        } else {
            r.error(
                &path,
                node.pos,
                format!(
                    "invalid slug {slug:?}: use 1 to 64 lowercase letters, digits and hyphens, \
                     starting with a letter or digit"
                ),
            );
            None
        }
    });
    let title = r
        .required(&map, "title")
        .and_then(|node| r.text(node, &map.path_of("title"), 1, 200));
    let description = match map.get("description") {
        Some(node) => r
            .text(node, &map.path_of("description"), 0, 2000)
            .map(reader::non_blank),
        None => Some(None),
    };

    let mut steps = Vec::new();
    if let Some(node) = r.required(&map, "steps") {
        let path = map.path_of("steps");
        if let Some(items) = r.list_of(node, &path, (1, MAX_STEPS), "step") {
            let mut step_ids: HashMap<String, String> = HashMap::new();
            for (i, item) in items.iter().enumerate() {
                steps.push(read_step(r, item, index(&path, i), i, &mut step_ids));
            }
            let total: usize = steps.iter().map(|s| s.fields.len()).sum();
            if total > MAX_FIELDS {
                r.error(
                    &path,
                    node.pos,
                    format!("has {total} fields in all; at most {MAX_FIELDS} are allowed"),
                );
            }
        }
    }

    let all_fields: Vec<&FieldDraft<'_>> = steps.iter().flat_map(|s| s.fields.iter()).collect();
    field::check_unique_ids(r, &all_fields);
    let conditions = condition::read_conditions(r, &all_fields);
    condition::check_cycles(r, &all_fields, &conditions);

    let mut conditions = conditions.into_iter();
    let mut built_steps = Vec::with_capacity(steps.len());
    for step in steps {
        let mut fields = Vec::with_capacity(step.fields.len());
        for draft in step.fields {
            let condition = conditions.next().flatten();
            fields.push(draft.build(condition));
        }
        built_steps.push(Step {
            id: step.id?,
            title: step.title?,
            fields: fields.into_iter().collect::<Option<Vec<_>>>()?,
        });
    }
    Some(Process {
        slug: slug?,
        title: title?,
        description: description?,
        steps: built_steps,
    })
}

fn read_step<'n>(
    r: &mut Reader,
    node: &'n Node,
    path: String,
    step: usize,
    step_ids: &mut HashMap<String, String>,
) -> StepDraft<'n> {
    let mut draft = StepDraft {
        id: None,
        title: None,
        fields: Vec::new(),
    };
    let Some(map) = r.mapping(node, &path) else {
        return draft;
    };
    r.check_keys(&map, &STEP_KEYS, &|_| None);
    draft.id = r.required(&map, "id").and_then(|node| {
        let path = map.path_of("id");
        let id = r.string(node, &path)?;
        if !is_step_id(id) {
            r.error(
                &path,
                node.pos,
                format!(
                    "invalid step id {id:?}: use 1 to 64 lowercase letters, digits, hyphens and \
                     underscores, starting with a letter"
                ),
            );
            return None;
        }
        if let Some(first) = step_ids.get(id) {
            r.error(
                &path,
                node.pos,
                format!("duplicate step id {id:?} (also used at {first})"),
            );
            return None;
        }
        step_ids.insert(id.to_owned(), map.path.clone());
        Some(id.to_owned())
    });
    draft.title = r
        .required(&map, "title")
        .and_then(|node| r.text(node, &map.path_of("title"), 1, 200));
    if let Some(node) = r.required(&map, "fields") {
        let path = map.path_of("fields");
        if let Some(items) = r.list_of(node, &path, (1, MAX_FIELDS_PER_STEP), "field") {
            for (i, item) in items.iter().enumerate() {
                draft
                    .fields
                    .push(field::read_field(r, item, index(&path, i), step));
            }
        }
    }
    draft
}

/// `^[a-z0-9][a-z0-9-]{0,63}$`
fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// `^[a-z][a-z0-9_-]{0,63}$`
fn is_step_id(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
}

/// `^[a-z][a-z0-9_]{0,63}$`
pub(crate) fn is_field_id(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

#[cfg(test)]
mod tests {
    use super::reader::join;
    use super::*;

    #[test]
    fn id_shapes() {
        assert!(is_slug("motor-claim") && is_slug("2024") && is_slug(&"a".repeat(64)));
        assert!(!is_slug("") && !is_slug("-a") && !is_slug("Motor") && !is_slug(&"a".repeat(65)));
        assert!(is_step_id("about-you") && is_step_id("a_b"));
        assert!(!is_step_id("1st") && !is_step_id("About"));
        assert!(is_field_id("full_name") && is_field_id("a1"));
        assert!(!is_field_id("full-name") && !is_field_id("_a") && !is_field_id(""));
    }

    #[test]
    fn join_builds_paths() {
        assert_eq!(join("", "slug"), "slug");
        assert_eq!(join("steps[0]", "id"), "steps[0].id");
    }
}
