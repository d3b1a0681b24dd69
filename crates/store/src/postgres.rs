//! The PostgreSQL backend, for deployments with many stateless nodes sharing one database.
//!
//! Durability: every connection runs with `synchronous_commit = on`, so a commit that returned
//! is on the server's disk (and on its synchronous standbys, if it has any), whatever the
//! server's or the role's default is.
//!
//! Concurrency: writes that read before they write lock the rows they depend on with
//! `SELECT … FOR UPDATE` (the session for a change or a submission, the process for a new
//! version), so concurrent requests from several nodes queue on that row instead of losing an
//! update. Everything runs at PostgreSQL's default READ COMMITTED isolation: a statement issued
//! after a lock was granted sees what the previous holder committed.
//!
//! Autosaves go through change writers ([`crate::group_commit`]): several sessions' changes
//! in one transaction, committed with one WAL flush, read and written with three statements
//! whatever the batch's size (rows passed as arrays and `unnest`ed). A batch locks its sessions
//! in the order of their token hashes, so writers (of this node or of others) never wait for
//! each other in a cycle.
//!
//! Text is ordered with `COLLATE "C"` (byte order), as SQLite orders it, so both backends list
//! in the same order whatever the database's locale.

use crate::group_commit::{
    self, ApplyBatch, BatchError, Found, GroupCommit, PendingChange, Plan, fail_all,
};
use crate::model::{
    Change, ChangeOutcome, ChangeRecord, Millis, NewOrg, NewSession, NewSubmission, NewVersion,
    Org, OrgId, ProcessId, ProcessSummary, ProcessVersion, Session, SessionId, StoreError,
    Submission, SubmitOutcome, TokenHash, VersionId, VersionSummary,
};
use crate::rows::{
    self, BatchSessionRow, ChangeRow, OrgRow, ProcessSummaryRow, SessionRow, SubmissionRow,
    SubmitTarget, VersionRow, VersionSummaryRow, change_select, org_select, session_columns,
    session_select, submission_select, submit_target_select, version_select,
};
use crate::{Store, merge, redact_url};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long connecting may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for a free connection (or a new one) before giving up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per node. PostgreSQL's default `max_connections` is 100: this leaves room for
/// several nodes and the operators' tools.
const MAX_CONNECTIONS: u32 = 10;

/// Change writers per node, each with a connection of its own (in addition to the pool's): while
/// one waits for its commit to reach the disk (or for a session another node has locked), the
/// other applies the next batch. More writers make smaller batches, and on a small machine
/// more round trips per change; 2 keep the node going when one batch waits for a lock
/// (docs/benchmarks.md has the measurements).
const CHANGE_WRITERS: usize = 2;

/// The most changes a writer commits in one transaction. Should a batch have to be applied
/// one change at a time, each change is a subtransaction (its savepoint); PostgreSQL keeps up
/// to 64 of those per transaction in shared memory and slows every snapshot down beyond that.
const MAX_BATCH: usize = 64;

/// The storage on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The change writers, applying autosaves in batches.
    changes: Arc<GroupCommit>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// applies the migrations it does not have yet.
    ///
    /// Fails within a few seconds with `StoreError::Database` if the database cannot be
    /// reached, and with `StoreError::Config` if the URL is malformed.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(|error| {
            StoreError::Config(format!(
                "invalid PostgreSQL URL {:?}: {error}",
                redact_url(url)
            ))
        })?;
        Self::connect_with(options).await
    }

    /// Like [`PostgresStore::connect`], from options built in code.
    ///
    /// Migrations are applied under PostgreSQL's advisory lock, so several nodes may start at
    /// once. Migrations recorded in the database that this build does not know (applied by a
    /// newer version during a rolling upgrade) are tolerated, so an older node can still start.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        // One connection first, with a hard deadline: an unreachable database fails here with
        // its real cause (refused, unknown host, authentication) instead of a pool timeout.
        let mut conn = connect_once(&options).await?;
        migrator().run(&mut conn).await?;
        conn.close().await?;

        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("SET synchronous_commit TO on")
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        let changes = Arc::new(GroupCommit::start(
            "postgres",
            PostgresChanges {
                options,
                idle: std::sync::Mutex::new(Vec::new()),
            },
            CHANGE_WRITERS,
            MAX_BATCH,
        )?);
        Ok(PostgresStore { pool, changes })
    }

    /// The connection pool, for metrics (`size`, `num_idle`) and diagnostics. Writing through
    /// it bypasses the store's rules.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use to be returned. The store answers
    /// `PoolClosed` afterwards.
    pub async fn close(&self) {
        self.changes.close().await;
        self.pool.close().await;
    }

    /// Starts a transaction.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// The submission of a session, if it has one.
    async fn submission_of(
        &self,
        executor: impl sqlx::PgExecutor<'_>,
        session: i64,
    ) -> Result<Option<Submission>, StoreError> {
        sqlx::query_as::<_, SubmissionRow>(concat!(
            submission_select!(),
            " WHERE sub.session_id = $1"
        ))
        .bind(session)
        .fetch_optional(executor)
        .await?
        .map(Submission::try_from)
        .transpose()
    }
}

