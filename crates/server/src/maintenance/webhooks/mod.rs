//! Webhooks: organisations register endpoints, and hear when a maintenance window that
//! concerns them is scheduled, changed, started, completed or cancelled, and 24 hours and
//! 1 hour before it starts.
//!
//! | module | owns |
//! | --- | --- |
//! | [`admin`] | the admin API: register an endpoint (the secret is shown once), list, remove, the delivery log |
//! | [`events`] | which events a window's history and the clock make, for whom, and their JSON |
//! | [`deliverer`] | the `webhook-deliverer` task: claim due deliveries, post them signed, retry with backoff |
//! | [`signature`] | `Holdfast-Signature`: HMAC-SHA256 over `"{t}.{body}"`, and how to check it |
//!
//! A delivery is a `POST` of `application/json` with the headers `Holdfast-Event` (the
//! event's type), `Holdfast-Delivery` (`wd17`: the same on every attempt of one event to one
//! endpoint, for the receiver to recognise a repeat) and `Holdfast-Signature`. The body is
//! `{"id", "type", "created_at", "reminder"?, "window"}`, where `window` is the window as the
//! status API (`GET /api/v1/status`) shows it at the time of the event.
//!
//! Storage (endpoints, the outbox, deliveries, attempts) is
//! `holdfast_store::maintenance::webhooks`; nothing here writes SQL.

pub mod admin;
pub mod deliverer;
pub mod events;
pub mod signature;

use axum::Router;
use axum::routing::{delete, get};
use holdfast_store::maintenance::webhooks::{DeliveryId, EndpointId};

pub use deliverer::Deliverer;

use crate::state::AppState;

/// `wh3`: an endpoint's public id.
pub fn endpoint_id(id: EndpointId) -> String {
    format!("wh{}", id.0)
}

/// `wd17`: a delivery's public id (the `Holdfast-Delivery` header).
pub fn delivery_id(id: DeliveryId) -> String {
    format!("wd{}", id.0)
}

/// The admin routes (the caller puts them behind the admin token).
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/orgs/{org}/webhooks",
            get(admin::list).post(admin::add),
        )
        .route(
            "/api/v1/admin/orgs/{org}/webhooks/deliveries",
            get(admin::deliveries),
        )
        .route(
            "/api/v1/admin/orgs/{org}/webhooks/{webhook}",
            delete(admin::remove),
        )
}
