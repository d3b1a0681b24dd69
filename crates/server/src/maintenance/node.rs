//! This node's side of maintenance: what it currently refuses, the requests it has in flight,
//! and the background task `maintenance-poller` that keeps both in step with the store.
//!
//! The maintenance state lives in the store so that every node sharing it applies a change
//! within a second: the poller reads the open downtimes every half second. A node whose
//! database does not answer the poll closes itself the same way (end customers see the
//! maintenance page and the 503 JSON, never a 500) and opens again when the database is
//! back.
//!
//! Draining: a request of a kind that can be closed is counted in flight *before* it checks
//! whether its kind is closed; closing sets the flag *before* waiting for the count to reach
//! zero. Both use sequentially consistent atomics, so once a drain has seen zero, no request
//! of that kind is running or can start — every acknowledged change stays acknowledged.
//!
//! The poller also records the status changes that follow the clock (a window starting or
//! ending) in the windows' update history, once across all nodes, and reports this node's
//! heartbeat: which downtime it has applied and drained, so that `maintenance begin` can wait
//! for every node.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use holdfast_store::maintenance::{Downtime, MaintenanceWindow, NodeBeat};
use holdfast_store::{Store, TokenHash};
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::{Config, Environment};

/// End customers' pages and the session API.
pub const END_CUSTOMERS: u8 = 1;
/// The design side: the Builder and publishing through the admin API.
pub const DESIGN: u8 = 2;

/// How often the poller reads the open downtimes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How long a poll may take before the database counts as unreachable.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the window list (for banners and status changes) is refreshed.
const WINDOWS_EVERY: i64 = 5_000;
/// How often a heartbeat is written when nothing changed.
const BEAT_EVERY: i64 = 2_000;
/// Nodes not seen for this long are not waited for.
pub const NODE_STALE_MS: i64 = 10_000;
/// The name of the background task, in logs and `/metrics`.
pub const TASK_NAME: &str = "maintenance-poller";

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A downtime is on; the service is expected back at this time, if known.
    Downtime {
        /// When the service is expected back.
        expected_end: Option<i64>,
    },
    /// The database does not answer.
    DatabaseUnavailable,
}

/// What the node last learned from the store.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The open downtimes that apply to this node.
    pub downtimes: Vec<Downtime>,
    /// Every open downtime's id (to report as drained).
    pub newest_open: i64,
    /// The database did not answer the last poll.
    pub database_unavailable: bool,
    /// Windows neither cancelled nor over (for banners).
    pub windows: Vec<MaintenanceWindow>,
}

/// This node's maintenance state; shared by the gate, `/readyz`, the admin handlers and the
/// poller.
pub struct MaintenanceNode {
    /// A random id, for the heartbeat table.
    pub node_id: String,
    environment: Environment,
    region: String,
    snapshot: RwLock<Arc<Snapshot>>,
    closed: AtomicU8,
    in_flight: [AtomicUsize; 2],
    idle: Notify,
    refused: AtomicI64,
    drained: AtomicI64,
    windows_at: AtomicI64,
    beat_at: AtomicI64,
    beat_drained: AtomicI64,
    polled: AtomicBool,
    /// What is closed, for those waiting for it to open (the availability long poll).
    closed_changes: watch::Sender<u8>,
    /// True once the server is shutting down: long polls answer at once.
    stopping: watch::Sender<bool>,
    /// Clients waiting for end customers' requests to open again, and how many were waiting
    /// when they last opened (to spread their return).
    waiting: AtomicUsize,
    returning: AtomicUsize,
}

/// Counts a request in flight until dropped.
pub struct InFlight<'a> {
    node: &'a MaintenanceNode,
    index: usize,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.node.in_flight[self.index].fetch_sub(1, Ordering::SeqCst) == 1 {
            self.node.idle.notify_waiters();
        }
    }
}

fn index_of(kind: u8) -> usize {
    if kind == DESIGN { 1 } else { 0 }
}

