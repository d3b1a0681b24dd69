//! Maintenance: schedule it, announce it, run it and account for it, with the end customers'
//! work intact.
//!
//! | module | owns |
//! | --- | --- |
//! | [`plan`] | the plan file: reading and checking it (pure) |
//! | [`ids`] | public ids: `p3` plans, `w7` windows, `d2` downtimes |
//! | [`status`] | a window's status by the clock; the admin API's views |
//! | [`admin`] | the admin API: schedule, list, show, cancel, notice |
//! | [`downtime`] | begin (drain first) and end a downtime; the operator bypass link |
//! | [`node`] | this node's state, in-flight counting, the `maintenance-poller` task |
//! | [`gate`] | the middleware that refuses closed requests (503 page or JSON) |
//! | [`page`] | the maintenance page |
//! | [`banner`] | the banner on Builder and runtime pages |
//! | [`public`] | `GET /api/v1/status` |
//! | [`ics`], [`atom`] | the iCalendar and Atom feeds |
//! | [`notice`] | the customer notice, Markdown and HTML |
//! | [`report`] | what a downtime really cost |
//! | [`suggest`] | off-peak windows from recorded activity |
//! | [`webhooks`] | organisations' endpoints, the events sent to them, the `webhook-deliverer` task |
//!
//! Storage is `holdfast_store::maintenance`; nothing here writes SQL. Everything that depends
//! on the time asks the server's [`crate::Clock`].

pub mod admin;
pub mod atom;
pub mod availability;
pub mod banner;
pub mod downtime;
pub mod gate;
pub mod ics;
pub mod ids;
pub mod node;
pub mod notice;
pub mod page;
pub mod plan;
pub mod public;
pub mod report;
pub mod status;
pub mod suggest;
pub mod webhooks;

use axum::Router;
use axum::routing::{get, post};

pub use node::MaintenanceNode;

use crate::state::AppState;

/// The public routes: status API, feeds and the bypass link (no auth).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", get(public::status))
        .route("/api/v1/availability", get(availability::availability))
        .route("/maintenance.ics", get(ics::feed))
        .route("/maintenance.atom", get(atom::feed))
        .route("/maintenance/bypass", get(downtime::bypass))
}

/// The admin routes (the caller puts them behind the admin token).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/maintenance/plans",
            get(admin::list).post(admin::schedule),
        )
        .route(
            "/api/v1/admin/maintenance/plans/{plan}",
            get(admin::show_plan),
        )
        .route(
            "/api/v1/admin/maintenance/plans/{plan}/cancel",
            post(admin::cancel_plan),
        )
        .route(
            "/api/v1/admin/maintenance/plans/{plan}/notice",
            get(admin::notice),
        )
        .route(
            "/api/v1/admin/maintenance/windows/{window}",
            get(admin::show_window),
        )
        .route(
            "/api/v1/admin/maintenance/windows/{window}/cancel",
            post(admin::cancel_window),
        )
        .route("/api/v1/admin/maintenance/begin", post(downtime::begin))
        .route("/api/v1/admin/maintenance/end", post(downtime::end))
        .route("/api/v1/admin/maintenance/report", get(report::report))
        .route("/api/v1/admin/maintenance/suggest", get(suggest::suggest))
        .merge(webhooks::admin_routes())
}

/// "Sunday 31 January 2027, 16:00 UTC".
pub fn human_utc(millis: i64) -> String {
    in_zone(millis, &jiff::tz::TimeZone::UTC, "%A %-d %B %Y, %H:%M UTC")
}

/// "18:00 UTC".
pub fn human_time_only(millis: i64) -> String {
    in_zone(millis, &jiff::tz::TimeZone::UTC, "%H:%M UTC")
}

/// Formats a time in a time zone with a strftime pattern.
pub fn in_zone(millis: i64, zone: &jiff::tz::TimeZone, pattern: &str) -> String {
    match jiff::Timestamp::from_millisecond(millis) {
        Ok(ts) => ts
            .to_zoned_datetime(zone.clone())
            .strftime(pattern)
            .to_string(),
        Err(_) => "an invalid time".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_well() {
        // 2027-01-31T16:00:00Z
        let t = 1_801_411_200_000;
        assert_eq!(human_utc(t), "Sunday 31 January 2027, 16:00 UTC");
        assert_eq!(human_time_only(t), "16:00 UTC");
    }
}
