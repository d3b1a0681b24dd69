//! Off-peak suggestions: from the activity recorded per hour of the week (distinct end
//! customers' sessions that changed, in the region, over the last weeks; publications for the
//! development environment), the windows of the asked length that would affect the fewest,
//! with the number expected per week.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;
use crate::error::AppError;
use crate::state::AppState;

const HOUR: i64 = 3_600_000;
const WEEK_HOURS: i64 = 168;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuggestQuery {
    environment: String,
    region: String,
    /// `2h`, `90m` …
    duration: String,
    /// How many weeks of history to learn from (default 4).
    #[serde(default)]
    weeks: Option<i64>,
    /// How many windows to propose (default 3).
    #[serde(default)]
    count: Option<usize>,
    /// How far ahead the earliest proposal is, in hours (default 72: the banner's lead).
    #[serde(default)]
    notice_hours: Option<i64>,
}

/// One proposed window.
#[derive(Debug, Serialize, PartialEq)]
pub struct Suggestion {
    start: String,
    end: String,
    /// "Sunday 03:00–05:00 UTC".
    weekly: String,
    /// Sessions (publications, for development) expected in it, on average per week.
    expected: f64,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Suggestions {
    environment: String,
    region: String,
    duration_minutes: i64,
    weeks: i64,
    /// What `expected` counts: `sessions` or `publications`.
    counting: &'static str,
    suggestions: Vec<Suggestion>,
}

/// 0 = Monday 00:00 UTC (the epoch was a Thursday).
fn hour_of_week(hour: i64) -> i64 {
    (hour + 72).rem_euclid(WEEK_HOURS)
}

/// Ranks start hours of the week by expected activity in `hours` hours, given activity as
/// (who, absolute hour); `who` is None when every event counts.
pub fn rank(events: &[(Option<i64>, i64)], hours: i64, weeks: i64) -> Vec<(i64, f64)> {
    let mut ranked: Vec<(i64, f64)> = (0..WEEK_HOURS)
        .map(|start| {
            let mut seen: HashSet<(i64, i64)> = HashSet::new();
            let mut anonymous = 0usize;
            for (who, hour) in events {
                let offset = (hour_of_week(*hour) - start).rem_euclid(WEEK_HOURS);
                if offset < hours {
                    // The week this occurrence of the window started in.
                    let week = (hour - offset).div_euclid(WEEK_HOURS);
                    match who {
                        Some(id) => {
                            seen.insert((week, *id));
                        }
                        None => anonymous += 1,
                    }
                }
            }
            let total = seen.len() + anonymous;
            #[allow(clippy::cast_precision_loss)]
            let expected = total as f64 / weeks.max(1) as f64;
            (start, expected)
        })
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    ranked
}

/// `GET /api/v1/admin/maintenance/suggest?environment=…&region=…&duration=2h`.
pub(crate) async fn suggest(
    State(state): State<AppState>,
    Query(query): Query<SuggestQuery>,
) -> Result<Json<Suggestions>, AppError> {
    if query.environment != "production" && query.environment != "development" {
        return Err(AppError::invalid_field(
            "environment",
            format!(
                "unknown environment {:?}: expected production or development",
                query.environment
            ),
        ));
    }
    if !state.config.regions.contains(&query.region) {
        return Err(AppError::invalid_field(
            "region",
            format!(
                "unknown region {:?}; this platform's regions are {}",
                query.region,
                state.config.regions.join(", ")
            ),
        ));
    }
    let duration: jiff::SignedDuration =
        query.duration.trim().parse().map_err(|_| {
            AppError::invalid_field("duration", "must be a duration such as 2h or 90m")
        })?;
    let duration_ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    if duration_ms <= 0 || duration_ms > state.config.maintenance.max_window_ms {
        return Err(AppError::invalid_field(
            "duration",
            format!(
                "must be positive and at most {} (the --max-window limit)",
                super::plan::minutes_text(state.config.maintenance.max_window_ms)
            ),
        ));
    }
    let weeks = query.weeks.unwrap_or(4);
    if !(1..=52).contains(&weeks) {
        return Err(AppError::invalid_field("weeks", "must be 1 to 52"));
    }
    let count = query.count.unwrap_or(3).clamp(1, 20);
    let notice = query.notice_hours.unwrap_or(72).clamp(0, 24 * 365);
    let hours = (duration_ms + HOUR - 1) / HOUR;
    let now = state.clock.now_millis();
    let since = now - weeks * WEEK_HOURS * HOUR;
    let (events, counting): (Vec<(Option<i64>, i64)>, _) = if query.environment == "production" {
        let activity = state.store.session_activity(since).await?;
        (
            activity
                .into_iter()
                .filter(|(_, region, _)| *region == query.region)
                .map(|(session, _, hour)| (Some(session.0), hour))
                .collect(),
            "sessions",
        )
    } else {
        let activity = state.store.design_activity(since).await?;
        (
            activity
                .into_iter()
                .filter(|(region, _)| *region == query.region)
                .map(|(_, hour)| (None, hour))
                .collect(),
            "publications",
        )
    };
    let ranked = rank(&events, hours, weeks);
    let earliest_hour = (now + notice * HOUR + HOUR - 1).div_euclid(HOUR);
    let mut chosen: Vec<(i64, f64)> = Vec::new();
    for (start, expected) in ranked {
        // Proposals do not overlap each other.
        let clashes = chosen.iter().any(|(other, _)| {
            let distance = (start - other).rem_euclid(WEEK_HOURS);
            distance < hours || WEEK_HOURS - distance < hours
        });
        if !clashes {
            chosen.push((start, expected));
        }
        if chosen.len() == count {
            break;
        }
    }
    let suggestions = chosen
        .into_iter()
        .map(|(start, expected)| {
            let wait = (start - hour_of_week(earliest_hour)).rem_euclid(WEEK_HOURS);
            let starts_at = (earliest_hour + wait) * HOUR;
            let ends_at = starts_at + duration_ms;
            Suggestion {
                start: rfc3339(starts_at),
                end: rfc3339(ends_at),
                weekly: format!(
                    "{}–{}",
                    super::in_zone(starts_at, &jiff::tz::TimeZone::UTC, "%A %H:%M"),
                    super::human_time_only(ends_at)
                ),
                expected: (expected * 10.0).round() / 10.0,
            }
        })
        .collect();
    Ok(Json(Suggestions {
        environment: query.environment,
        region: query.region,
        duration_minutes: duration_ms / 60_000,
        weeks,
        counting,
        suggestions,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_come_first() {
        // Monday 00:00 UTC of some week, as an absolute hour.
        let monday = 96 + WEEK_HOURS * 2900;
        assert_eq!(hour_of_week(monday), 0);
        // Busy every hour of the week except Sunday 02:00–05:00, over 2 weeks.
        let mut events = Vec::new();
        for week in 0..2 {
            for h in 0..WEEK_HOURS {
                if !(6 * 24 + 2..6 * 24 + 5).contains(&h) {
                    events.push((Some(h + 1000 * week), monday + week * WEEK_HOURS + h));
                }
            }
        }
        let ranked = rank(&events, 2, 2);
        assert_eq!(ranked[0], (6 * 24 + 2, 0.0));
        assert_eq!(ranked[1].0, 6 * 24 + 3);
        assert!(ranked[2].1 > 0.0);
    }
}
