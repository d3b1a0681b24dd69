//! `GET /maintenance.ics`: the maintenance windows as an iCalendar feed (RFC 5545) that
//! calendar programs subscribe to; `?region=R` for one region. Cancelled windows stay in the
//! feed with `STATUS:CANCELLED` (and a higher `SEQUENCE`), so calendars remove them.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use icalendar::{Calendar, Component, Event, EventStatus, Property};
use jiff::tz::TimeZone;

use super::ids;
use super::public::{RegionQuery, public_windows, region_list};
use super::status::{display_name, regions_words, status};
use crate::error::AppError;
use crate::state::AppState;

/// `20270131T160000Z`.
fn ical_time(millis: i64) -> String {
    super::in_zone(millis, &TimeZone::UTC, "%Y%m%dT%H%M%SZ")
}

/// `GET /maintenance.ics`.
pub(crate) async fn feed(
    State(state): State<AppState>,
    Query(query): Query<RegionQuery>,
) -> Result<Response, AppError> {
    let now = state.clock.now_millis();
    let windows = public_windows(&state, query.region.as_deref()).await?;
    let host = state
        .public_url()
        .split("://")
        .nth(1)
        .unwrap_or("holdfast")
        .trim_end_matches('/')
        .to_owned();
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new(
            "PRODID",
            "-//Holdfast//Maintenance windows//EN",
        ))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new(
            "X-WR-CALNAME",
            match &query.region {
                Some(region) => format!("Holdfast maintenance ({region})"),
                None => "Holdfast maintenance".to_owned(),
            },
        ));
    for window in &windows {
        let current = status(window, now);
        let mut description = format!(
            "{} environment, {}. Status: {}.",
            capitalised(&window.environment),
            regions_words(&window.regions),
            current.words()
        );
        if window.environment == "production" && window.impact_minutes > 0 {
            description.push_str(&format!(
                " End customers may be affected for up to {} minutes; everything they enter is kept.",
                window.impact_minutes
            ));
        } else if window.environment == "development" {
            description.push_str(" The Builder only; end customers are not affected.");
        }
        if !window.message.is_empty() {
            description.push(' ');
            description.push_str(&window.message);
        }
        let last_modified = window
            .updates
            .iter()
            .map(|u| u.created_at)
            .chain([window.updated_at])
            .max()
            .unwrap_or(window.updated_at);
        let mut event = Event::new();
        event
            .uid(&format!("{}@{host}", ids::window(window.id)))
            .summary(&display_name(window))
            .description(&description)
            .add_property("DTSTAMP", ical_time(last_modified))
            .add_property("DTSTART", ical_time(window.starts_at))
            .add_property("DTEND", ical_time(window.ends_at))
            .add_property("CREATED", ical_time(window.created_at))
            .add_property("LAST-MODIFIED", ical_time(last_modified))
            .add_property("CATEGORIES", "MAINTENANCE")
            .add_property("TRANSP", "TRANSPARENT")
            .add_property(
                "LOCATION",
                region_list(&window.regions, &state.config.regions).join(" "),
            )
            .url(&format!("{}/api/v1/status", state.public_url()))
            .sequence(if window.cancelled_at.is_some() { 1 } else { 0 })
            .status(if window.cancelled_at.is_some() {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        calendar.push(event.done());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"maintenance.ics\"",
            ),
        ],
        calendar.done().to_string(),
    )
        .into_response())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
