//! The admin API (`/api/v1/admin/…`): what the operator CLI calls. JSON, bearer-token
//! authenticated, documented in `openapi.yaml`.
//!
//! A missing or wrong token gets 401 before anything is looked up, so the answer says nothing
//! about what exists.

mod auth;
mod orgs;
mod processes;
mod submissions;

use axum::Router;
use axum::middleware;
use axum::routing::get;

use crate::state::AppState;

/// The admin API's routes, all behind the bearer-token check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/orgs", get(orgs::list).post(orgs::create))
        .route(
            "/api/v1/admin/orgs/{org}/processes",
            get(processes::list).post(processes::publish),
        )
        .route(
            "/api/v1/admin/orgs/{org}/processes/{process}/versions",
            get(processes::versions),
        )
        .route(
            "/api/v1/admin/orgs/{org}/processes/{process}/submissions",
            get(submissions::export),
        )
        .merge(crate::maintenance::admin_routes())
        .route_layer(middleware::from_fn_with_state(state, auth::require_admin))
}
