//! The admin API for an organisation's webhook endpoints: register (the secret is shown
//! once), list, remove, and the delivery log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use holdfast_store::maintenance::webhooks::{
    EndpointId, NewEndpoint, WebhookDelivery, WebhookEndpoint, WebhookSecret,
};
use holdfast_store::{Org, StoreError};
use serde::{Deserialize, Serialize};

use super::{delivery_id, endpoint_id, signature};
use crate::clock::rfc3339;
use crate::error::AppError;
use crate::json::Body;
use crate::maintenance::ids;
use crate::state::AppState;

/// The longest URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// The most endpoints an organisation may register.
pub const MAX_ENDPOINTS_PER_ORG: i64 = 10;

/// The shortest and longest secret an operator may choose.
pub const SECRET_LEN: std::ops::RangeInclusive<usize> = 32..=256;

/// The delivery log's default and largest page.
const DELIVERIES_DEFAULT: i64 = 50;
const DELIVERIES_MAX: i64 = 500;

/// Checks an endpoint URL; answers it normalised, or what is wrong with it.
pub fn check_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if text.len() > MAX_URL_LEN {
        return Err(format!(
            "must be at most {MAX_URL_LEN} characters (it has {})",
            text.len()
        ));
    }
    let url = reqwest::Url::parse(text).map_err(|error| format!("is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http:// or https:// URL, not {}:",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain a user name or password: deliveries are signed with the secret instead"
                .to_owned(),
        );
    }
    if url.fragment().is_some() {
        return Err("must not contain a #fragment".to_owned());
    }
    let normalised = url.to_string();
    if normalised.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    Ok(normalised)
}

/// Checks a secret an operator chose.
pub fn check_secret(secret: &str) -> Result<(), String> {
    let length = secret.chars().count();
    if !SECRET_LEN.contains(&length) {
        return Err(format!(
            "must be {} to {} characters (it has {length}); leave it out to have one generated",
            SECRET_LEN.start(),
            SECRET_LEN.end()
        ));
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".to_owned());
    }
    Ok(())
}

async fn find_org(state: &AppState, slug: &str) -> Result<Org, AppError> {
    state
        .store
        .org(slug)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no organisation {slug:?}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    url: String,
    #[serde(default)]
    secret: Option<String>,
}

/// An endpoint as the admin API shows it (never with its secret).
#[derive(Serialize)]
pub struct EndpointView {
    id: String,
    org: String,
    url: String,
    created_at: String,
}

impl EndpointView {
    fn new(endpoint: &WebhookEndpoint, org: &Org) -> Self {
        EndpointView {
            id: endpoint_id(endpoint.id),
            org: org.slug.clone(),
            url: endpoint.url.clone(),
            created_at: rfc3339(endpoint.created_at),
        }
    }
}

/// The answer to registering: the endpoint and, this once, its secret.
#[derive(Serialize)]
pub struct Registered {
    #[serde(flatten)]
    endpoint: EndpointView,
    /// The signing secret, shown once.
    secret: String,
}

/// `POST /api/v1/admin/orgs/{org}/webhooks`: `{"url", "secret"?}`.
pub(crate) async fn add(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Body(body): Body,
) -> Result<(StatusCode, Json<Registered>), AppError> {
    let org = find_org(&state, &org).await?;
    let body: AddBody = crate::json::parse(&body, None)?;
    let url = check_url(&body.url).map_err(|message| AppError::invalid_field("url", message))?;
    let secret = match body.secret {
        Some(secret) => {
            check_secret(&secret).map_err(|message| AppError::invalid_field("secret", message))?;
            secret
        }
        None => signature::generate_secret(),
    };
    let endpoint = state
        .store
        .add_webhook_endpoint(
            NewEndpoint {
                org: org.id,
                url,
                secret: WebhookSecret::new(secret),
            },
            MAX_ENDPOINTS_PER_ORG,
            state.clock.now_millis(),
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(what) if what.starts_with("the most") => {
                AppError::Conflict(format!("{} has reached {what}: remove one first", org.slug))
            }
            StoreError::Conflict(_) => AppError::Conflict(format!(
                "{} has an endpoint with this URL already",
                org.slug
            )),
            StoreError::NotFound => {
                AppError::NotFound(format!("there is no organisation {:?}", org.slug))
            }
            other => other.into(),
        })?;
    tracing::info!(org = %org.slug, webhook = %endpoint_id(endpoint.id), "webhook endpoint registered");
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            endpoint: EndpointView::new(&endpoint, &org),
            secret: endpoint.secret.expose().to_owned(),
        }),
    ))
}

