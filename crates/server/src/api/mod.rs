//! The session JSON API, public to any client that holds a session token: create a session
//! (optionally prefilled), read it, autosave changes to it and submit it.
//!
//! The routes and bodies are documented in `openapi.yaml`.

mod sessions;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The session API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/processes/{process}/sessions",
            post(sessions::create),
        )
        .route(
            "/api/v1/sessions/{token}",
            get(sessions::show).patch(sessions::autosave),
        )
        .route("/api/v1/sessions/{token}/submit", post(sessions::submit))
}
