//! Webhooks: an organisation registers an endpoint and hears, signed, of the maintenance that
//! concerns it — scheduled, cancelled, started, and reminders 24 hours and 1 hour before —
//! and an endpoint that fails is tried again until it answers, every attempt in the log.
//!
//! Each test runs a real receiving HTTP server on 127.0.0.1 and checks the signature with an
//! HMAC-SHA256 computed here, independently of the server's code.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use holdfast_server::clock::rfc3339;
use holdfast_server::maintenance::webhooks::Deliverer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{BEFORE_PLAN, HOUR, PHASE_2_START, Platform, SEED_PLAN};
use crate::on_both_backends;
use crate::support::Backend;

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Received {
    event: String,
    delivery: String,
    signature: String,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    /// The statuses to answer, in order; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
}

/// An organisation's webhook receiver, on a port of its own.
struct Receiver {
    url: String,
    inbox: Inbox,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A receiver that answers `answers` in turn, then 200.
    async fn start(answers: &[u16]) -> Receiver {
        let inbox = Inbox::default();
        inbox.answers.lock().unwrap().extend(answers);
        async fn hook(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            inbox.received.lock().unwrap().push(Received {
                event: header("holdfast-event"),
                delivery: header("holdfast-delivery"),
                signature: header("holdfast-signature"),
                body,
            });
            let answer = inbox.answers.lock().unwrap().pop_front().unwrap_or(200);
            StatusCode::from_u16(answer).unwrap()
        }
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, inbox, task }
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// What arrived about `window`, of type `kind`.
    fn about(&self, window: &str, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.event == kind && r.json()["window"]["id"] == window)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// HMAC-SHA256 by RFC 2104, written here so that the check does not share the server's code.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner_pad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `Holdfast-Signature: t=…,v1=…` as a receiver would; answers `t` if it verifies.
fn signature_matches(secret: &str, received: &Received) -> Option<i64> {
    let mut t = None;
    let mut v1 = None;
    for part in received.signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (t, v1) = (t?, v1?);
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&received.body);
    (hmac_sha256(secret.as_bytes(), &signed) == v1).then(|| t.parse().ok())?
}

/// Like [`signature_matches`], and says so if it does not.
fn verify(secret: &str, received: &Received) -> i64 {
    signature_matches(secret, received)
        .unwrap_or_else(|| panic!("the signature of {received:?} does not verify"))
}

