//! The admin API for maintenance plans: schedule a plan file, list, show, cancel, and render
//! a plan's customer notice.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use holdfast_store::maintenance::{
    MaintenancePlan, MaintenanceWindow, PlanId, ScheduleOutcome, WindowId,
};
use serde::Deserialize;

use super::ids::{self, AnyId};
use super::notice;
use super::plan::{self, Limits};
use super::status::{PlanView, WindowView};
use crate::error::{AppError, Problem};
use crate::json::Body;
use crate::state::AppState;

/// A 422 listing every problem of a plan.
pub fn invalid_plan(problems: Vec<Problem>) -> AppError {
    let message = format!(
        "the plan was not scheduled: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    AppError::Unprocessable { message, problems }
}

/// The plan named by a path segment (`p3` or `3`), or 404.
pub(crate) async fn find_plan(state: &AppState, text: &str) -> Result<MaintenancePlan, AppError> {
    let id = match ids::parse(text) {
        Some(AnyId::Plan(id)) => id,
        Some(AnyId::Window(WindowId(n))) if !text.starts_with(['w', 'W']) => PlanId(n),
        _ => {
            return Err(AppError::NotFound(format!(
                "there is no maintenance plan {text:?} (plan ids look like p3)"
            )));
        }
    };
    state
        .store
        .plan(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no maintenance plan {text:?}")))
}

/// The window named by a path segment (`w7` or `7`), or 404.
pub(crate) async fn find_window(
    state: &AppState,
    text: &str,
) -> Result<MaintenanceWindow, AppError> {
    let Some(AnyId::Window(id)) = ids::parse(text) else {
        return Err(AppError::NotFound(format!(
            "there is no maintenance window {text:?} (window ids look like w7)"
        )));
    };
    state
        .store
        .window(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no maintenance window {text:?}")))
}

/// `POST /api/v1/admin/maintenance/plans`: the body is a plan file (YAML or JSON).
pub(crate) async fn schedule(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<(StatusCode, Json<PlanView>), AppError> {
    let source = std::str::from_utf8(&body).map_err(|_| {
        AppError::BadRequest("the plan must be UTF-8 text (YAML or JSON)".to_owned())
    })?;
    let now = state.clock.now_millis();
    let limits = Limits {
        now,
        regions: &state.config.regions,
        max_window_ms: state.config.maintenance.max_window_ms,
    };
    let new = plan::parse(source, limits).map_err(invalid_plan)?;
    let checked = new.clone();
    let outcome = state
        .store
        .schedule_plan(new, now, &move |scheduled| {
            plan::check_overlaps(&checked, scheduled)
        })
        .await?;
    match outcome {
        ScheduleOutcome::Scheduled(stored) => {
            state.maintenance.windows_changed();
            tracing::info!(plan = %ids::plan(stored.id), title = %stored.title, "maintenance scheduled");
            Ok((StatusCode::CREATED, Json(PlanView::new(&stored, now))))
        }
        ScheduleOutcome::Refused(refusals) => {
            Err(invalid_plan(plan::refusals_to_problems(refusals)))
        }
    }
}

/// `GET /api/v1/admin/maintenance/plans`: every plan, newest first.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Vec<PlanView>>, AppError> {
    let now = state.clock.now_millis();
    let plans = state.store.list_plans().await?;
    Ok(Json(plans.iter().map(|p| PlanView::new(p, now)).collect()))
}

/// `GET /api/v1/admin/maintenance/plans/{plan}`.
pub(crate) async fn show_plan(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlanView>, AppError> {
    let plan = find_plan(&state, &id).await?;
    Ok(Json(PlanView::new(&plan, state.clock.now_millis())))
}

/// `GET /api/v1/admin/maintenance/windows/{window}`.
pub(crate) async fn show_window(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WindowView>, AppError> {
    let window = find_window(&state, &id).await?;
    Ok(Json(WindowView::new(&window, state.clock.now_millis())))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    message: Option<String>,
}

fn cancel_message(body: &axum::body::Bytes) -> Result<String, AppError> {
    let body: CancelBody = crate::json::parse(body, Some(CancelBody::default()))?;
    let message = body
        .message
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "This maintenance has been cancelled.".to_owned());
    if message.chars().count() > 4000 {
        return Err(AppError::invalid_field(
            "message",
            "must be at most 4000 characters",
        ));
    }
    Ok(message)
}

/// Cancels the windows of `windows` that can be: not over, not cancelled, no downtime open.
async fn cancel(
    state: &AppState,
    windows: &[MaintenanceWindow],
    message: &str,
) -> Result<Vec<WindowId>, AppError> {
    let now = state.clock.now_millis();
    if let Some(open) = windows
        .iter()
        .find(|w| w.downtimes.iter().any(|d| d.ended_at.is_none()))
    {
        return Err(AppError::Conflict(format!(
            "window {} has a downtime in progress: end it first (holdfast maintenance end {})",
            ids::window(open.id),
            ids::window(open.id)
        )));
    }
    let cancellable: Vec<WindowId> = windows
        .iter()
        .filter(|w| w.cancelled_at.is_none() && w.ends_at > now)
        .map(|w| w.id)
        .collect();
    if cancellable.is_empty() {
        return Err(AppError::Conflict(
            "there is nothing to cancel: every phase is over or cancelled already".to_owned(),
        ));
    }
    let cancelled = state
        .store
        .cancel_windows(&cancellable, message, now)
        .await?;
    state.maintenance.windows_changed();
    Ok(cancelled)
}

/// `POST /api/v1/admin/maintenance/plans/{plan}/cancel`: cancels every phase not over.
pub(crate) async fn cancel_plan(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Json<PlanView>, AppError> {
    let message = cancel_message(&body)?;
    let plan = find_plan(&state, &id).await?;
    cancel(&state, &plan.windows, &message).await?;
    let plan = find_plan(&state, &id).await?;
    Ok(Json(PlanView::new(&plan, state.clock.now_millis())))
}

/// `POST /api/v1/admin/maintenance/windows/{window}/cancel`: cancels one phase.
pub(crate) async fn cancel_window(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Json<WindowView>, AppError> {
    let message = cancel_message(&body)?;
    let window = find_window(&state, &id).await?;
    cancel(&state, std::slice::from_ref(&window), &message).await?;
    let window = find_window(&state, &id).await?;
    Ok(Json(WindowView::new(&window, state.clock.now_millis())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoticeQuery {
    #[serde(default)]
    format: Option<String>,
    /// Comma-separated IANA time zone names.
    #[serde(default)]
    tz: Option<String>,
}

/// `GET /api/v1/admin/maintenance/plans/{plan}/notice?format=markdown|html&tz=A,B`.
pub(crate) async fn notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let plan = find_plan(&state, &id).await?;
    let zones: Vec<String> = query
        .tz
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .map(str::to_owned)
        .collect();
    let zones = notice::zones(&zones).map_err(|message| AppError::invalid_field("tz", message))?;
    let input = notice::NoticePlan::from_stored(&plan);
    match query.format.as_deref().unwrap_or("markdown") {
        "markdown" | "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            notice::markdown(&input, &zones),
        )
            .into_response()),
        "html" => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            notice::html(&input, &zones),
        )
            .into_response()),
        other => Err(AppError::invalid_field(
            "format",
            format!("unknown format {other:?}: expected markdown or html"),
        )),
    }
}
