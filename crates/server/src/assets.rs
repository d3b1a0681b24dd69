//! Static assets (stylesheet, scripts), embedded in the binary so that a deployment is one
//! file. Served with a short cache lifetime and revalidation, so an upgrade is seen at once.
//!
//! The page script's service worker (`assets/sw.js`) is also served at `/sw.js`, because a
//! service worker can only look after pages at or below its own path and it must keep the
//! session pages (`/s/…`) for when the server cannot be reached.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// The service worker's file in `assets/`.
const SERVICE_WORKER: &str = "sw.js";

/// `GET /sw.js`: the service worker, revalidated on every check (`no-cache`) so that a new
/// version is picked up by the next page load.
pub async fn service_worker() -> Response {
    let Some(file) = Assets::get(SERVICE_WORKER) else {
        return (StatusCode::NOT_FOUND, "no such asset\n").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

/// `GET /assets/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "no such asset\n").into_response();
    };
    let content_type = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") | Some("webmanifest") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                "public, max-age=300, must-revalidate",
            ),
        ],
        file.data.into_owned(),
    )
        .into_response()
}