/// Opens one connection within [`CONNECT_TIMEOUT`], naming the server in the error.
async fn connect_once(options: &PgConnectOptions) -> Result<PgConnection, StoreError> {
    let server = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(sqlx::Error::Io(error))) => {
            Err(StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                error.kind(),
                format!("cannot connect to PostgreSQL at {server}: {error}"),
            ))))
        }
        Ok(Err(error)) => Err(StoreError::Database(error)),
        Err(_elapsed) => Err(StoreError::Database(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "cannot connect to PostgreSQL at {server}: no answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            ),
        )))),
    }
}

/// The PostgreSQL migrations, embedded at build time.
fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations/postgres");
    migrator.set_ignore_missing(true);
    migrator
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.changes.check()?;
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        PostgresStore::close(self).await;
    }

    async fn add_admin_token(&self, hash: TokenHash, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_tokens (hash, created_at) VALUES ($1, $2) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&hash.0[..])
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn admin_token_hashes(&self) -> Result<Vec<TokenHash>, StoreError> {
        sqlx::query_scalar::<_, Vec<u8>>("SELECT hash FROM admin_tokens ORDER BY created_at, hash")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(rows::token_hash)
            .collect()
    }

    async fn create_org(&self, new: NewOrg, now: Millis) -> Result<Org, StoreError> {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO orgs (slug, name, region, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(&new.slug)
        .bind(&new.name)
        .bind(&new.region)
        .bind(now)
        .fetch_one(&self.pool)
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
        let row = sqlx::query_as::<_, OrgRow>(concat!(org_select!(), " WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Org::from))
    }

    async fn list_orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows =
            sqlx::query_as::<_, OrgRow>(concat!(org_select!(), " ORDER BY slug COLLATE \"C\""))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(Org::from).collect())
    }

    async fn publish_version(
        &self,
        org: OrgId,
        new: NewVersion,
        now: Millis,
    ) -> Result<ProcessVersion, StoreError> {
        let mut tx = self.begin().await?;
        // A concurrent first publish of the same process waits here until the other
        // transaction ends, then finds its row.
        sqlx::query(
            "INSERT INTO processes (org_id, slug, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, slug) DO NOTHING",
        )
        .bind(org.0)
        .bind(&new.process_slug)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(rows::not_found_on_foreign_key)?;
        // The process row's lock serialises publishes of this process until commit, so the
        // next number is read after the previous publish committed.
        let process_id = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM processes WHERE org_id = $1 AND slug = $2 FOR UPDATE",
        )
        .bind(org.0)
        .bind(&new.process_slug)
        .fetch_one(&mut *tx)
        .await?;
        let number = sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM process_versions WHERE process_id = $1",
        )
        .bind(process_id)
        .fetch_one(&mut *tx)
        .await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO process_versions (process_id, number, title, source, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
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
            " WHERE p.org_id = $1 AND p.slug = $2 ORDER BY v.number DESC LIMIT 1"
        ))
        .bind(org.0)
        .bind(process_slug)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(ProcessVersion::from))
    }

    async fn version(&self, id: VersionId) -> Result<Option<ProcessVersion>, StoreError> {
        let row = sqlx::query_as::<_, VersionRow>(concat!(version_select!(), " WHERE v.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(ProcessVersion::from))
    }

    async fn list_processes(&self, org: OrgId) -> Result<Vec<ProcessSummary>, StoreError> {
        let rows = sqlx::query_as::<_, ProcessSummaryRow>(
            "SELECT p.slug, v.title, v.number AS latest_version, v.created_at AS updated_at \
             FROM processes p JOIN process_versions v ON v.process_id = p.id \
             WHERE p.org_id = $1 \
               AND v.number = (SELECT MAX(number) FROM process_versions WHERE process_id = p.id) \
             ORDER BY p.slug COLLATE \"C\"",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
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
             WHERE p.org_id = $1 AND p.slug = $2 ORDER BY v.number",
        )
        .bind(org.0)
        .bind(process_slug)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(VersionSummary::from).collect())
    }

    async fn create_session(&self, new: NewSession, now: Millis) -> Result<Session, StoreError> {
        // The organisation comes from the version, so a session can never name another one.
        let created = sqlx::query_as::<_, (i64, i64)>(
            "INSERT INTO sessions \
                 (token_hash, org_id, version_id, answers, current_step, revision, \
                  created_at, updated_at) \
             SELECT $1, p.org_id, v.id, $2, 0, 0, $3, $3 \
             FROM process_versions v JOIN processes p ON p.id = v.process_id \
             WHERE v.id = $4 \
             RETURNING id, org_id",
        )
        .bind(&new.token.0[..])
        .bind(rows::answers_json(&new.answers))
        .bind(now)
        .bind(new.version.0)
        .fetch_optional(&self.pool)
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
        sqlx::query_as::<_, SessionRow>(concat!(session_select!(), " WHERE s.token_hash = $1"))
            .bind(&token.0[..])
            .fetch_optional(&self.pool)
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
            " WHERE session_id = $1 ORDER BY revision"
        ))
        .bind(session.0)
        .fetch_all(&self.pool)
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
        let mut tx = self.begin().await?;
        // Locking the session makes a concurrent submit wait, then find this submission.
        let target = sqlx::query_as::<_, SubmitTarget>(concat!(
            submit_target_select!(),
            " WHERE s.token_hash = $1 FOR UPDATE OF s"
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
            if !rows::is_unique_violation(&error) {
                return Err(error.into());
            }
            // The lock makes a second submission of the session unlikely, but UNIQUE
            // (session_id) is what guarantees there is only one: if another transaction won,
            // answer with its submission. Otherwise the caller's public id is taken.
            tx.rollback().await?;
            return match self.submission_of(&self.pool, target.session_id).await? {
                Some(existing) => Ok(SubmitOutcome {
                    submission: existing,
                    created: false,
                }),
                None => Err(StoreError::Conflict(format!(
                    "submission {:?}",
                    submit.public_id
                ))),
            };
        }
        sqlx::query("UPDATE sessions SET submitted_at = $1, updated_at = $1 WHERE id = $2")
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
            " WHERE p.org_id = $1 AND p.slug = $2 ORDER BY sub.created_at, sub.id"
        ))
        .bind(org.0)
        .bind(process_slug)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Submission::try_from)
        .collect()
    }
}

