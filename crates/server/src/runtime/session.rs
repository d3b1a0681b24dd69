//! A session's pages: the current step, what Back / Next / Submit do, and the confirmation.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use holdfast_store::{Answers, Change};
use serde_json::Value;

use super::form::PostedForm;
use crate::error::{AppError, PageError, Problem};
use crate::json::Body;
use crate::pages::{self, FieldView, StepPage, SummaryItem};
use crate::sessions::{self, LoadedSession, SubmitRefusal};
use crate::state::AppState;

/// The client name recorded in the change log for plain HTML form posts.
const FORM_CLIENT: &str = "form";

/// The longest idempotency key accepted from a form (as the API accepts in its header).
const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// `GET /s/{token}`: the step the person is on, with everything they entered; or the
/// confirmation if the session was submitted.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let loaded = sessions::load_session(&state, &token).await?;
    if let Some(reference) = &loaded.session.submission_id {
        let page = pages::done_page(&loaded.definition.title, reference, &token);
        return Ok(Html(page).into_response());
    }
    let step = loaded.current_step();
    let page = step_page(&state, &token, &loaded, step, &HashMap::new(), &[]);
    Ok(Html(pages::step_page(&page)).into_response())
}

/// What a form post asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Back,
    Next,
    Submit,
}

/// `POST /s/{token}`: saves the posted step's answers, then moves back, forward, or submits.
pub(crate) async fn post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Body(body): Body,
) -> Result<Response, PageError> {
    let mut loaded = sessions::load_session(&state, &token).await?;
    let here = Redirect::to(&format!("/s/{token}"));
    if loaded.session.submitted_at.is_some() {
        // A repeated Submit (double click, back button, replay) lands on the confirmation.
        return Ok(here.into_response());
    }
    let form = PostedForm::parse(&body);
    let action = match form.first("_action") {
        Some("back") => Action::Back,
        Some("submit") => Action::Submit,
        Some("next") | None => Action::Next,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "unknown action {other:?}: expected back, next or submit"
            ))
            .into());
        }
    };
    let steps = loaded.definition.steps.len();
    let step = form
        .first("_step")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|s| *s < steps)
        .unwrap_or_else(|| loaded.current_step());
    // The revision the page was drawn on (kept up to date by the page script): an answer
    // changed elsewhere since is not replaced by what this page shows (the merge rule).
    let base = form
        .first("_revision")
        .and_then(|r| r.parse::<i64>().ok())
        .filter(|r| *r >= 0);

    // Read the step's fields from the form. What cannot be read keeps its raw text so the
    // person can correct it; the stored answer stays as it was.
    let definition = loaded.definition.clone();
    let mut patch = Answers::new();
    let mut raw: HashMap<String, (Vec<String>, String)> = HashMap::new();
    for field in &definition.steps[step].fields {
        let values = form.values(&field.id);
        match field.answer_from_form(&values) {
            Ok(Some(value)) => {
                patch.insert(field.id.clone(), value);
            }
            Ok(None) => {
                if loaded.session.answers.contains_key(&field.id) {
                    patch.insert(field.id.clone(), Value::Null);
                }
            }
            Err(message) => {
                let values = values.iter().map(|v| (*v).to_owned()).collect();
                raw.insert(field.id.clone(), (values, message));
            }
        }
    }
    if let Err(errors) = definition.check_values(&patch) {
        for error in errors {
            if let Some(value) = patch.remove(&error.field) {
                let values = definition
                    .field(&error.field)
                    .map(|f| f.form_values(Some(&value)))
                    .unwrap_or_default();
                raw.insert(error.field, (values, error.message));
            }
        }
    }
    let mut merged = loaded.session.answers.clone();
    merge(&mut merged, &patch);
    // A field hidden by the new answers is not the person's problem.
    raw.retain(|id, _| {
        definition
            .field(id)
            .is_some_and(|f| definition.is_visible(f, &merged))
    });

    let mut problems: Vec<Problem> = raw
        .iter()
        .map(|(field, (_, message))| Problem {
            field: field.clone(),
            message: message.clone(),
        })
        .collect();
    if action != Action::Back {
        for error in definition.validate_step(step, &merged, state.clock.today()) {
            if !raw.contains_key(&error.field) {
                problems.push(Problem {
                    field: error.field,
                    message: error.message,
                });
            }
        }
    }
    let next_step = match action {
        Action::Back => step.saturating_sub(1),
        Action::Next if problems.is_empty() => (step + 1).min(steps - 1),
        _ => step,
    };
    let conflicts = save(&state, &token, &mut loaded, patch.clone(), base, next_step).await?;
    if !conflicts.is_empty() {
        // Someone changed these answers elsewhere after this page was drawn: stay on the
        // step, show the person's answers with the other value at each, and let them choose.
        if next_step != step {
            save(&state, &token, &mut loaded, Answers::new(), None, step).await?;
        }
        return Ok(conflict_step(
            &state, &token, &loaded, step, &patch, raw, &conflicts,
        ));
    }

    if !problems.is_empty() {
        return Ok(invalid_step(&state, &token, &loaded, step, &raw, &problems));
    }
    if action != Action::Submit {
        return Ok(here.into_response());
    }
    // The page carries a key of its own, so that a Submit posted twice (a retry, a double
    // click that got through) is recognised; one that is missing or odd is simply not used.
    let idempotency_key = form
        .first("_idempotency_key")
        .filter(|key| {
            !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY_LEN
                && key.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned);
    match sessions::submit(&state, &token, &loaded, idempotency_key).await {
        Ok(_) => Ok(here.into_response()),
        Err(SubmitRefusal::Incomplete { step, problems }) => {
            save(&state, &token, &mut loaded, Answers::new(), None, step).await?;
            let problems: Vec<Problem> = problems
                .into_iter()
                .filter(|p| definition.step_of_field(&p.field) == Some(step))
                .collect();
            Ok(invalid_step(
                &state,
                &token,
                &loaded,
                step,
                &HashMap::new(),
                &problems,
            ))
        }
        Err(SubmitRefusal::Failed(error)) => Err(error.into()),
    }
}

