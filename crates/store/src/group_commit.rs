//! Group commit for autosaves: the *change writer*, a background task per store (on a thread
//! of its own, `change-writer`) that applies many sessions' change batches in one transaction
//! and commits them with one flush to disk.
//!
//! Why: a durable commit waits for the disk (an `fsync` with SQLite's `synchronous = FULL`, a
//! WAL flush with PostgreSQL's `synchronous_commit = on`). One commit per autosave caps a node
//! at a few hundred autosaves a second whatever its CPU; one commit per *batch* of autosaves
//! does not.
//!
//! How: [`GroupCommit::apply`] queues a change and waits for its answer. The writer takes every
//! change waiting (up to a backend's batch limit), hands them to the backend's [`ApplyBatch`],
//! which applies each in order inside one transaction — a change that fails (unknown session,
//! submitted session, a database error) fails alone — and commits once. Only after the commit
//! returned is any caller answered, so no change is acknowledged before it is durable. While a
//! batch commits, the next one gathers in the queue: the batch size adapts to the load, and a
//! lone change is committed at once, without waiting for company.
//!
//! The writer is visible in `/metrics` (`holdfast_store_group_commit_*`: `batches_total`,
//! `changes_total`, `batch_size`, `seconds` per batch, `queue`, and `writer_up` per writer)
//! and stops cleanly: on
//! [`GroupCommit::close`] it takes no new changes, finishes those queued, and ends; when the
//! store is dropped it ends after the queue drains.
//!
//! A backend applies a batch with a handful of statements whatever its size (see [`plan`]):
//! it reads every session of the batch and every replayed (client, seq) under the write lock,
//! decides each change in memory, in the batch's order, then writes the sessions back and
//! appends the change log in one statement each. Should one of those statements fail, it rolls
//! the batch back and applies it again one change at a time, each in its own savepoint, so a
//! change that cannot be applied fails alone.
//!
//! This module knows nothing of SQL: the backends own their transactions.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument;

use crate::merge;
use crate::model::{Change, ChangeOutcome, Millis, Session, SessionId, StoreError, TokenHash};

/// How many changes may wait for a writer before callers wait to queue theirs.
const QUEUE_CAPACITY: usize = 4096;

/// How often an idle writer reports that it runs.
const REPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The gauge every background task of Holdfast reports itself under (1 while it runs).
fn running_gauge() -> metrics::Gauge {
    metrics::gauge!("holdfast_background_task_running", "task" => "change-writer")
}

/// One change waiting to be applied.
pub(crate) struct PendingChange {
    /// The session's token hash.
    pub(crate) token: TokenHash,
    /// The change.
    pub(crate) change: Change,
    /// When it was made.
    pub(crate) now: Millis,
}

/// How a backend applies a batch of changes.
#[async_trait::async_trait]
pub(crate) trait ApplyBatch: Send + Sync + 'static {
    /// Applies `batch` in order in one transaction and commits it once. Returns one result per
    /// change, in the batch's order. A change that fails must leave the others applied; if the
    /// commit itself fails, every change fails.
    async fn apply_batch(&self, batch: &[PendingChange]) -> Vec<Result<ChangeOutcome, StoreError>>;

    /// Called when no change is waiting, before the writer waits for one, and before it ends:
    /// the moment to give back what batches kept for the next one (a connection).
    async fn idle(&self) {}
}

/// A queued change and where its answer goes.
struct Job {
    pending: PendingChange,
    reply: oneshot::Sender<Result<ChangeOutcome, StoreError>>,
}

