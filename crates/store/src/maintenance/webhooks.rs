//! Webhooks as data: organisations' endpoints, the outbox of maintenance events, one
//! delivery per (event, endpoint) and the log of every attempt.
//!
//! This module owns the tables of `migrations/*/0003_webhooks.sql` and the transactions on
//! them. It does not decide what an event says, who should hear of it or when to try again:
//! the server does. The rules kept here are the ones that must hold across nodes sharing the
//! database:
//!
//! - an event is written once, whoever notices it first (its `key` is unique), and its
//!   deliveries are written in the same transaction, so it is delivered to every endpoint or
//!   to none; every window update is announced once (an event names the update it follows);
//! - a due delivery is claimed by one node at a time: the claim sets a lease and a time after
//!   which another node may take it over, and only the holder of the lease can record the
//!   outcome (`UPDATE … WHERE … AND (locked_until IS NULL OR locked_until < now)`, checked
//!   again on the row itself, so two nodes never both win).
//!
//! Both backends run the same SQL, written once in [`impl_webhook_store!`].

use serde::Serialize;

use super::{MaintenanceUpdate, Regions, WindowId};
use crate::model::{Millis, OrgId, StoreError};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
    };
}

id_type!(
    /// A webhook endpoint's database id.
    EndpointId
);
id_type!(
    /// A webhook event's database id.
    EventId
);
id_type!(
    /// A delivery's (one event to one endpoint) database id.
    DeliveryId
);

/// The secret an endpoint's deliveries are signed with. It is shared with the receiver, so it
/// is stored as it is (a hash could not sign); `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        WebhookSecret(secret.into())
    }

    /// The secret itself: for signing, and for showing once when it is created.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// An endpoint to register, already checked by the caller.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// The organisation it belongs to.
    pub org: OrgId,
    /// Where events are posted (http or https).
    pub url: String,
    /// The signing secret.
    pub secret: WebhookSecret,
}

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Database id.
    pub id: EndpointId,
    /// The organisation it belongs to.
    pub org_id: OrgId,
    /// Where events are posted.
    pub url: String,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// When it was registered.
    pub created_at: Millis,
}

/// An event to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its public id (in the body as `id`).
    pub public_id: String,
    /// What makes it unique: a second event with the same key is not written.
    pub key: String,
    /// The window update it announces, if any (reminders have none).
    pub update_id: Option<i64>,
    /// The window it is about.
    pub window: WindowId,
    /// `maintenance.scheduled`, `maintenance.reminder` …
    pub event_type: String,
    /// The JSON body every endpoint receives.
    pub body: String,
    /// The organisations to tell: those whose home region this covers.
    pub audience: Regions,
}

/// A delivery a node has claimed and now attempts.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// Database id.
    pub id: DeliveryId,
    /// The number of this attempt (1 for the first).
    pub attempt: i64,
    /// The event's public id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The body to post.
    pub body: String,
    /// Where to post it.
    pub url: String,
    /// What to sign it with.
    pub secret: WebhookSecret,
}

/// How an attempt went, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    /// When it started.
    pub started_at: Millis,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint took it (2xx).
    Delivered,
    /// Try again at this time.
    RetryAt(Millis),
    /// No more attempts.
    GaveUp,
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// 1, 2, 3 …
    pub attempt: i64,
    /// What happened.
    pub record: AttemptRecord,
}

/// A delivery with its attempts, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Database id.
    pub id: DeliveryId,
    /// The endpoint.
    pub endpoint_id: EndpointId,
    /// The endpoint's URL.
    pub url: String,
    /// The event's public id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The window the event is about.
    pub window_id: WindowId,
    /// `pending`, `delivered`, `failed` (gave up) or `cancelled` (endpoint removed).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<Millis>,
    /// When the event was queued for this endpoint.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Every attempt, oldest first.
    pub log: Vec<WebhookAttempt>,
}

