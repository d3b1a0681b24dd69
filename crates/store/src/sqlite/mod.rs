//! The embedded SQLite backend: one database file in the data directory, nothing to install.
//!
//! Durability: the file is in WAL mode with `synchronous = FULL`, so a commit that returned has
//! reached the disk and survives a crash or a power loss.
//!
//! Concurrency: SQLite allows one writer at a time. Every write waits for its turn at a pool of
//! exactly one connection (so writers of this process queue fairly instead of spinning on
//! `SQLITE_BUSY`; the change writer holds that connection as its turn while it writes through
//! its own), and multi-statement writes run in `BEGIN IMMEDIATE` transactions, which take
//! the write lock up front: a transaction never has to upgrade a read lock, which is what
//! deadlocks with other writers (for example a second process on the same file). Reads go
//! through a separate pool and, thanks to WAL, never wait for the writer.
//!
//! Autosaves go through the change writer ([`crate::group_commit`]): many sessions' changes in
//! one `BEGIN IMMEDIATE` transaction, committed with one flush, on a connection of the writer's
//! own that takes turns with the write pool (see [`changes`]).

mod changes;
mod known;

use crate::Store;
use crate::group_commit::GroupCommit;
use crate::model::{
    Change, ChangeOutcome, ChangeRecord, Millis, NewOrg, NewSession, NewSubmission, NewVersion,
    Org, OrgId, ProcessId, ProcessSummary, ProcessVersion, Session, SessionId, StoreError,
    Submission, SubmitOutcome, TokenHash, VersionId, VersionSummary,
};
use crate::rows::{
    self, ChangeRow, OrgRow, ProcessSummaryRow, SessionRow, SubmissionRow, SubmitTarget,
    VersionRow, VersionSummaryRow, change_select, org_select, session_select, submission_select,
    submit_target_select, version_select,
};
use changes::{MAX_BATCH, SqliteChanges};
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many pages the WAL may grow to before the commit that passes it copies them into the
/// database file (SQLite's `wal_autocheckpoint`; its default is 1,000). A checkpoint writes each
/// page changed since the last one once, however often it changed: at 10,000 pages (about
/// 40 MB of WAL) pages that many autosaves touch are copied far less often, and the commits
/// that pay for a checkpoint are ten times rarer.
const WAL_CHECKPOINT_PAGES: u32 = 10_000;

/// How long a request waits for its turn at the single write connection.
const WRITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Concurrent readers. WAL readers do not block each other or the writer.
const READ_CONNECTIONS: u32 = 4;

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
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string());

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

        // One change writer, with a connection of its own; its turns at writing are the write
        // pool's connection (see `changes`).
        let changes = Arc::new(GroupCommit::start(
            "sqlite",
            SqliteChanges::open(path, writer.clone())?,
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
    /// connection, waiting for those in use to be returned. The store answers `PoolClosed` or `WriterStopped`
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
        self.changes.check()?;
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn close(&self) {
        SqliteStore::close(self).await;
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
            writes: crate::merge::FieldWrites::new(),
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