impl MaintenanceNode {
    /// A node for `config`, open until the first poll says otherwise.
    pub fn new(config: &Config) -> Self {
        MaintenanceNode {
            node_id: crate::tokens::public_id(),
            environment: config.environment,
            region: config.region.clone(),
            snapshot: RwLock::default(),
            closed: AtomicU8::new(0),
            in_flight: [AtomicUsize::new(0), AtomicUsize::new(0)],
            idle: Notify::new(),
            refused: AtomicI64::new(0),
            drained: AtomicI64::new(0),
            windows_at: AtomicI64::new(i64::MIN),
            beat_at: AtomicI64::new(i64::MIN),
            beat_drained: AtomicI64::new(-1),
            polled: AtomicBool::new(false),
            closed_changes: watch::Sender::new(0),
            stopping: watch::Sender::new(false),
            waiting: AtomicUsize::new(0),
            returning: AtomicUsize::new(0),
        }
    }

    /// What the node last learned.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Which kinds of request a downtime closes on this node.
    pub fn closes(&self, downtime: &Downtime) -> u8 {
        if !downtime.regions.covers(&self.region) {
            return 0;
        }
        match downtime.environment.as_str() {
            "production" if self.environment == Environment::Production => END_CUSTOMERS,
            "development" => DESIGN,
            _ => 0,
        }
    }

    /// Counts a request of `kind` in flight, unless that kind is closed; then says why.
    /// `bypass` is the operator bypass secret the request carries, if any.
    pub fn enter(&self, kind: u8, bypass: Option<&str>) -> Result<InFlight<'_>, Refusal> {
        let index = index_of(kind);
        self.in_flight[index].fetch_add(1, Ordering::SeqCst);
        let guard = InFlight { node: self, index };
        if self.closed.load(Ordering::SeqCst) & kind == 0 {
            return Ok(guard);
        }
        let snapshot = self.snapshot();
        if snapshot.database_unavailable {
            drop(guard);
            return Err(Refusal::DatabaseUnavailable);
        }
        let applying: Vec<&Downtime> = snapshot
            .downtimes
            .iter()
            .filter(|d| self.closes(d) & kind != 0)
            .collect();
        if let Some(secret) = bypass {
            let hashes: Vec<TokenHash> = applying.iter().map(|d| d.bypass.clone()).collect();
            if crate::tokens::matches_any(secret, &hashes) {
                return Ok(guard);
            }
        }
        drop(guard);
        if applying.is_empty() {
            // Closed a moment ago and reopened since: let it through next time.
            return Err(Refusal::Downtime { expected_end: None });
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("holdfast_maintenance_refused_total").increment(1);
        Err(Refusal::Downtime {
            expected_end: applying.iter().filter_map(|d| d.expected_end).max(),
        })
    }

    /// Ready for traffic: the database answers and what this node serves is open.
    pub fn ready(&self) -> bool {
        let snapshot = self.snapshot();
        if snapshot.database_unavailable {
            return false;
        }
        let closed = self.closed.load(Ordering::SeqCst);
        let serves = match self.environment {
            Environment::Production => END_CUSTOMERS,
            Environment::Development => DESIGN,
        };
        closed & serves == 0
    }

    /// True if any kind of request is closed now.
    pub fn in_maintenance(&self) -> bool {
        self.closed.load(Ordering::SeqCst) != 0
    }

    /// Installs what a poll found and sets the flags; answers which kinds just closed.
    fn apply(&self, open: Vec<Downtime>, database_unavailable: bool) -> u8 {
        let newest_open = open.iter().map(|d| d.id.0).max().unwrap_or(0);
        let applying: Vec<Downtime> = open.into_iter().filter(|d| self.closes(d) != 0).collect();
        let closed = if database_unavailable {
            END_CUSTOMERS | DESIGN
        } else {
            applying.iter().fold(0, |acc, d| acc | self.closes(d))
        };
        if let Ok(mut slot) = self.snapshot.write() {
            let mut next = (**slot).clone();
            next.downtimes = applying;
            next.newest_open = newest_open;
            next.database_unavailable = database_unavailable;
            *slot = Arc::new(next);
        }
        let before = self.closed.swap(closed, Ordering::SeqCst);
        metrics::gauge!("holdfast_maintenance_closed").set(f64::from(closed));
        if before != closed {
            if before & END_CUSTOMERS != 0 && closed & END_CUSTOMERS == 0 {
                self.returning
                    .store(self.waiting.load(Ordering::SeqCst), Ordering::SeqCst);
            }
            self.closed_changes.send_replace(closed);
            tracing::info!(
                closed_end_customers = closed & END_CUSTOMERS != 0,
                closed_design = closed & DESIGN != 0,
                database_unavailable,
                "maintenance state changed"
            );
        }
        closed & !before
    }

