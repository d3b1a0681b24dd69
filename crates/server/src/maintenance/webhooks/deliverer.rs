//! The background task `webhook-deliverer`: every second it writes the events that are due
//! into the outbox ([`super::events`]), claims the deliveries that are due, posts them,
//! signed, and records every attempt in the delivery log.
//!
//! Many nodes may share the database: a delivery is claimed under a lease (the attempt's
//! timeout plus a margin), so only one node attempts it at a time, and a node that dies
//! mid-attempt leaves it to be taken over when the lease runs out. Delivery is at least once:
//! a receiver may see a delivery again (after such a takeover), and recognises it by its
//! `Holdfast-Delivery` id.
//!
//! A 2xx answer delivers; anything else (another status, a refused connection, no answer
//! within the timeout) is retried after 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h …
//! (each up to a quarter longer, at random, so that retries spread out) until the attempt
//! limit (`--webhook-max-attempts`, 10 by default: about a day), then the delivery has
//! failed. Redirects are not followed: a receiver must give its final URL.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use holdfast_store::maintenance::webhooks::{AttemptOutcome, AttemptRecord, ClaimedDelivery};
use holdfast_store::{Store, StoreError};
use tokio::sync::watch;

use super::{delivery_id, signature};
use crate::clock::Clock;
use crate::state::AppState;

/// The name of the background task, in logs and `/metrics`.
pub const TASK_NAME: &str = "webhook-deliverer";

/// How often the task looks for work.
pub const TICK: Duration = Duration::from_secs(1);

/// How many deliveries one claim takes; they are attempted concurrently.
const BATCH: i64 = 16;

/// How much longer than the attempt's timeout a claim holds a delivery.
const LEASE_MARGIN_MS: i64 = 50_000;

/// The wait after each failed attempt, in milliseconds; the last repeats.
pub const BACKOFF_MS: [i64; 9] = [
    30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000,
];

/// The longest error text kept in the delivery log.
const MAX_ERROR_LEN: usize = 500;

/// The wait after the `attempt`-th failed attempt (1 for the first), stretched by `jitter`
/// (0.0 to 1.0) by up to a quarter.
pub fn backoff_ms(attempt: i64, jitter: f64) -> i64 {
    let index = usize::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(BACKOFF_MS.len() - 1);
    let base = BACKOFF_MS[index];
    // At most 8 h × 1.25: far inside f64's exact integers.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let stretched = (base as f64 * (1.0 + jitter.clamp(0.0, 1.0) / 4.0)) as i64;
    stretched
}

/// A number from 0.0 to 1.0 from the operating system's generator.
fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    if getrandom::fill(&mut byte).is_err() {
        return 0.5;
    }
    f64::from(byte[0]) / 255.0
}

/// What an attempt needs, cheap to clone into a task of its own.
#[derive(Clone)]
struct Attempts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    max_attempts: i64,
}

/// The deliverer of one node.
pub struct Deliverer {
    state: AppState,
    attempts: Attempts,
    timeout_ms: i64,
    reminded: Mutex<HashSet<String>>,
    failing: AtomicBool,
}

impl Deliverer {
    /// A deliverer for the node with this state.
    pub fn new(state: AppState) -> anyhow::Result<Self> {
        let settings = &state.config.maintenance;
        let timeout = Duration::from_millis(settings.webhook_timeout_ms.max(1));
        let http = reqwest::Client::builder()
            .user_agent(concat!("Holdfast-Webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()?;
        Ok(Deliverer {
            attempts: Attempts {
                store: state.store.clone(),
                clock: state.clock.clone(),
                http,
                max_attempts: i64::from(settings.webhook_max_attempts.max(1)),
            },
            timeout_ms: i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX / 2),
            state,
            reminded: Mutex::default(),
            failing: AtomicBool::new(false),
        })
    }

    /// One turn: queue the events that are due, then attempt every delivery that is due.
    /// Answers how many attempts were made. Safe to run on many nodes at once (tests also
    /// run it directly, instead of waiting for the task).
    pub async fn tick(&self) -> usize {
        match self.turn().await {
            Ok(attempted) => {
                if self.failing.swap(false, Ordering::SeqCst) {
                    tracing::info!(task = TASK_NAME, "the database answers again");
                }
                attempted
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::SeqCst) {
                    tracing::warn!(task = TASK_NAME, %error, "cannot deliver webhooks now; trying again every second");
                }
                0
            }
        }
    }