/// The queue in front of a backend's change writers, and the writers themselves.
pub(crate) struct GroupCommit {
    backend: &'static str,
    sender: mpsc::Sender<Job>,
    closing: watch::Sender<bool>,
    /// Answers once every writer has ended.
    finished: Mutex<Option<oneshot::Receiver<()>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("backend", &self.backend)
            .field("queued", &(QUEUE_CAPACITY - self.sender.capacity()))
            .finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts `writers` change writers for `backend`, each applying up to `max_batch` changes
    /// per transaction.
    ///
    /// The writers run on a thread of their own (`change-writer`), with a Tokio runtime of its
    /// own: on the server's runtime a writer would wait behind every HTTP task at each of its
    /// awaits, and everybody's autosave waits for the writer.
    pub(crate) fn start(
        backend: &'static str,
        applier: impl ApplyBatch,
        writers: usize,
        max_batch: usize,
    ) -> Result<GroupCommit, StoreError> {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let applier = Arc::new(applier);
        let (closing, closed) = watch::channel(false);
        let (done, finished) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| StoreError::Database(sqlx::Error::Io(error)))?;
        let writers: Vec<Writer<_>> = (0..writers.max(1))
            .map(|index| Writer {
                backend,
                index,
                receiver: receiver.clone(),
                applier: applier.clone(),
                closing: closed.clone(),
                max_batch: max_batch.max(1),
            })
            .collect();
        std::thread::Builder::new()
            .name("change-writer".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let tasks: Vec<_> = writers
                        .into_iter()
                        .map(|writer| {
                            let span = tracing::info_span!(
                                "change writer",
                                backend,
                                writer = writer.index
                            );
                            tokio::spawn(writer.run().instrument(span))
                        })
                        .collect();
                    for task in tasks {
                        if let Err(error) = task.await {
                            tracing::error!(backend, %error, "a change writer failed");
                        }
                    }
                });
                running_gauge().set(0.0);
                let _ = done.send(());
            })
            .map_err(|error| StoreError::Database(sqlx::Error::Io(error)))?;
        Ok(GroupCommit {
            backend,
            sender,
            closing,
            finished: Mutex::new(Some(finished)),
        })
    }

    /// Queues a change and waits until it is committed (or refused).
    pub(crate) async fn apply(
        &self,
        token: &TokenHash,
        change: Change,
        now: Millis,
    ) -> Result<ChangeOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pending: PendingChange {
                token: token.clone(),
                change,
                now,
            },
            reply,
        };
        if self.sender.send(job).await.is_err() {
            return Err(StoreError::WriterStopped);
        }
        // A writer that went away without answering (its thread ended) may or may not have
        // committed the change: the caller answers "unavailable", and the client sends the
        // batch again, which is applied at most once.
        answer.await.unwrap_or(Err(StoreError::WriterStopped))
    }

    /// Whether changes can be applied: an error once the writers have ended (their thread
    /// stopped, or the store was closed), when every change would be refused.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if self.sender.is_closed() {
            return Err(StoreError::WriterStopped);
        }
        Ok(())
    }

    /// Stops taking changes, lets the writers finish the ones queued, and waits for them to
    /// end. Changes queued after this are refused as [`StoreError::WriterStopped`].
    pub(crate) async fn close(&self) {
        self.closing.send_replace(true);
        let finished = match self.finished.lock() {
            Ok(mut finished) => finished.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(finished) = finished {
            // An error means the writers' thread is gone already.
            let _ = finished.await;
        }
        tracing::debug!(backend = self.backend, "the change writers have stopped");
    }
}

/// One change writer: a named, long-running task.
struct Writer<A> {
    backend: &'static str,
    index: usize,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    applier: Arc<A>,
    /// Becomes true (or its sender goes away) when the store closes.
    closing: watch::Receiver<bool>,
    max_batch: usize,
}

