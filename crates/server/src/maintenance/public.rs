//! `GET /api/v1/status`: current and upcoming maintenance as JSON, public (no auth), with the
//! field names users of the common status-page services know: a `scheduled_maintenances`
//! list whose items have `id`, `name`, `status` (scheduled | in_progress | verifying |
//! completed), `impact`, `scheduled_for`, `scheduled_until`, `started_at`, `resolved_at` and
//! `updates`, plus the affected `environment(s)` and `regions`. `?region=R` narrows it.

use axum::Json;
use axum::extract::{Query, State};
use holdfast_store::maintenance::{MaintenanceWindow, Regions};
use serde::{Deserialize, Serialize};

use super::ids;
use super::status::{self as window_status, Status, display_name, resolved_at, started_at};
use crate::clock::rfc3339;
use crate::error::AppError;
use crate::state::AppState;

/// How long completed windows stay in the status API and the feeds.
pub const KEEP_COMPLETED_MS: i64 = 7 * 24 * 3_600_000;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionQuery {
    #[serde(default)]
    pub(crate) region: Option<String>,
}

/// The windows the public endpoints show: not over for more than a week, in `region` if
/// one is given (refused if the platform has no such region).
pub async fn public_windows(
    state: &AppState,
    region: Option<&str>,
) -> Result<Vec<MaintenanceWindow>, AppError> {
    if let Some(region) = region
        && !state.config.regions.iter().any(|r| r == region)
    {
        return Err(AppError::invalid_field(
            "region",
            format!(
                "unknown region {region:?}; this platform's regions are {}",
                state.config.regions.join(", ")
            ),
        ));
    }
    let now = state.clock.now_millis();
    let windows = state.store.list_windows(now - KEEP_COMPLETED_MS).await?;
    Ok(windows
        .into_iter()
        .filter(|w| region.is_none_or(|r| w.regions.covers(r)))
        .collect())
}

/// The regions of a window as a list (every platform region for `all`).
pub fn region_list(regions: &Regions, platform: &[String]) -> Vec<String> {
    match regions {
        Regions::All => platform.to_vec(),
        Regions::Some(list) => list.clone(),
    }
}

#[derive(Serialize)]
struct Page {
    name: &'static str,
    url: String,
    updated_at: String,
}

#[derive(Serialize)]
struct Indicator {
    indicator: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct Update {
    id: String,
    status: String,
    body: String,
    created_at: String,
    display_at: String,
}

#[derive(Serialize)]
struct PlanRef {
    id: String,
    title: String,
}

/// One item of `scheduled_maintenances` (also the `window` of a webhook event).
#[derive(Serialize)]
pub(crate) struct Item {
    id: String,
    name: String,
    status: Status,
    impact: &'static str,
    impact_minutes: i64,
    scheduled_for: String,
    scheduled_until: String,
    started_at: Option<String>,
    resolved_at: Option<String>,
    created_at: String,
    updated_at: String,
    environment: String,
    environments: Vec<String>,
    regions: Vec<String>,
    all_regions: bool,
    message: String,
    plan: PlanRef,
    updates: Vec<Update>,
}

/// The answer.
#[derive(Serialize)]
pub struct StatusBody {
    page: Page,
    status: Indicator,
    scheduled_maintenances: Vec<Item>,
}

/// `GET /api/v1/status`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Query(query): Query<RegionQuery>,
) -> Result<Json<StatusBody>, AppError> {
    let now = state.clock.now_millis();
    let windows = public_windows(&state, query.region.as_deref()).await?;
    let mut items: Vec<Item> = windows
        .iter()
        .filter(|w| w.cancelled_at.is_none())
        .map(|w| item(&state, w, now))
        .collect();
    items.sort_by(|a, b| a.scheduled_for.cmp(&b.scheduled_for));
    let under_way = windows.iter().any(|w| {
        matches!(
            window_status::status(w, now),
            Status::InProgress | Status::Verifying
        )
    }) || state.maintenance.in_maintenance();
    Ok(Json(StatusBody {
        page: Page {
            name: "Holdfast",
            url: state.public_url().to_owned(),
            updated_at: rfc3339(now),
        },
        status: if under_way {
            Indicator {
                indicator: "maintenance",
                description: "Under maintenance",
            }
        } else {
            Indicator {
                indicator: "none",
                description: "All systems operational",
            }
        },
        scheduled_maintenances: items,
    }))
}

/// The status API's item for `w` as it stands at `now`.
pub(crate) fn item(state: &AppState, w: &MaintenanceWindow, now: i64) -> Item {
    let updated_at = w
        .updates
        .iter()
        .map(|u| u.created_at)
        .chain([w.updated_at])
        .max()
        .unwrap_or(w.updated_at);
    Item {
        id: ids::window(w.id),
        name: display_name(w),
        status: window_status::status(w, now),
        impact: if w.impact_minutes > 0 {
            "maintenance"
        } else {
            "none"
        },
        impact_minutes: w.impact_minutes,
        scheduled_for: rfc3339(w.starts_at),
        scheduled_until: rfc3339(w.ends_at),
        started_at: started_at(w, now).map(rfc3339),
        resolved_at: resolved_at(w, now).map(rfc3339),
        created_at: rfc3339(w.created_at),
        updated_at: rfc3339(updated_at),
        environment: w.environment.clone(),
        environments: vec![w.environment.clone()],
        regions: region_list(&w.regions, &state.config.regions),
        all_regions: w.regions == Regions::All,
        message: w.message.clone(),
        plan: PlanRef {
            id: ids::plan(w.plan_id),
            title: w.plan_title.clone(),
        },
        updates: w
            .updates
            .iter()
            .rev()
            .filter(|u| u.created_at <= now)
            .map(|u| Update {
                id: format!("u{}", u.id),
                status: u.status.clone(),
                body: u.message.clone(),
                created_at: rfc3339(u.created_at),
                display_at: rfc3339(u.created_at),
            })
            .collect(),
    }
}