    async fn turn(&self) -> Result<usize, StoreError> {
        super::events::announce_updates(&self.state).await?;
        let now = self.state.clock.now_millis();
        super::events::remind(&self.state, now, &self.reminded).await?;
        let mut attempted = 0;
        loop {
            let now = self.state.clock.now_millis();
            let lease = format!(
                "{}:{}",
                self.state.maintenance.node_id,
                crate::tokens::public_id()
            );
            let claimed = self
                .attempts
                .store
                .claim_webhook_deliveries(
                    now,
                    &lease,
                    now + self.timeout_ms + LEASE_MARGIN_MS,
                    BATCH,
                )
                .await?;
            let full = i64::try_from(claimed.len()).unwrap_or(i64::MAX) >= BATCH;
            attempted += claimed.len();
            let mut running = tokio::task::JoinSet::new();
            for delivery in claimed {
                let attempts = self.attempts.clone();
                let lease = lease.clone();
                running.spawn(async move { attempts.attempt(delivery, &lease).await });
            }
            while running.join_next().await.is_some() {}
            if !full {
                return Ok(attempted);
            }
        }
    }
}

impl Attempts {
    /// Posts one delivery and records how it went.
    async fn attempt(&self, delivery: ClaimedDelivery, lease: &str) {
        let started_at = self.clock.now_millis();
        let timestamp = started_at.div_euclid(1000);
        let id = delivery_id(delivery.id);
        let signed = signature::header_value(
            delivery.secret.expose(),
            timestamp,
            delivery.body.as_bytes(),
        );
        let begun = Instant::now();
        let sent = self
            .http
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Holdfast-Event", &delivery.event_type)
            .header("Holdfast-Delivery", &id)
            .header(signature::HEADER, signed)
            .body(delivery.body.clone())
            .send()
            .await;
        let duration_ms = i64::try_from(begun.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error) = match sent {
            Ok(response) if response.status().is_success() => {
                (Some(i64::from(response.status().as_u16())), None)
            }
            Ok(response) => (
                Some(i64::from(response.status().as_u16())),
                Some(format!("the endpoint answered {}", response.status())),
            ),
            Err(error) => (None, Some(describe(&error))),
        };
        let delivered = error.is_none();
        let outcome = if delivered {
            AttemptOutcome::Delivered
        } else if delivery.attempt >= self.max_attempts {
            AttemptOutcome::GaveUp
        } else {
            AttemptOutcome::RetryAt(
                self.clock.now_millis() + backoff_ms(delivery.attempt, jitter()),
            )
        };
        let label = match outcome {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::RetryAt(_) => "retry",
            AttemptOutcome::GaveUp => "failed",
        };
        metrics::counter!("holdfast_webhook_attempts_total", "outcome" => label).increment(1);
        match &error {
            None => {
                tracing::debug!(delivery = %id, event = %delivery.event_id, attempt = delivery.attempt, "webhook delivered")
            }
            Some(error) => {
                tracing::info!(delivery = %id, event = %delivery.event_id, attempt = delivery.attempt, outcome = label, %error, "webhook not delivered")
            }
        }
        let record = AttemptRecord {
            started_at,
            duration_ms,
            status_code,
            error,
        };
        let now = self.clock.now_millis();
        match self
            .store
            .record_webhook_attempt(delivery.id, lease, delivery.attempt, record, outcome, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(delivery = %id, "a webhook attempt outlived its lease; another node has taken the delivery over")
            }
            Err(error) => {
                tracing::warn!(delivery = %id, %error, "cannot record a webhook attempt; it will be made again when its lease runs out")
            }
        }
    }
}

/// Why a request failed, without the URL (the log shows it beside) and briefly.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_redirect() {
        "redirected"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Runs the deliverer until `stop` changes. Named, owned by the server, stopped with it: a
/// batch in flight is abandoned (its deliveries are attempted again when their lease runs
/// out).
pub fn spawn(
    deliverer: Arc<Deliverer>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        metrics::gauge!("holdfast_background_task_running", "task" => TASK_NAME).set(1.0);
        tracing::debug!(task = TASK_NAME, "started");
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    tokio::select! {
                        _ = deliverer.tick() => {
                            metrics::counter!("holdfast_background_task_runs_total", "task" => TASK_NAME).increment(1);
                        }
                        changed = stop.changed() => {
                            if changed.is_err() || *stop.borrow() {
                                break;
                            }
                        }
                    }
                }
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
        metrics::gauge!("holdfast_background_task_running", "task" => TASK_NAME).set(0.0);
        tracing::debug!(task = TASK_NAME, "stopped");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_eight_hours() {
        let waits: Vec<i64> = (1..=11).map(|n| backoff_ms(n, 0.0)).collect();
        assert_eq!(waits[0], 30_000);
        assert_eq!(waits[1], 120_000);
        assert_eq!(waits[2], 600_000);
        assert_eq!(waits[10], 28_800_000);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        // Ten attempts span about a day.
        let total: i64 = waits[..9].iter().sum();
        assert!(
            (20 * 3_600_000..=30 * 3_600_000).contains(&total),
            "{total}"
        );
        assert_eq!(backoff_ms(1, 1.0), 37_500);
    }
}