impl<A: ApplyBatch> Writer<A> {
    async fn run(mut self) {
        tracing::debug!("started");
        let labels = [("backend", self.backend)];
        let up = [
            ("backend", self.backend.to_owned()),
            ("writer", self.index.to_string()),
        ];
        let mut jobs: Vec<Job> = Vec::with_capacity(self.max_batch);
        let mut batch: Vec<PendingChange> = Vec::with_capacity(self.max_batch);
        let mut replies = Vec::with_capacity(self.max_batch);
        loop {
            // Reported at least every REPORT_EVERY, so `/metrics` shows the writers also before
            // the first change (and after a metrics recorder is installed late).
            metrics::gauge!("holdfast_store_group_commit_writer_up", &up).set(1.0);
            running_gauge().set(1.0);
            let (received, queued) = {
                let mut receiver = self.receiver.lock().await;
                if receiver.is_empty() {
                    self.applier.idle().await;
                }
                let received = tokio::select! {
                    // Queued changes first: after closing, they are still taken until none is
                    // left, and only then does `recv_many` answer 0.
                    biased;
                    received = receiver.recv_many(&mut jobs, self.max_batch) => received,
                    _ = self.closing.wait_for(|closing| *closing) => {
                        // Refuse new changes; those queued are still taken and applied.
                        receiver.close();
                        continue;
                    }
                    () = tokio::time::sleep(REPORT_EVERY) => continue,
                };
                (received, receiver.len())
            };
            if received == 0 {
                break; // closed (or every sender dropped) and drained
            }
            metrics::gauge!("holdfast_store_group_commit_queue", &labels).set(queued as f64);

            for job in jobs.drain(..) {
                batch.push(job.pending);
                replies.push(job.reply);
            }
            let started = Instant::now();
            let mut results = self.applier.apply_batch(&batch).await;
            metrics::histogram!("holdfast_store_group_commit_seconds", &labels)
                .record(started.elapsed().as_secs_f64());
            metrics::histogram!("holdfast_store_group_commit_batch_size", &labels)
                .record(batch.len() as f64);
            metrics::counter!("holdfast_store_group_commit_batches_total", &labels).increment(1);
            metrics::counter!("holdfast_store_group_commit_changes_total", &labels)
                .increment(batch.len() as u64);

            // A backend that answered too few results has a bug: the rest are not acknowledged.
            results.resize_with(batch.len(), || {
                Err(StoreError::Corrupt(
                    "the change writer lost track of a change".to_owned(),
                ))
            });
            batch.clear();
            for (reply, result) in replies.drain(..).zip(results) {
                // The caller may have gone (its client disconnected); the change stays applied.
                let _ = reply.send(result);
            }
        }
        self.applier.idle().await;
        metrics::gauge!("holdfast_store_group_commit_writer_up", &up).set(0.0);
        tracing::debug!("stopped");
    }
}

/// Where applying a batch together failed.
pub(crate) enum BatchError {
    /// Before the commit was asked for: nothing is committed, and the batch may be applied
    /// again, one change at a time.
    Applying(StoreError),
    /// The transaction could not begin, or its commit failed (whether it happened is unknown):
    /// every change of the batch fails, and the clients send them again.
    Transaction(StoreError),
}

/// Every change of a batch fails with a copy of `error`.
pub(crate) fn fail_all(
    batch: &[PendingChange],
    error: &StoreError,
) -> Vec<Result<ChangeOutcome, StoreError>> {
    tracing::warn!(%error, changes = batch.len(), "a batch of changes failed");
    batch.iter().map(|_| Err(batch_failure(error))).collect()
}

/// A copy of an error that fails a whole batch (the transaction could not begin or commit),
/// for each change in it. Nothing of the batch was committed: the copies say the database is
/// unavailable, so callers answer "try again" (503).
pub(crate) fn batch_failure(error: &StoreError) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!(
        "the transaction of this change failed: {error}"
    ))))
}

/// What a batch found in the database, under the write lock.
#[derive(Default)]
pub(crate) struct Found {
    /// The sessions of the batch's tokens, as stored; a token that is missing has no session.
    /// A session whose stored data cannot be read is an error (`Corrupt`).
    pub(crate) sessions: HashMap<TokenHash, Result<Session, StoreError>>,
    /// The batch's (session, client, seq) that were applied before.
    pub(crate) applied: HashSet<(SessionId, String, i64)>,
}

/// The (session, client, seq) of each change of `batch` that names its client and seq and
/// whose session was found: the keys to look up in the change log before applying the batch.
/// A key that appears twice in the batch is given twice.
pub(crate) fn replay_keys<'a>(
    batch: &'a [PendingChange],
    sessions: &'a HashMap<TokenHash, Result<Session, StoreError>>,
) -> impl Iterator<Item = (SessionId, &'a str, i64)> + 'a {
    batch.iter().filter_map(|pending| {
        let (Some(Ok(session)), Some(client), Some(seq)) = (
            sessions.get(&pending.token),
            &pending.change.client,
            pending.change.seq,
        ) else {
            return None;
        };
        Some((session.id, client.as_str(), seq))
    })
}

/// One entry to append to a session's change log.
pub(crate) struct LogEntry<'a> {
    /// The session.
    pub(crate) session: SessionId,
    /// The revision the change produced.
    pub(crate) revision: i64,
    /// The change.
    pub(crate) change: &'a Change,
    /// When it was made.
    pub(crate) now: Millis,
}