/// The change writers' access to the database: connections of their own, made on their
/// thread. (A connection's socket is driven by the runtime it was made on: a pool connection
/// made on the server's runtime would make every round trip of a batch wait for the busy
/// HTTP workers to look at the socket.)
struct PostgresChanges {
    options: PgConnectOptions,
    /// Connections between batches, with when they were last used.
    idle: std::sync::Mutex<Vec<(PgConnection, Instant)>>,
}

/// A change writer's connection idle for longer than this is tested before it is used again:
/// the server or the network may have closed it meanwhile.
const STALE_AFTER: Duration = Duration::from_secs(30);

#[async_trait::async_trait]
impl ApplyBatch for PostgresChanges {
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
}

impl PostgresChanges {
    /// A connection for a batch: an idle one, or a new one.
    async fn connection(&self) -> Result<PgConnection, StoreError> {
        let idle = match self.idle.lock() {
            Ok(mut idle) => idle.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        if let Some((mut conn, used)) = idle
            && (used.elapsed() < STALE_AFTER || conn.ping().await.is_ok())
        {
            return Ok(conn);
        }
        let mut conn = connect_once(&self.options).await?;
        // Plans made for this batch's values, every time. A connection lives long, and a
        // prepared statement's generic plan is chosen after its first few runs by the table
        // statistics of that moment: on a new database that says the change log is empty, and
        // the plan it keeps reads the whole log for every batch as the log grows, until the
        // next ANALYZE.
        for setting in [
            "SET synchronous_commit TO on",
            "SET plan_cache_mode TO force_custom_plan",
        ] {
            sqlx::query(setting).execute(&mut conn).await?;
        }
        Ok(conn)
    }

    /// Keeps a connection whose batch went well for the next batch. (One whose batch failed
    /// is dropped: it may be broken.)
    fn put_back(&self, conn: PgConnection) {
        match self.idle.lock() {
            Ok(mut idle) => idle.push((conn, Instant::now())),
            Err(poisoned) => poisoned.into_inner().push((conn, Instant::now())),
        }
    }

    /// The fast way: lock and read everything the batch needs, decide in memory, write
    /// everything back: five round trips whatever the batch's size.
    async fn apply_together(
        &self,
        batch: &[PendingChange],
    ) -> Result<Vec<Result<ChangeOutcome, StoreError>>, BatchError> {
        let mut conn = self.connection().await.map_err(BatchError::Transaction)?;
        let mut tx = conn
            .begin()
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
        self.put_back(conn);
        Ok(plan.results)
    }

    /// The careful way, after the fast way failed: each change in its own savepoint, so one
    /// that cannot be applied fails alone.
    async fn apply_one_at_a_time(
        &self,
        batch: &[PendingChange],
    ) -> Vec<Result<ChangeOutcome, StoreError>> {
        // Sessions are locked in the order of their token hashes, as `find_batch` does (a
        // stable sort: the changes of one session keep their order).
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|&a, &b| batch[a].token.0.cmp(&batch[b].token.0));

        let mut conn = match self.connection().await {
            Ok(conn) => conn,
            Err(error) => return fail_all(batch, &error),
        };
        let mut tx = match conn.begin().await {
            Ok(tx) => tx,
            Err(error) => return fail_all(batch, &error.into()),
        };
        let mut results: Vec<Option<Result<ChangeOutcome, StoreError>>> =
            batch.iter().map(|_| None).collect();
        for index in order {
            match apply_isolated(&mut tx, &batch[index]).await {
                Ok(result) => results[index] = Some(result),
                Err(broken) => return fail_all(batch, &broken),
            }
        }
        if let Err(error) = tx.commit().await {
            return fail_all(batch, &error.into());
        }
        self.put_back(conn);
        results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    Err(StoreError::Corrupt(
                        "a change of the batch was skipped".to_owned(),
                    ))
                })
            })
            .collect()
    }
}

