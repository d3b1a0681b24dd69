//! `/api/v1/admin/orgs`: customer organisations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use holdfast_store::{NewOrg, Org};
use serde::{Deserialize, Serialize};

use crate::config::is_valid_slug;
use crate::error::AppError;
use crate::json::Body;
use crate::state::AppState;
use crate::{clock, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    slug: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

/// An organisation as the admin API shows it.
#[derive(Serialize)]
pub struct OrgView {
    slug: String,
    name: String,
    region: String,
    created_at: String,
}

impl From<Org> for OrgView {
    fn from(org: Org) -> Self {
        OrgView {
            slug: org.slug,
            name: org.name,
            region: org.region,
            created_at: clock::rfc3339(org.created_at),
        }
    }
}

/// `POST /api/v1/admin/orgs`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<(StatusCode, Json<OrgView>), AppError> {
    let body: CreateOrg = json::parse(&body, None)?;
    if !is_valid_slug(&body.slug) {
        return Err(AppError::invalid_field(
            "slug",
            "must be 1 to 64 lowercase letters, digits and hyphens, starting with a letter or digit",
        ));
    }
    let region = body.region.unwrap_or_else(|| state.config.region.clone());
    if !state.config.regions.contains(&region) {
        return Err(AppError::invalid_field(
            "region",
            format!(
                "unknown region {region:?}; this platform's regions are {}",
                state.config.regions.join(", ")
            ),
        ));
    }
    let name = body.name.unwrap_or_else(|| body.slug.clone());
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid_field(
            "name",
            "must be 1 to 200 characters",
        ));
    }
    let org = state
        .store
        .create_org(
            NewOrg {
                slug: body.slug,
                name,
                region,
            },
            state.clock.now_millis(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// `GET /api/v1/admin/orgs`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Vec<OrgView>>, AppError> {
    let orgs = state.store.list_orgs().await?;
    Ok(Json(orgs.into_iter().map(OrgView::from).collect()))
}
