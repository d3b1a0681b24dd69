//! How the change writer applies autosaves to the SQLite file.
//!
//! The writer has a SQLite connection of its own, opened with `rusqlite` when the store opens
//! and used only on the writer's thread, and applies each batch with prepared statements: a few microseconds
//! per statement, with no thread to hand each statement to and no rows to encode for the trip.
//! (Through `sqlx` every statement is a round trip to the connection's worker thread; at
//! thousands of autosaves a second those round trips, and the JSON the rows travelled in, were
//! most of the writer's time.)
//!
//! Taking turns with the store's other writes: SQLite has one write lock per file, and the rest
//! of the store writes through a pool of one `sqlx` connection, whose queue is fair. Before a
//! batch the writer takes that pool's connection too — not to use it, but as its turn — and
//! keeps it from one batch to the next while changes keep coming, until [`WRITE_LEASE`] has
//! passed or no change is waiting. Then it gives it back, and a request waiting to create a
//! session or to submit goes next. So
//! the two connections never wait for each other on SQLite's lock (whose busy handler sleeps,
//! and could starve a request behind a stream of batches); they queue.
//!
//! Each batch runs in a `BEGIN IMMEDIATE` transaction: it reads every session of the batch and
//! which of its (client, seq) were applied before (unless it knows them from the batches it
//! committed before, and nothing else has written since: module `known`), decides every change
//! in memory ([`group_commit::plan`]), writes the sessions back and appends the change log, and
//! commits once. Should a statement fail, the batch is rolled back and applied again one change
//! at a time, each in a savepoint of its own, so the change that cannot be applied fails alone.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sqlx::Sqlite;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqlitePool;

use super::known::Known;
use super::{BUSY_TIMEOUT, WAL_CHECKPOINT_PAGES};
use crate::group_commit::{self, ApplyBatch, BatchError, Found, PendingChange, Plan, fail_all};
use crate::model::{ChangeOutcome, Session, SessionId, StoreError, TokenHash};
use crate::rows::{self, SessionRow};

/// The most changes the change writer commits in one transaction. The write lock is held for
/// the whole batch; at a few microseconds per change this keeps it short.
pub(super) const MAX_BATCH: usize = 256;

/// How long the change writer keeps its turn at writing from one batch to the next while
/// changes keep coming. Keeping it makes other writes (a new session, a submit) wait up to this
/// long; the writer gives it back as soon as it runs out of changes.
const WRITE_LEASE: Duration = Duration::from_millis(10);

/// Prepared statements kept per connection: the batch's seven, with room to spare.
const STATEMENT_CACHE: usize = 16;

/// The change writer's access to the database file.
pub(super) struct SqliteChanges {
    /// The store's write pool, whose one connection is the turn at writing.
    turn: SqlitePool,
    /// The turn, kept between batches while changes keep coming (see [`WRITE_LEASE`]).
    held: Mutex<Option<Turn>>,
    /// The writer's own connection, and what it knows of the sessions it wrote last. Only the
    /// change writer's thread uses them; the mutex lets the applier be shared with that thread
    /// all the same.
    conn: Mutex<Writer>,
}

/// The change writer's connection and its knowledge of recently written sessions.
struct Writer {
    conn: Connection,
    known: Known,
}

/// The write pool's connection, held by the change writer since a moment.
struct Turn {
    conn: PoolConnection<Sqlite>,
    since: Instant,
}

