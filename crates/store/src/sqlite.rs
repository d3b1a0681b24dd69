//! The embedded SQLite backend: one database file in the data directory, nothing to install.
//!
//! Durability: the file is in WAL mode with `synchronous = FULL`, so a commit that returned has
//! reached the disk and survives a crash or a power loss.
//!
//! Concurrency: SQLite allows one writer at a time. Every write goes through a pool of exactly
//! one connection (so writers of this process queue fairly instead of spinning on
//! `SQLITE_BUSY`), and multi-statement writes run in `BEGIN IMMEDIATE` transactions, which take
//! the write lock up front: a transaction never has to upgrade a read lock, which is what
//! deadlocks with other writers (for example a second process on the same file). Reads go
//! through a separate pool and, thanks to WAL, never wait for the writer.
//!
//! Autosaves go through the change writer ([`crate::group_commit`]): many sessions' changes in
//! one `BEGIN IMMEDIATE` transaction, committed with one flush. A batch is read with one
//! statement and written with one more whatever its size, its rows passed as JSON arrays
//! (`json_each`): every statement is a round trip to the connection's worker thread, and on a
//! busy machine those round trips cost more than SQLite's own work. For the same reason the
//! writer keeps the write connection from one batch to the next while changes keep coming
//! (for at most [`WRITE_LEASE`]), instead of giving it back to the pool after each.

use crate::Store;
use crate::group_commit::{
    self, ApplyBatch, BatchError, Found, GroupCommit, PendingChange, Plan, fail_all,
};
use crate::model::{
    Change, ChangeOutcome, ChangeRecord, Millis, NewOrg, NewSession, NewSubmission, NewVersion,
    Org, OrgId, ProcessId, ProcessSummary, ProcessVersion, Session, SessionId, StoreError,
    Submission, SubmitOutcome, TokenHash, VersionId, VersionSummary,
};
use crate::rows::{
    self, BatchSessionRow, ChangeRow, ChangeTargetRow, OrgRow, ProcessSummaryRow, SessionRow,
    SubmissionRow, SubmitTarget, VersionRow, VersionSummaryRow, change_select, org_select,
    session_columns, session_select, submission_select, submit_target_select, version_select,
};
use sqlx::Connection;
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for its turn at the single write connection.
const WRITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Concurrent readers. WAL readers do not block each other or the writer.
const READ_CONNECTIONS: u32 = 4;

/// The most changes the change writer commits in one transaction. The write lock is held for
/// the whole batch; at a few microseconds per change this keeps it short.
const MAX_BATCH: usize = 256;

/// How long the change writer keeps the write connection from one batch to the next while
/// changes keep coming. Giving it back to the pool and taking it again costs two round trips
/// to its worker thread and a task; keeping it makes other writes (a new session, a submit)
/// wait up to this long for their turn. The writer gives it back as soon as it runs out of
/// changes.
const WRITE_LEASE: Duration = Duration::from_millis(10);

