//! `/api/v1/…/sessions`: the JSON side of a session.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use holdfast_store::{Answers, Change, NewSession};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Problem};
use crate::json::Body;
use crate::sessions::{self, SubmitRefusal};
use crate::state::AppState;
use crate::{clock, json, tokens};

/// The longest client id and idempotency key accepted.
const MAX_KEY_LEN: usize = 200;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    answers: Answers,
}

#[derive(Serialize)]
pub(crate) struct Created {
    token: String,
    resume_url: String,
}

/// `POST /api/v1/orgs/{org}/processes/{process}/sessions`: opens a session, optionally
/// prefilled (as an agent sending a link would).
pub(crate) async fn create(
    State(state): State<AppState>,
    Path((org, process)): Path<(String, String)>,
    Body(body): Body,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (_, version, definition) = sessions::resolve_process(&state, &org, &process).await?;
    let body: CreateBody = json::parse(&body, Some(CreateBody::default()))?;
    check_answers(&definition, &body.answers)?;
    let answers = body
        .answers
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .collect();
    let token = tokens::generate();
    state
        .store
        .create_session(
            NewSession {
                token: tokens::hash(&token),
                version: version.id,
                answers,
            },
            state.clock.now_millis(),
        )
        .await?;
    metrics::counter!("holdfast_sessions_started_total").increment(1);
    let resume_url = format!("{}/s/{token}", state.public_url());
    Ok((StatusCode::CREATED, Json(Created { token, resume_url })))
}

fn check_answers(
    definition: &holdfast_definition::Process,
    answers: &Answers,
) -> Result<(), AppError> {
    definition.check_values(answers).map_err(|errors| {
        let problems: Vec<Problem> = errors
            .into_iter()
            .map(|e| Problem {
                field: e.field,
                message: e.message,
            })
            .collect();
        let message = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Unprocessable { message, problems }
    })
}

/// What the server holds of a session.
#[derive(Serialize)]
pub struct SessionView {
    process: String,
    version: i64,
    answers: Answers,
    revision: i64,
    current_step: i64,
    step_id: String,
    submitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    submission_id: Option<String>,
    updated_at: String,
}

fn view(loaded: &sessions::LoadedSession) -> SessionView {
    let step = loaded.current_step();
    SessionView {
        process: loaded.version.process_slug.clone(),
        version: loaded.version.number,
        answers: loaded.session.answers.clone(),
        revision: loaded.session.revision,
        current_step: i64::try_from(step).unwrap_or(0),
        step_id: loaded
            .definition
            .steps
            .get(step)
            .map(|s| s.id.clone())
            .unwrap_or_default(),
        submitted: loaded.session.submitted_at.is_some(),
        submission_id: loaded.session.submission_id.clone(),
        updated_at: clock::rfc3339(loaded.session.updated_at),
    }
}

/// `GET /api/v1/sessions/{token}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SessionView>, AppError> {
    let loaded = sessions::load_session(&state, &token).await?;
    Ok(Json(view(&loaded)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AutosaveBody {
    client: String,
    seq: i64,
    #[serde(default)]
    base: Option<i64>,
    #[serde(default)]
    answers: Answers,
    #[serde(default)]
    step: Option<i64>,
}

#[derive(Serialize)]
pub(crate) struct Acknowledged {
    revision: i64,
    acked_seq: i64,
    duplicate: bool,
    answers: Answers,
    conflicts: Vec<Conflict>,
}

/// An answer of the batch that the session does not hold, because someone else changed it
/// after the batch's base (the merge rule, `holdfast_store::merge`): the person chooses.
#[derive(Serialize)]
pub(crate) struct Conflict {
    field: String,
    /// The value the batch set (null: removed).
    yours: serde_json::Value,
    /// The value the session holds (null: none).
    theirs: serde_json::Value,
}

/// `PATCH /api/v1/sessions/{token}`: applies one numbered change batch of one client and
/// answers only once it is durably committed.
pub(crate) async fn autosave(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Body(body): Body,
) -> Result<Json<Acknowledged>, AppError> {
    let target = sessions::change_target(&state, &token).await?;
    let body: AutosaveBody = json::parse(&body, None)?;
    if body.client.is_empty() || body.client.len() > MAX_KEY_LEN {
        return Err(AppError::invalid_field(
            "client",
            format!("must be 1 to {MAX_KEY_LEN} characters"),
        ));
    }
    if body.seq < 0 {
        return Err(AppError::invalid_field("seq", "must be zero or more"));
    }
    if body.base.is_some_and(|base| base < 0) {
        return Err(AppError::invalid_field(
            "base",
            "must be a revision of the session (zero or more)",
        ));
    }
    let steps = i64::try_from(target.definition.steps.len()).unwrap_or(i64::MAX);
    if let Some(step) = body.step
        && !(0..steps).contains(&step)
    {
        return Err(AppError::invalid_field(
            "step",
            format!("must be between 0 and {}", steps - 1),
        ));
    }
    check_answers(&target.definition, &body.answers)?;
    let outcome = state
        .store
        .apply_change(
            &target.token,
            Change {
                client: Some(body.client),
                seq: Some(body.seq),
                base: body.base,
                answers: body.answers.clone(),
                current_step: body.step,
            },
            state.clock.now_millis(),
        )
        .await?;
    if !outcome.duplicate {
        metrics::counter!("holdfast_changes_total").increment(1);
    }
    if !outcome.conflicts.is_empty() {
        metrics::counter!("holdfast_change_conflicts_total").increment(1);
    }
    let conflicts = outcome
        .conflicts
        .into_iter()
        .map(|field| Conflict {
            yours: body.answers.get(&field).cloned().unwrap_or_default(),
            theirs: outcome
                .session
                .answers
                .get(&field)
                .cloned()
                .unwrap_or_default(),
            field,
        })
        .collect();
    Ok(Json(Acknowledged {
        revision: outcome.session.revision,
        acked_seq: body.seq,
        duplicate: outcome.duplicate,
        answers: outcome.session.answers,
        conflicts,
    }))
}

#[derive(Serialize)]
pub(crate) struct Submitted {
    id: String,
    submitted_at: String,
}

/// `POST /api/v1/sessions/{token}/submit`: validates everything and submits. A session is
/// submitted at most once; repeating the request answers with the same submission.
pub(crate) async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Submitted>), AppError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => match value.to_str() {
            Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => Some(key.to_owned()),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters"
                )));
            }
        },
    };
    let loaded = sessions::load_session(&state, &token).await?;
    match sessions::submit(&state, &token, &loaded, key).await {
        Ok(outcome) => Ok((
            StatusCode::CREATED,
            Json(Submitted {
                id: outcome.submission.id,
                submitted_at: clock::rfc3339(outcome.submission.submitted_at),
            }),
        )),
        Err(SubmitRefusal::Incomplete { problems, .. }) => Err(AppError::Unprocessable {
            message: "the session cannot be submitted: some answers are missing or invalid"
                .to_owned(),
            problems,
        }),
        Err(SubmitRefusal::Failed(error)) => Err(error),
    }
}