impl SqliteChanges {
    /// Opens the writer's connection to the database at `path`, which exists, is in WAL mode
    /// and has every migration applied; `turn` is the store's write pool.
    pub(super) fn open(path: &Path, turn: SqlitePool) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(database)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(database)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // The same durability and rules as the store's other connections (see the module
        // `sqlite`): a commit returns once it is on the disk.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES};"
        ))
        .map_err(database)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .map_err(database)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Config(format!(
                "the database {} is in journal mode {mode}, not WAL",
                path.display()
            )));
        }
        Ok(SqliteChanges {
            turn,
            held: Mutex::new(None),
            conn: Mutex::new(Writer {
                conn,
                known: Known::default(),
            }),
        })
    }

    fn take_turn(&self) -> Option<Turn> {
        match self.held.lock() {
            Ok(mut held) => held.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// The turn at writing: the one kept since the last batch, or the write pool's connection.
    async fn turn(&self) -> Result<Turn, StoreError> {
        if let Some(turn) = self.take_turn() {
            return Ok(turn);
        }
        Ok(Turn {
            conn: self.turn.acquire().await?,
            since: Instant::now(),
        })
    }

    /// After a batch: keeps the turn for the next one, or gives it back when it was held for
    /// [`WRITE_LEASE`], so that other writes go next.
    async fn keep(&self, mut turn: Turn) {
        if turn.since.elapsed() < WRITE_LEASE {
            match self.held.lock() {
                Ok(mut slot) => *slot = Some(turn),
                Err(poisoned) => *poisoned.into_inner() = Some(turn),
            }
        } else {
            turn.conn.return_to_pool().await;
        }
    }

    fn apply(&self, batch: &[PendingChange]) -> Vec<Result<ChangeOutcome, StoreError>> {
        let mut writer = match self.conn.lock() {
            Ok(writer) => writer,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Writer { conn, known } = &mut *writer;
        match apply_together(conn, known, batch) {
            Ok(results) => results,
            Err(BatchError::Applying(error)) => {
                known.forget();
                tracing::warn!(%error, changes = batch.len(), "a batch of changes failed; applying them one at a time");
                apply_one_at_a_time(conn, batch)
            }
            Err(BatchError::Transaction(error)) => {
                known.forget();
                fail_all(batch, &error)
            }
        }
    }
}

#[async_trait::async_trait]
impl ApplyBatch for SqliteChanges {
    async fn apply_batch(&self, batch: &[PendingChange]) -> Vec<Result<ChangeOutcome, StoreError>> {
        let turn = match self.turn().await {
            Ok(turn) => turn,
            Err(error) => return fail_all(batch, &error),
        };
        // Blocks the writer's thread for the batch: it has nothing else to do meanwhile.
        let results = self.apply(batch);
        self.keep(turn).await;
        results
    }

    async fn idle(&self) {
        if let Some(mut turn) = self.take_turn() {
            turn.conn.return_to_pool().await;
        }
    }
}

/// The fast way: read everything the batch needs (what `known` does not know already), decide
/// in memory, write everything back, commit once, and remember what was committed. On an error
/// the caller must make `known` forget.
fn apply_together(
    conn: &mut Connection,
    known: &mut Known,
    batch: &[PendingChange],
) -> Result<Vec<Result<ChangeOutcome, StoreError>>, BatchError> {
    // The write lock is taken up front and held to the commit: nothing changes between what
    // the batch reads and what it writes.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|error| BatchError::Transaction(database(error)))?;
    let data_version: i64 = tx
        .prepare_cached("PRAGMA data_version")
        .and_then(|mut pragma| pragma.query_row([], |row| row.get(0)))
        .map_err(|error| BatchError::Transaction(database(error)))?;
    known.check(data_version);
    let found = find_batch(&tx, batch, Some(known)).map_err(BatchError::Applying)?;
    let token_of: HashMap<SessionId, TokenHash> = found
        .sessions
        .iter()
        .filter_map(|(token, session)| Some((session.as_ref().ok()?.id, token.clone())))
        .collect();
    let plan = group_commit::plan(batch, found);
    write_batch(&tx, &plan).map_err(BatchError::Applying)?;
    tx.commit()
        .map_err(|error| BatchError::Transaction(database(error)))?;

    let Plan {
        results,
        sessions,
        log,
    } = plan;
    for entry in &log {
        if let (Some(client), Some(seq)) = (&entry.change.client, entry.change.seq) {
            known.committed_seq(entry.session, client, seq);
        }
    }
    for session in sessions {
        if let Some(token) = token_of.get(&session.id) {
            known.committed_session(token.clone(), session);
        }
    }
    Ok(results)
}

/// The careful way, after the fast way failed: each change in its own savepoint, so one that
/// cannot be applied fails alone.
fn apply_one_at_a_time(
    conn: &mut Connection,
    batch: &[PendingChange],
) -> Vec<Result<ChangeOutcome, StoreError>> {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => return fail_all(batch, &database(error)),
    };
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        let savepoint = match tx.savepoint() {
            Ok(savepoint) => savepoint,
            Err(error) => return fail_all(batch, &database(error)),
        };
        match apply_in(&savepoint, std::slice::from_ref(pending)) {
            Ok(mut one) => {
                if let Err(error) = savepoint.commit() {
                    return fail_all(batch, &database(error));
                }
                // `apply_in` answers once per change it is given: here, once.
                results.push(one.pop().unwrap_or_else(|| {
                    Err(StoreError::Corrupt(
                        "the change writer lost track of a change".to_owned(),
                    ))
                }));
            }
            // Dropping the savepoint rolls back what the change wrote.
            Err(error) => results.push(Err(error)),
        }
    }
    if let Err(error) = tx.commit() {
        return fail_all(batch, &database(error));
    }
    results
}

/// Applies `batch` inside the open transaction `conn`: reads, decides, writes. Returns one
/// result per change; an error means a statement failed and the transaction must be rolled
/// back.
fn apply_in(
    conn: &Connection,
    batch: &[PendingChange],
) -> Result<Vec<Result<ChangeOutcome, StoreError>>, StoreError> {
    let found = find_batch(conn, batch, None)?;
    let plan = group_commit::plan(batch, found);
    write_batch(conn, &plan)?;
    Ok(plan.results)
}