/// The storage on an embedded SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: every write of this process queues here.
    writer: SqlitePool,
    /// Connections for plain reads.
    reader: SqlitePool,
    /// The change writer, applying autosaves in batches on the write connection.
    changes: Arc<GroupCommit>,
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it (and its directory) if it is missing, and
    /// applies the migrations it does not have yet.
    ///
    /// Migrations recorded in the database that this build does not know (applied by a newer
    /// version during a rolling upgrade) are tolerated, so an older node can still start.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await.map_err(|error| {
                StoreError::Config(format!(
                    "cannot create the database directory {}: {error}",
                    dir.display()
                ))
            })?;
        }

        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Temporary tables and statement journals (a batch's multi-row UPDATE and INSERT
            // need them) in memory, not in a file created and deleted per transaction.
            .pragma("temp_store", "memory");

        // The writer connects first: it creates the file and switches it to WAL before any
        // reader opens it.
        // A connection to a local file does not go stale: testing it on every acquire would
        // cost a round trip to its worker thread per write.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        migrator().run(&writer).await?;

        let reader = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options.create_if_missing(false))
            .await?;

        // One change writer: there is one write connection to give it.
        let changes = Arc::new(GroupCommit::start(
            "sqlite",
            SqliteChanges {
                writer: writer.clone(),
                held: std::sync::Mutex::new(None),
            },
            1,
            MAX_BATCH,
        )?);
        Ok(SqliteStore {
            writer,
            reader,
            changes,
        })
    }

    /// The single-connection pool every write goes through, for metrics and diagnostics.
    /// Writing through it bypasses the store's rules.
    pub fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The pool for reads, for metrics and diagnostics.
    pub fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }

    /// Stops the change writer (the changes it has queued are applied first) and closes every
    /// connection, waiting for those in use to be returned. The store answers `PoolClosed`
    /// afterwards.
    pub async fn close(&self) {
        self.changes.close().await;
        self.writer.close().await;
        self.reader.close().await;
    }

    /// Starts a write transaction that holds the database's write lock from its first
    /// statement on.
    async fn write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The submission of a session, if it has one.
    async fn submission_of(
        &self,
        executor: impl sqlx::SqliteExecutor<'_>,
        session: i64,
    ) -> Result<Option<Submission>, StoreError> {
        sqlx::query_as::<_, SubmissionRow>(concat!(
            submission_select!(),
            " WHERE sub.session_id = ?"
        ))
        .bind(session)
        .fetch_optional(executor)
        .await?
        .map(Submission::try_from)
        .transpose()
    }
}

