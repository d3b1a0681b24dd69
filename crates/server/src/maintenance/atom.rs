//! `GET /maintenance.atom`: the maintenance windows as an Atom feed (RFC 4287), one entry per
//! window, updated as it moves on; `?region=R` for one region.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::ids;
use super::public::{RegionQuery, public_windows};
use super::status::{display_name, regions_words, status};
use crate::clock::rfc3339;
use crate::error::AppError;
use crate::state::AppState;

struct Entry {
    id: String,
    title: String,
    updated: String,
    published: String,
    summary: String,
    content: String,
}

#[derive(Template)]
#[template(path = "maintenance_feed.xml")]
struct Feed {
    id: String,
    title: String,
    self_url: String,
    status_url: String,
    updated: String,
    entries: Vec<Entry>,
}

/// `GET /maintenance.atom`.
pub(crate) async fn feed(
    State(state): State<AppState>,
    Query(query): Query<RegionQuery>,
) -> Result<Response, AppError> {
    let now = state.clock.now_millis();
    let windows = public_windows(&state, query.region.as_deref()).await?;
    let base = state.public_url().to_owned();
    let mut newest = 0;
    let entries = windows
        .iter()
        .map(|w| {
            let current = status(w, now);
            let updated = w
                .updates
                .iter()
                .map(|u| u.created_at)
                .filter(|t| *t <= now)
                .chain([w.updated_at])
                .max()
                .unwrap_or(w.updated_at);
            newest = newest.max(updated);
            let summary = format!(
                "{} environment, {}: {} to {}. Status: {}.",
                w.environment,
                regions_words(&w.regions),
                super::human_utc(w.starts_at),
                super::human_time_only(w.ends_at),
                current.words()
            );
            let mut content = summary.clone();
            if !w.message.is_empty() {
                content.push_str("\n\n");
                content.push_str(&w.message);
            }
            for update in w.updates.iter().rev().filter(|u| u.created_at <= now) {
                content.push_str(&format!(
                    "\n\n{} ({}): {}",
                    rfc3339(update.created_at),
                    update.status,
                    update.message
                ));
            }
            Entry {
                id: format!("{base}/maintenance/{}", ids::window(w.id)),
                title: format!("{} ({})", display_name(w), current.words()),
                updated: rfc3339(updated),
                published: rfc3339(w.created_at),
                summary,
                content,
            }
        })
        .collect();
    let region = query.region.as_deref();
    let self_url = match region {
        Some(r) => format!("{base}/maintenance.atom?region={r}"),
        None => format!("{base}/maintenance.atom"),
    };
    let feed = Feed {
        id: self_url.clone(),
        title: match region {
            Some(r) => format!("Holdfast maintenance ({r})"),
            None => "Holdfast maintenance".to_owned(),
        },
        status_url: format!("{base}/api/v1/status"),
        self_url,
        updated: rfc3339(if newest == 0 { now } else { newest }),
        entries,
    };
    let body = feed
        .render()
        .map_err(|error| AppError::Internal(anyhow::anyhow!("the Atom feed failed: {error}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}
