//! What a window's status is at a given time, and how plans and windows are shown in the
//! admin API.
//!
//! The status follows the clock: `scheduled` before the start, `in_progress` from the start,
//! `verifying` once its downtime has ended (until the scheduled end), `completed` from the
//! end; `cancelled` whenever it was cancelled. A downtime begun early puts a window in
//! progress early.

use holdfast_store::maintenance::{MaintenancePlan, MaintenanceWindow, Regions};
use serde::Serialize;

use super::ids;
use crate::clock::rfc3339;

/// A window's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Announced, not started.
    Scheduled,
    /// Under way.
    InProgress,
    /// The downtime is over; operators are checking before the window closes.
    Verifying,
    /// Over.
    Completed,
    /// Called off.
    Cancelled,
}

impl Status {
    /// The name used in JSON and feeds.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::InProgress => "in_progress",
            Status::Verifying => "verifying",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
        }
    }

    /// For people: "scheduled", "in progress" …
    pub fn words(self) -> &'static str {
        match self {
            Status::InProgress => "in progress",
            other => other.as_str(),
        }
    }
}

/// The status of `window` at `now`.
pub fn status(window: &MaintenanceWindow, now: i64) -> Status {
    if window.cancelled_at.is_some() {
        return Status::Cancelled;
    }
    if now >= window.ends_at {
        return Status::Completed;
    }
    let open = window.downtimes.iter().any(|d| d.ended_at.is_none());
    if open {
        return Status::InProgress;
    }
    if now < window.starts_at {
        return Status::Scheduled;
    }
    if !window.downtimes.is_empty() {
        Status::Verifying
    } else {
        Status::InProgress
    }
}

/// When the window really started: its first downtime, or its scheduled start once passed.
pub fn started_at(window: &MaintenanceWindow, now: i64) -> Option<i64> {
    let first_downtime = window.downtimes.iter().map(|d| d.started_at).min();
    match status(window, now) {
        Status::Scheduled => None,
        Status::Cancelled => first_downtime,
        _ => Some(first_downtime.map_or(window.starts_at, |d| d.min(window.starts_at))),
    }
}

/// When the window was resolved: its end, once completed.
pub fn resolved_at(window: &MaintenanceWindow, now: i64) -> Option<i64> {
    match status(window, now) {
        Status::Completed => Some(window.ends_at),
        Status::Cancelled => window.cancelled_at,
        _ => None,
    }
}

/// "Plan title: phase name" (just the plan title for a one-phase plan of the same name).
pub fn display_name(window: &MaintenanceWindow) -> String {
    if window.name == window.plan_title {
        window.name.clone()
    } else {
        format!("{}: {}", window.plan_title, window.name)
    }
}

/// The regions as words: "all regions", "apac", "eu and na".
pub fn regions_words(regions: &Regions) -> String {
    match regions {
        Regions::All => "all regions".to_owned(),
        Regions::Some(list) => match list.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        },
    }
}

/// One entry of a window's history.
#[derive(Debug, Serialize)]
pub struct UpdateView {
    status: String,
    message: String,
    created_at: String,
}

/// One downtime of a window.
#[derive(Debug, Serialize)]
pub struct DowntimeBrief {
    id: String,
    started_at: String,
    ended_at: Option<String>,
}

/// A window as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct WindowView {
    id: String,
    plan: String,
    phase: i64,
    name: String,
    environment: String,
    regions: Regions,
    start: String,
    end: String,
    impact_minutes: i64,
    message: String,
    status: Status,
    started_at: Option<String>,
    resolved_at: Option<String>,
    cancelled_at: Option<String>,
    updates: Vec<UpdateView>,
    downtimes: Vec<DowntimeBrief>,
}

impl WindowView {
    /// The view of `window` at `now`.
    pub fn new(window: &MaintenanceWindow, now: i64) -> Self {
        WindowView {
            id: ids::window(window.id),
            plan: ids::plan(window.plan_id),
            phase: window.phase,
            name: window.name.clone(),
            environment: window.environment.clone(),
            regions: window.regions.clone(),
            start: rfc3339(window.starts_at),
            end: rfc3339(window.ends_at),
            impact_minutes: window.impact_minutes,
            message: window.message.clone(),
            status: status(window, now),
            started_at: started_at(window, now).map(rfc3339),
            resolved_at: resolved_at(window, now).map(rfc3339),
            cancelled_at: window.cancelled_at.map(rfc3339),
            updates: window
                .updates
                .iter()
                .map(|u| UpdateView {
                    status: u.status.clone(),
                    message: u.message.clone(),
                    created_at: rfc3339(u.created_at),
                })
                .collect(),
            downtimes: window
                .downtimes
                .iter()
                .map(|d| DowntimeBrief {
                    id: ids::downtime(d.id),
                    started_at: rfc3339(d.started_at),
                    ended_at: d.ended_at.map(rfc3339),
                })
                .collect(),
        }
    }
}

/// A plan as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct PlanView {
    id: String,
    title: String,
    summary: String,
    impact_minutes: i64,
    unscheduled: bool,
    created_at: String,
    phases: Vec<WindowView>,
}

impl PlanView {
    /// The view of `plan` at `now`.
    pub fn new(plan: &MaintenancePlan, now: i64) -> Self {
        PlanView {
            id: ids::plan(plan.id),
            title: plan.title.clone(),
            summary: plan.summary.clone(),
            impact_minutes: plan.impact_minutes,
            unscheduled: plan.unscheduled,
            created_at: rfc3339(plan.created_at),
            phases: plan
                .windows
                .iter()
                .map(|w| WindowView::new(w, now))
                .collect(),
        }
    }
}
