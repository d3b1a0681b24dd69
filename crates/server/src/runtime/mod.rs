//! The end-customer runtime: server-rendered pages that work without JavaScript.
//!
//! `GET /p/{org}/{process}` is the start page; its Start button posts back and is redirected to
//! `/s/{token}`, the session's resume link. Each step is one page; Back, Next and Submit post
//! the step's answers, which are saved every time. This module owns the page flow; answer
//! checking belongs to the definition crate and persistence to the store.
//!
//! With JavaScript, the page script (`assets/holdfast.js` and its modules) saves every change
//! as it is made through the session API, keeps unsaved changes in a journal on the device,
//! and its service worker (`/sw.js`) shows the page from the device when the server cannot be
//! reached. Everything here still works without it.

mod form;
mod session;
mod start;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// The runtime's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/p/{org}/{process}",
            get(start::show).post(start::create_session),
        )
        .route("/s/{token}", get(session::show).post(session::post))
        .route("/sw.js", get(crate::assets::service_worker))
}