/// Locks and reads the sessions of a batch, then reads which of its (client, seq) were applied
/// before.
///
/// The rows are locked in the order of their token hashes, so two batches (of this node's
/// writers or of other nodes') never wait for each other in a cycle. The replays are read by a
/// statement of their own, after the locks were granted: under READ COMMITTED it sees a replay
/// that another node committed while this batch waited.
async fn find_batch(conn: &mut PgConnection, batch: &[PendingChange]) -> Result<Found, StoreError> {
    let mut tokens: Vec<&[u8]> = batch.iter().map(|p| &p.token.0[..]).collect();
    tokens.sort_unstable();
    tokens.dedup();
    let rows = sqlx::query_as::<_, BatchSessionRow>(concat!(
        "SELECT s.token_hash, ",
        session_columns!(),
        " FROM sessions s LEFT JOIN submissions sub ON sub.session_id = s.id \
         WHERE s.token_hash = ANY($1) \
         ORDER BY s.token_hash \
         FOR UPDATE OF s"
    ))
    .bind(tokens)
    .fetch_all(&mut *conn)
    .await?;
    let sessions = rows::batch_sessions(rows)?;

    let mut ids = Vec::new();
    let mut clients = Vec::new();
    let mut seqs = Vec::new();
    for (session, client, seq) in group_commit::replay_keys(batch, &sessions) {
        ids.push(session.0);
        clients.push(client);
        seqs.push(seq);
    }
    let applied = if ids.is_empty() {
        HashSet::new()
    } else {
        sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT c.session_id, c.client, c.seq \
             FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS k (session_id, client, seq) \
             JOIN session_changes c \
               ON c.session_id = k.session_id AND c.client = k.client AND c.seq = k.seq",
        )
        .bind(ids)
        .bind(clients)
        .bind(seqs)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(session, client, seq)| (SessionId(session), client, seq))
        .collect()
    };
    Ok(Found { sessions, applied })
}