    /// Reads the open downtimes now and applies them. On a database that does not answer,
    /// closes the node until it does.
    pub async fn refresh(&self, store: &dyn Store) {
        let polled = tokio::time::timeout(POLL_TIMEOUT, store.open_downtimes()).await;
        match polled {
            Ok(Ok(open)) => {
                self.apply(open, false);
            }
            Ok(Err(error)) => {
                if !self.snapshot().database_unavailable {
                    tracing::warn!(%error, "the database does not answer: closing this node until it does");
                }
                self.apply(Vec::new(), true);
            }
            Err(_) => {
                if !self.snapshot().database_unavailable {
                    tracing::warn!(
                        "the database did not answer within 2 s: closing this node until it does"
                    );
                }
                self.apply(Vec::new(), true);
            }
        }
        self.polled.store(true, Ordering::SeqCst);
    }

    /// Re-reads the windows (for banners) and records the status changes the clock made.
    pub async fn refresh_windows(&self, store: &dyn Store, now: i64) {
        let windows = match store.list_windows(now).await {
            Ok(windows) => windows,
            Err(error) => {
                tracing::warn!(%error, "cannot read the maintenance windows");
                return;
            }
        };
        for window in windows.iter().filter(|w| w.cancelled_at.is_none()) {
            if now >= window.starts_at && !window.updates.iter().any(|u| u.status == "in_progress")
            {
                let _ = store
                    .add_update(
                        window.id,
                        "in_progress",
                        "The maintenance window has started.",
                        Some("in_progress"),
                        window.starts_at.max(window.created_at),
                    )
                    .await;
            }
        }
        // Windows that ended since the last look (list_windows(now) no longer has them).
        if let Ok(recent) = store.list_windows(now - 7 * 24 * 3_600_000).await {
            for window in recent
                .iter()
                .filter(|w| w.cancelled_at.is_none() && w.ends_at <= now)
                .filter(|w| !w.updates.iter().any(|u| u.status == "completed"))
            {
                let _ = store
                    .add_update(
                        window.id,
                        "completed",
                        "The maintenance window has ended.",
                        Some("completed"),
                        window.ends_at,
                    )
                    .await;
            }
        }
        let current: Vec<MaintenanceWindow> = windows
            .into_iter()
            .filter(|w| w.cancelled_at.is_none() && w.ends_at > now)
            .collect();
        if let Ok(mut slot) = self.snapshot.write() {
            let mut next = (**slot).clone();
            next.windows = current;
            *slot = Arc::new(next);
        }
        self.windows_at.store(now, Ordering::SeqCst);
    }

    /// Asks the poller to re-read the windows at its next turn (after a plan changed here).
    pub fn windows_changed(&self) {
        self.windows_at.store(i64::MIN, Ordering::SeqCst);
    }

    /// Whether requests of `kind` are open on this node now.
    pub fn open_for(&self, kind: u8) -> bool {
        self.closed.load(Ordering::SeqCst) & kind == 0
    }