/// `GET /api/v1/admin/orgs/{org}/webhooks`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Json<Vec<EndpointView>>, AppError> {
    let org = find_org(&state, &org).await?;
    let endpoints = state.store.webhook_endpoints(org.id).await?;
    Ok(Json(
        endpoints
            .iter()
            .map(|e| EndpointView::new(e, &org))
            .collect(),
    ))
}

/// `DELETE /api/v1/admin/orgs/{org}/webhooks/{webhook}`: deliveries still owed are cancelled.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((org, webhook)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let org = find_org(&state, &org).await?;
    let not_found = || {
        AppError::NotFound(format!(
            "{} has no webhook endpoint {webhook:?} (ids look like wh3: see holdfast webhook list)",
            org.slug
        ))
    };
    let id = parse_endpoint_id(&webhook).ok_or_else(not_found)?;
    match state
        .store
        .remove_webhook_endpoint(org.id, id, state.clock.now_millis())
        .await
    {
        Ok(()) => {
            tracing::info!(org = %org.slug, webhook = %endpoint_id(id), "webhook endpoint removed");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}

/// `wh3` or `3`.
fn parse_endpoint_id(text: &str) -> Option<EndpointId> {
    let digits = text.trim();
    let digits = digits
        .strip_prefix("wh")
        .or_else(|| digits.strip_prefix("WH"))
        .unwrap_or(digits);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(EndpointId)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveriesQuery {
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Serialize)]
struct EventRef {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    window: String,
}

#[derive(Serialize)]
struct AttemptView {
    attempt: i64,
    started_at: String,
    duration_ms: i64,
    status_code: Option<i64>,
    error: Option<String>,
}

/// One delivery in the log.
#[derive(Serialize)]
pub struct DeliveryView {
    id: String,
    webhook: String,
    url: String,
    event: EventRef,
    state: String,
    attempts: i64,
    next_attempt_at: Option<String>,
    created_at: String,
    updated_at: String,
    log: Vec<AttemptView>,
}

impl From<&WebhookDelivery> for DeliveryView {
    fn from(d: &WebhookDelivery) -> Self {
        DeliveryView {
            id: delivery_id(d.id),
            webhook: endpoint_id(d.endpoint_id),
            url: d.url.clone(),
            event: EventRef {
                id: d.event_id.clone(),
                kind: d.event_type.clone(),
                window: ids::window(d.window_id),
            },
            state: d.state.clone(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            log: d
                .log
                .iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    started_at: rfc3339(a.record.started_at),
                    duration_ms: a.record.duration_ms,
                    status_code: a.record.status_code,
                    error: a.record.error.clone(),
                })
                .collect(),
        }
    }
}

/// `GET /api/v1/admin/orgs/{org}/webhooks/deliveries?limit=N`: the newest deliveries first.
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryView>>, AppError> {
    let org = find_org(&state, &org).await?;
    let limit = query.limit.unwrap_or(DELIVERIES_DEFAULT);
    if !(1..=DELIVERIES_MAX).contains(&limit) {
        return Err(AppError::invalid_field(
            "limit",
            format!("must be between 1 and {DELIVERIES_MAX}"),
        ));
    }
    let deliveries = state.store.webhook_deliveries(org.id, limit).await?;
    Ok(Json(deliveries.iter().map(DeliveryView::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_and_plain() {
        assert_eq!(
            check_url(" https://hooks.example.org/holdfast?x=1 ").as_deref(),
            Ok("https://hooks.example.org/holdfast?x=1")
        );
        assert_eq!(
            check_url("http://127.0.0.1:9000").as_deref(),
            Ok("http://127.0.0.1:9000/")
        );
        assert!(check_url("ftp://example.org/").is_err());
        assert!(check_url("javascript:alert(1)").is_err());
        assert!(check_url("example.org/hook").is_err());
        assert!(check_url("").is_err());
        assert!(check_url("https://user:pw@example.org/").is_err());
        assert!(check_url("https://example.org/#x").is_err());
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_LEN));
        assert!(matches!(check_url(&long), Err(m) if m.contains("at most 2048")));
    }

    #[test]
    fn chosen_secrets_are_long_and_plain() {
        assert!(check_secret(&"s".repeat(32)).is_ok());
        assert!(check_secret("short").is_err());
        assert!(check_secret(&format!("{} x", "s".repeat(40))).is_err());
        assert!(check_secret(&"s".repeat(257)).is_err());
    }

    #[test]
    fn endpoint_ids_read_back() {
        assert_eq!(parse_endpoint_id("wh3"), Some(EndpointId(3)));
        assert_eq!(parse_endpoint_id("3"), Some(EndpointId(3)));
        assert_eq!(parse_endpoint_id("w3"), None);
        assert_eq!(parse_endpoint_id("{webhook}"), None);
    }
}
