//! `holdfast serve`: builds the configuration, binds the listener, serves until SIGTERM or
//! SIGINT, then drains gracefully.

use std::sync::Arc;

use std::io::Write;

use anyhow::Context;
use holdfast_server::{App, Config, SystemClock};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;

/// Raises this process's open-file limit to the most the system allows: every open page that
/// waits for the end of a maintenance holds a socket, and a limit of 1,024 would refuse new
/// connections (and so every request) long before the server is busy.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open-file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
}

/// Runs the platform until a shutdown signal.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOLDFAST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let mut regions: Vec<String> = args
        .regions
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if !regions.contains(&args.region) {
        regions.insert(0, args.region.clone());
    }
    for region in &regions {
        anyhow::ensure!(
            holdfast_server::config::is_valid_slug(region),
            "invalid region name {region:?}: use lowercase letters, digits and hyphens"
        );
    }
    let config = Config {
        data_dir: args.data_dir,
        database: args.database,
        environment: args.environment,
        region: args.region,
        regions,
        demo: args.demo,
        body_limit: args.body_limit,
        public_url: args.public_url,
        maintenance: holdfast_server::config::MaintenanceConfig {
            max_window_ms: args.max_window,
            banner_lead_ms: args.banner_lead,
            webhook_max_attempts: args.webhook_max_attempts,
            webhook_timeout_ms: u64::try_from(args.webhook_timeout).unwrap_or(10_000),
        },
    };
    raise_open_file_limit();
    let data_dir = config.data_dir.clone();
    let demo = config.demo;
    // Bind first: a taken port is reported before anything is written to the data directory.
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let app = App::build(config, Arc::new(SystemClock)).await?;
    let address = listener.local_addr()?;
    let base = format!("http://{address}");
    // Whoever started us may have stopped reading standard output; that must not stop us.
    let mut banner = format!("Holdfast is listening on {base}\n");
    banner.push_str(&format!(
        "  admin token: {}\n",
        data_dir
            .join(holdfast_server::bootstrap::ADMIN_TOKEN_FILE)
            .display()
    ));
    if demo {
        banner.push_str(&format!("  demo process: {base}/p/demo/motor-claim\n"));
    }
    let mut stdout = std::io::stdout();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    app.serve(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: no new connections; finishing requests in flight");
}
