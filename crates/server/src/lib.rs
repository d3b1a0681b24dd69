//! Holdfast's HTTP service: the end-customer runtime (`runtime`), the session JSON API
//! (`api`), the admin API (`admin`) and the operational endpoints (`ops`), over one
//! [`holdfast_store::Store`].
//!
//! A request flows: router → handler in one of those modules → the shared session logic in
//! [`sessions`] → the definition crate for checking answers → the store. Errors become
//! [`error::AppError`] and are answered precisely at the edge.
//!
//! Start a server with [`App::build`] and [`App::serve`], which takes an already-bound listener
//! and a shutdown future, so tests and the binary start it the same way.

#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
pub mod assets;
pub mod bootstrap;
pub mod clock;
pub mod config;
pub mod error;
pub mod json;
pub mod maintenance;
pub mod ops;
pub mod pages;
pub mod runtime;
pub mod sessions;
pub mod state;
pub mod tokens;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, Environment};
pub use state::AppState;

/// A Holdfast service, ready to serve.
pub struct App {
    state: AppState,
}

impl App {
    /// Opens the store (applying migrations), makes sure an admin token exists and, with
    /// `--demo`, creates the demo organisation and process.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let store = holdfast_store::open(&config.data_dir, config.database.as_deref())
            .await
            .context("cannot open the database")?;
        let now = clock.now_millis();
        if bootstrap::admin_token(store.as_ref(), &config.data_dir, now).await? {
            tracing::info!(
                path = %config.data_dir.join(bootstrap::ADMIN_TOKEN_FILE).display(),
                "created the bootstrap admin token"
            );
        }
        if config.demo {
            bootstrap::demo(store.as_ref(), &config.region, now).await?;
        }
        ops::metrics_handle();
        Ok(App {
            state: AppState::new(store, config, clock),
        })
    }

    /// The shared state (for tests that look inside).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting, lets requests in
    /// flight finish, stops the background tasks, closes the store, and returns. Should the
    /// store's change writer stop meanwhile, it does the same on its own and returns an error.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        if self.state.config.public_url.is_none() {
            let address = listener.local_addr()?;
            let mut config = (*self.state.config).clone();
            config.public_url = Some(format!("http://{address}"));
            self.state = AppState::new(self.state.store.clone(), config, self.state.clock.clone());
        }
        let (stop_tasks, tasks_stopped) = tokio::sync::watch::channel(false);
        let deliverer = maintenance::webhooks::deliverer::spawn(
            Arc::new(maintenance::webhooks::Deliverer::new(self.state.clone())?),
            tasks_stopped.clone(),
        );
        let poller = maintenance::node::spawn_poller(
            self.state.maintenance.clone(),
            self.state.store.clone(),
            self.state.clock.clone(),
            tasks_stopped,
        );
        let store = self.state.store.clone();
        let node = self.state.maintenance.clone();
        let router = router(self.state);
        // A node whose change writer has stopped cannot save an answer: it stops too, with an
        // error, so that whatever supervises it starts it again (the browsers keep every
        // answer meanwhile and send it again).
        let (writer_failed, writer_failure) = tokio::sync::oneshot::channel();
        let watched = store.clone();
        let shutdown = async move {
            tokio::select! {
                () = shutdown => {}
                () = change_writer_stopped(watched) => {
                    let _ = writer_failed.send(());
                }
            }
            // Long polls would hold the graceful shutdown up: they answer now.
            node.stop_waiting();
        };
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed");
        let _ = stop_tasks.send(true);
        if let Err(error) = poller.await {
            tracing::error!(%error, task = maintenance::node::TASK_NAME, "background task failed");
        }
        if let Err(error) = deliverer.await {
            tracing::error!(%error, task = maintenance::webhooks::deliverer::TASK_NAME, "background task failed");
        }
        // Every request has been answered: the changes queued are applied, the file or the
        // connections closed.
        store.close().await;
        if writer_failure.await.is_ok() {
            anyhow::bail!(
                "the change writer stopped, so no answer could be saved; the server stopped \
                 with it (see the error logged before) and can be started again"
            );
        }
        served
    }
}

/// Resolves once the store's change writer has stopped (checked every second), which does
/// not happen while the store is open unless the writer failed.
async fn change_writer_stopped(store: Arc<dyn holdfast_store::Store>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(holdfast_store::StoreError::WriterStopped) = store.ping().await {
            tracing::error!("the change writer has stopped: stopping the server");
            return;
        }
    }
}

/// All routes with the middleware every request passes through.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(runtime::routes())
        .merge(api::routes())
        .merge(admin::routes(state.clone()))
        .merge(ops::routes())
        .merge(maintenance::routes())
        .route("/assets/{*path}", get(assets::serve))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            maintenance::banner::provide,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            maintenance::gate::gate,
        ))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn not_found(request: Request) -> Response {
    let message = format!("there is nothing at {}", request.uri().path());
    if request.uri().path().starts_with("/api/") {
        error::AppError::NotFound(message).into_response()
    } else {
        error::PageError(error::AppError::NotFound(message)).into_response()
    }
}

/// Headers that keep pages from being framed, sniffed or leaking their (secret) URL, and
/// counts every answer by status for `/metrics`.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    metrics::counter!("holdfast_http_responses_total", "status" => response.status().as_u16().to_string()).increment(1);
    response
}
