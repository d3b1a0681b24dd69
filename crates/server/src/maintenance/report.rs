//! What a downtime really cost: when it started and ended and how long it lasted, how many
//! requests were refused, how many end customers' sessions were in progress when it began,
//! how many of them resumed afterwards and submitted, and how many changes were lost, counted
//! from gaps in the clients' change numbers after they resynced (expected: 0).

use axum::Json;
use axum::extract::{Query, State};
use holdfast_store::maintenance::Regions;
use serde::{Deserialize, Serialize};

use super::ids::{self, AnyId};
use super::status::display_name;
use crate::clock::rfc3339;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    /// `w7` (the window's latest downtime) or `d2`; none for the latest downtime.
    #[serde(default)]
    window: Option<String>,
}

/// The report of one downtime.
#[derive(Debug, Serialize)]
pub struct Report {
    downtime: String,
    window: String,
    name: String,
    environment: String,
    regions: Regions,
    scheduled_start: String,
    scheduled_end: String,
    started_at: String,
    ended_at: Option<String>,
    ongoing: bool,
    duration_seconds: i64,
    requests_refused: i64,
    sessions_active: i64,
    sessions_resumed: i64,
    sessions_submitted: i64,
    changes_lost: i64,
}

/// `GET /api/v1/admin/maintenance/report?window=ID`.
pub(crate) async fn report(
    State(state): State<AppState>,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Report>, AppError> {
    // This node's refusals are counted in the report at once; other nodes' within a second.
    state.maintenance.flush_refused(state.store.as_ref()).await;
    let downtime = match query.window.as_deref() {
        None => state.store.latest_downtime().await?.ok_or_else(|| {
            AppError::NotFound("there has been no maintenance downtime yet".to_owned())
        })?,
        Some(text) => match ids::parse(text) {
            Some(AnyId::Downtime(id)) => state
                .store
                .downtime(id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("there is no downtime {text:?}")))?,
            Some(AnyId::Window(id)) => {
                let window =
                    state.store.window(id).await?.ok_or_else(|| {
                        AppError::NotFound(format!("there is no window {text:?}"))
                    })?;
                window.downtimes.last().cloned().ok_or_else(|| {
                    AppError::NotFound(format!(
                        "window {text} has had no downtime (begin one with holdfast maintenance begin {text})"
                    ))
                })?
            }
            _ => {
                return Err(AppError::NotFound(format!(
                    "{text:?} names no window (w7) or downtime (d2)"
                )));
            }
        },
    };
    let window = state
        .store
        .window(downtime.window_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a downtime's window is missing")))?;
    let facts = state.store.downtime_facts(downtime.id).await?;
    let now = state.clock.now_millis();
    let until = downtime.ended_at.unwrap_or(now);
    Ok(Json(Report {
        downtime: ids::downtime(downtime.id),
        window: ids::window(window.id),
        name: display_name(&window),
        environment: downtime.environment.clone(),
        regions: downtime.regions.clone(),
        scheduled_start: rfc3339(window.starts_at),
        scheduled_end: rfc3339(window.ends_at),
        started_at: rfc3339(downtime.started_at),
        ended_at: downtime.ended_at.map(rfc3339),
        ongoing: downtime.ended_at.is_none(),
        duration_seconds: (until - downtime.started_at).max(0) / 1000,
        requests_refused: downtime.requests_refused,
        sessions_active: facts.sessions_active,
        sessions_resumed: facts.sessions_resumed,
        sessions_submitted: facts.sessions_submitted,
        changes_lost: facts.changes_lost,
    }))
}