/// Storage for webhooks; a supertrait of [`crate::Store`], implemented by both backends.
#[async_trait::async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers an endpoint. `Conflict` if the organisation has this URL registered already
    /// or has `limit` endpoints; `NotFound` if the organisation does not exist.
    async fn add_webhook_endpoint(
        &self,
        new: NewEndpoint,
        limit: i64,
        now: Millis,
    ) -> Result<WebhookEndpoint, StoreError>;

    /// An organisation's endpoints (not removed), oldest first.
    async fn webhook_endpoints(&self, org: OrgId) -> Result<Vec<WebhookEndpoint>, StoreError>;

    /// Removes an endpoint of `org` and cancels its pending deliveries; `NotFound` if it has
    /// no such endpoint.
    async fn remove_webhook_endpoint(
        &self,
        org: OrgId,
        id: EndpointId,
        now: Millis,
    ) -> Result<(), StoreError>;

    /// Window updates (recorded since webhooks exist) that no event announces yet, oldest
    /// first, at most `limit`.
    async fn unannounced_updates(&self, limit: i64) -> Result<Vec<MaintenanceUpdate>, StoreError>;

    /// Writes an event and, in the same transaction, a delivery to every endpoint (not
    /// removed) of the organisations whose home region `event.audience` covers, each due at
    /// `now`. `None` if an event with the same key (or for the same update) exists already.
    async fn enqueue_webhook_event(
        &self,
        event: NewEvent,
        now: Millis,
    ) -> Result<Option<EventId>, StoreError>;

    /// Claims up to `limit` pending deliveries due at `now` that no other node holds, under
    /// `lease` until `lease_until`, oldest due first.
    async fn claim_webhook_deliveries(
        &self,
        now: Millis,
        lease: &str,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Logs an attempt and, if the delivery is still held under `lease`, moves it on as
    /// `outcome` says and releases it. Answers false if the lease was lost (the attempt is
    /// logged all the same: it happened).
    async fn record_webhook_attempt(
        &self,
        delivery: DeliveryId,
        lease: &str,
        attempt: i64,
        record: AttemptRecord,
        outcome: AttemptOutcome,
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// The newest `limit` deliveries to `org`'s endpoints (removed ones too), newest first,
    /// with their attempts.
    async fn webhook_deliveries(
        &self,
        org: OrgId,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
}

/// The SQL is the same on both backends; this writes the implementation once.
///
/// `$store` is the backend type, `$db` its sqlx database, `$sql` a function turning the
/// `?`-placeholder SQL into the backend's, `$read` / `$write` methods giving the read and
/// write pools, and `$begin` an async method starting a write transaction.
macro_rules! impl_webhook_store {
    ($store:ty, $db:ty, $sql:path, $read:ident, $write:ident, $begin:ident) => {
        use sqlx::Row as _;
        use $crate::maintenance::webhooks::{
            AttemptOutcome, AttemptRecord, ClaimedDelivery, DeliveryId, EndpointId, EventId,
            NewEndpoint, NewEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
            WebhookSecret, WebhookStore,
        };
        use $crate::maintenance::{MaintenanceUpdate, WindowId};
        use $crate::model::{Millis, OrgId, StoreError};

        const ENDPOINT_SELECT: &str =
            "SELECT id, org_id, url, secret, created_at FROM webhook_endpoints";

        fn endpoint_of(row: &<$db as sqlx::Database>::Row) -> Result<WebhookEndpoint, StoreError> {
            Ok(WebhookEndpoint {
                id: EndpointId(row.try_get("id")?),
                org_id: OrgId(row.try_get("org_id")?),
                url: row.try_get("url")?,
                secret: WebhookSecret::new(row.try_get::<String, _>("secret")?),
                created_at: row.try_get("created_at")?,
            })
        }

        #[async_trait::async_trait]
        impl WebhookStore for $store {
            async fn add_webhook_endpoint(
                &self,
                new: NewEndpoint,
                limit: i64,
                now: Millis,
            ) -> Result<WebhookEndpoint, StoreError> {
                let mut tx = self.$begin().await?;
                let existing = sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{ENDPOINT_SELECT} WHERE org_id = ? AND removed_at IS NULL"
                ))))
                .bind(new.org.0)
                .fetch_all(&mut *tx)
                .await?;
                let existing = existing
                    .iter()
                    .map(endpoint_of)
                    .collect::<Result<Vec<_>, _>>()?;
                if existing.iter().any(|e| e.url == new.url) {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(
                        "an endpoint with this URL for this organisation".to_owned(),
                    ));
                }
                if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= limit {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(format!(
                        "the most endpoints an organisation may have ({limit})"
                    )));
                }
                let id: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO webhook_endpoints (org_id, url, secret, created_at) \
                     VALUES (?, ?, ?, ?) RETURNING id",
                )))
                .bind(new.org.0)
                .bind(&new.url)
                .bind(new.secret.expose())
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|error| {
                    if $crate::rows::is_unique_violation(&error) {
                        StoreError::Conflict(
                            "an endpoint with this URL for this organisation".to_owned(),
                        )
                    } else {
                        $crate::rows::not_found_on_foreign_key(error)
                    }
                })?;
                tx.commit().await?;
                Ok(WebhookEndpoint {
                    id: EndpointId(id),
                    org_id: new.org,
                    url: new.url,
                    secret: new.secret,
                    created_at: now,
                })
            }

            async fn webhook_endpoints(
                &self,
                org: OrgId,
            ) -> Result<Vec<WebhookEndpoint>, StoreError> {
                sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                    "{ENDPOINT_SELECT} WHERE org_id = ? AND removed_at IS NULL ORDER BY id"
                ))))
                .bind(org.0)
                .fetch_all(self.$read())
                .await?
                .iter()
                .map(endpoint_of)
                .collect()
            }

            async fn remove_webhook_endpoint(
                &self,
                org: OrgId,
                id: EndpointId,
                now: Millis,
            ) -> Result<(), StoreError> {
                let mut tx = self.$begin().await?;
                let removed = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE webhook_endpoints SET removed_at = ? \
                     WHERE id = ? AND org_id = ? AND removed_at IS NULL",
                )))
                .bind(now)
                .bind(id.0)
                .bind(org.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if removed != 1 {
                    tx.rollback().await?;
                    return Err(StoreError::NotFound);
                }
                sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE webhook_deliveries SET state = 'cancelled', next_attempt_at = NULL, \
                     locked_until = NULL, lease = NULL, updated_at = ? \
                     WHERE endpoint_id = ? AND state = 'pending'",
                )))
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn unannounced_updates(
                &self,
                limit: i64,
            ) -> Result<Vec<MaintenanceUpdate>, StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT u.id, u.window_id, u.status, u.message, u.created_at \
                     FROM maintenance_updates u \
                     WHERE u.id >= (SELECT MAX(first_update) FROM webhook_outbox_start) \
                     AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.update_id = u.id) \
                     ORDER BY u.id LIMIT ?",
                )))
                .bind(limit)
                .fetch_all(self.$read())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(MaintenanceUpdate {
                            id: row.try_get("id")?,
                            window_id: WindowId(row.try_get("window_id")?),
                            status: row.try_get("status")?,
                            message: row.try_get("message")?,
                            created_at: row.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn enqueue_webhook_event(
                &self,
                event: NewEvent,
                now: Millis,
            ) -> Result<Option<EventId>, StoreError> {
                let mut tx = self.$begin().await?;
                let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO webhook_events (public_id, key, update_id, window_id, \
                     event_type, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT DO NOTHING RETURNING id",
                )))
                .bind(&event.public_id)
                .bind(&event.key)
                .bind(event.update_id)
                .bind(event.window.0)
                .bind(&event.event_type)
                .bind(&event.body)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err($crate::rows::not_found_on_foreign_key)?;
                let Some(id) = id else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let endpoints = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT e.id, o.region FROM webhook_endpoints e \
                     JOIN orgs o ON o.id = e.org_id WHERE e.removed_at IS NULL ORDER BY e.id",
                )))
                .fetch_all(&mut *tx)
                .await?;
                for row in &endpoints {
                    let region: String = row.try_get("region")?;
                    if !event.audience.covers(&region) {
                        continue;
                    }
                    sqlx::query(sqlx::AssertSqlSafe($sql(
                        "INSERT INTO webhook_deliveries (event_id, endpoint_id, next_attempt_at, \
                         created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    )))
                    .bind(id)
                    .bind(row.try_get::<i64, _>("id")?)
                    .bind(now)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(Some(EventId(id)))
            }

            async fn claim_webhook_deliveries(
                &self,
                now: Millis,
                lease: &str,
                lease_until: Millis,
                limit: i64,
            ) -> Result<Vec<ClaimedDelivery>, StoreError> {
                // Most turns find nothing due: a read says so without queueing for the write
                // connection (SQLite has one) or locking anything.
                let due: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                    "SELECT id FROM webhook_deliveries WHERE state = 'pending' \
                     AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?) \
                     LIMIT 1",
                )))
                .bind(now)
                .bind(now)
                .fetch_optional(self.$read())
                .await?;
                if due.is_none() {
                    return Ok(Vec::new());
                }
                // The conditions are repeated outside the subquery: a row another node claimed
                // meanwhile fails them when this UPDATE reaches it (PostgreSQL re-checks them
                // on the row's newest version), so a delivery is never claimed twice.
                sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE webhook_deliveries SET lease = ?, locked_until = ? \
                     WHERE id IN (SELECT id FROM webhook_deliveries \
                         WHERE state = 'pending' AND next_attempt_at <= ? \
                         AND (locked_until IS NULL OR locked_until < ?) \
                         ORDER BY next_attempt_at, id LIMIT ?) \
                     AND state = 'pending' AND next_attempt_at <= ? \
                     AND (locked_until IS NULL OR locked_until < ?)",
                )))
                .bind(lease)
                .bind(lease_until)
                .bind(now)
                .bind(now)
                .bind(limit)
                .bind(now)
                .bind(now)
                .execute(self.$write())
                .await?;
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT d.id, d.attempts, ev.public_id, ev.event_type, ev.body, en.url, \
                     en.secret FROM webhook_deliveries d \
                     JOIN webhook_events ev ON ev.id = d.event_id \
                     JOIN webhook_endpoints en ON en.id = d.endpoint_id \
                     WHERE d.lease = ? AND d.state = 'pending' ORDER BY d.next_attempt_at, d.id",
                )))
                .bind(lease)
                .fetch_all(self.$write())
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ClaimedDelivery {
                            id: DeliveryId(row.try_get("id")?),
                            attempt: row.try_get::<i64, _>("attempts")? + 1,
                            event_id: row.try_get("public_id")?,
                            event_type: row.try_get("event_type")?,
                            body: row.try_get("body")?,
                            url: row.try_get("url")?,
                            secret: WebhookSecret::new(row.try_get::<String, _>("secret")?),
                        })
                    })
                    .collect()
            }

            async fn record_webhook_attempt(
                &self,
                delivery: DeliveryId,
                lease: &str,
                attempt: i64,
                record: AttemptRecord,
                outcome: AttemptOutcome,
                now: Millis,
            ) -> Result<bool, StoreError> {
                let mut tx = self.$begin().await?;
                sqlx::query(sqlx::AssertSqlSafe($sql(
                    "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, \
                     duration_ms, status_code, error) VALUES (?, ?, ?, ?, ?, ?)",
                )))
                .bind(delivery.0)
                .bind(attempt)
                .bind(record.started_at)
                .bind(record.duration_ms.max(0))
                .bind(record.status_code)
                .bind(record.error.as_deref())
                .execute(&mut *tx)
                .await
                .map_err($crate::rows::not_found_on_foreign_key)?;
                let (state, next): (&str, Option<Millis>) = match outcome {
                    AttemptOutcome::Delivered => ("delivered", None),
                    AttemptOutcome::RetryAt(at) => ("pending", Some(at)),
                    AttemptOutcome::GaveUp => ("failed", None),
                };
                let moved = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?, \
                     next_attempt_at = ?, lease = NULL, locked_until = NULL, updated_at = ? \
                     WHERE id = ? AND lease = ? AND state = 'pending'",
                )))
                .bind(state)
                .bind(next)
                .bind(now)
                .bind(delivery.0)
                .bind(lease)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(moved == 1)
            }

            async fn webhook_deliveries(
                &self,
                org: OrgId,
                limit: i64,
            ) -> Result<Vec<WebhookDelivery>, StoreError> {
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT d.id, d.endpoint_id, en.url, ev.public_id, ev.event_type, \
                     ev.window_id, d.state, d.attempts, d.next_attempt_at, d.created_at, \
                     d.updated_at FROM webhook_deliveries d \
                     JOIN webhook_events ev ON ev.id = d.event_id \
                     JOIN webhook_endpoints en ON en.id = d.endpoint_id \
                     WHERE en.org_id = ? ORDER BY d.id DESC LIMIT ?",
                )))
                .bind(org.0)
                .bind(limit)
                .fetch_all(self.$read())
                .await?;
                let mut deliveries = rows
                    .iter()
                    .map(|row| {
                        Ok(WebhookDelivery {
                            id: DeliveryId(row.try_get("id")?),
                            endpoint_id: EndpointId(row.try_get("endpoint_id")?),
                            url: row.try_get("url")?,
                            event_id: row.try_get("public_id")?,
                            event_type: row.try_get("event_type")?,
                            window_id: WindowId(row.try_get("window_id")?),
                            state: row.try_get("state")?,
                            attempts: row.try_get("attempts")?,
                            next_attempt_at: row.try_get("next_attempt_at")?,
                            created_at: row.try_get("created_at")?,
                            updated_at: row.try_get("updated_at")?,
                            log: Vec::new(),
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let Some(low) = deliveries.iter().map(|d| d.id.0).min() else {
                    return Ok(deliveries);
                };
                let attempts = sqlx::query(sqlx::AssertSqlSafe($sql(
                    "SELECT a.delivery_id, a.attempt, a.started_at, a.duration_ms, \
                     a.status_code, a.error FROM webhook_attempts a \
                     JOIN webhook_deliveries d ON d.id = a.delivery_id \
                     JOIN webhook_endpoints en ON en.id = d.endpoint_id \
                     WHERE en.org_id = ? AND a.delivery_id >= ? ORDER BY a.id",
                )))
                .bind(org.0)
                .bind(low)
                .fetch_all(self.$read())
                .await?;
                for row in &attempts {
                    let id = DeliveryId(row.try_get("delivery_id")?);
                    let attempt = WebhookAttempt {
                        attempt: row.try_get("attempt")?,
                        record: AttemptRecord {
                            started_at: row.try_get("started_at")?,
                            duration_ms: row.try_get("duration_ms")?,
                            status_code: row.try_get("status_code")?,
                            error: row.try_get("error")?,
                        },
                    };
                    if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == id) {
                        delivery.log.push(attempt);
                    }
                }
                Ok(deliveries)
            }
        }
    };
}