/// Writes a planned batch in one statement: the changed sessions (in a data-modifying `WITH`)
/// and the change log entries, each passing its rows as arrays.
async fn write_batch(conn: &mut PgConnection, plan: &Plan<'_>) -> Result<(), StoreError> {
    if plan.log.is_empty() {
        return Ok(());
    }
    let sessions = &plan.sessions;
    let log = &plan.log;
    sqlx::query(
        "WITH updated AS ( \
             UPDATE sessions s SET answers = u.answers, current_step = u.current_step, \
                 revision = u.revision, updated_at = u.updated_at, \
                 field_writes = u.field_writes \
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], \
                         $6::text[]) \
                  AS u (id, answers, current_step, revision, updated_at, field_writes) \
             WHERE s.id = u.id \
         ) \
         INSERT INTO session_changes \
             (session_id, revision, client, seq, base, answers, current_step, created_at) \
         SELECT * FROM unnest($7::bigint[], $8::bigint[], $9::text[], $10::bigint[], \
                              $11::bigint[], $12::text[], $13::bigint[], $14::bigint[])",
    )
    .bind(sessions.iter().map(|s| s.id.0).collect::<Vec<_>>())
    .bind(
        sessions
            .iter()
            .map(|s| rows::answers_json(&s.answers))
            .collect::<Vec<_>>(),
    )
    .bind(sessions.iter().map(|s| s.current_step).collect::<Vec<_>>())
    .bind(sessions.iter().map(|s| s.revision).collect::<Vec<_>>())
    .bind(sessions.iter().map(|s| s.updated_at).collect::<Vec<_>>())
    .bind(
        sessions
            .iter()
            .map(|s| merge::writes_json(&s.writes))
            .collect::<Vec<_>>(),
    )
    .bind(log.iter().map(|e| e.session.0).collect::<Vec<_>>())
    .bind(log.iter().map(|e| e.revision).collect::<Vec<_>>())
    .bind(
        log.iter()
            .map(|e| e.change.client.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(log.iter().map(|e| e.change.seq).collect::<Vec<_>>())
    .bind(log.iter().map(|e| e.change.base).collect::<Vec<_>>())
    .bind(
        log.iter()
            .map(|e| rows::answers_json(&e.change.answers))
            .collect::<Vec<_>>(),
    )
    .bind(
        log.iter()
            .map(|e| e.change.current_step)
            .collect::<Vec<_>>(),
    )
    .bind(log.iter().map(|e| e.now).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies one change of a batch inside a savepoint: if it fails, what it did is undone (its
/// row lock too) and the batch goes on. The outer error means the transaction is broken.
async fn apply_isolated(
    conn: &mut PgConnection,
    pending: &PendingChange,
) -> Result<Result<ChangeOutcome, StoreError>, StoreError> {
    sqlx::query("SAVEPOINT change").execute(&mut *conn).await?;
    let result = apply_one(conn, pending).await;
    if result.is_err() {
        sqlx::query("ROLLBACK TO SAVEPOINT change")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("RELEASE SAVEPOINT change")
        .execute(&mut *conn)
        .await?;
    Ok(result)
}

/// Applies one change: locks the session row, checks for a replay, merges, writes the session
/// back and logs the change.
async fn apply_one(
    conn: &mut PgConnection,
    pending: &PendingChange,
) -> Result<ChangeOutcome, StoreError> {
    let PendingChange { token, change, now } = pending;
    // The row lock makes concurrent changes to the session (from other nodes) queue: each
    // merges into what the one before it committed.
    let mut session: Session = sqlx::query_as::<_, SessionRow>(concat!(
        session_select!(),
        " WHERE s.token_hash = $1 FOR UPDATE OF s"
    ))
    .bind(&token.0[..])
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()?;
    if session.submitted_at.is_some() {
        return Err(StoreError::Submitted);
    }

    // A statement of its own, after the lock was granted: it sees a replay that another node
    // committed while this one waited.
    if let (Some(client), Some(seq)) = (&change.client, change.seq) {
        let applied = sqlx::query_scalar::<_, i64>(
            "SELECT revision FROM session_changes \
             WHERE session_id = $1 AND client = $2 AND seq = $3",
        )
        .bind(session.id.0)
        .bind(client)
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?;
        if applied.is_some() {
            return Ok(ChangeOutcome {
                conflicts: merge::conflicts(&session, change),
                session,
                duplicate: true,
            });
        }
    }

    merge::apply(&mut session, change, *now);
    sqlx::query(
        "UPDATE sessions SET answers = $1, current_step = $2, revision = $3, updated_at = $4, \
         field_writes = $5 WHERE id = $6",
    )
    .bind(rows::answers_json(&session.answers))
    .bind(session.current_step)
    .bind(session.revision)
    .bind(now)
    .bind(merge::writes_json(&session.writes))
    .bind(session.id.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO session_changes \
             (session_id, revision, client, seq, base, answers, current_step, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(session.id.0)
    .bind(session.revision)
    .bind(&change.client)
    .bind(change.seq)
    .bind(change.base)
    .bind(rows::answers_json(&change.answers))
    .bind(change.current_step)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(ChangeOutcome {
        conflicts: merge::conflicts(&session, change),
        session,
        duplicate: false,
    })
}
