//! Group commit for autosaves: the *change writer*, a background task per store that applies
//! many sessions' change batches in one transaction and commits them with one flush to disk.
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
//! The writer is visible in `/metrics` (`holdfast_store_group_commit_*`: batches, changes,
//! batch sizes, commit time, queue length, writers running) and stops cleanly: on
//! [`GroupCommit::close`] it takes no new changes, finishes those queued, and ends; when the
//! store is dropped it ends after the queue drains.
//!
//! This module knows nothing of SQL: the backends own their transactions.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::model::{Change, ChangeOutcome, Millis, StoreError, TokenHash};

/// How many changes may wait for a writer before callers wait to queue theirs.
const QUEUE_CAPACITY: usize = 4096;

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
    writers: Mutex<Vec<JoinHandle<()>>>,
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
    /// Starts `writers` change writers for `backend` (each applying up to `max_batch` changes
    /// per transaction) on the current Tokio runtime.
    pub(crate) fn start(
        backend: &'static str,
        applier: impl ApplyBatch,
        writers: usize,
        max_batch: usize,
    ) -> GroupCommit {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let applier = Arc::new(applier);
        let (closing, closed) = watch::channel(false);
        let handles = (0..writers.max(1))
            .map(|index| {
                let writer = Writer {
                    backend,
                    receiver: receiver.clone(),
                    applier: applier.clone(),
                    closing: closed.clone(),
                    max_batch: max_batch.max(1),
                };
                let span = tracing::info_span!("change writer", backend, writer = index);
                tokio::spawn(writer.run().instrument(span))
            })
            .collect();
        GroupCommit {
            backend,
            sender,
            closing,
            writers: Mutex::new(handles),
        }
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
            return Err(StoreError::Database(sqlx::Error::PoolClosed));
        }
        // A writer that went away without answering (its runtime shut down) has not committed.
        answer
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::PoolClosed)))
    }

    /// Stops taking changes, lets the writers finish the ones queued, and waits for them to
    /// end. Changes queued after this are refused as `PoolClosed`.
    pub(crate) async fn close(&self) {
        self.closing.send_replace(true);
        let handles = match self.writers.lock() {
            Ok(mut handles) => std::mem::take(&mut *handles),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for handle in handles {
            if let Err(error) = handle.await {
                tracing::error!(backend = self.backend, %error, "a change writer failed");
            }
        }
    }
}

/// One change writer: a named, long-running task.
struct Writer<A> {
    backend: &'static str,
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
        let mut jobs: Vec<Job> = Vec::with_capacity(self.max_batch);
        let mut batch: Vec<PendingChange> = Vec::with_capacity(self.max_batch);
        let mut replies = Vec::with_capacity(self.max_batch);
        loop {
            metrics::gauge!("holdfast_store_group_commit_writers", &labels).set(1.0);
            let (received, queued) = {
                let mut receiver = self.receiver.lock().await;
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
        metrics::gauge!("holdfast_store_group_commit_writers", &labels).set(0.0);
        tracing::debug!("stopped");
    }
}

/// A copy of an error that fails a whole batch (the transaction could not begin or commit),
/// for each change in it. Nothing of the batch was committed: the copies say the database is
/// unavailable, so callers answer "try again" (503).
pub(crate) fn batch_failure(error: &StoreError) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!(
        "the transaction of this change failed: {error}"
    ))))
}