/// Runs the deliverer (as its task does every second) until `check` finds what it wants.
async fn eventually<T>(platform: &Platform, what: &str, check: impl Fn() -> Option<T>) -> T {
    let deliverer = Deliverer::new(platform.state.clone()).unwrap();
    for _ in 0..200 {
        deliverer.tick().await;
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

/// Runs the deliverer a few more times, for what should not happen to get its chance.
async fn settle(platform: &Platform) {
    let deliverer = Deliverer::new(platform.state.clone()).unwrap();
    for _ in 0..5 {
        deliverer.tick().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the deliverer until `org`'s delivery log (newest first) satisfies `check`; answers
/// the log.
async fn log_when(platform: &Platform, org: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deliverer = Deliverer::new(platform.state.clone()).unwrap();
    for _ in 0..200 {
        deliverer.tick().await;
        let log = deliveries(platform, org).await;
        if check(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{org}'s delivery log never became as expected: {:?}",
        deliveries(platform, org).await
    );
}

/// Runs the deliverer until the newest delivery to `org` has `attempts` attempts logged;
/// answers the log.
async fn attempts_logged(platform: &Platform, org: &str, attempts: i64) -> Vec<Value> {
    log_when(platform, org, |log| {
        log.first().is_some_and(|d| d["attempts"] == attempts)
    })
    .await
}

async fn create_org(platform: &Platform, slug: &str, region: &str) {
    let response = platform
        .admin(reqwest::Method::POST, "/api/v1/admin/orgs")
        .json(&json!({ "slug": slug, "region": region }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// Registers an endpoint through the admin API; returns (status, answer).
async fn register(platform: &Platform, org: &str, body: Value) -> (u16, Value) {
    let response = platform
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/admin/orgs/{org}/webhooks"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn deliveries(platform: &Platform, org: &str) -> Vec<Value> {
    let response = platform
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/admin/orgs/{org}/webhooks/deliveries"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A one-phase production plan in eu, a week after `BEFORE_PLAN`.
const EU_PLAN: &str = "title: Database upgrade
summary: A faster database.
impact_minutes: 10
phases:
  - name: Database upgrade
    environment: production
    regions: [eu]
    start: 2027-01-10T02:00:00Z
    end: 2027-01-10T03:00:00Z
";

on_both_backends!(
    organisations_hear_signed_of_the_maintenance_that_concerns_them,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        create_org(&platform, "apac-insurer", "apac").await;
        create_org(&platform, "eu-bank", "eu").await;
        let apac = Receiver::start(&[]).await;
        let eu = Receiver::start(&[]).await;

        // The APAC insurer registers through the CLI and gets a generated secret, once.
        let out = platform
            .cli_ok(&["webhook", "add", &apac.url, "--org", "apac-insurer"])
            .await;
        assert!(out.contains("registered webhook wh1"), "{out}");
        let apac_secret = out
            .split_whitespace()
            .find(|w| w.starts_with("whsec_"))
            .expect("the secret is shown")
            .to_owned();
        assert!(apac_secret.len() >= 6 + 43, "256 bits: {apac_secret}");
        let listed = platform
            .cli_ok(&["webhook", "list", "--org", "apac-insurer", "--json"])
            .await;
        assert!(
            listed.contains(&apac.url) && !listed.contains(&apac_secret),
            "{listed}"
        );

        // The EU bank brings its own secret through the API.
        let eu_secret = "eu-bank-shared-secret-0123456789abcdef";
        let (code, body) = register(
            &platform,
            "eu-bank",
            json!({ "url": eu.url, "secret": eu_secret }),
        )
        .await;
        assert_eq!(code, 201, "{body}");
        assert_eq!(body["secret"], eu_secret);

        // The seed's plan: development everywhere, then APAC, then EU and North America.
        let (code, _) = platform.schedule(SEED_PLAN).await;
        assert_eq!(code, 201);
        let scheduled = "maintenance.scheduled";
        eventually(&platform, "both hear of what concerns them", || {
            (apac.received().len() == 2 && eu.received().len() == 2).then_some(())
        })
        .await;
        settle(&platform).await;
        let windows = |r: &Receiver| {
            let mut ids: Vec<String> = r
                .received()
                .iter()
                .map(|m| m.json()["window"]["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(windows(&apac), ["w1", "w2"], "development (all) and APAC");
        assert_eq!(windows(&eu), ["w1", "w3"], "development (all) and EU");

        // Each is signed over the body with the endpoint's secret, at the server's time.
        for (receiver, secret) in [(&apac, apac_secret.as_str()), (&eu, eu_secret)] {
            for message in receiver.received() {
                assert_eq!(verify(secret, &message), BEFORE_PLAN / 1000);
                assert_eq!(message.event, scheduled);
                assert!(message.delivery.starts_with("wd"), "{message:?}");
                let body = message.json();
                assert_eq!(body["type"], scheduled);
                assert!(body["id"].as_str().unwrap().starts_with("evt_"));
                assert_eq!(body["created_at"], rfc3339(BEFORE_PLAN));
                assert_eq!(body["window"]["status"], "scheduled");
            }
        }
        let w2 = &apac.about("w2", scheduled)[0];
        let item = w2.json()["window"].clone();
        assert_eq!(item["scheduled_for"], "2027-01-31T16:00:00Z");
        assert_eq!(item["scheduled_until"], "2027-01-31T18:00:00Z");
        assert_eq!(item["regions"], json!(["apac"]));
        assert_eq!(item["environment"], "production");
        assert_eq!(item["impact_minutes"], 15);
        // The same event reaches both organisations as the same body, each signed with its own
        // secret; a body changed on the way no longer verifies.
        let w1_apac = &apac.about("w1", scheduled)[0];
        let w1_eu = &eu.about("w1", scheduled)[0];
        assert_eq!(w1_apac.body, w1_eu.body);
        assert_ne!(w1_apac.signature, w1_eu.signature);
        let mut forged = w1_apac.clone();
        let text = String::from_utf8(forged.body.to_vec()).unwrap();
        forged.body = Bytes::from(text.replace("\"scheduled\"", "\"cancelled\""));
        assert_ne!(forged.body, w1_apac.body);
        assert_eq!(
            signature_matches(&apac_secret, &forged),
            None,
            "a changed body must not verify"
        );
        assert_eq!(
            signature_matches(eu_secret, w1_apac),
            None,
            "nor another organisation's secret"
        );

        // The task that sends them is visible.
        let metrics = platform.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains(r#"holdfast_background_task_running{task="webhook-deliverer"} 1"#),
            "{metrics}"
        );

        // The delivery log: one attempt each, answered 200.
        log_when(&platform, "apac-insurer", |log| {
            log.len() == 2 && log.iter().all(|d| d["state"] == "delivered")
        })
        .await;
        let log = platform
            .cli_ok(&["webhook", "deliveries", "--org", "apac-insurer", "--json"])
            .await;
        let log: Vec<Value> = serde_json::from_str(&log).unwrap();
        assert_eq!(log.len(), 2);
        for delivery in &log {
            assert_eq!(delivery["state"], "delivered", "{delivery}");
            assert_eq!(delivery["attempts"], 1);
            assert_eq!(delivery["log"][0]["status_code"], 200);
            assert_eq!(delivery["webhook"], "wh1");
        }
        let text = platform
            .cli_ok(&["webhook", "deliveries", "--org", "apac-insurer"])
            .await;
        assert!(
            text.contains("delivered") && text.contains("HTTP 200"),
            "{text}"
        );

        // Cancelling the EU phase is announced to the EU bank only.
        platform.cli_ok(&["maintenance", "cancel", "w3"]).await;
        let cancelled = eventually(&platform, "the cancellation arrives", || {
            eu.about("w3", "maintenance.cancelled").pop()
        })
        .await;
        verify(eu_secret, &cancelled);
        assert_eq!(cancelled.json()["window"]["status"], "cancelled");
        settle(&platform).await;
        assert!(apac.received().iter().all(|m| m.event == scheduled));

        // A removed endpoint hears nothing more.
        let out = platform
            .cli_ok(&["webhook", "remove", "wh1", "--org", "apac-insurer"])
            .await;
        assert!(out.contains("removed webhook wh1"), "{out}");
        platform.cli_ok(&["maintenance", "cancel", "w2"]).await;
        settle(&platform).await;
        assert!(apac.about("w2", "maintenance.cancelled").is_empty());
        platform.stop().await;
    }
);

on_both_backends!(
    a_failed_delivery_is_retried_until_it_lands,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        create_org(&platform, "eu-bank", "eu").await;
        // The endpoint fails twice, then recovers.
        let eu = Receiver::start(&[500, 500]).await;
        let secret = "eu-bank-shared-secret-0123456789abcdef";
        let (code, _) = register(
            &platform,
            "eu-bank",
            json!({ "url": eu.url, "secret": secret }),
        )
        .await;
        assert_eq!(code, 201);
        let (code, _) = platform.schedule(EU_PLAN).await;
        assert_eq!(code, 201);

        let log = attempts_logged(&platform, "eu-bank", 1).await;
        assert_eq!(eu.received().len(), 1);
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["state"], "pending");
        assert_eq!(log[0]["attempts"], 1);
        assert_eq!(log[0]["log"][0]["status_code"], 500);
        assert!(!log[0]["log"][0]["error"].as_str().unwrap().is_empty());
        assert!(log[0]["next_attempt_at"].as_str().unwrap() > rfc3339(BEFORE_PLAN).as_str());
        // Not before its time: the clock has not moved.
        settle(&platform).await;
        assert_eq!(eu.received().len(), 1);

        // The backoff passes (the clock is the server's, not the test's).
        platform.clock.advance(HOUR);
        attempts_logged(&platform, "eu-bank", 2).await;
        platform.clock.advance(HOUR);
        attempts_logged(&platform, "eu-bank", 3).await;
        platform.clock.advance(HOUR);
        settle(&platform).await;

        let received = eu.received();
        assert_eq!(received.len(), 3, "delivered: no fourth attempt");
        for message in &received {
            verify(secret, message);
            assert_eq!(
                message.delivery, received[0].delivery,
                "one delivery id for every attempt"
            );
            assert_eq!(message.body, received[0].body, "the same event every time");
        }
        let log = deliveries(&platform, "eu-bank").await;
        assert_eq!(log[0]["state"], "delivered");
        assert_eq!(log[0]["attempts"], 3);
        assert_eq!(log[0]["next_attempt_at"], Value::Null);
        let codes: Vec<&Value> = log[0]["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["status_code"])
            .collect();
        assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
        let numbers: Vec<&Value> = log[0]["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["attempt"])
            .collect();
        assert_eq!(numbers, [&json!(1), &json!(2), &json!(3)]);
        platform.stop().await;
    }
);

on_both_backends!(
    an_endpoint_that_never_answers_is_given_up_after_the_attempt_limit,
    |backend: Backend| async move {
        let platform = Platform::start_with(backend, BEFORE_PLAN, |config| {
            config.maintenance.webhook_max_attempts = 2;
            config.maintenance.webhook_timeout_ms = 2_000;
        })
        .await;
        create_org(&platform, "eu-bank", "eu").await;
        // Nothing listens here.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", closed.local_addr().unwrap());
        drop(closed);
        let (code, _) = register(&platform, "eu-bank", json!({ "url": url })).await;
        assert_eq!(code, 201);
        let (code, _) = platform.schedule(EU_PLAN).await;
        assert_eq!(code, 201);

        attempts_logged(&platform, "eu-bank", 1).await;
        platform.clock.advance(HOUR);
        let log = attempts_logged(&platform, "eu-bank", 2).await;
        platform.clock.advance(24 * HOUR);
        settle(&platform).await;
        let log_after = deliveries(&platform, "eu-bank").await;
        assert_eq!(log_after[0]["attempts"], 2, "no attempt after the limit");
        assert_eq!(log[0]["state"], "failed", "{log:?}");
        assert_eq!(log[0]["log"][1]["status_code"], Value::Null);
        assert!(
            log[0]["log"][1]["error"]
                .as_str()
                .unwrap()
                .contains("connect"),
            "{log:?}"
        );
        platform.stop().await;
    }
);

on_both_backends!(
    reminders_come_a_day_and_an_hour_before_once_each,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        create_org(&platform, "apac-insurer", "apac").await;
        let apac = Receiver::start(&[]).await;
        let (code, _) = register(&platform, "apac-insurer", json!({ "url": apac.url })).await;
        assert_eq!(code, 201);
        let (code, _) = platform.schedule(SEED_PLAN).await;
        assert_eq!(code, 201);
        eventually(&platform, "the announcement", || {
            (!apac.about("w2", "maintenance.scheduled").is_empty()).then_some(())
        })
        .await;
        let reminders = |label: &str| {
            apac.about("w2", "maintenance.reminder")
                .into_iter()
                .filter(|m| m.json()["reminder"] == label)
                .count()
        };

        // A day before the APAC phase.
        platform.set_time(PHASE_2_START - 24 * HOUR).await;
        eventually(&platform, "the 24-hour reminder", || {
            (reminders("24h") == 1).then_some(())
        })
        .await;
        platform.clock.advance(60_000);
        platform.poll().await;
        settle(&platform).await;
        platform.set_time(PHASE_2_START - 3 * HOUR).await;
        settle(&platform).await;
        assert_eq!(reminders("24h"), 1, "once");
        assert_eq!(reminders("1h"), 0);

        // An hour before.
        platform.set_time(PHASE_2_START - HOUR).await;
        eventually(&platform, "the 1-hour reminder", || {
            (reminders("1h") == 1).then_some(())
        })
        .await;
        let reminder = apac.about("w2", "maintenance.reminder").pop().unwrap();
        let body = reminder.json();
        assert_eq!(body["window"]["status"], "scheduled");
        assert_eq!(body["created_at"], "2027-01-31T15:00:00Z");

        // It starts, then ends: started and completed, and no reminder after the start.
        platform.set_time(PHASE_2_START + HOUR).await;
        eventually(&platform, "the start", || {
            apac.about("w2", "maintenance.started").pop()
        })
        .await;
        platform.set_time(PHASE_2_START + 3 * HOUR).await;
        let completed = eventually(&platform, "the end", || {
            apac.about("w2", "maintenance.completed").pop()
        })
        .await;
        assert_eq!(completed.json()["window"]["status"], "completed");
        settle(&platform).await;
        assert_eq!(reminders("24h"), 1);
        assert_eq!(reminders("1h"), 1);
        assert_eq!(apac.about("w2", "maintenance.started").len(), 1);
        assert_eq!(apac.about("w2", "maintenance.completed").len(), 1);
        platform.stop().await;
    }
);

on_both_backends!(
    registering_refuses_bad_endpoints_clearly,
    |backend: Backend| async move {
        let platform = Platform::start(backend, BEFORE_PLAN).await;
        create_org(&platform, "acme", "eu").await;
        let problem = |body: &Value| body["errors"][0]["field"].as_str().unwrap_or("").to_owned();

        let (code, body) = register(
            &platform,
            "acme",
            json!({ "url": "ftp://example.org/hook" }),
        )
        .await;
        assert_eq!(code, 422, "{body}");
        assert_eq!(problem(&body), "url");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("http:// or https://"),
            "{body}"
        );

        let long = format!("https://example.org/{}", "a".repeat(2100));
        let (code, body) = register(&platform, "acme", json!({ "url": long })).await;
        assert_eq!(code, 422, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("at most 2048"),
            "{body}"
        );

        let (code, body) = register(&platform, "acme", json!({ "url": "not a url" })).await;
        assert_eq!(code, 422, "{body}");

        let (code, body) = register(
            &platform,
            "nobody",
            json!({ "url": "https://example.org/" }),
        )
        .await;
        assert_eq!(code, 404, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("no organisation"),
            "{body}"
        );

        let (code, body) = register(
            &platform,
            "acme",
            json!({ "url": "https://example.org/", "secret": "short" }),
        )
        .await;
        assert_eq!(code, 422, "{body}");
        assert_eq!(problem(&body), "secret");

        let (code, body) = register(
            &platform,
            "acme",
            json!({ "url": "https://example.org/", "events": [] }),
        )
        .await;
        assert_eq!(code, 422, "unknown fields are refused: {body}");

        let (code, _) = register(&platform, "acme", json!({ "url": "https://example.org/" })).await;
        assert_eq!(code, 201);
        let (code, body) =
            register(&platform, "acme", json!({ "url": "https://example.org/" })).await;
        assert_eq!(code, 409, "{body}");

        let response = platform
            .admin(
                reqwest::Method::DELETE,
                "/api/v1/admin/orgs/acme/webhooks/wh99",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        let response = platform
            .admin(
                reqwest::Method::GET,
                "/api/v1/admin/orgs/acme/webhooks/deliveries?limit=0",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let response = platform
            .http
            .get(format!("{}/api/v1/admin/orgs/acme/webhooks", platform.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "the admin token is needed");

        // The CLI says what is wrong and fails.
        let (ok, _, err) = platform
            .cli(&["webhook", "add", "mailto:ops@example.org", "--org", "acme"])
            .await;
        assert!(!ok);
        assert!(err.contains("url") && err.contains("http"), "{err}");
        let (ok, _, err) = platform
            .cli(&["webhook", "add", "https://example.org/x", "--org", "nobody"])
            .await;
        assert!(!ok);
        assert!(err.contains("404") && err.contains("nobody"), "{err}");
        platform.stop().await;
    }
);