/// Stores the posted answers (made on revision `base`) and the step, unless nothing changed.
/// Returns the answers the merge rule did not apply because they were changed elsewhere after
/// `base`.
async fn save(
    state: &AppState,
    token: &str,
    loaded: &mut LoadedSession,
    answers: Answers,
    base: Option<i64>,
    step: usize,
) -> Result<Vec<String>, AppError> {
    let step = i64::try_from(step).unwrap_or(0);
    let unchanged = answers.iter().all(|(k, v)| {
        loaded.session.answers.get(k) == Some(v)
            || (v.is_null() && !loaded.session.answers.contains_key(k))
    });
    if unchanged && step == loaded.session.current_step {
        return Ok(Vec::new());
    }
    let outcome = state
        .store
        .apply_change(
            &crate::tokens::hash(token),
            Change {
                client: Some(FORM_CLIENT.to_owned()),
                seq: None,
                base,
                answers,
                current_step: Some(step),
            },
            state.clock.now_millis(),
        )
        .await?;
    metrics::counter!("holdfast_changes_total").increment(1);
    if !outcome.conflicts.is_empty() {
        metrics::counter!("holdfast_change_conflicts_total").increment(1);
    }
    loaded.session = outcome.session;
    Ok(outcome.conflicts)
}

fn merge(answers: &mut Answers, patch: &Answers) {
    for (key, value) in patch {
        if value.is_null() {
            answers.remove(key);
        } else {
            answers.insert(key.clone(), value.clone());
        }
    }
}

