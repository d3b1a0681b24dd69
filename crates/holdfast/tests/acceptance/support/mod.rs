//! Test plumbing: start a server on a random port over a fresh database, and talk to it as a
//! person, an API client or an operator.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod database;
pub mod person;

use std::sync::Arc;

use holdfast_server::{App, Config, SystemClock};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use database::Backend;
pub use person::Person;

/// The example process the project ships.
pub const MOTOR_CLAIM: &str = include_str!("../../../../../examples/motor-claim.yaml");

/// Runs one test body on both backends: `on_both_backends!(name, |backend| async move { … })`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let body = $body;
                body($crate::support::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let body = $body;
                body($crate::support::Backend::Postgres).await;
            }
        }
    };
}

/// A running server for one test.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The admin token.
    pub admin_token: String,
    /// The data directory (deleted when the server is dropped).
    pub data_dir: tempfile::TempDir,
    /// The database URL, if not embedded SQLite.
    pub database: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    http: reqwest::Client,
}

impl TestServer {
    /// Starts a server over a fresh database of `backend`.
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server, letting the test adjust the configuration.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let data_dir = tempfile::tempdir().unwrap();
        let database = backend.fresh_database().await;
        let mut config = Config::new(data_dir.path());
        config.database = database.clone();
        adjust(&mut config);
        let app = App::build(config, Arc::new(SystemClock)).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        let admin_token = std::fs::read_to_string(data_dir.path().join("admin-token"))
            .unwrap()
            .trim()
            .to_owned();
        TestServer {
            url,
            admin_token,
            data_dir,
            database,
            stop: Some(stop),
            task: Some(task),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// A new person with a browser of their own, JavaScript off.
    pub fn person(&self) -> Person {
        Person::new(&self.url)
    }

    /// An HTTP client that does not follow redirects.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request to the admin API with the admin token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.admin_token)
    }

    /// Creates an organisation through the admin API.
    pub async fn create_org(&self, slug: &str) {
        let response = self
            .admin(reqwest::Method::POST, "/api/v1/admin/orgs")
            .json(&serde_json::json!({ "slug": slug }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    /// Publishes a definition to an organisation; returns the answer's JSON.
    pub async fn publish(&self, org: &str, source: &str) -> Value {
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/admin/orgs/{org}/processes"),
            )
            .body(source.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// A server with the organisation `acme` and the example process published.
    pub async fn with_motor_claim(backend: Backend) -> TestServer {
        let server = TestServer::start(backend).await;
        server.create_org("acme").await;
        server.publish("acme", MOTOR_CLAIM).await;
        server
    }

    /// Exports the submissions of a process as JSON Lines, parsed.
    pub async fn export_jsonl(&self, org: &str, process: &str) -> Vec<Value> {
        let response = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/orgs/{org}/processes/{process}/submissions?format=jsonl"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response
            .text()
            .await
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Opens a session through the JSON API, optionally prefilled; returns the token.
    pub async fn open_session(&self, org: &str, process: &str, answers: Value) -> String {
        let response = self
            .http
            .post(format!(
                "{}/api/v1/orgs/{org}/processes/{process}/sessions",
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

    /// What the server holds of a session (`GET /api/v1/sessions/{token}`).
    pub async fn session(&self, token: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1/sessions/{token}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
