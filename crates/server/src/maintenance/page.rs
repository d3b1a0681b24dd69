//! The maintenance page end customers get instead of the form while the service is down: when
//! it is expected back, that their answers are saved, and that it checks every 30 seconds and
//! takes them back to the form — with JavaScript (`assets/maintenance.js`) or, without, by a
//! meta refresh of the same address.

use askama::Template;

use super::node::{DESIGN, Refusal};

#[derive(Template)]
#[template(path = "maintenance.html")]
struct MaintenancePage {
    heading: &'static str,
    reason: String,
    expected_end: Option<String>,
    expected_end_text: Option<String>,
    retry: i64,
    design: bool,
}

/// The page for a refused request of `kind`.
pub fn render(refusal: &Refusal, expected_end: Option<i64>, retry: i64, kind: u8) -> String {
    let (heading, reason) = match refusal {
        Refusal::DatabaseUnavailable => (
            "Back in a moment",
            "The service is briefly unavailable.".to_owned(),
        ),
        Refusal::Downtime { .. } => (
            "Down for maintenance",
            "We are carrying out maintenance to keep the service fast and secure.".to_owned(),
        ),
    };
    let page = MaintenancePage {
        heading,
        reason,
        expected_end: expected_end.map(crate::clock::rfc3339),
        expected_end_text: expected_end.map(super::human_utc),
        retry,
        design: kind == DESIGN,
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "the maintenance page failed to render");
        String::from("<!doctype html><title>Down for maintenance</title><p>Down for maintenance. Your answers are saved.</p>")
    })
}
