//! `GET /api/v1/availability`: how a page that was refused (503, or no connection) learns
//! the moment end customers' requests are open again, instead of waiting for a timer.
//!
//! A long poll: with `?wait=SECONDS` (at most 25) the answer is held while this node refuses
//! end customers (a downtime, or a database that does not answer) and given as soon as it
//! opens again, or when the wait is over. Thousands of pages waiting cost a task and a socket
//! each; none of them counts as a request in flight, so they never hold up a drain, and the
//! gate does not refuse them. When the node opens, the answer says over how long the waiting
//! pages should spread their return (`spread_ms`, growing with how many waited, at most
//! 3 s), so that they come back within seconds but not all in the same millisecond.

use std::time::Duration;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::gate::retry_after;
use super::node::{END_CUSTOMERS, Refusal};
use crate::error::AppError;
use crate::state::AppState;

/// The longest a request is held.
pub const MAX_WAIT_SECONDS: u64 = 25;
/// The longest spread of a return.
const MAX_SPREAD_MS: u64 = 3_000;
/// How long of the spread each returning page adds: 2,000 pages spread over a second.
const SPREAD_MS_PER_PAGE: f64 = 0.5;

#[derive(Serialize)]
struct Availability {
    /// Whether end customers' pages and session API are open on this node.
    open: bool,
    /// Open: spread the return over this many milliseconds (a random share of it each).
    spread_ms: u64,
    /// Closed: seconds until asking again makes sense.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<i64>,
}

/// Over how long `returning` pages should spread their return.
fn spread_ms(returning: usize) -> u64 {
    // Realistic counts are far below where the f64 conversion loses anything.
    let spread = (returning as f64 * SPREAD_MS_PER_PAGE).round() as u64;
    spread.min(MAX_SPREAD_MS)
}

/// Seconds to hold the answer, from `?wait=N`; anything else in the query is refused by name.
fn wait_seconds(query: Option<&str>) -> Result<u64, AppError> {
    let mut wait = 0;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("wait", value)) => {
                wait = value.parse::<u64>().map_err(|_| {
                    AppError::BadRequest(format!(
                        "wait must be a whole number of seconds (0 to {MAX_WAIT_SECONDS}), not {value:?}"
                    ))
                })?;
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "unknown query parameter {pair:?}: only wait=SECONDS is understood"
                )));
            }
        }
    }
    Ok(wait.min(MAX_WAIT_SECONDS))
}

/// The handler.
pub(crate) async fn availability(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let wait = wait_seconds(query.as_deref())?;
    let node = &state.maintenance;
    let open = if wait == 0 {
        node.open_for(END_CUSTOMERS)
    } else {
        node.wait_open(END_CUSTOMERS, Duration::from_secs(wait))
            .await
    };
    let body = if open {
        Availability {
            open,
            spread_ms: spread_ms(node.returning()),
            retry_after: None,
        }
    } else {
        let snapshot = node.snapshot();
        let refusal = if snapshot.database_unavailable {
            Refusal::DatabaseUnavailable
        } else {
            Refusal::Downtime {
                expected_end: snapshot
                    .downtimes
                    .iter()
                    .filter(|d| node.closes(d) & END_CUSTOMERS != 0)
                    .filter_map(|d| d.expected_end)
                    .max(),
            }
        };
        Availability {
            open,
            spread_ms: 0,
            retry_after: Some(retry_after(&refusal, state.clock.now_millis())),
        }
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_read_or_refused_by_name() {
        assert_eq!(wait_seconds(None).ok(), Some(0));
        assert_eq!(wait_seconds(Some("wait=10")).ok(), Some(10));
        assert_eq!(wait_seconds(Some("wait=9999")).ok(), Some(MAX_WAIT_SECONDS));
        let bad = wait_seconds(Some("wait=abc")).err().map(|e| e.to_string());
        assert!(bad.is_some_and(|m| m.contains("whole number")));
        let unknown = wait_seconds(Some("x=1")).err().map(|e| e.to_string());
        assert!(unknown.is_some_and(|m| m.contains("unknown query parameter")));
    }

    #[test]
    fn the_return_spreads_with_the_number_waiting_up_to_three_seconds() {
        assert_eq!(spread_ms(0), 0);
        assert_eq!(spread_ms(1), 1);
        assert_eq!(spread_ms(1_000), 500);
        assert_eq!(spread_ms(5_000), 2_500);
        assert_eq!(spread_ms(1_000_000), 3_000);
    }
}