/// What to write for a batch, and what to answer each of its changes.
pub(crate) struct Plan<'a> {
    /// One answer per change, in the batch's order.
    pub(crate) results: Vec<Result<ChangeOutcome, StoreError>>,
    /// The sessions the batch changed, each in its final state, to write back.
    pub(crate) sessions: Vec<Session>,
    /// The change log entries to append.
    pub(crate) log: Vec<LogEntry<'a>>,
}

/// Decides every change of a batch, in order, as if each ran in a transaction of its own right
/// after the one before it: an unknown session is `NotFound`, a submitted one refuses with
/// `Submitted`, a (client, seq) applied before — also earlier in this batch — is a duplicate
/// that changes nothing, and anything else is merged and counted as the next revision.
pub(crate) fn plan<'a>(batch: &'a [PendingChange], found: Found) -> Plan<'a> {
    let Found {
        mut sessions,
        mut applied,
    } = found;
    let mut results = Vec::with_capacity(batch.len());
    let mut log = Vec::with_capacity(batch.len());
    let mut changed: Vec<TokenHash> = Vec::new();
    for pending in batch {
        let PendingChange { token, change, now } = pending;
        let session = match sessions.get_mut(token) {
            None => {
                results.push(Err(StoreError::NotFound));
                continue;
            }
            Some(Err(error)) => {
                results.push(Err(copy_error(error)));
                continue;
            }
            Some(Ok(session)) => session,
        };
        if session.submitted_at.is_some() {
            results.push(Err(StoreError::Submitted));
            continue;
        }
        let key = match (&change.client, change.seq) {
            (Some(client), Some(seq)) => Some((session.id, client.clone(), seq)),
            _ => None,
        };
        if key.as_ref().is_some_and(|key| applied.contains(key)) {
            results.push(Ok(ChangeOutcome {
                conflicts: merge::conflicts(session, change),
                session: session.clone(),
                duplicate: true,
            }));
            continue;
        }
        merge::apply(session, change, *now);
        log.push(LogEntry {
            session: session.id,
            revision: session.revision,
            change,
            now: *now,
        });
        if let Some(key) = key {
            applied.insert(key);
        }
        if !changed.contains(token) {
            changed.push(token.clone());
        }
        results.push(Ok(ChangeOutcome {
            conflicts: merge::conflicts(session, change),
            session: session.clone(),
            duplicate: false,
        }));
    }
    let sessions = changed
        .iter()
        .filter_map(|token| sessions.remove(token).and_then(Result::ok))
        .collect();
    Plan {
        results,
        sessions,
        log,
    }
}