/// The SQLite migrations, embedded at build time.
fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.set_ignore_missing(true);
    migrator
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn add_admin_token(&self, hash: TokenHash, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_tokens (hash, created_at) VALUES (?, ?) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&hash.0[..])
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn admin_token_hashes(&self) -> Result<Vec<TokenHash>, StoreError> {
        sqlx::query_scalar::<_, Vec<u8>>("SELECT hash FROM admin_tokens ORDER BY created_at, hash")
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(rows::token_hash)
            .collect()
    }

    async fn create_org(&self, new: NewOrg, now: Millis) -> Result<Org, StoreError> {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO orgs (slug, name, region, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(&new.slug)
        .bind(&new.name)
        .bind(&new.region)
        .bind(now)
        .fetch_one(&self.writer)
        .await
        .map_err(rows::conflict_on_unique(|| {
            format!("organisation {:?}", new.slug)
        }))?;
        Ok(Org {
            id: OrgId(id),
            slug: new.slug,
            name: new.name,
            region: new.region,
            created_at: now,
        })
    }

    async fn org(&self, slug: &str) -> Result<Option<Org>, StoreError> {
        let row = sqlx::query_as::<_, OrgRow>(concat!(org_select!(), " WHERE slug = ?"))
            .bind(slug)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(Org::from))
    }

    async fn list_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query_as::<_, OrgRow>(concat!(org_select!(), " ORDER BY slug"))
            .fetch_all(&self.reader)
            .await?;
        Ok(rows.into_iter().map(Org::from).collect())
    }

    async fn publish_version(
        &self,
        org: OrgId,
        new: NewVersion,
        now: Millis,
    ) -> Result<ProcessVersion, StoreError> {
        // The IMMEDIATE transaction holds the write lock throughout, so no other publish can
        // read the same highest number in between.
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO processes (org_id, slug, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (org_id, slug) DO NOTHING",
        )
        .bind(org.0)
        .bind(&new.process_slug)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(rows::not_found_on_foreign_key)?;
        let process_id =
            sqlx::query_scalar::<_, i64>("SELECT id FROM processes WHERE org_id = ? AND slug = ?")
                .bind(org.0)
                .bind(&new.process_slug)
                .fetch_one(&mut *tx)
                .await?;
        let number = sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM process_versions WHERE process_id = ?",
        )
        .bind(process_id)
        .fetch_one(&mut *tx)
        .await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO process_versions (process_id, number, title, source, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(process_id)
        .bind(number)
        .bind(&new.title)
        .bind(&new.source)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;

        Ok(ProcessVersion {
            id: VersionId(id),
            process_id: ProcessId(process_id),
            org_id: org,
            process_slug: new.process_slug,
            number,
            title: new.title,
            source: new.source,
            created_at: now,
        })
    }

    async fn latest_version(
        &self,
        org: OrgId,
        process_slug: &str,
    ) -> Result<Option<ProcessVersion>, StoreError> {
        let row = sqlx::query_as::<_, VersionRow>(concat!(
            version_select!(),
            " WHERE p.org_id = ? AND p.slug = ? ORDER BY v.number DESC LIMIT 1"
        ))
        .bind(org.0)
        .bind(process_slug)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(ProcessVersion::from))
    }

    async fn version(&self, id: VersionId) -> Result<Option<ProcessVersion>, StoreError> {
        let row = sqlx::query_as::<_, VersionRow>(concat!(version_select!(), " WHERE v.id = ?"))
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(ProcessVersion::from))
    }

    async fn list_processes(&self, org: OrgId) -> Result<Vec<ProcessSummary>, StoreError> {
        let rows = sqlx::query_as::<_, ProcessSummaryRow>(
            "SELECT p.slug, v.title, v.number AS latest_version, v.created_at AS updated_at \
             FROM processes p JOIN process_versions v ON v.process_id = p.id \
             WHERE p.org_id = ? \
               AND v.number = (SELECT MAX(number) FROM process_versions WHERE process_id = p.id) \
             ORDER BY p.slug",
        )
        .bind(org.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(ProcessSummary::from).collect())
    }

    async fn list_versions(
        &self,
        org: OrgId,
        process_slug: &str,
    ) -> Result<Vec<VersionSummary>, StoreError> {
        let rows = sqlx::query_as::<_, VersionSummaryRow>(
            "SELECT v.number, v.title, v.created_at \
             FROM process_versions v JOIN processes p ON p.id = v.process_id \
             WHERE p.org_id = ? AND p.slug = ? ORDER BY v.number",
        )
        .bind(org.0)
        .bind(process_slug)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(VersionSummary::from).collect())
    }

    async fn create_session(&self, new: NewSession, now: Millis) -> Result<Session, StoreError> {
        // The organisation comes from the version, so a session can never name another one.
        let created = sqlx::query_as::<_, (i64, i64)>(
            "INSERT INTO sessions \
                 (token_hash, org_id, version_id, answers, current_step, revision, \
                  created_at, updated_at) \
             SELECT ?, p.org_id, v.id, ?, 0, 0, ?, ? \
             FROM process_versions v JOIN processes p ON p.id = v.process_id \
             WHERE v.id = ? \
             RETURNING id, org_id",
        )
        .bind(&new.token.0[..])
        .bind(rows::answers_json(&new.answers))
        .bind(now)
        .bind(now)
        .bind(new.version.0)
        .fetch_optional(&self.writer)
        .await
        .map_err(rows::conflict_on_unique(|| "session token".to_owned()))?;
        let (id, org_id) = created.ok_or(StoreError::NotFound)?;

        Ok(Session {
            id: SessionId(id),
            org_id: OrgId(org_id),
            version_id: new.version,
            answers: new.answers,
            current_step: 0,
            revision: 0,
            created_at: now,
            updated_at: now,
            submitted_at: None,
            submission_id: None,
        })
    }

    async fn session_by_token(&self, token: &TokenHash) -> Result<Option<Session>, StoreError> {
        sqlx::query_as::<_, SessionRow>(concat!(session_select!(), " WHERE s.token_hash = ?"))
            .bind(&token.0[..])
            .fetch_optional(&self.reader)
            .await?
            .map(Session::try_from)
            .transpose()
    }

    async fn apply_change(
        &self,
        token: &TokenHash,
        change: Change,
        now: Millis,
    ) -> Result<ChangeOutcome, StoreError> {
        self.changes.apply(token, change, now).await
    }

    async fn changes(&self, session: SessionId) -> Result<Vec<ChangeRecord>, StoreError> {
        sqlx::query_as::<_, ChangeRow>(concat!(
            change_select!(),
            " WHERE session_id = ? ORDER BY revision"
        ))
        .bind(session.0)
        .fetch_all(&self.reader)
        .await?
        .into_iter()
        .map(ChangeRecord::try_from)
        .collect()
    }

    async fn submit(
        &self,
        token: &TokenHash,
        submit: NewSubmission,
        now: Millis,
    ) -> Result<SubmitOutcome, StoreError> {
        let mut tx = self.write().await?;
        let target = sqlx::query_as::<_, SubmitTarget>(concat!(
            submit_target_select!(),
            " WHERE s.token_hash = ?"
        ))
        .bind(&token.0[..])
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;

        if let Some(existing) = self.submission_of(&mut *tx, target.session_id).await? {
            tx.rollback().await?;
            return Ok(SubmitOutcome {
                submission: existing,
                created: false,
            });
        }

        let inserted = sqlx::query(
            "INSERT INTO submissions \
                 (public_id, session_id, org_id, process_id, version_id, idempotency_key, \
                  answers, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&submit.public_id)
        .bind(target.session_id)
        .bind(target.org_id)
        .bind(target.process_id)
        .bind(target.version_id)
        .bind(&submit.idempotency_key)
        .bind(rows::answers_json(&submit.answers))
        .bind(now)
        .execute(&mut *tx)
        .await;
        if let Err(error) = inserted {
            // Under the write lock the session cannot have been submitted meanwhile, so a unique
            // violation here means the caller's public id is taken.
            return Err(rows::conflict_on_unique(|| {
                format!("submission {:?}", submit.public_id)
            })(error));
        }
        sqlx::query("UPDATE sessions SET submitted_at = ?, updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(now)
            .bind(target.session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        Ok(SubmitOutcome {
            submission: Submission {
                id: submit.public_id,
                process_slug: target.process_slug,
                version: target.version,
                answers: submit.answers,
                submitted_at: now,
            },
            created: true,
        })
    }

    async fn list_submissions(
        &self,
        org: OrgId,
        process_slug: &str,
    ) -> Result<Vec<Submission>, StoreError> {
        sqlx::query_as::<_, SubmissionRow>(concat!(
            submission_select!(),
            " WHERE p.org_id = ? AND p.slug = ? ORDER BY sub.created_at, sub.id"
        ))
        .bind(org.0)
        .bind(process_slug)
        .fetch_all(&self.reader)
        .await?
        .into_iter()
        .map(Submission::try_from)
        .collect()
    }
}

/// The change writer's access to the database: the write connection.
struct SqliteChanges {
    writer: SqlitePool,
    /// The write connection, kept between batches while changes keep coming (see
    /// [`WRITE_LEASE`]).
    held: std::sync::Mutex<Option<Held>>,
}

/// The write connection, held by the change writer since a moment.
struct Held {
    conn: PoolConnection<Sqlite>,
    since: Instant,
}

#[async_trait::async_trait]
impl ApplyBatch for SqliteChanges {
    async fn apply_batch(&self, batch: &[PendingChange]) -> Vec<Result<ChangeOutcome, StoreError>> {
        match self.apply_together(batch).await {
            Ok(results) => results,
            Err(BatchError::Applying(error)) => {
                tracing::warn!(%error, changes = batch.len(), "a batch of changes failed; applying them one at a time");
                self.apply_one_at_a_time(batch).await
            }
            Err(BatchError::Transaction(error)) => fail_all(batch, &error),
        }
    }

    async fn idle(&self) {
        if let Some(mut held) = self.take_held() {
            held.conn.return_to_pool().await;
        }
    }
}

impl SqliteChanges {
    fn take_held(&self) -> Option<Held> {
        match self.held.lock() {
            Ok(mut held) => held.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// The write connection: the one held since the last batch, or one from the pool.
    async fn connection(&self) -> Result<Held, StoreError> {
        if let Some(held) = self.take_held() {
            return Ok(held);
        }
        Ok(Held {
            conn: self.writer.acquire().await?,
            since: Instant::now(),
        })
    }

    /// After a batch: keeps the write connection for the next one, or gives it back to the pool
    /// when it was held for [`WRITE_LEASE`], so that other writes get their turn.
    async fn keep(&self, mut held: Held) {
        if held.since.elapsed() < WRITE_LEASE {
            match self.held.lock() {
                Ok(mut slot) => *slot = Some(held),
                Err(poisoned) => *poisoned.into_inner() = Some(held),
            }
        } else {
            held.conn.return_to_pool().await;
        }
    }

    /// The fast way: read everything the batch needs, decide in memory, write everything back.
    async fn apply_together(
        &self,
        batch: &[PendingChange],
    ) -> Result<Vec<Result<ChangeOutcome, StoreError>>, BatchError> {
        // The write lock is taken up front and held to the commit: nothing changes between
        // what the batch reads and what it writes.
        let mut held = self.connection().await.map_err(BatchError::Transaction)?;
        let mut tx = held
            .conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|error| BatchError::Transaction(error.into()))?;
        let found = find_batch(&mut tx, batch)
            .await
            .map_err(BatchError::Applying)?;
        let plan = group_commit::plan(batch, found);
        write_batch(&mut tx, &plan)
            .await
            .map_err(BatchError::Applying)?;
        tx.commit()
            .await
            .map_err(|error| BatchError::Transaction(error.into()))?;
        self.keep(held).await;
        Ok(plan.results)
    }

    /// The careful way, after the fast way failed: each change in its own savepoint, so one
    /// that cannot be applied fails alone.
    async fn apply_one_at_a_time(
        &self,
        batch: &[PendingChange],
    ) -> Vec<Result<ChangeOutcome, StoreError>> {
        let mut tx = match self.writer.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => tx,
            Err(error) => return fail_all(batch, &error.into()),
        };
        let mut results = Vec::with_capacity(batch.len());
        for pending in batch {
            match apply_isolated(&mut tx, pending).await {
                Ok(result) => results.push(result),
                Err(broken) => return fail_all(batch, &broken),
            }
        }
        if let Err(error) = tx.commit().await {
            return fail_all(batch, &error.into());
        }
        results
    }
}

/// Reads the sessions of a batch and which of its (client, seq) were applied before, in one
/// statement under the write lock.
///
/// The batch goes in as one JSON array with an entry per session: its token hash in hex and
/// the (client, seq) keys of its changes, `[{"t": "ab12…", "k": [["tab-1", 7], …]}, …]`. Each
/// session comes back with the keys among its own that are in its change log, as a JSON array
/// in the `applied` column. (`CROSS JOIN` fixes the loop order: for each entry of the JSON
/// array, an index lookup — never a scan of a session's whole change log.)
async fn find_batch(
    conn: &mut SqliteConnection,
    batch: &[PendingChange],
) -> Result<Found, StoreError> {
    let mut keys: HashMap<&TokenHash, Vec<serde_json::Value>> = HashMap::new();
    for pending in batch {
        let entry = keys.entry(&pending.token).or_default();
        if let (Some(client), Some(seq)) = (&pending.change.client, pending.change.seq) {
            entry.push(serde_json::json!([client, seq]));
        }
    }
    let targets: Vec<serde_json::Value> = keys
        .into_iter()
        .map(|(token, keys)| serde_json::json!({"t": group_commit::hex(&token.0), "k": keys}))
        .collect();
    let rows = sqlx::query_as::<_, BatchSessionRow>(concat!(
        "SELECT s.token_hash, ",
        session_columns!(),
        ", (SELECT json_group_array(json_array(c.client, c.seq)) \
            FROM json_each(j.value, '$.k') k \
            CROSS JOIN session_changes c \
              ON c.session_id = s.id AND c.client = k.value ->> 0 AND c.seq = k.value ->> 1 \
           ) AS applied \
         FROM json_each(?) j \
         CROSS JOIN sessions s ON s.token_hash = unhex(j.value ->> 't') \
         LEFT JOIN submissions sub ON sub.session_id = s.id"
    ))
    .bind(serde_json::Value::from(targets).to_string())
    .fetch_all(&mut *conn)
    .await?;

    let mut applied = HashSet::new();
    for row in &rows {
        let keys: Vec<(String, i64)> = serde_json::from_str(row.applied.as_deref().unwrap_or("[]"))
            .map_err(|error| {
                StoreError::Corrupt(format!("the applied changes of a session: {error}"))
            })?;
        applied.extend(
            keys.into_iter()
                .map(|(client, seq)| (row.session.id(), client, seq)),
        );
    }
    let sessions = rows::batch_sessions(rows)?;
    Ok(Found { sessions, applied })
}

/// Writes a planned batch in one round trip: the changed sessions with one statement, the
/// change log entries with another.
async fn write_batch(conn: &mut SqliteConnection, plan: &Plan<'_>) -> Result<(), StoreError> {
    if plan.log.is_empty() {
        return Ok(());
    }
    let sessions: Vec<serde_json::Value> = plan
        .sessions
        .iter()
        .map(|session| {
            serde_json::json!([
                session.id.0,
                rows::answers_json(&session.answers),
                session.current_step,
                session.revision,
                session.updated_at,
            ])
        })
        .collect();
    let entries: Vec<serde_json::Value> = plan
        .log
        .iter()
        .map(|entry| {
            serde_json::json!([
                entry.session.0,
                entry.revision,
                entry.change.client,
                entry.change.seq,
                rows::answers_json(&entry.change.answers),
                entry.change.current_step,
                entry.now,
            ])
        })
        .collect();
    sqlx::query(
        "UPDATE sessions SET answers = j.value ->> 1, current_step = j.value ->> 2, \
             revision = j.value ->> 3, updated_at = j.value ->> 4 \
         FROM json_each(?) j WHERE sessions.id = j.value ->> 0; \
         INSERT INTO session_changes \
             (session_id, revision, client, seq, answers, current_step, created_at) \
         SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
                j.value ->> 5, j.value ->> 6 \
         FROM json_each(?) j",
    )
    .bind(serde_json::Value::from(sessions).to_string())
    .bind(serde_json::Value::from(entries).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies one change of a batch inside a savepoint: if it fails, what it wrote is undone and
/// the batch goes on. The outer error means the transaction itself is broken.
async fn apply_isolated(
    conn: &mut SqliteConnection,
    pending: &PendingChange,
) -> Result<Result<ChangeOutcome, StoreError>, StoreError> {
    sqlx::query("SAVEPOINT change").execute(&mut *conn).await?;
    let result = apply_one(conn, pending).await;
    if result.is_err() {
        sqlx::query("ROLLBACK TO change")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("RELEASE change").execute(&mut *conn).await?;
    Ok(result)
}

/// Applies one change under the write lock: reads the session and whether this (client, seq)
/// was applied before in one statement, merges, writes the session back and logs the change.
async fn apply_one(
    conn: &mut SqliteConnection,
    pending: &PendingChange,
) -> Result<ChangeOutcome, StoreError> {
    let PendingChange { token, change, now } = pending;
    let target = sqlx::query_as::<_, ChangeTargetRow>(concat!(
        "SELECT ",
        session_columns!(),
        ", EXISTS (SELECT 1 FROM session_changes c \
                   WHERE c.session_id = s.id AND c.client = ? AND c.seq = ?) AS applied \
         FROM sessions s LEFT JOIN submissions sub ON sub.session_id = s.id \
         WHERE s.token_hash = ?"
    ))
    .bind(&change.client)
    .bind(change.seq)
    .bind(&token.0[..])
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut session: Session = target.session.try_into()?;
    if session.submitted_at.is_some() {
        return Err(StoreError::Submitted);
    }
    if target.applied {
        return Ok(ChangeOutcome {
            session,
            duplicate: true,
        });
    }

    rows::advance(&mut session, change, *now);
    sqlx::query(
        "UPDATE sessions SET answers = ?, current_step = ?, revision = ?, updated_at = ? \
         WHERE id = ?",
    )
    .bind(rows::answers_json(&session.answers))
    .bind(session.current_step)
    .bind(session.revision)
    .bind(now)
    .bind(session.id.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO session_changes \
             (session_id, revision, client, seq, answers, current_step, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(session.id.0)
    .bind(session.revision)
    .bind(&change.client)
    .bind(change.seq)
    .bind(rows::answers_json(&change.answers))
    .bind(change.current_step)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(ChangeOutcome {
        session,
        duplicate: false,
    })
}
