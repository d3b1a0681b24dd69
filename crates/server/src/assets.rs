//! Static assets (stylesheet, scripts), embedded in the binary so that a deployment is one
//! file.
//!
//! Pages name them at `/assets/{version}/{name}`, where the version is a hash of the content of
//! every asset, computed at start-up; they are answered with a cache lifetime of a year,
//! `immutable`. The version is one for the whole set, in the path rather than a query, so that
//! the ES modules' relative imports (`./sync.js`) resolve within the same version by
//! themselves: a page and every module it loads are of one build, without rewriting a file. A
//! new build with changed assets has a new version, so its pages never run the old scripts,
//! nor old pages the new ones: another version's address is answered 404 (`no-store`), and
//! the page then works as plain HTML. Unversioned addresses (`/assets/{name}`, named by pages
//! kept on devices before the versions) are answered with the current file and `no-cache`.
//!
//! The page script's service worker (`assets/sw.js`) is also served at `/sw.js`, because a
//! service worker can only look after pages at or below its own path and it must keep the
//! session pages (`/s/…`) for when the server cannot be reached. It is registered as
//! `/sw.js?v={version}`: a new version of the assets is a new worker, which keeps them.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// The service worker's file in `assets/`.
const SERVICE_WORKER: &str = "sw.js";

/// A versioned asset never changes: browsers and proxies may keep it for a year unasked.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The version of the assets: the first 16 hex digits of a SHA-256 over every asset's name
/// and content, so the same build gives the same version on every node and start.
pub fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut names: Vec<_> = Assets::iter().collect();
        names.sort();
        let mut hash = Sha256::new();
        for name in names {
            let Some(file) = Assets::get(&name) else {
                continue;
            };
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(file.metadata.sha256_hash());
        }
        hash.finalize()[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    });
    &VERSION
}

/// `GET /sw.js`: the service worker, revalidated on every check (`no-cache`) so that a new
/// version is picked up by the next page load.
pub async fn service_worker() -> Response {
    file(SERVICE_WORKER, "no-cache")
}

/// `GET /assets/{version}/{name}` (immutable), or `/assets/{name}` (revalidated).
pub async fn serve(Path(path): Path<String>) -> Response {
    match path.split_once('/') {
        Some((wanted, name)) if wanted == version() => file(name, IMMUTABLE),
        Some(_) => not_found(),
        None => file(&path, "no-cache"),
    }
}

fn file(name: &str, cache_control: &'static str) -> Response {
    let Some(file) = Assets::get(name) else {
        return not_found();
    };
    let content_type = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") | Some("webmanifest") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache_control),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

/// Not cached: the address may be served by another node of a deployment being upgraded.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        "no such asset\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_sixteen_hex_digits_and_stable() {
        assert_eq!(version().len(), 16);
        assert!(version().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(version(), version());
    }
}
