//! Maintenance as data: plans and their phases (windows), each window's update history, the
//! downtimes operators begin and end, the nodes that share the database, and the facts the
//! maintenance report and the off-peak suggestion are computed from.
//!
//! This module owns the tables of `migrations/*/0002_maintenance.sql` and the transactions on
//! them. It does not decide what is a valid plan or what a status means at a given time: the
//! server does, with its clock. The one rule kept here is atomicity: a plan is checked against
//! the windows already scheduled and stored in one transaction that no other scheduler (of
//! this or another node) can interleave with.
//!
//! Both backends run the same SQL (written with `?` placeholders and rewritten for
//! PostgreSQL); [`impl_maintenance_store!`] holds it once.

mod postgres;
mod sqlite;
pub mod webhooks;

use serde::Serialize;

use crate::model::{Millis, SessionId, StoreError, TokenHash};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
    };
}

id_type!(
    /// A maintenance plan's database id.
    PlanId
);
id_type!(
    /// A maintenance window's (a plan phase's) database id.
    WindowId
);
id_type!(
    /// A downtime's database id.
    DowntimeId
);

/// The regions a window or downtime covers. Serializes as the plan file writes it: `"all"` or
/// a list of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// Every region of the platform.
    All,
    /// These regions (never empty, no duplicates).
    Some(Vec<String>),
}

impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Regions::All => serializer.serialize_str("all"),
            Regions::Some(list) => list.serialize(serializer),
        }
    }
}

impl Regions {
    /// True if `region` is covered.
    pub fn covers(&self, region: &str) -> bool {
        match self {
            Regions::All => true,
            Regions::Some(list) => list.iter().any(|r| r == region),
        }
    }

    /// True if some region is covered by both.
    pub fn intersects(&self, other: &Regions) -> bool {
        match (self, other) {
            (Regions::All, _) | (_, Regions::All) => true,
            (Regions::Some(a), Regions::Some(b)) => a.iter().any(|r| b.contains(r)),
        }
    }

    /// The stored form: `all` or `a,b,c`.
    pub fn to_column(&self) -> String {
        match self {
            Regions::All => "all".to_owned(),
            Regions::Some(list) => list.join(","),
        }
    }

    /// Reads the stored form.
    pub fn from_column(column: &str) -> Regions {
        if column == "all" {
            Regions::All
        } else {
            Regions::Some(
                column
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        }
    }
}

/// A plan to store: one or more phases, already validated by the caller.
#[derive(Debug, Clone)]
pub struct NewPlan {
    /// The title of the announcement.
    pub title: String,
    /// A one-paragraph summary.
    pub summary: String,
    /// The default end-customer impact in minutes.
    pub impact_minutes: i64,
    /// The advantages the notice lists (empty: the standard ones).
    pub advantages: Vec<String>,
    /// The plan document as submitted (empty for unscheduled downtime).
    pub source: String,
    /// True for the plan an unscheduled `maintenance begin` records.
    pub unscheduled: bool,
    /// The phases, in order.
    pub phases: Vec<NewWindow>,
}

/// One phase of a plan to store.
#[derive(Debug, Clone)]
pub struct NewWindow {
    /// The phase's name.
    pub name: String,
    /// `development` or `production`.
    pub environment: String,
    /// The regions it covers.
    pub regions: Regions,
    /// Start, UTC.
    pub starts_at: Millis,
    /// End, UTC; after the start.
    pub ends_at: Millis,
    /// The longest end customers may be affected, in minutes.
    pub impact_minutes: i64,
    /// What operators want end customers and agents to read about it (may be empty).
    pub message: String,
}

/// A stored plan with its phases.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenancePlan {
    /// Database id.
    pub id: PlanId,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Default end-customer impact in minutes.
    pub impact_minutes: i64,
    /// Advantages listed by the notice.
    pub advantages: Vec<String>,
    /// The plan document as submitted.
    pub source: String,
    /// Recorded by an unscheduled `maintenance begin`.
    pub unscheduled: bool,
    /// When it was scheduled.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Its phases, in order.
    pub windows: Vec<MaintenanceWindow>,
}