/// A copy of a per-session error, for each change of the batch on that session.
fn copy_error(error: &StoreError) -> StoreError {
    match error {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Submitted => StoreError::Submitted,
        StoreError::Corrupt(message) => StoreError::Corrupt(message.clone()),
        other => batch_failure(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Answers, OrgId, VersionId};
    use serde_json::{Value, json};

    fn answers(value: Value) -> Answers {
        match value {
            Value::Object(map) => map,
            _ => Answers::new(),
        }
    }

    fn session(id: i64) -> Session {
        Session {
            id: SessionId(id),
            org_id: OrgId(1),
            version_id: VersionId(1),
            answers: Answers::new(),
            writes: crate::merge::FieldWrites::new(),
            current_step: 0,
            revision: 0,
            created_at: 0,
            updated_at: 0,
            submitted_at: None,
            submission_id: None,
        }
    }

    fn pending(token: u8, client: &str, seq: i64, set: Value) -> PendingChange {
        PendingChange {
            token: TokenHash([token; 32]),
            change: Change {
                client: Some(client.to_owned()),
                seq: Some(seq),
                base: None,
                answers: answers(set),
                current_step: None,
            },
            now: 1_000 + seq,
        }
    }

    /// A backend whose batches panic, as a bug in the writer would.
    struct Panics;

    #[async_trait::async_trait]
    impl ApplyBatch for Panics {
        async fn apply_batch(
            &self,
            _batch: &[PendingChange],
        ) -> Vec<Result<ChangeOutcome, StoreError>> {
            panic!("a bug in the change writer");
        }
    }

    #[tokio::test]
    async fn a_writer_that_died_fails_the_check_and_its_changes() {
        let writers = GroupCommit::start("test", Panics, 1, 8).expect("a writer thread");
        assert!(writers.check().is_ok(), "the writer runs");
        let change = pending(1, "tab", 1, json!({"a": 1}));
        let result = writers.apply(&change.token, change.change, 1).await;
        assert!(
            matches!(&result, Err(error) if error.is_unavailable()),
            "a change the writer dropped is refused as unavailable: {result:?}"
        );
        // The thread ends once its only writer is gone.
        for _ in 0..100 {
            if writers.check().is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(matches!(writers.check(), Err(StoreError::WriterStopped)));
    }

    #[tokio::test]
    async fn a_closed_writer_fails_the_check() {
        let writers = GroupCommit::start("test", Panics, 1, 8).expect("a writer thread");
        assert!(writers.check().is_ok());
        writers.close().await;
        assert!(writers.check().is_err());
    }

    fn found(sessions: Vec<(u8, Result<Session, StoreError>)>) -> Found {
        Found {
            sessions: sessions
                .into_iter()
                .map(|(token, session)| (TokenHash([token; 32]), session))
                .collect(),
            applied: HashSet::new(),
        }
    }

    #[test]
    fn changes_to_one_session_apply_in_order() {
        let batch = vec![
            pending(1, "tab", 1, json!({"a": 1, "b": 1})),
            pending(1, "tab", 2, json!({"a": 2, "b": null})),
        ];
        let plan = plan(&batch, found(vec![(1, Ok(session(10)))]));
        let revisions: Vec<i64> = plan
            .results
            .iter()
            .map(|r| r.as_ref().map(|o| o.session.revision).unwrap_or(-1))
            .collect();
        assert_eq!(revisions, vec![1, 2]);
        assert_eq!(plan.sessions.len(), 1);
        assert_eq!(plan.sessions[0].revision, 2);
        assert_eq!(plan.sessions[0].answers, answers(json!({"a": 2})));
        assert_eq!(plan.sessions[0].updated_at, 1_002);
        let logged: Vec<(i64, i64)> = plan.log.iter().map(|e| (e.session.0, e.revision)).collect();
        assert_eq!(logged, vec![(10, 1), (10, 2)]);
    }

    #[test]
    fn a_bad_change_fails_alone() {
        let mut submitted = session(30);
        submitted.submitted_at = Some(5);
        let batch = vec![
            pending(1, "tab", 1, json!({"a": 1})),
            pending(9, "tab", 1, json!({"a": 1})),
            pending(3, "tab", 1, json!({"a": 1})),
            pending(4, "tab", 1, json!({"a": 1})),
            pending(2, "tab", 1, json!({"a": 1})),
        ];
        let plan = plan(
            &batch,
            found(vec![
                (1, Ok(session(10))),
                (2, Ok(session(20))),
                (3, Ok(submitted)),
                (4, Err(StoreError::Corrupt("session 40".to_owned()))),
            ]),
        );
        assert!(matches!(
            plan.results[0],
            Ok(ChangeOutcome {
                duplicate: false,
                ..
            })
        ));
        assert!(matches!(plan.results[1], Err(StoreError::NotFound)));
        assert!(matches!(plan.results[2], Err(StoreError::Submitted)));
        assert!(matches!(plan.results[3], Err(StoreError::Corrupt(_))));
        assert!(matches!(
            plan.results[4],
            Ok(ChangeOutcome {
                duplicate: false,
                ..
            })
        ));
        let written: Vec<i64> = plan.sessions.iter().map(|s| s.id.0).collect();
        assert_eq!(written, vec![10, 20]);
        assert_eq!(plan.log.len(), 2);
    }

    #[test]
    fn a_replay_is_a_duplicate_also_within_the_batch() {
        let batch = vec![
            pending(1, "tab", 1, json!({"a": 1})),
            pending(1, "tab", 2, json!({"a": 2})),
            pending(1, "tab", 2, json!({"a": 2})),
        ];
        let mut found = found(vec![(1, Ok(session(10)))]);
        found.applied.insert((SessionId(10), "tab".to_owned(), 1));
        let plan = plan(&batch, found);
        let outcomes: Vec<(bool, i64)> = plan
            .results
            .iter()
            .map(|r| {
                r.as_ref()
                    .map(|o| (o.duplicate, o.session.revision))
                    .unwrap_or((false, -1))
            })
            .collect();
        assert_eq!(outcomes, vec![(true, 0), (false, 1), (true, 1)]);
        assert_eq!(plan.log.len(), 1);
    }
}