/// The step again after a post whose answers were changed elsewhere meanwhile (409): the
/// person's answers are shown, each with what the session now holds in its message, and the
/// page's revision is the current one, so that posting again keeps the person's answers (they
/// have now seen the other ones), or whatever they change them to.
fn conflict_step(
    state: &AppState,
    token: &str,
    loaded: &LoadedSession,
    step: usize,
    posted: &Answers,
    mut raw: HashMap<String, (Vec<String>, String)>,
    conflicts: &[String],
) -> Response {
    let definition = &loaded.definition;
    let mut problems = Vec::new();
    for id in conflicts {
        let Some(field) = definition.field(id) else {
            continue;
        };
        let theirs = loaded.session.answers.get(id);
        let message = format!(
            "This answer was changed in another window or on another device while this page \
             was open. It is now {}. Your answer is shown here: press the button again to keep \
             it, or change it.",
            shown(field, theirs)
        );
        let values = field.form_values(posted.get(id).filter(|v| !v.is_null()));
        raw.insert(id.clone(), (values, message.clone()));
        problems.push(Problem {
            field: id.clone(),
            message,
        });
    }
    let mut page = step_page(state, token, loaded, step, &raw, &problems);
    page.conflicts_json = serde_json::json!(conflicts).to_string();
    (StatusCode::CONFLICT, Html(pages::step_page(&page))).into_response()
}

/// An answer as a person reads it in a sentence: "“Leeds”", "empty".
fn shown(field: &holdfast_definition::Field, value: Option<&Value>) -> String {
    let values = field.form_values(value.filter(|v| !v.is_null()));
    let values: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        "empty".to_owned()
    } else {
        format!("“{}”", values.join(", "))
    }
}

fn invalid_step(
    state: &AppState,
    token: &str,
    loaded: &LoadedSession,
    step: usize,
    raw: &HashMap<String, (Vec<String>, String)>,
    problems: &[Problem],
) -> Response {
    let page = step_page(state, token, loaded, step, raw, problems);
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Html(pages::step_page(&page)),
    )
        .into_response()
}

/// Builds the page of `step`: stored answers, overridden by raw text that could not be read.
fn step_page(
    state: &AppState,
    token: &str,
    loaded: &LoadedSession,
    step: usize,
    raw: &HashMap<String, (Vec<String>, String)>,
    problems: &[Problem],
) -> StepPage {
    let definition = &loaded.definition;
    let answers = &loaded.session.answers;
    let current = &definition.steps[step];
    let fields = current
        .fields
        .iter()
        .map(|field| {
            let values = match raw.get(&field.id) {
                Some((values, _)) => values.clone(),
                None => field.form_values(answers.get(&field.id)),
            };
            let error = problems
                .iter()
                .find(|p| p.field == field.id)
                .map(|p| p.message.clone());
            let hidden = !definition.is_visible(field, answers) && error.is_none();
            FieldView::new(field, &values, error, hidden)
        })
        .collect();
    let summary = current
        .fields
        .iter()
        .filter_map(|field| {
            problems
                .iter()
                .find(|p| p.field == field.id)
                .map(|p| SummaryItem {
                    anchor: format!("field-{}", field.id),
                    label: field.label.clone(),
                    message: p.message.clone(),
                })
        })
        .collect();
    let action = format!("/s/{token}");
    StepPage {
        title: definition.title.clone(),
        step_title: current.title.clone(),
        step_index: step,
        step_number: step + 1,
        step_count: definition.steps.len(),
        is_last: step + 1 == definition.steps.len(),
        problems: summary,
        fields,
        resume_url: format!("{}{action}", state.public_url()),
        action,
        token: token.to_owned(),
        revision: loaded.session.revision,
        answers_json: serde_json::Value::Object(answers.clone()).to_string(),
        fields_json: pages::fields_json(definition),
        idempotency_key: crate::tokens::public_id(),
        conflicts_json: "[]".to_owned(),
        shown_json: serde_json::json!(raw.keys().collect::<Vec<_>>()).to_string(),
    }
}