/// A stored window (one phase of a plan), with its history and downtimes.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    /// Database id.
    pub id: WindowId,
    /// The plan it belongs to.
    pub plan_id: PlanId,
    /// The plan's title.
    pub plan_title: String,
    /// 1, 2, 3 … within the plan.
    pub phase: i64,
    /// The phase's name.
    pub name: String,
    /// `development` or `production`.
    pub environment: String,
    /// The regions it covers.
    pub regions: Regions,
    /// Start, UTC.
    pub starts_at: Millis,
    /// End, UTC.
    pub ends_at: Millis,
    /// The longest end customers may be affected, in minutes.
    pub impact_minutes: i64,
    /// The operators' message (may be empty).
    pub message: String,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<Millis>,
    /// When it was scheduled.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Its update history, oldest first.
    pub updates: Vec<MaintenanceUpdate>,
    /// The downtimes begun for it, oldest first.
    pub downtimes: Vec<Downtime>,
}

/// One entry of a window's update history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintenanceUpdate {
    /// Database id.
    pub id: i64,
    /// The window.
    pub window_id: WindowId,
    /// The status it announces: scheduled, in_progress, verifying, completed, cancelled.
    pub status: String,
    /// What happened, for people.
    pub message: String,
    /// When.
    pub created_at: Millis,
}

/// What the scheduling transaction refused, each problem a sentence naming the phase.
pub type Refusals = Vec<String>;

/// Checks a plan against the windows already scheduled (not cancelled, not ended), inside the
/// transaction that stores it.
pub type ScheduleCheck<'a> =
    &'a (dyn Fn(&[MaintenanceWindow]) -> Result<(), Refusals> + Send + Sync);

/// The result of [`MaintenanceStore::schedule_plan`].
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleOutcome {
    /// Stored.
    Scheduled(MaintenancePlan),
    /// The check refused it; nothing was stored.
    Refused(Refusals),
}

/// A downtime to begin.
#[derive(Debug, Clone)]
pub struct NewDowntime {
    /// The window it belongs to.
    pub window: WindowId,
    /// The environment it closes.
    pub environment: String,
    /// The regions it covers.
    pub regions: Regions,
    /// When the service is expected back, if known.
    pub expected_end: Option<Millis>,
    /// SHA-256 of the operator bypass secret.
    pub bypass: TokenHash,
    /// Sessions updated at or after this time and not submitted count as active at the begin.
    pub active_since: Millis,
}

/// A downtime: from `maintenance begin` to `maintenance end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Downtime {
    /// Database id.
    pub id: DowntimeId,
    /// The window it belongs to.
    pub window_id: WindowId,
    /// The environment it closes.
    pub environment: String,
    /// The regions it covers.
    pub regions: Regions,
    /// When it began.
    pub started_at: Millis,
    /// When it ended, if it has.
    pub ended_at: Option<Millis>,
    /// When the service is expected back, if known.
    pub expected_end: Option<Millis>,
    /// SHA-256 of the operator bypass secret.
    pub bypass: TokenHash,
    /// Requests refused so far (as reported by the nodes).
    pub requests_refused: i64,
}

/// The facts a downtime's report is made of, counted from the sessions and change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DowntimeFacts {
    /// End customers' sessions in progress when it began.
    pub sessions_active: i64,
    /// Of those, how many changed after the downtime ended.
    pub sessions_resumed: i64,
    /// Of those, how many were submitted after the downtime began.
    pub sessions_submitted: i64,
    /// Changes lost: numbers missing from the clients' change sequences of those sessions.
    pub changes_lost: i64,
}

/// A node's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBeat {
    /// The node's id (random per process).
    pub node_id: String,
    /// The environment it serves.
    pub environment: String,
    /// Its region.
    pub region: String,
    /// The newest downtime it has applied and drained (0 for none).
    pub drained: i64,
    /// When it was last seen.
    pub seen_at: Millis,
}

