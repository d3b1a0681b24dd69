//! What happens to a maintenance window, as webhook events in the store's outbox.
//!
//! Every change to a window is already written to its update history in the transaction
//! that makes it (scheduling, cancelling, a downtime beginning or ending) or, for the changes
//! the clock makes, once by whichever node's `maintenance-poller` sees them first. That
//! history is the source: the deliverer announces each update that has no event yet, so an
//! event is never lost to a crash between the change and its announcement, and never written
//! twice (the store keeps one event per update). Reminders are not updates: they are written
//! once per window and lead time, under a unique key.
//!
//! | update | event |
//! | --- | --- |
//! | `scheduled` | `maintenance.scheduled` |
//! | the window's first `in_progress` (its start, or a downtime begun early) | `maintenance.started` |
//! | a later `in_progress` (another downtime), `verifying` (the downtime ended early) | `maintenance.changed` |
//! | `completed` | `maintenance.completed` |
//! | `cancelled` | `maintenance.cancelled` |
//! | 24 hours and 1 hour before the start | `maintenance.reminder` (with `"reminder": "24h"` or `"1h"`) |
//!
//! Who hears of it: the organisations whose home region the window covers (all of them for
//! `regions: all`); a development-environment window concerns the Builder, which every
//! organisation uses, so every organisation hears of it.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use holdfast_store::StoreError;
use holdfast_store::maintenance::webhooks::NewEvent;
use holdfast_store::maintenance::{MaintenanceUpdate, MaintenanceWindow, Regions, WindowId};
use serde::Serialize;

use crate::clock::rfc3339;
use crate::maintenance::public::{Item, item};
use crate::maintenance::status::{Status, status};
use crate::state::AppState;

/// A window was scheduled.
pub const SCHEDULED: &str = "maintenance.scheduled";
/// Something about a window changed (a downtime began again, or ended before the window did).
pub const CHANGED: &str = "maintenance.changed";
/// A window started.
pub const STARTED: &str = "maintenance.started";
/// A window is over.
pub const COMPLETED: &str = "maintenance.completed";
/// A window was called off.
pub const CANCELLED: &str = "maintenance.cancelled";
/// A window starts in 24 hours, or in 1 hour.
pub const REMINDER: &str = "maintenance.reminder";

/// The reminders: how long before the start, and how the event names it.
pub const REMINDERS: [(i64, &str); 2] = [(24 * 3_600_000, "24h"), (3_600_000, "1h")];

/// How many updates one turn announces at most.
const UPDATES_PER_TURN: i64 = 100;

/// The body every endpoint receives.
#[derive(Serialize)]
struct EventBody<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reminder: Option<&'a str>,
    window: Item,
}

/// The event an update announces.
pub fn event_type(update: &MaintenanceUpdate, window: &MaintenanceWindow) -> &'static str {
    match update.status.as_str() {
        "scheduled" => SCHEDULED,
        "cancelled" => CANCELLED,
        "completed" => COMPLETED,
        "in_progress" => {
            let first = window
                .updates
                .iter()
                .filter(|u| u.status == "in_progress")
                .map(|u| u.id)
                .min();
            if first == Some(update.id) {
                STARTED
            } else {
                CHANGED
            }
        }
        _ => CHANGED,
    }
}

/// The organisations' home regions a window's events go to.
pub fn audience(window: &MaintenanceWindow) -> Regions {
    if window.environment == "development" {
        Regions::All
    } else {
        window.regions.clone()
    }
}

fn new_event(
    state: &AppState,
    window: &MaintenanceWindow,
    kind: &str,
    key: String,
    at: i64,
    reminder: Option<&str>,
) -> Result<NewEvent, StoreError> {
    let public_id = format!("evt_{}", crate::tokens::public_id());
    let body = EventBody {
        id: &public_id,
        kind,
        created_at: rfc3339(at),
        reminder,
        window: item(state, window, at),
    };
    let body = serde_json::to_string(&body)
        .map_err(|error| StoreError::Corrupt(format!("an event does not serialize: {error}")))?;
    Ok(NewEvent {
        public_id,
        key,
        update_id: None,
        window: window.id,
        event_type: kind.to_owned(),
        body,
        audience: audience(window),
    })
}

/// Writes an event for every window update not announced yet; answers how many it wrote.
pub async fn announce_updates(state: &AppState) -> Result<usize, StoreError> {
    let updates = state.store.unannounced_updates(UPDATES_PER_TURN).await?;
    let mut windows: HashMap<WindowId, MaintenanceWindow> = HashMap::new();
    let mut written = 0;
    for update in updates {
        let window = match windows.entry(update.window_id) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => match state.store.window(update.window_id).await? {
                Some(window) => slot.insert(window),
                None => continue,
            },
        };
        let window = &*window;
        let kind = event_type(&update, window);
        let mut event = new_event(
            state,
            window,
            kind,
            format!("u{}", update.id),
            update.created_at,
            None,
        )?;
        event.update_id = Some(update.id);
        let now = state.clock.now_millis();
        if state
            .store
            .enqueue_webhook_event(event, now)
            .await?
            .is_some()
        {
            written += 1;
            metrics::counter!("holdfast_webhook_events_total", "type" => kind).increment(1);
            tracing::debug!(window = %super::super::ids::window(window.id), event = kind, "webhook event queued");
        }
    }
    Ok(written)
}