mod on_sqlite {
    //! [`super::WebhookStore`] on SQLite: every write goes through the single write
    //! connection in `BEGIN IMMEDIATE` transactions, so claims never race.

    use crate::SqliteStore;

    /// SQLite takes `?` placeholders as they are.
    fn same(sql: &str) -> String {
        sql.to_owned()
    }

    impl SqliteStore {
        /// A write transaction holding the write lock from its first statement on.
        async fn webhook_transaction(
            &self,
        ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, crate::StoreError> {
            Ok(self.write_pool().begin_with("BEGIN IMMEDIATE").await?)
        }
    }

    impl_webhook_store!(
        SqliteStore,
        sqlx::Sqlite,
        same,
        read_pool,
        write_pool,
        webhook_transaction
    );
}

mod on_postgres {
    //! [`super::WebhookStore`] on PostgreSQL: claims race between nodes and are settled by the
    //! conditions the claiming `UPDATE` re-checks on each row.

    use crate::PostgresStore;

    impl PostgresStore {
        /// A transaction (read committed, like every other).
        async fn webhook_transaction(
            &self,
        ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, crate::StoreError> {
            Ok(self.pool().begin().await?)
        }
    }

    impl_webhook_store!(
        PostgresStore,
        sqlx::Postgres,
        crate::maintenance::numbered,
        pool,
        pool,
        webhook_transaction
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let secret = WebhookSecret::new("whsec_very-secret");
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
        let endpoint = NewEndpoint {
            org: OrgId(1),
            url: "https://example.org/hook".to_owned(),
            secret,
        };
        assert!(!format!("{endpoint:?}").contains("very-secret"));
    }
}
