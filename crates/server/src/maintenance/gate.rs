//! The gate in front of every request: while a downtime closes what a request needs (or the
//! database does not answer), the request is refused — a page with 503, `Retry-After` and the
//! maintenance page; an API call with 503, `Retry-After` and
//! `{"error": "maintenance", "message", "retry_after", "expected_end"}` — unless it carries
//! the operator bypass cookie. Everything else (the admin API, operational endpoints, the
//! status API and feeds, assets) stays open.
//!
//! Requests that pass are counted in flight, so `maintenance begin` can wait for them.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::node::{DESIGN, END_CUSTOMERS, Refusal};
use super::page;
use crate::clock::rfc3339;
use crate::state::AppState;

/// The cookie the bypass link sets.
pub const BYPASS_COOKIE: &str = "holdfast_maintenance_bypass";

/// The longest `Retry-After` given, so that clients notice an early end at once.
pub const MAX_RETRY_AFTER: i64 = 30;

/// What kind of request this is: which closure applies to it, and whether it is a page.
pub fn classify(method: &Method, path: &str) -> Option<(u8, bool)> {
    if path.starts_with("/p/") || path.starts_with("/s/") {
        return Some((END_CUSTOMERS, true));
    }
    if path.starts_with("/api/v1/sessions/")
        || (path.starts_with("/api/v1/orgs/") && path.ends_with("/sessions"))
    {
        return Some((END_CUSTOMERS, false));
    }
    if path == "/builder" || path.starts_with("/builder/") {
        return Some((DESIGN, true));
    }
    if method == Method::POST {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if let ["", "api", "v1", "admin", "orgs", _, "processes"] = parts.as_slice() {
            return Some((DESIGN, false));
        }
    }
    None
}

/// The operator bypass secret in the request's cookies, if any.
fn bypass_cookie(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BYPASS_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

/// Seconds until a client should look again: at most 30.
pub fn retry_after(refusal: &Refusal, now: i64) -> i64 {
    match refusal {
        Refusal::DatabaseUnavailable => 5,
        Refusal::Downtime {
            expected_end: Some(end),
        } if *end > now => ((end - now + 999) / 1000).clamp(5, MAX_RETRY_AFTER),
        Refusal::Downtime { .. } => 15,
    }
}

#[derive(Serialize)]
struct MaintenanceBody {
    error: &'static str,
    message: String,
    retry_after: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_end: Option<String>,
}

/// The middleware.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some((kind, is_page)) = classify(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let bypass = bypass_cookie(&request);
    let node = state.maintenance.clone();
    match node.enter(kind, bypass.as_deref()) {
        Ok(in_flight) => {
            let response = next.run(request).await;
            drop(in_flight);
            response
        }
        Err(refusal) => refuse(&state, &refusal, kind, is_page),
    }
}

/// The answer to a refused request.
pub fn refuse(state: &AppState, refusal: &Refusal, kind: u8, is_page: bool) -> Response {
    let now = state.clock.now_millis();
    let retry = retry_after(refusal, now);
    let expected_end = match refusal {
        Refusal::Downtime { expected_end } => expected_end.filter(|end| *end > now),
        Refusal::DatabaseUnavailable => None,
    };
    let mut response = if is_page {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(page::render(refusal, expected_end, retry, kind)),
        )
            .into_response()
    } else {
        let message = match (refusal, expected_end) {
            (Refusal::DatabaseUnavailable, _) => {
                "The service is briefly unavailable. Nothing you entered is lost; keep it and try again shortly.".to_owned()
            }
            (Refusal::Downtime { .. }, Some(end)) => format!(
                "The service is down for maintenance until about {}. Nothing you entered is lost; keep it and try again then.",
                rfc3339(end)
            ),
            (Refusal::Downtime { .. }, None) => {
                "The service is down for maintenance. Nothing you entered is lost; keep it and try again shortly.".to_owned()
            }
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(MaintenanceBody {
                error: "maintenance",
                message,
                retry_after: retry,
                expected_end: expected_end.map(rfc3339),
            }),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified() {
        assert_eq!(
            classify(&Method::GET, "/p/acme/claim"),
            Some((END_CUSTOMERS, true))
        );
        assert_eq!(
            classify(&Method::POST, "/s/abc"),
            Some((END_CUSTOMERS, true))
        );
        assert_eq!(
            classify(&Method::PATCH, "/api/v1/sessions/abc"),
            Some((END_CUSTOMERS, false))
        );
        assert_eq!(
            classify(&Method::POST, "/api/v1/orgs/acme/processes/claim/sessions"),
            Some((END_CUSTOMERS, false))
        );
        assert_eq!(
            classify(&Method::POST, "/api/v1/admin/orgs/acme/processes"),
            Some((DESIGN, false))
        );
        assert_eq!(
            classify(&Method::GET, "/api/v1/admin/orgs/acme/processes"),
            None
        );
        assert_eq!(classify(&Method::GET, "/api/v1/status"), None);
        assert_eq!(classify(&Method::GET, "/readyz"), None);
    }

    #[test]
    fn retry_after_is_at_most_thirty_seconds() {
        let far = Refusal::Downtime {
            expected_end: Some(10_000_000),
        };
        assert_eq!(retry_after(&far, 0), 30);
        let near = Refusal::Downtime {
            expected_end: Some(12_000),
        };
        assert_eq!(retry_after(&near, 0), 12);
        assert_eq!(
            retry_after(&Refusal::Downtime { expected_end: None }, 0),
            15
        );
        assert_eq!(retry_after(&Refusal::DatabaseUnavailable, 0), 5);
    }
}
