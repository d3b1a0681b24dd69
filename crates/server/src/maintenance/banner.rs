//! The maintenance banner on Builder and runtime pages (for agents and designers): from a
//! configurable time before a window (`--banner-lead`, 72 hours by default) until it ends.
//!
//! The middleware works out the banner of a request from what the poller last read (no
//! database access per request) and makes it available, for the duration of the request, to
//! `templates/maintenance_banner.html`, which `layout.html` includes: templates need no field
//! of their own for it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use holdfast_store::maintenance::MaintenanceWindow;

use super::status::regions_words;
use crate::config::Environment;
use crate::state::AppState;

tokio::task_local! {
    static BANNER: Option<Banner>;
}

/// The banner of the current page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// What it says.
    pub text: String,
    /// True while the window is in progress.
    pub now: bool,
}

/// The banner of the page being rendered, if any (called from the template).
pub fn current() -> Option<Banner> {
    BANNER.try_with(Clone::clone).ok().flatten()
}

/// The banner for a deployment of `environment` in `region` at `now`: the next window (not
/// cancelled, not over) on its environment and region that starts within `lead`.
pub fn banner_for(
    windows: &[MaintenanceWindow],
    environment: Environment,
    region: &str,
    now: i64,
    lead: i64,
) -> Option<Banner> {
    let window = windows
        .iter()
        .filter(|w| w.cancelled_at.is_none() && w.ends_at > now)
        .filter(|w| w.environment == environment.as_str() && w.regions.covers(region))
        .filter(|w| w.starts_at.saturating_sub(lead) <= now)
        .min_by_key(|w| w.starts_at)?;
    let when = format!(
        "{} to {}",
        super::human_utc(window.starts_at),
        super::human_time_only(window.ends_at)
    );
    let effect = match environment {
        Environment::Development => {
            "the Builder and publishing will be unavailable; end customers are not affected"
                .to_owned()
        }
        Environment::Production if window.impact_minutes == 0 => {
            "end customers should not notice it".to_owned()
        }
        Environment::Production => format!(
            "end customers may be unable to continue for up to {} minutes; everything they enter is kept",
            window.impact_minutes
        ),
    };
    let in_progress = now >= window.starts_at;
    let text = if in_progress {
        format!(
            "Maintenance in progress ({}) until {}: {effect}.",
            regions_words(&window.regions),
            super::human_time_only(window.ends_at)
        )
    } else {
        format!(
            "Planned maintenance ({}): {when}. During it {effect}.",
            regions_words(&window.regions)
        )
    };
    Some(Banner {
        text,
        now: in_progress,
    })
}

/// The middleware: works out the banner and keeps it for the request.
pub async fn provide(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let page = path.starts_with("/p/") || path.starts_with("/s/") || path.starts_with("/builder");
    let banner = if page {
        let snapshot = state.maintenance.snapshot();
        banner_for(
            &snapshot.windows,
            state.config.environment,
            &state.config.region,
            state.clock.now_millis(),
            state.config.maintenance.banner_lead_ms,
        )
    } else {
        None
    };
    BANNER.scope(banner, next.run(request)).await
}
