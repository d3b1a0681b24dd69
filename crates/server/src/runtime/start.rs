//! The start page of a process and the Start button that opens a session.

use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use holdfast_store::{Answers, NewSession};

use crate::error::{AppError, PageError};
use crate::sessions::resolve_process;
use crate::state::AppState;
use crate::{pages, tokens};

/// `GET /p/{org}/{process}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path((org, process)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let (_, _, definition) = resolve_process(&state, &org, &process).await?;
    let action = format!("/p/{org}/{process}");
    Ok(Html(pages::start_page(&definition, &action)))
}

/// `POST /p/{org}/{process}`: creates a session on the newest version and sends the person to
/// its resume link.
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Path((org, process)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let (_, version, _) = resolve_process(&state, &org, &process).await?;
    let token = tokens::generate();
    state
        .store
        .create_session(
            NewSession {
                token: tokens::hash(&token),
                version: version.id,
                answers: Answers::new(),
            },
            state.clock.now_millis(),
        )
        .await
        .map_err(AppError::from)?;
    metrics::counter!("holdfast_sessions_started_total").increment(1);
    Ok(Redirect::to(&format!("/s/{token}")))
}
