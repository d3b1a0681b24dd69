//! What the runtime pages and the session API have in common: finding a published process,
//! finding a session by its token, and submitting.
//!
//! Both front doors (HTML forms and JSON) go through these functions, so a session behaves the
//! same whichever way it is filled.

use std::sync::Arc;

use holdfast_definition::Process;
use holdfast_store::{NewSubmission, Org, ProcessVersion, Session, SubmitOutcome, TokenHash};

use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::tokens;

/// The organisation, the newest version and the parsed definition of a published process.
/// Unknown organisations and processes are both "not found", with no hint of which.
pub async fn resolve_process(
    state: &AppState,
    org: &str,
    process: &str,
) -> Result<(Org, ProcessVersion, Arc<Process>), AppError> {
    let not_found = || AppError::NotFound(format!("there is no process {process:?} here"));
    let org = state.store.org(org).await?.ok_or_else(not_found)?;
    let version = state
        .store
        .latest_version(org.id, process)
        .await?
        .ok_or_else(not_found)?;
    let definition = state.definition(&version)?;
    Ok((org, version, definition))
}

/// A session with the version it is on and that version's definition.
pub struct LoadedSession {
    /// The session as stored.
    pub session: Session,
    /// Its process version.
    pub version: ProcessVersion,
    /// The parsed definition of that version.
    pub definition: Arc<Process>,
}

impl LoadedSession {
    /// The step the session is on, clamped to the definition's steps.
    pub fn current_step(&self) -> usize {
        let last = self.definition.steps.len().saturating_sub(1);
        usize::try_from(self.session.current_step)
            .unwrap_or(0)
            .min(last)
    }
}

/// Finds a session by its resume token. Anything that is not a live token is "not found".
pub async fn load_session(state: &AppState, token: &str) -> Result<LoadedSession, AppError> {
    if !tokens::looks_valid(token) {
        return Err(no_session());
    }
    let hash = tokens::hash(token);
    let session = state
        .store
        .session_by_token(&hash)
        .await?
        .ok_or_else(no_session)?;
    state.remember_session_version(hash, session.version_id);
    let (version, definition) = state.session_definition(session.version_id).await?;
    Ok(LoadedSession {
        session,
        version,
        definition,
    })
}

/// What a change to a session is checked against, found without reading the session itself.
pub struct SessionTarget {
    /// The hash of the session's token, for the store.
    pub token: TokenHash,
    /// The parsed definition of the session's version.
    pub definition: Arc<Process>,
}

/// Finds what a change to the session with this token is checked against: its version's
/// definition. Autosaves come often; the version of a session this node has seen is known
/// without a read (a session never changes version), so the only database work of an
/// autosave is applying it. Anything that is not a live token is "not found"; the store
/// checks again that the session exists when it applies the change.
pub async fn change_target(state: &AppState, token: &str) -> Result<SessionTarget, AppError> {
    if !tokens::looks_valid(token) {
        return Err(no_session());
    }
    let hash = tokens::hash(token);
    let version = match state.session_version(&hash) {
        Some(version) => version,
        None => {
            let session = state
                .store
                .session_by_token(&hash)
                .await?
                .ok_or_else(no_session)?;
            state.remember_session_version(hash.clone(), session.version_id);
            session.version_id
        }
    };
    let definition = state.version_definition(version).await?;
    Ok(SessionTarget {
        token: hash,
        definition,
    })
}

/// The answer for a token that is not a live session's, whatever the reason.
fn no_session() -> AppError {
    AppError::NotFound("there is no session with this link".to_owned())
}

/// Why a session could not be submitted.
pub enum SubmitRefusal {
    /// Answers are missing or invalid; the problems, in step order, with the first step that
    /// has one.
    Incomplete {
        /// The first step with a problem.
        step: usize,
        /// Every problem.
        problems: Vec<Problem>,
    },
    /// Something else went wrong.
    Failed(AppError),
}

impl From<AppError> for SubmitRefusal {
    fn from(error: AppError) -> Self {
        SubmitRefusal::Failed(error)
    }
}

/// Validates every answer of a session and submits it. A session has at most one submission:
/// submitting again returns the first one.
pub async fn submit(
    state: &AppState,
    token: &str,
    loaded: &LoadedSession,
    idempotency_key: Option<String>,
) -> Result<SubmitOutcome, SubmitRefusal> {
    let definition = &loaded.definition;
    let answers = &loaded.session.answers;
    if loaded.session.submitted_at.is_none() {
        let errors = definition.validate_all(answers, state.clock.today());
        if let Some(first) = errors.first() {
            let step = definition.step_of_field(&first.field).unwrap_or(0);
            return Err(SubmitRefusal::Incomplete {
                step,
                problems: errors
                    .into_iter()
                    .map(|e| Problem {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            });
        }
    }
    let outcome = state
        .store
        .submit(
            &tokens::hash(token),
            NewSubmission {
                public_id: tokens::public_id(),
                idempotency_key,
                answers: definition.submission_answers(answers),
            },
            state.clock.now_millis(),
        )
        .await
        .map_err(AppError::from)?;
    if outcome.created {
        metrics::counter!("holdfast_submissions_total").increment(1);
    }
    Ok(outcome)
}
