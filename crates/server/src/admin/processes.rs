//! `/api/v1/admin/orgs/{org}/processes`: publishing and listing process definitions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use holdfast_store::{NewVersion, Org, VersionSummary};
use serde::Serialize;

use crate::clock;
use crate::error::AppError;
use crate::json::Body;
use crate::state::AppState;

/// The organisation named in the path, or 404.
pub(crate) async fn find_org(state: &AppState, slug: &str) -> Result<Org, AppError> {
    state
        .store
        .org(slug)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no organisation {slug:?}")))
}

#[derive(Serialize)]
pub(crate) struct Published {
    process: String,
    version: i64,
    title: String,
    url: String,
}

/// `POST /api/v1/admin/orgs/{org}/processes`: the body is a definition document (YAML or
/// JSON). Publishes it as the process's next version, or answers 422 with every problem.
pub(crate) async fn publish(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Body(body): Body,
) -> Result<Response, AppError> {
    let org = find_org(&state, &org).await?;
    let source = std::str::from_utf8(&body).map_err(|_| {
        AppError::BadRequest("the definition must be UTF-8 text (YAML or JSON)".to_owned())
    })?;
    let definition = match holdfast_definition::parse(source) {
        Ok(definition) => definition,
        Err(errors) => {
            let body = serde_json::json!({
                "error": "invalid_definition",
                "message": format!("the definition has {} problem(s)", errors.0.len()),
                "errors": errors.0,
            });
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
    };
    let version = state
        .store
        .publish_version(
            org.id,
            NewVersion {
                process_slug: definition.slug.clone(),
                title: definition.title.clone(),
                source: source.to_owned(),
            },
            state.clock.now_millis(),
        )
        .await?;
    let published = Published {
        url: format!(
            "{}/p/{}/{}",
            state.public_url(),
            org.slug,
            version.process_slug
        ),
        process: version.process_slug,
        version: version.number,
        title: version.title,
    };
    Ok((StatusCode::CREATED, Json(published)).into_response())
}

#[derive(Serialize)]
pub(crate) struct ProcessView {
    slug: String,
    title: String,
    latest_version: i64,
    updated_at: String,
}

/// `GET /api/v1/admin/orgs/{org}/processes`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    let org = find_org(&state, &org).await?;
    let processes: Vec<ProcessView> = state
        .store
        .list_processes(org.id)
        .await?
        .into_iter()
        .map(|p| ProcessView {
            slug: p.slug,
            title: p.title,
            latest_version: p.latest_version,
            updated_at: clock::rfc3339(p.updated_at),
        })
        .collect();
    Ok(Json(processes).into_response())
}

#[derive(Serialize)]
pub(crate) struct VersionView {
    version: i64,
    title: String,
    published_at: String,
}

impl From<VersionSummary> for VersionView {
    fn from(v: VersionSummary) -> Self {
        VersionView {
            version: v.number,
            title: v.title,
            published_at: clock::rfc3339(v.created_at),
        }
    }
}

/// `GET /api/v1/admin/orgs/{org}/processes/{process}/versions`.
pub(crate) async fn versions(
    State(state): State<AppState>,
    Path((org, process)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let org = find_org(&state, &org).await?;
    let versions = state.store.list_versions(org.id, &process).await?;
    if versions.is_empty() {
        return Err(AppError::NotFound(format!(
            "there is no process {process:?}"
        )));
    }
    let versions: Vec<VersionView> = versions.into_iter().map(VersionView::from).collect();
    Ok(Json(versions).into_response())
}
