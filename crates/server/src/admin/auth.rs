//! The bearer-token check in front of the admin API.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::AppError;
use crate::state::AppState;
use crate::tokens;

/// Lets the request through only with `Authorization: Bearer <admin token>`.
pub(crate) async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(AppError::Unauthorized)?;
    let known = state.store.admin_token_hashes().await?;
    if !tokens::matches_any(presented, &known) {
        return Err(AppError::Unauthorized);
    }
    Ok(next.run(request).await)
}
