//! Maintenance stories: an operator schedules the seed notice's three-phase plan, the
//! platform announces it (status API, feeds, notice, banner), runs a downtime with the end
//! customers' work intact, and reports honestly how it went.
//!
//! The server here runs on a [`ManualClock`] set to a known instant, so that a test moves
//! time instead of waiting for it, and the platform has the regions `apac`, `eu` and `na`.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod announce;
mod run;
mod schedule;
mod suggest;
mod unreachable;
mod webhooks;

use std::sync::Arc;

use holdfast_server::{App, AppState, Config, ManualClock};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::{Backend, MOTOR_CLAIM};

/// The phased plan of the example in `docs/maintenance-plan.md`.
pub const SEED_PLAN: &str = "title: Enhanced performance and security maintenance
summary: Infrastructure upgrades for faster response times, higher reliability and better security.
impact_minutes: 15            # default for every phase: the longest end customers may be affected
phases:
  - name: Development environment (all customers)
    environment: development  # development | production
    regions: all              # all, or a list of the platform's regions
    start: 2027-01-10T16:00:00Z
    end: 2027-01-10T20:00:00Z
    impact_minutes: 0         # the Builder only; end customers are not affected
  - name: Production environment (APAC customers)
    environment: production
    regions: [apac]
    start: 2027-01-31T16:00:00Z
    end: 2027-01-31T18:00:00Z
  - name: Production environment (EU and North America customers)
    environment: production
    regions: [eu, na]
    start: 2027-02-07T16:00:00Z
    end: 2027-02-07T18:00:00Z
";

/// 2027-01-03T12:00:00Z: a week before the plan's first phase.
pub const BEFORE_PLAN: i64 = 1_799_064_000_000;
/// 2027-01-31T16:00:00Z: phase 2 starts.
pub const PHASE_2_START: i64 = 1_801_411_200_000;
/// One hour.
pub const HOUR: i64 = 3_600_000;

/// Answers that complete the example motor claim.
pub fn complete_claim() -> Value {
    serde_json::json!({
        "full_name": "Ada Lovelace", "email": "ada@example.org", "policy_number": "AB123456",
        "incident_date": "2026-10-01", "vehicle": "car", "injured": false,
        "account_holder": "Ada Lovelace", "agree": true
    })
}

/// A server on a manual clock, for one test.
pub struct Platform {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The admin token.
    pub token: String,
    /// The clock the server reads.
    pub clock: ManualClock,
    /// The server's state (to make the poller run now instead of waiting for it).
    pub state: AppState,
    /// A client that keeps no cookies and follows no redirects.
    pub http: reqwest::Client,
    data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Platform {
    /// A production deployment in `eu` of a platform with apac, eu and na, at `now`.
    pub async fn start(backend: Backend, now: i64) -> Platform {
        Self::start_with(backend, now, |_| {}).await
    }

    /// Like [`Platform::start`], with the configuration adjusted.
    pub async fn start_with(
        backend: Backend,
        now: i64,
        adjust: impl FnOnce(&mut Config),
    ) -> Platform {
        let database = backend.fresh_database().await;
        Self::start_on(database, now, adjust).await
    }

    /// A server over the database at `database` (None: a fresh embedded one).
    pub async fn start_on(
        database: Option<String>,
        now: i64,
        adjust: impl FnOnce(&mut Config),
    ) -> Platform {
        let data_dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config::new(data_dir.path());
        config.database = database;
        config.region = "eu".to_owned();
        config.regions = ["apac", "eu", "na"].map(String::from).to_vec();
        config.public_url = Some(url.clone());
        adjust(&mut config);
        let clock = ManualClock::at(now);
        let app = App::build(config, Arc::new(clock.clone())).await.unwrap();
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        let token = std::fs::read_to_string(data_dir.path().join("admin-token"))
            .unwrap()
            .trim()
            .to_owned();
        Platform {
            url,
            token,
            clock,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            data_dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Runs the poller once now, as it does every half second.
    pub async fn poll(&self) {
        self.state
            .maintenance
            .tick(self.state.store.as_ref(), self.state.clock.as_ref())
            .await;
    }

    /// Moves the clock to `millis` and lets the poller see it.
    pub async fn set_time(&self, millis: i64) {
        let now = self.clock.now_millis();
        self.clock.advance(millis - now);
        self.state.maintenance.windows_changed();
        self.poll().await;
    }

    /// A request to the admin API.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// A public GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// Creates an organisation in `region` and publishes the example process to it.
    pub async fn with_claim(&self, org: &str, region: &str) {
        let response = self
            .admin(reqwest::Method::POST, "/api/v1/admin/orgs")
            .json(&serde_json::json!({ "slug": org, "region": region }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/admin/orgs/{org}/processes"),
            )
            .body(MOTOR_CLAIM)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    /// Schedules a plan through the admin API; returns the status and the JSON answer.
    pub async fn schedule(&self, plan: &str) -> (u16, Value) {
        let response = self
            .admin(reqwest::Method::POST, "/api/v1/admin/maintenance/plans")
            .body(plan.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Runs `holdfast ARGS` against this server; returns (success, stdout, stderr).
    pub async fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_holdfast"))
            .args(args)
            .env("HOLDFAST_SERVER", &self.url)
            .env("HOLDFAST_TOKEN", &self.token)
            .env_remove("HOLDFAST_TOKEN_FILE")
            .output()
            .await
            .unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    /// Runs `holdfast ARGS` and expects success; returns stdout.
    pub async fn cli_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.cli(args).await;
        assert!(ok, "holdfast {args:?} failed: {err}");
        out
    }

    /// Opens a session with answers, through the JSON API; returns its token.
    pub async fn open_session(&self, org: &str, answers: Value) -> String {
        let response = self
            .http
            .post(format!(
                "{}/api/v1/orgs/{org}/processes/motor-claim/sessions",
                self.url
            ))
            .json(&serde_json::json!({ "answers": answers }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Autosaves one numbered change as the page script does.
    pub async fn autosave(&self, token: &str, seq: i64, answers: Value) -> reqwest::Response {
        self.http
            .patch(format!("{}/api/v1/sessions/{token}", self.url))
            .json(&serde_json::json!({ "client": "tab-1", "seq": seq, "answers": answers }))
            .send()
            .await
            .unwrap()
    }

    /// Presses Submit through the API.
    pub async fn submit(&self, token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/sessions/{token}/submit", self.url))
            .header("idempotency-key", format!("submit-{token}"))
            .send()
            .await
            .unwrap()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

use holdfast_server::Clock as _;