/// Storage for maintenance; a supertrait of [`crate::Store`], implemented by both backends.
#[async_trait::async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Stores a plan with its phases if `check`, given every window not cancelled and not
    /// ended at `now`, accepts it; records a `scheduled` update for each phase. Two schedulers
    /// never check against the same windows at once.
    async fn schedule_plan(
        &self,
        plan: NewPlan,
        now: Millis,
        check: ScheduleCheck<'_>,
    ) -> Result<ScheduleOutcome, StoreError>;

    /// Every plan, newest first, with its windows.
    async fn list_plans(&self) -> Result<Vec<MaintenancePlan>, StoreError>;

    /// One plan with its windows.
    async fn plan(&self, id: PlanId) -> Result<Option<MaintenancePlan>, StoreError>;

    /// One window.
    async fn window(&self, id: WindowId) -> Result<Option<MaintenanceWindow>, StoreError>;

    /// Every window that ends at or after `ended_after` (cancelled ones too), by start.
    async fn list_windows(&self, ended_after: Millis)
    -> Result<Vec<MaintenanceWindow>, StoreError>;

    /// Cancels windows that are not cancelled yet, recording a `cancelled` update with
    /// `message`; returns the ids it cancelled.
    async fn cancel_windows(
        &self,
        windows: &[WindowId],
        message: &str,
        now: Millis,
    ) -> Result<Vec<WindowId>, StoreError>;

    /// Adds an update to a window's history. With a `key`, an update with the same key is
    /// recorded once: the answer is false if it existed already.
    async fn add_update(
        &self,
        window: WindowId,
        status: &str,
        message: &str,
        key: Option<&str>,
        at: Millis,
    ) -> Result<bool, StoreError>;

    /// Sets a window's end (an unscheduled window ends when its downtime does).
    async fn set_window_end(
        &self,
        window: WindowId,
        ends_at: Millis,
        now: Millis,
    ) -> Result<(), StoreError>;

    /// Begins a downtime, recording the sessions active at its start (of organisations in
    /// its regions, for production). `Conflict` if an open downtime covers the same
    /// environment and a common region.
    async fn begin_downtime(&self, new: NewDowntime, now: Millis) -> Result<Downtime, StoreError>;

    /// Ends an open downtime; `NotFound` if there is none with this id open.
    async fn end_downtime(&self, id: DowntimeId, now: Millis) -> Result<Downtime, StoreError>;

    /// Every open downtime (what nodes poll).
    async fn open_downtimes(&self) -> Result<Vec<Downtime>, StoreError>;

    /// One downtime.
    async fn downtime(&self, id: DowntimeId) -> Result<Option<Downtime>, StoreError>;

    /// The downtime begun last, if any.
    async fn latest_downtime(&self) -> Result<Option<Downtime>, StoreError>;

    /// Adds to a downtime's count of refused requests.
    async fn add_refused(&self, id: DowntimeId, count: i64) -> Result<(), StoreError>;

    /// Counts what the report says about a downtime's end customers.
    async fn downtime_facts(&self, id: DowntimeId) -> Result<DowntimeFacts, StoreError>;

    /// Records a node's heartbeat.
    async fn node_beat(&self, beat: NodeBeat) -> Result<(), StoreError>;

    /// The nodes seen at or after `seen_since`.
    async fn nodes(&self, seen_since: Millis) -> Result<Vec<NodeBeat>, StoreError>;

    /// Activity since `since`: each distinct (session, hour) in which an end customer's session
    /// changed, as (session id, org region, hour since the epoch).
    async fn session_activity(
        &self,
        since: Millis,
    ) -> Result<Vec<(SessionId, String, i64)>, StoreError>;

    /// Design activity since `since`: each publication as (org region, hour since the epoch).
    async fn design_activity(&self, since: Millis) -> Result<Vec<(String, i64)>, StoreError>;
}