/// The reminder due for `window` at `now`, if any: the latest lead time passed, provided the
/// window was scheduled before it and has not started.
pub fn reminder_due(window: &MaintenanceWindow, now: i64) -> Option<&'static str> {
    if status(window, now) != Status::Scheduled {
        return None;
    }
    REMINDERS
        .iter()
        .enumerate()
        .find(|(index, (lead, _))| {
            let point = window.starts_at - lead;
            let next = REMINDERS
                .get(index + 1)
                .map_or(window.starts_at, |(later, _)| window.starts_at - later);
            now >= point && now < next && window.created_at <= point
        })
        .map(|(_, (_, label))| *label)
}

/// Writes the reminders that are due; `written` remembers the ones this node has seen
/// written already, so that it does not try again every turn. Answers how many it wrote.
pub async fn remind(
    state: &AppState,
    now: i64,
    written: &Mutex<HashSet<String>>,
) -> Result<usize, StoreError> {
    let windows = state.store.list_windows(now).await?;
    let mut count = 0;
    for window in &windows {
        let Some(label) = reminder_due(window, now) else {
            continue;
        };
        let key = format!("w{}:reminder:{label}", window.id.0);
        if written.lock().is_ok_and(|seen| seen.contains(&key)) {
            continue;
        }
        let event = new_event(state, window, REMINDER, key.clone(), now, Some(label))?;
        if state
            .store
            .enqueue_webhook_event(event, now)
            .await?
            .is_some()
        {
            count += 1;
            metrics::counter!("holdfast_webhook_events_total", "type" => REMINDER).increment(1);
        }
        if let Ok(mut seen) = written.lock() {
            seen.insert(key);
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_store::maintenance::PlanId;

    const HOUR: i64 = 3_600_000;
    const START: i64 = 1_801_411_200_000;

    fn window(created_at: i64) -> MaintenanceWindow {
        MaintenanceWindow {
            id: WindowId(2),
            plan_id: PlanId(1),
            plan_title: "Upgrade".to_owned(),
            phase: 1,
            name: "Upgrade".to_owned(),
            environment: "production".to_owned(),
            regions: Regions::Some(vec!["apac".to_owned()]),
            starts_at: START,
            ends_at: START + 2 * HOUR,
            impact_minutes: 15,
            message: String::new(),
            cancelled_at: None,
            created_at,
            updated_at: created_at,
            updates: Vec::new(),
            downtimes: Vec::new(),
        }
    }

    fn update(id: i64, status: &str) -> MaintenanceUpdate {
        MaintenanceUpdate {
            id,
            window_id: WindowId(2),
            status: status.to_owned(),
            message: String::new(),
            created_at: START,
        }
    }

    #[test]
    fn reminders_come_24_hours_and_1_hour_before() {
        let w = window(START - 7 * 24 * HOUR);
        assert_eq!(reminder_due(&w, START - 25 * HOUR), None);
        assert_eq!(reminder_due(&w, START - 24 * HOUR), Some("24h"));
        assert_eq!(reminder_due(&w, START - 2 * HOUR), Some("24h"));
        assert_eq!(reminder_due(&w, START - HOUR), Some("1h"));
        assert_eq!(reminder_due(&w, START - 1), Some("1h"));
        assert_eq!(reminder_due(&w, START), None, "started");
        let mut cancelled = w.clone();
        cancelled.cancelled_at = Some(START - 30 * HOUR);
        assert_eq!(reminder_due(&cancelled, START - HOUR), None);
    }

    #[test]
    fn a_window_scheduled_late_gets_only_the_reminders_still_ahead() {
        let w = window(START - 5 * HOUR);
        assert_eq!(reminder_due(&w, START - 4 * HOUR), None);
        assert_eq!(reminder_due(&w, START - HOUR), Some("1h"));
        let w = window(START - HOUR / 2);
        assert_eq!(reminder_due(&w, START - HOUR / 4), None);
    }

    #[test]
    fn updates_name_their_events() {
        let mut w = window(START - 24 * HOUR);
        w.updates = vec![
            update(1, "scheduled"),
            update(2, "in_progress"),
            update(3, "verifying"),
            update(4, "in_progress"),
            update(5, "completed"),
        ];
        let kinds: Vec<&str> = w.updates.iter().map(|u| event_type(u, &w)).collect();
        assert_eq!(kinds, [SCHEDULED, STARTED, CHANGED, CHANGED, COMPLETED]);
        assert_eq!(event_type(&update(6, "cancelled"), &w), CANCELLED);
    }

    #[test]
    fn development_windows_concern_every_organisation() {
        let mut w = window(START);
        assert_eq!(audience(&w), Regions::Some(vec!["apac".to_owned()]));
        w.environment = "development".to_owned();
        assert_eq!(audience(&w), Regions::All);
    }
}
