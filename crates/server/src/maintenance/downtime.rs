//! Beginning and ending a downtime, and the operator bypass link.
//!
//! `begin` records the downtime in the store (with the end customers' sessions in progress),
//! closes this node at once, waits for its requests in flight to finish, then waits until
//! every other node seen in the last seconds has applied the downtime and drained too (each
//! says so in its heartbeat); only then does it answer. `end` reopens: this node at once,
//! the others within a second.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use holdfast_store::StoreError;
use holdfast_store::maintenance::{
    Downtime, NewDowntime, NewPlan, NewWindow, Regions, ScheduleOutcome,
};
use serde::{Deserialize, Serialize};

use super::admin::find_window;
use super::gate::BYPASS_COOKIE;
use super::ids;
use super::node::NODE_STALE_MS;
use super::status::{Status, status};
use crate::clock::rfc3339;
use crate::error::AppError;
use crate::json::Body;
use crate::state::AppState;
use crate::tokens;

/// How long `begin` waits for requests in flight and for the other nodes.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Sessions changed this recently (and not submitted) count as in progress at the begin.
pub const ACTIVE_SESSION_MS: i64 = 30 * 60_000;

/// The default length of an unscheduled downtime, in minutes.
pub const DEFAULT_UNSCHEDULED_MINUTES: i64 = 30;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BeginBody {
    /// The window whose downtime begins; none for an unscheduled downtime of this deployment.
    #[serde(default)]
    window: Option<String>,
    /// For an unscheduled downtime: how long it is expected to last.
    #[serde(default)]
    minutes: Option<i64>,
    /// For an unscheduled downtime: what people are told.
    #[serde(default)]
    message: Option<String>,
}

/// A downtime as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct DowntimeView {
    id: String,
    window: String,
    environment: String,
    regions: Regions,
    started_at: String,
    ended_at: Option<String>,
    expected_end: Option<String>,
    requests_refused: i64,
}