/// Counts the numbers missing from a client's sequence numbers (sorted or not) between its
/// lowest and its highest.
pub fn sequence_gaps(seqs: &mut [i64]) -> i64 {
    seqs.sort_unstable();
    let mut gaps = 0;
    for pair in seqs.windows(2) {
        if pair[1] > pair[0] + 1 {
            gaps = i64::saturating_add(gaps, pair[1] - pair[0] - 1);
        }
    }
    gaps
}

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The SQL is the same on both backends; this writes the implementation once.
///
/// `$store` is the backend type, `$db` its sqlx database, `$sql` a function turning the
/// `?`-placeholder SQL into the backend's, `$read` / `$write` methods giving the read and
/// write pools, and `$lock` an async method starting a transaction that holds the
/// maintenance lock (the one a scheduler takes).
macro_rules! impl_maintenance_store {
    ($store:ty, $db:ty, $sql:path, $read:ident, $write:ident, $lock:ident) => {
        use sqlx::Row as _;
        use $crate::maintenance::{
            Downtime, DowntimeFacts, DowntimeId, MaintenancePlan, MaintenanceStore,
            MaintenanceUpdate, MaintenanceWindow, NewDowntime, NewPlan, NodeBeat, PlanId, Regions,
            ScheduleCheck, ScheduleOutcome, WindowId, sequence_gaps,
        };
        use $crate::model::{Millis, SessionId, StoreError};

        const WINDOW_SELECT: &str = "SELECT w.id, w.plan_id, p.title AS plan_title, w.phase, \
            w.name, w.environment, w.regions, w.starts_at, w.ends_at, w.impact_minutes, \
            w.message, w.cancelled_at, w.created_at, w.updated_at \
            FROM maintenance_windows w JOIN maintenance_plans p ON p.id = w.plan_id";
        const PLAN_SELECT: &str = "SELECT id, title, summary, impact_minutes, advantages, \
            source, unscheduled, created_at, updated_at FROM maintenance_plans";
        const DOWNTIME_SELECT: &str = "SELECT id, window_id, environment, regions, started_at, \
            ended_at, expected_end, bypass_hash, requests_refused FROM maintenance_downtimes";

        fn window_of(row: &<$db as sqlx::Database>::Row) -> Result<MaintenanceWindow, StoreError> {
            Ok(MaintenanceWindow {
                id: WindowId(row.try_get("id")?),
                plan_id: PlanId(row.try_get("plan_id")?),
                plan_title: row.try_get("plan_title")?,
                phase: row.try_get("phase")?,
                name: row.try_get("name")?,
                environment: row.try_get("environment")?,
                regions: Regions::from_column(&row.try_get::<String, _>("regions")?),
                starts_at: row.try_get("starts_at")?,
                ends_at: row.try_get("ends_at")?,
                impact_minutes: row.try_get("impact_minutes")?,
                message: row.try_get("message")?,
                cancelled_at: row.try_get("cancelled_at")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                updates: Vec::new(),
                downtimes: Vec::new(),
            })
        }

        fn plan_of(row: &<$db as sqlx::Database>::Row) -> Result<MaintenancePlan, StoreError> {
            let advantages: String = row.try_get("advantages")?;
            let advantages: Vec<String> = serde_json::from_str(&advantages).map_err(|error| {
                StoreError::Corrupt(format!("a plan's advantages are not a JSON list: {error}"))
            })?;
            Ok(MaintenancePlan {
                id: PlanId(row.try_get("id")?),
                title: row.try_get("title")?,
                summary: row.try_get("summary")?,
                impact_minutes: row.try_get("impact_minutes")?,
                advantages,
                source: row.try_get("source")?,
                unscheduled: row.try_get::<i64, _>("unscheduled")? != 0,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                windows: Vec::new(),
            })
        }

        fn downtime_of(row: &<$db as sqlx::Database>::Row) -> Result<Downtime, StoreError> {
            Ok(Downtime {
                id: DowntimeId(row.try_get("id")?),
                window_id: WindowId(row.try_get("window_id")?),
                environment: row.try_get("environment")?,
                regions: Regions::from_column(&row.try_get::<String, _>("regions")?),
                started_at: row.try_get("started_at")?,
                ended_at: row.try_get("ended_at")?,
                expected_end: row.try_get("expected_end")?,
                bypass: $crate::rows::token_hash(row.try_get("bypass_hash")?)?,
                requests_refused: row.try_get("requests_refused")?,
            })
        }

        impl $store {
            /// Windows matching `condition` (SQL after WHERE, binding `arg` if it has a `?`),
            /// with their updates and downtimes.
            async fn maintenance_windows_where(
                &self,
                condition: &str,
                arg: Option<i64>,
            ) -> Result<Vec<MaintenanceWindow>, StoreError> {
                let sql = $sql(&format!(
                    "{WINDOW_SELECT} WHERE {condition} ORDER BY w.starts_at, w.id"
                ));
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                if let Some(arg) = arg {
                    query = query.bind(arg);
                }
                let rows = query.fetch_all(self.$read()).await?;
                let mut windows = rows.iter().map(window_of).collect::<Result<Vec<_>, _>>()?;
                self.maintenance_details(&mut windows).await?;
                Ok(windows)
            }

            /// Fills in the updates and downtimes of `windows`.
            async fn maintenance_details(
                &self,
                windows: &mut [MaintenanceWindow],
            ) -> Result<(), StoreError> {
                if windows.is_empty() {
                    return Ok(());
                }
                let low = windows.iter().map(|w| w.id.0).min().unwrap_or(0);
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT id, window_id, status, message, created_at FROM maintenance_updates \
                     WHERE window_id >= ? ORDER BY created_at, id",
                )))
                .bind(low)
                .fetch_all(self.$read())
                .await?;
                for row in &rows {
                    let update = MaintenanceUpdate {
                        id: row.try_get("id")?,
                        window_id: WindowId(row.try_get("window_id")?),
                        status: row.try_get("status")?,
                        message: row.try_get("message")?,
                        created_at: row.try_get("created_at")?,
                    };
                    if let Some(window) = windows.iter_mut().find(|w| w.id == update.window_id) {
                        window.updates.push(update);
                    }
                }
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{DOWNTIME_SELECT} WHERE window_id >= ? ORDER BY started_at, id"
                ))))
                .bind(low)
                .fetch_all(self.$read())
                .await?;
                for row in &rows {
                    let downtime = downtime_of(row)?;
                    if let Some(window) = windows.iter_mut().find(|w| w.id == downtime.window_id)
                    {
                        window.downtimes.push(downtime);
                    }
                }
                Ok(())
            }

            /// Plans matching `condition`, with their windows.
            async fn maintenance_plans_where(
                &self,
                condition: &str,
                arg: Option<i64>,
            ) -> Result<Vec<MaintenancePlan>, StoreError> {
                let sql = $sql(&format!(
                    "{PLAN_SELECT} WHERE {condition} ORDER BY created_at DESC, id DESC"
                ));
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                if let Some(arg) = arg {
                    query = query.bind(arg);
                }
                let rows = query.fetch_all(self.$read()).await?;
                let mut plans = rows.iter().map(plan_of).collect::<Result<Vec<_>, _>>()?;
                if plans.is_empty() {
                    return Ok(plans);
                }
                let low = plans.iter().map(|p| p.id.0).min().unwrap_or(0);
                let windows = self
                    .maintenance_windows_where("w.plan_id >= ?", Some(low))
                    .await?;
                for window in windows {
                    if let Some(plan) = plans.iter_mut().find(|p| p.id == window.plan_id) {
                        plan.windows.push(window);
                    }
                }
                for plan in &mut plans {
                    plan.windows.sort_by_key(|w| w.phase);
                }
                Ok(plans)
            }
        }

        #[async_trait::async_trait]
        impl MaintenanceStore for $store {
            async fn schedule_plan(
                &self,
                plan: NewPlan,
                now: Millis,
                check: ScheduleCheck<'_>,
            ) -> Result<ScheduleOutcome, StoreError> {
                let mut tx = self.$lock().await?;
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{WINDOW_SELECT} WHERE w.cancelled_at IS NULL AND w.ends_at > ? \
                     ORDER BY w.starts_at, w.id"
                ))))
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                let existing = rows.iter().map(window_of).collect::<Result<Vec<_>, _>>()?;
                if let Err(refusals) = check(&existing) {
                    tx.rollback().await?;
                    return Ok(ScheduleOutcome::Refused(refusals));
                }
                let advantages = serde_json::to_string(&plan.advantages)
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?;
                let plan_id: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO maintenance_plans (title, summary, impact_minutes, advantages, \
                     source, unscheduled, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                )))
                .bind(&plan.title)
                .bind(&plan.summary)
                .bind(plan.impact_minutes)
                .bind(&advantages)
                .bind(&plan.source)
                .bind(i64::from(plan.unscheduled))
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                for (index, phase) in plan.phases.iter().enumerate() {
                    let number = i64::try_from(index).unwrap_or(i64::MAX - 1) + 1;
                    let window_id: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                        "INSERT INTO maintenance_windows (plan_id, phase, name, environment, \
                         regions, starts_at, ends_at, impact_minutes, message, created_at, \
                         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    )))
                    .bind(plan_id)
                    .bind(number)
                    .bind(&phase.name)
                    .bind(&phase.environment)
                    .bind(phase.regions.to_column())
                    .bind(phase.starts_at)
                    .bind(phase.ends_at)
                    .bind(phase.impact_minutes)
                    .bind(&phase.message)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    let message = if plan.unscheduled {
                        "Unscheduled maintenance has begun."
                    } else {
                        "Maintenance has been scheduled."
                    };
                    sqlx::query(sqlx::AssertSqlSafe($sql(
                        "INSERT INTO maintenance_updates (window_id, status, message, key, \
                         created_at) VALUES (?, 'scheduled', ?, 'scheduled', ?)",
                    )))
                    .bind(window_id)
                    .bind(message)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                let stored = self.plan(PlanId(plan_id)).await?.ok_or(StoreError::NotFound)?;
                Ok(ScheduleOutcome::Scheduled(stored))
            }

            async fn list_plans(&self) -> Result<Vec<MaintenancePlan>, StoreError> {
                self.maintenance_plans_where("1 = 1", None).await
            }

            async fn plan(&self, id: PlanId) -> Result<Option<MaintenancePlan>, StoreError> {
                let sql = $sql(&format!("{PLAN_SELECT} WHERE id = ?"));
                let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.0)
                    .fetch_optional(self.$read())
                    .await?
                else {
                    return Ok(None);
                };
                let mut plan = plan_of(&row)?;
                plan.windows = self
                    .maintenance_windows_where("w.plan_id = ?", Some(id.0))
                    .await?;
                plan.windows.sort_by_key(|w| w.phase);
                Ok(Some(plan))
            }

            async fn window(&self, id: WindowId) -> Result<Option<MaintenanceWindow>, StoreError> {
                Ok(self
                    .maintenance_windows_where("w.id = ?", Some(id.0))
                    .await?
                    .into_iter()
                    .next())
            }

            async fn list_windows(
                &self,
                ended_after: Millis,
            ) -> Result<Vec<MaintenanceWindow>, StoreError> {
                self.maintenance_windows_where("w.ends_at >= ?", Some(ended_after))
                    .await
            }

            async fn cancel_windows(
                &self,
                windows: &[WindowId],
                message: &str,
                now: Millis,
            ) -> Result<Vec<WindowId>, StoreError> {
                let mut tx = self.$lock().await?;
                let mut cancelled = Vec::new();
                for window in windows {
                    let changed = sqlx::query(sqlx::AssertSqlSafe($sql(
                        "UPDATE maintenance_windows SET cancelled_at = ?, updated_at = ? \
                         WHERE id = ? AND cancelled_at IS NULL",
                    )))
                    .bind(now)
                    .bind(now)
                    .bind(window.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 1 {
                        sqlx::query(sqlx::AssertSqlSafe($sql(
                            "INSERT INTO maintenance_updates (window_id, status, message, key, \
                             created_at) VALUES (?, 'cancelled', ?, 'cancelled', ?)",
                        )))
                        .bind(window.0)
                        .bind(message)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        cancelled.push(*window);
                    }
                }
                tx.commit().await?;
                Ok(cancelled)
            }

            async fn add_update(
                &self,
                window: WindowId,
                status: &str,
                message: &str,
                key: Option<&str>,
                at: Millis,
            ) -> Result<bool, StoreError> {
                let result = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO maintenance_updates (window_id, status, message, key, \
                     created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )))
                .bind(window.0)
                .bind(status)
                .bind(message)
                .bind(key)
                .bind(at)
                .execute(self.$write())
                .await
                .map_err($crate::rows::not_found_on_foreign_key)?;
                Ok(result.rows_affected() == 1)
            }

            async fn set_window_end(
                &self,
                window: WindowId,
                ends_at: Millis,
                now: Millis,
            ) -> Result<(), StoreError> {
                let changed = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE maintenance_windows SET ends_at = ?, updated_at = ? \
                     WHERE id = ? AND starts_at < ?",
                )))
                .bind(ends_at)
                .bind(now)
                .bind(window.0)
                .bind(ends_at)
                .execute(self.$write())
                .await?
                .rows_affected();
                if changed == 1 {
                    Ok(())
                } else {
                    Err(StoreError::NotFound)
                }
            }

            async fn begin_downtime(
                &self,
                new: NewDowntime,
                now: Millis,
            ) -> Result<Downtime, StoreError> {
                let mut tx = self.$lock().await?;
                let open = sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{DOWNTIME_SELECT} WHERE ended_at IS NULL"
                ))))
                .fetch_all(&mut *tx)
                .await?;
                for row in &open {
                    let other = downtime_of(row)?;
                    if other.environment == new.environment && other.regions.intersects(&new.regions)
                    {
                        tx.rollback().await?;
                        return Err(StoreError::Conflict(format!(
                            "a downtime of the {} environment in the same regions (begun for window {}, downtime {})",
                            other.environment, other.window_id.0, other.id.0
                        )));
                    }
                }
                let id: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO maintenance_downtimes (window_id, environment, regions, \
                     started_at, expected_end, bypass_hash) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                )))
                .bind(new.window.0)
                .bind(&new.environment)
                .bind(new.regions.to_column())
                .bind(now)
                .bind(new.expected_end)
                .bind(&new.bypass.0[..])
                .fetch_one(&mut *tx)
                .await
                .map_err($crate::rows::not_found_on_foreign_key)?;
                if new.environment == "production" {
                    let candidates = sqlx::query(sqlx::AssertSqlSafe($sql(
                        "SELECT s.id, o.region FROM sessions s JOIN orgs o ON o.id = s.org_id \
                         WHERE s.submitted_at IS NULL AND s.updated_at >= ?",
                    )))
                    .bind(new.active_since)
                    .fetch_all(&mut *tx)
                    .await?;
                    for row in &candidates {
                        let region: String = row.try_get("region")?;
                        if !new.regions.covers(&region) {
                            continue;
                        }
                        sqlx::query(sqlx::AssertSqlSafe($sql(
                            "INSERT INTO maintenance_downtime_sessions (downtime_id, session_id) \
                             VALUES (?, ?)",
                        )))
                        .bind(id)
                        .bind(row.try_get::<i64, _>("id")?)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                self.downtime(DowntimeId(id)).await?.ok_or(StoreError::NotFound)
            }

            async fn end_downtime(
                &self,
                id: DowntimeId,
                now: Millis,
            ) -> Result<Downtime, StoreError> {
                let changed = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE maintenance_downtimes SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                )))
                .bind(now)
                .bind(id.0)
                .execute(self.$write())
                .await?
                .rows_affected();
                if changed != 1 {
                    return Err(StoreError::NotFound);
                }
                self.downtime(id).await?.ok_or(StoreError::NotFound)
            }

            async fn open_downtimes(&self) -> Result<Vec<Downtime>, StoreError> {
                sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{DOWNTIME_SELECT} WHERE ended_at IS NULL ORDER BY id"
                ))))
                .fetch_all(self.$read())
                .await?
                .iter()
                .map(downtime_of)
                .collect()
            }

            async fn downtime(&self, id: DowntimeId) -> Result<Option<Downtime>, StoreError> {
                sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{DOWNTIME_SELECT} WHERE id = ?"
                ))))
                .bind(id.0)
                .fetch_optional(self.$read())
                .await?
                .as_ref()
                .map(downtime_of)
                .transpose()
            }

            async fn latest_downtime(&self) -> Result<Option<Downtime>, StoreError> {
                sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{DOWNTIME_SELECT} ORDER BY started_at DESC, id DESC LIMIT 1"
                ))))
                .fetch_optional(self.$read())
                .await?
                .as_ref()
                .map(downtime_of)
                .transpose()
            }

            async fn add_refused(&self, id: DowntimeId, count: i64) -> Result<(), StoreError> {
                sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE maintenance_downtimes SET requests_refused = requests_refused + ? \
                     WHERE id = ?",
                )))
                .bind(count)
                .bind(id.0)
                .execute(self.$write())
                .await?;
                Ok(())
            }

            async fn downtime_facts(&self, id: DowntimeId) -> Result<DowntimeFacts, StoreError> {
                let downtime = self.downtime(id).await?.ok_or(StoreError::NotFound)?;
                let sessions = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT s.id, s.submitted_at, s.answers FROM maintenance_downtime_sessions ds \
                     JOIN sessions s ON s.id = ds.session_id WHERE ds.downtime_id = ? \
                     ORDER BY s.id",
                )))
                .bind(id.0)
                .fetch_all(self.$read())
                .await?;
                let mut facts = DowntimeFacts {
                    sessions_active: i64::try_from(sessions.len()).unwrap_or(i64::MAX),
                    sessions_resumed: 0,
                    sessions_submitted: 0,
                    changes_lost: 0,
                };
                for row in &sessions {
                    let session: i64 = row.try_get("id")?;
                    let submitted_at: Option<i64> = row.try_get("submitted_at")?;
                    if submitted_at.is_some_and(|at| at >= downtime.started_at) {
                        facts.sessions_submitted += 1;
                    }
                    let changes = sqlx::query(sqlx::AssertSqlSafe($sql(
                        "SELECT client, seq, base, answers, created_at FROM session_changes \
                         WHERE session_id = ? ORDER BY revision",
                    )))
                    .bind(session)
                    .fetch_all(self.$read())
                    .await?;
                    let mut resumed = false;
                    let mut by_client: std::collections::BTreeMap<String, Vec<i64>> =
                        std::collections::BTreeMap::new();
                    let mut log = Vec::with_capacity(changes.len());
                    for change in &changes {
                        let created_at: i64 = change.try_get("created_at")?;
                        if downtime.ended_at.is_some_and(|end| created_at >= end) {
                            resumed = true;
                        }
                        let client: Option<String> = change.try_get("client")?;
                        let seq: Option<i64> = change.try_get("seq")?;
                        if let (Some(client), Some(seq)) = (&client, seq) {
                            by_client.entry(client.clone()).or_default().push(seq);
                        }
                        let answers: String = change.try_get("answers")?;
                        log.push(crate::model::Change {
                            client,
                            seq,
                            base: change.try_get("base")?,
                            answers: crate::rows::parse_answers(&answers, || {
                                format!("a change of session {session}")
                            })?,
                            current_step: None,
                        });
                    }
                    let submitted_after_end = match (submitted_at, downtime.ended_at) {
                        (Some(at), Some(end)) => at >= end,
                        _ => false,
                    };
                    if resumed || submitted_after_end {
                        facts.sessions_resumed += 1;
                    }
                    for seqs in by_client.values_mut() {
                        facts.changes_lost = facts.changes_lost.saturating_add(sequence_gaps(seqs));
                    }
                    // An answer the log says the session should hold and it does not: an
                    // overwrite behind the merge rule's back (as arrival order once did).
                    let stored: String = row.try_get("answers")?;
                    let stored = crate::rows::parse_answers(&stored, || format!("session {session}"))?;
                    facts.changes_lost = facts
                        .changes_lost
                        .saturating_add(crate::merge::answers_lost(&stored, &log));
                }
                Ok(facts)
            }

            async fn node_beat(&self, beat: NodeBeat) -> Result<(), StoreError> {
                sqlx::query(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO maintenance_nodes (node_id, environment, region, seen_at, drained) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (node_id) DO UPDATE SET \
                     environment = excluded.environment, region = excluded.region, \
                     seen_at = excluded.seen_at, drained = excluded.drained",
                )))
                .bind(&beat.node_id)
                .bind(&beat.environment)
                .bind(&beat.region)
                .bind(beat.seen_at)
                .bind(beat.drained)
                .execute(self.$write())
                .await?;
                Ok(())
            }

            async fn nodes(&self, seen_since: Millis) -> Result<Vec<NodeBeat>, StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT node_id, environment, region, seen_at, drained FROM maintenance_nodes \
                     WHERE seen_at >= ? ORDER BY node_id",
                )))
                .bind(seen_since)
                .fetch_all(self.$read())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(NodeBeat {
                            node_id: row.try_get("node_id")?,
                            environment: row.try_get("environment")?,
                            region: row.try_get("region")?,
                            seen_at: row.try_get("seen_at")?,
                            drained: row.try_get("drained")?,
                        })
                    })
                    .collect()
            }

            async fn session_activity(
                &self,
                since: Millis,
            ) -> Result<Vec<(SessionId, String, i64)>, StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT DISTINCT c.session_id, o.region, c.created_at / 3600000 AS hour \
                     FROM session_changes c JOIN sessions s ON s.id = c.session_id \
                     JOIN orgs o ON o.id = s.org_id WHERE c.created_at >= ?",
                )))
                .bind(since)
                .fetch_all(self.$read())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            SessionId(row.try_get("session_id")?),
                            row.try_get("region")?,
                            row.try_get("hour")?,
                        ))
                    })
                    .collect()
            }

            async fn design_activity(
                &self,
                since: Millis,
            ) -> Result<Vec<(String, i64)>, StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT o.region, v.created_at / 3600000 AS hour FROM process_versions v \
                     JOIN processes p ON p.id = v.process_id JOIN orgs o ON o.id = p.org_id \
                     WHERE v.created_at >= ?",
                )))
                .bind(since)
                .fetch_all(self.$read())
                .await?;
                rows.iter()
                    .map(|row| Ok((row.try_get("region")?, row.try_get("hour")?)))
                    .collect()
            }
        }
    };
}

pub(crate) use impl_maintenance_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }

    #[test]
    fn gaps_count_missing_numbers() {
        assert_eq!(sequence_gaps(&mut []), 0);
        assert_eq!(sequence_gaps(&mut [3, 1, 2]), 0);
        assert_eq!(sequence_gaps(&mut [1, 2, 5]), 2);
        assert_eq!(sequence_gaps(&mut [1, 1, 2]), 0);
    }

    #[test]
    fn regions_round_trip_and_intersect() {
        let some = Regions::Some(vec!["eu".into(), "na".into()]);
        assert_eq!(Regions::from_column(&some.to_column()), some);
        assert_eq!(Regions::from_column("all"), Regions::All);
        assert!(some.intersects(&Regions::All));
        assert!(!some.intersects(&Regions::Some(vec!["apac".into()])));
        assert!(some.covers("na") && !some.covers("apac"));
    }
}