    /// Waits until requests of `kind` are open, at most `limit`, or the server stops; answers
    /// whether they are open. Counted among the waiting meanwhile.
    pub async fn wait_open(&self, kind: u8, limit: Duration) -> bool {
        let mut closed = self.closed_changes.subscribe();
        let mut stopping = self.stopping.subscribe();
        if self.open_for(kind) {
            return true;
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        tokio::select! {
            _ = tokio::time::timeout(limit, closed.wait_for(|closed| closed & kind == 0)) => {}
            _ = stopping.wait_for(|stopping| *stopping) => {}
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        self.open_for(kind)
    }

    /// How many clients were waiting when end customers' requests last opened again.
    pub fn returning(&self) -> usize {
        self.returning.load(Ordering::SeqCst)
    }

    /// The server is shutting down: every long poll answers now.
    pub fn stop_waiting(&self) {
        self.stopping.send_replace(true);
    }

    /// Waits until no request of the kinds in `kinds` is in flight, at most `limit`.
    pub async fn drain(&self, kinds: u8, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let idle = self.idle.notified();
            let busy = [END_CUSTOMERS, DESIGN]
                .into_iter()
                .filter(|k| kinds & k != 0)
                .any(|k| self.in_flight[index_of(k)].load(Ordering::SeqCst) > 0);
            if !busy {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return false;
            }
        }
    }

    /// Requests in flight of `kind`.
    pub fn in_flight(&self, kind: u8) -> usize {
        self.in_flight[index_of(kind)].load(Ordering::SeqCst)
    }

    /// Drains what is closed, then records in the heartbeat that this node has applied every
    /// open downtime. Writes only when something changed or the last beat is getting old.
    pub async fn beat(&self, store: &dyn Store, now: i64) {
        let snapshot = self.snapshot();
        if snapshot.database_unavailable {
            return;
        }
        let closed = self.closed.load(Ordering::SeqCst);
        if self.drain(closed, Duration::ZERO).await {
            self.drained
                .fetch_max(snapshot.newest_open, Ordering::SeqCst);
        }
        let drained = self.drained.load(Ordering::SeqCst);
        let last = self.beat_at.load(Ordering::SeqCst);
        if self.beat_drained.load(Ordering::SeqCst) == drained
            && now.saturating_sub(last) < BEAT_EVERY
            && now >= last
        {
            return;
        }
        let beat = NodeBeat {
            node_id: self.node_id.clone(),
            environment: self.environment.as_str().to_owned(),
            region: self.region.clone(),
            drained,
            seen_at: now,
        };
        match store.node_beat(beat).await {
            Ok(()) => {
                self.beat_at.store(now, Ordering::SeqCst);
                self.beat_drained.store(drained, Ordering::SeqCst);
            }
            Err(error) => tracing::warn!(%error, "cannot record this node's heartbeat"),
        }
    }

    /// Adds the refusals counted since the last flush to the downtimes they belong to.
    pub async fn flush_refused(&self, store: &dyn Store) {
        let count = self.refused.swap(0, Ordering::SeqCst);
        if count == 0 {
            return;
        }
        let snapshot = self.snapshot();
        let Some(downtime) = snapshot.downtimes.first() else {
            return;
        };
        if let Err(error) = store.add_refused(downtime.id, count).await {
            tracing::warn!(%error, "cannot record refused requests");
            self.refused.fetch_add(count, Ordering::SeqCst);
        }
    }

    /// One turn of the poller.
    pub async fn tick(&self, store: &dyn Store, clock: &dyn Clock) {
        self.refresh(store).await;
        if self.snapshot().database_unavailable {
            return;
        }
        let now = clock.now_millis();
        let windows_at = self.windows_at.load(Ordering::SeqCst);
        if windows_at == i64::MIN
            || now.saturating_sub(windows_at) >= WINDOWS_EVERY
            || now < windows_at
        {
            self.refresh_windows(store, now).await;
        }
        self.flush_refused(store).await;
        self.beat(store, now).await;
    }
}

/// Runs the poller until `stop` changes. Named, owned by the server, stopped with it.
pub fn spawn_poller(
    node: Arc<MaintenanceNode>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        metrics::gauge!("holdfast_background_task_running", "task" => TASK_NAME).set(1.0);
        tracing::debug!(task = TASK_NAME, node = %node.node_id, "started");
        let mut interval = tokio::time::interval(POLL_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    node.tick(store.as_ref(), clock.as_ref()).await;
                    metrics::counter!("holdfast_background_task_runs_total", "task" => TASK_NAME).increment(1);
                }
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
        node.flush_refused(store.as_ref()).await;
        metrics::gauge!("holdfast_background_task_running", "task" => TASK_NAME).set(0.0);
        tracing::debug!(task = TASK_NAME, "stopped");
    })
}
