//! What operators and load balancers call: liveness, readiness, metrics, and the published
//! documents (OpenAPI description, JSON Schema of the definition format).

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// The OpenAPI description of the HTTP API.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.yaml", get(openapi))
        .route("/schema/process-definition.json", get(definition_schema))
}

/// `GET /healthz`: the process is alive and serving HTTP.
async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: ready for traffic, meaning the store answers and can save autosaves.
async fn readyz(State(state): State<AppState>) -> Response {
    if !state.maintenance.ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: in maintenance\n",
        )
            .into_response();
    }
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(holdfast_store::StoreError::WriterStopped) => {
            tracing::error!("not ready: the change writer has stopped");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the change writer has stopped\n",
            )
                .into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer\n",
            )
                .into_response()
        }
    }
}

/// The process-wide metrics recorder (installed once, shared by every server in the process).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already; /metrics may be empty");
        }
        handle
    })
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!("holdfast_info", "backend" => state.store.backend(), "environment" => state.config.environment.as_str(), "region" => state.config.region.clone()).set(1.0);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML).into_response()
}

async fn definition_schema() -> Response {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        holdfast_definition::FORMAT_JSON_SCHEMA,
    )
        .into_response()
}