/// Reads the sessions of a batch and which of its (client, seq) were applied before; what
/// `known` knows is taken from it instead (see [`Known`]).
fn find_batch(
    conn: &Connection,
    batch: &[PendingChange],
    mut known: Option<&mut Known>,
) -> Result<Found, StoreError> {
    let mut session_of = conn
        .prepare_cached(concat!(
            "SELECT ",
            rows::session_columns!(),
            " FROM sessions s LEFT JOIN submissions sub ON sub.session_id = s.id \
             WHERE s.token_hash = ?1"
        ))
        .map_err(database)?;
    let mut applied_before = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM session_changes \
             WHERE session_id = ?1 AND client = ?2 AND seq = ?3)",
        )
        .map_err(database)?;
    let mut highest_seq = conn
        .prepare_cached(
            "SELECT MAX(seq) FROM session_changes \
             WHERE session_id = ?1 AND client = ?2 AND seq IS NOT NULL",
        )
        .map_err(database)?;

    let mut sessions: HashMap<TokenHash, Result<Session, StoreError>> = HashMap::new();
    for pending in batch {
        if sessions.contains_key(&pending.token) {
            continue;
        }
        if let Some(session) = known
            .as_mut()
            .and_then(|known| known.take_session(&pending.token))
        {
            sessions.insert(pending.token.clone(), Ok(session));
            continue;
        }
        let row = session_of
            .query_row([&pending.token.0[..]], session_row)
            .optional()
            .map_err(database)?;
        if let Some(row) = row {
            sessions.insert(pending.token.clone(), Session::try_from(row));
        }
    }
    let mut applied = HashSet::new();
    for (session, client, seq) in group_commit::replay_keys(batch, &sessions) {
        let key = (session, client.to_owned(), seq);
        if applied.contains(&key) {
            continue;
        }
        if let Some(known) = known.as_mut() {
            let highest = match known.highest_seq(session, client) {
                Some(highest) => highest,
                None => {
                    let highest: Option<i64> = highest_seq
                        .query_row(params![session.0, client], |row| row.get(0))
                        .map_err(database)?;
                    known.set_highest_seq(session, client, highest);
                    highest
                }
            };
            if highest.is_none_or(|highest| seq > highest) {
                // Above everything this client has had applied: new.
                continue;
            }
        }
        let before: bool = applied_before
            .query_row(params![session.0, client, seq], |row| row.get(0))
            .map_err(database)?;
        if before {
            applied.insert(key);
        }
    }
    Ok(Found { sessions, applied })
}

/// Reads a row selected with [`rows::session_columns`].
fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        id: row.get(0)?,
        org_id: row.get(1)?,
        version_id: row.get(2)?,
        answers: row.get(3)?,
        current_step: row.get(4)?,
        revision: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        submitted_at: row.get(8)?,
        submission_id: row.get(9)?,
        field_writes: row.get(10)?,
    })
}

/// Writes a planned batch: the changed sessions, then the change log entries.
fn write_batch(conn: &Connection, plan: &Plan<'_>) -> Result<(), StoreError> {
    if plan.log.is_empty() {
        return Ok(());
    }
    let mut update = conn
        .prepare_cached(
            "UPDATE sessions SET answers = ?1, current_step = ?2, revision = ?3, \
             updated_at = ?4, field_writes = ?5 WHERE id = ?6",
        )
        .map_err(database)?;
    for session in &plan.sessions {
        update
            .execute(params![
                rows::answers_json(&session.answers),
                session.current_step,
                session.revision,
                session.updated_at,
                crate::merge::writes_json(&session.writes),
                session.id.0,
            ])
            .map_err(database)?;
    }
    let mut append = conn
        .prepare_cached(
            "INSERT INTO session_changes \
             (session_id, revision, client, seq, base, answers, current_step, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(database)?;
    for entry in &plan.log {
        append
            .execute(params![
                entry.session.0,
                entry.revision,
                entry.change.client,
                entry.change.seq,
                entry.change.base,
                rows::answers_json(&entry.change.answers),
                entry.change.current_step,
                entry.now,
            ])
            .map_err(database)?;
    }
    Ok(())
}

/// A SQLite error of the writer's connection, as the store reports errors. The database being
/// busy, locked, full or failing to read or write is "unavailable" (the client tries again);
/// anything else is a fault.
fn database(error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let unavailable = matches!(
        error.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::OutOfMemory
        )
    );
    let message = format!("SQLite (change writer): {error}");
    StoreError::Database(if unavailable {
        sqlx::Error::Io(std::io::Error::other(message))
    } else {
        sqlx::Error::Protocol(message)
    })
}