impl From<&Downtime> for DowntimeView {
    fn from(d: &Downtime) -> Self {
        DowntimeView {
            id: ids::downtime(d.id),
            window: ids::window(d.window_id),
            environment: d.environment.clone(),
            regions: d.regions.clone(),
            started_at: rfc3339(d.started_at),
            ended_at: d.ended_at.map(rfc3339),
            expected_end: d.expected_end.map(rfc3339),
            requests_refused: d.requests_refused,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct NodeDrain {
    node: String,
    environment: String,
    region: String,
    drained: bool,
}

#[derive(Serialize)]
pub(crate) struct Begun {
    downtime: DowntimeView,
    /// Opens the closed service for whoever follows it (sets a cookie): for staff to try the
    /// system before reopening it. Shown once.
    bypass_url: String,
    /// Every request in flight finished and every node applied the downtime.
    drained: bool,
    nodes: Vec<NodeDrain>,
}

/// `POST /api/v1/admin/maintenance/begin`.
pub(crate) async fn begin(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<(StatusCode, Json<Begun>), AppError> {
    let body: BeginBody = crate::json::parse(&body, Some(BeginBody::default()))?;
    let now = state.clock.now_millis();
    let (window_id, environment, regions, expected_end) = match &body.window {
        Some(id) => {
            if body.minutes.is_some() || body.message.is_some() {
                return Err(AppError::BadRequest(
                    "minutes and message are for an unscheduled downtime; a window has its own"
                        .to_owned(),
                ));
            }
            let window = find_window(&state, id).await?;
            match status(&window, now) {
                Status::Cancelled => {
                    return Err(AppError::Conflict(format!(
                        "window {} was cancelled",
                        ids::window(window.id)
                    )));
                }
                Status::Completed => {
                    return Err(AppError::Conflict(format!(
                        "window {} is over (it ended {})",
                        ids::window(window.id),
                        rfc3339(window.ends_at)
                    )));
                }
                _ => {}
            }
            (
                window.id,
                window.environment.clone(),
                window.regions.clone(),
                window.ends_at,
            )
        }
        None => {
            let minutes = body.minutes.unwrap_or(DEFAULT_UNSCHEDULED_MINUTES);
            let max_minutes = state.config.maintenance.max_window_ms / 60_000;
            if !(1..=max_minutes).contains(&minutes) {
                return Err(AppError::invalid_field(
                    "minutes",
                    format!("must be between 1 and {max_minutes} (the --max-window limit)"),
                ));
            }
            let message = body.message.clone().unwrap_or_default();
            if message.chars().count() > 4000 {
                return Err(AppError::invalid_field(
                    "message",
                    "must be at most 4000 characters",
                ));
            }
            let environment = state.config.environment.as_str().to_owned();
            let regions = Regions::Some(vec![state.config.region.clone()]);
            let ends_at = now + minutes * 60_000;
            let plan = NewPlan {
                title: "Unscheduled maintenance".to_owned(),
                summary: String::new(),
                impact_minutes: minutes,
                advantages: Vec::new(),
                source: String::new(),
                unscheduled: true,
                phases: vec![NewWindow {
                    name: format!(
                        "Unscheduled maintenance ({environment}, {})",
                        state.config.region
                    ),
                    environment: environment.clone(),
                    regions: regions.clone(),
                    starts_at: now,
                    ends_at,
                    impact_minutes: minutes,
                    message,
                }],
            };
            let ScheduleOutcome::Scheduled(plan) =
                state.store.schedule_plan(plan, now, &|_| Ok(())).await?
            else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "an unscheduled plan was refused without a check"
                )));
            };
            let window = plan.windows.first().ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("an unscheduled plan has no window"))
            })?;
            (window.id, environment, regions, ends_at)
        }
    };

    let secret = tokens::generate();
    let downtime = state
        .store
        .begin_downtime(
            NewDowntime {
                window: window_id,
                environment: environment.clone(),
                regions,
                expected_end: Some(expected_end),
                bypass: tokens::hash(&secret),
                active_since: now - ACTIVE_SESSION_MS,
            },
            now,
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(what) => AppError::Conflict(format!(
                "{what} is in progress already: end it first (holdfast maintenance end)"
            )),
            other => other.into(),
        })?;
    let closes = if environment == "development" {
        "The Builder and publishing are closed."
    } else {
        "The service is closed for end customers; their answers are kept."
    };
    state
        .store
        .add_update(
            window_id,
            "in_progress",
            &format!("Downtime has begun. {closes}"),
            Some(&format!("begin:{}", downtime.id.0)),
            now,
        )
        .await?;
    tracing::info!(downtime = %ids::downtime(downtime.id), window = %ids::window(window_id), "maintenance downtime begun");

    // Close here at once, drain, and wait for the other nodes.
    let node = state.maintenance.clone();
    node.refresh(state.store.as_ref()).await;
    let kinds = node.closes(&downtime);
    let local = node.drain(kinds, DRAIN_LIMIT).await;
    node.beat(state.store.as_ref(), state.clock.now_millis())
        .await;
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    let nodes = loop {
        let now = state.clock.now_millis();
        let nodes = state.store.nodes(now - NODE_STALE_MS).await?;
        let pending = nodes.iter().any(|n| n.drained < downtime.id.0);
        if !pending || tokio::time::Instant::now() >= deadline {
            break nodes;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let views: Vec<NodeDrain> = nodes
        .iter()
        .map(|n| NodeDrain {
            node: n.node_id.clone(),
            environment: n.environment.clone(),
            region: n.region.clone(),
            drained: n.drained >= downtime.id.0,
        })
        .collect();
    let drained = local && views.iter().all(|n| n.drained);
    if !drained {
        tracing::warn!(downtime = %ids::downtime(downtime.id), "not every node drained within 30 s");
    }
    Ok((
        StatusCode::CREATED,
        Json(Begun {
            downtime: DowntimeView::from(&downtime),
            bypass_url: format!("{}/maintenance/bypass?token={secret}", state.public_url()),
            drained,
            nodes: views,
        }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EndBody {
    #[serde(default)]
    window: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Ended {
    ended: Vec<DowntimeView>,
}

/// `POST /api/v1/admin/maintenance/end`: ends the downtime of a window; without one, the
/// downtime covering this deployment (or the only one open).
pub(crate) async fn end(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Json<Ended>, AppError> {
    let body: EndBody = crate::json::parse(&body, Some(EndBody::default()))?;
    let open = state.store.open_downtimes().await?;
    let node = state.maintenance.clone();
    let chosen: Vec<Downtime> = match &body.window {
        Some(id) => {
            let window = find_window(&state, id).await?;
            open.into_iter()
                .filter(|d| d.window_id == window.id)
                .collect()
        }
        None => {
            let here: Vec<Downtime> = open
                .iter()
                .filter(|d| node.closes(d) != 0)
                .cloned()
                .collect();
            if !here.is_empty() {
                here
            } else if open.len() <= 1 {
                open
            } else {
                let list = open
                    .iter()
                    .map(|d| ids::window(d.window_id))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(AppError::Conflict(format!(
                    "several downtimes are in progress ({list}) and none covers this deployment: name the window"
                )));
            }
        }
    };
    if chosen.is_empty() {
        return Err(AppError::Conflict(
            "no downtime is in progress there".to_owned(),
        ));
    }
    node.flush_refused(state.store.as_ref()).await;
    let now = state.clock.now_millis();
    let mut ended = Vec::new();
    for downtime in chosen {
        let done = state.store.end_downtime(downtime.id, now).await?;
        let window = state.store.window(done.window_id).await?;
        let unscheduled = match &window {
            Some(w) => state
                .store
                .plan(w.plan_id)
                .await?
                .is_some_and(|p| p.unscheduled),
            None => false,
        };
        if unscheduled {
            state.store.set_window_end(done.window_id, now, now).await?;
            state
                .store
                .add_update(
                    done.window_id,
                    "completed",
                    "The service is back.",
                    Some("completed"),
                    now,
                )
                .await?;
        } else if window.as_ref().is_some_and(|w| now < w.ends_at) {
            state
                .store
                .add_update(
                    done.window_id,
                    "verifying",
                    "The service is back; we are verifying that everything works as it should.",
                    Some(&format!("end:{}", done.id.0)),
                    now,
                )
                .await?;
        }
        tracing::info!(downtime = %ids::downtime(done.id), "maintenance downtime ended");
        ended.push(DowntimeView::from(&done));
    }
    node.refresh(state.store.as_ref()).await;
    node.windows_changed();
    Ok(Json(Ended { ended }))
}

#[derive(Deserialize)]
pub(crate) struct BypassQuery {
    token: String,
}

/// `GET /maintenance/bypass?token=…`: the operator bypass link. Sets an HttpOnly cookie that
/// lets this browser use the service while it is closed for everyone else.
pub(crate) async fn bypass(
    State(state): State<AppState>,
    Query(query): Query<BypassQuery>,
) -> Response {
    let open = state
        .maintenance
        .snapshot()
        .downtimes
        .iter()
        .map(|d| d.bypass.clone())
        .collect::<Vec<_>>();
    if !tokens::looks_valid(&query.token) || !tokens::matches_any(&query.token, &open) {
        return (
            StatusCode::NOT_FOUND,
            Html(crate::pages::message_page(
                "Link not valid",
                "This bypass link is not valid, or its maintenance is over.",
            )),
        )
            .into_response();
    }
    let mut response = Html(crate::pages::message_page(
        "Maintenance bypass on",
        "This browser can now use the service while it is closed for maintenance. Open the page you want to check.",
    ))
    .into_response();
    // Behind HTTPS the cookie never travels in the clear.
    let secure = if state.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{BYPASS_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200{secure}",
        query.token
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
