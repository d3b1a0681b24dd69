//! The records the store keeps and the errors it reports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::merge::FieldWrites;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A session's answers: field id → value.
pub type Answers = Map<String, Value>;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
    };
}

id_type!(
    /// An organisation's database id.
    OrgId
);
id_type!(
    /// A process's database id.
    ProcessId
);
id_type!(
    /// A process version's database id.
    VersionId
);
id_type!(
    /// A session's database id (never shown to end customers; they hold a token).
    SessionId
);

/// The SHA-256 hash of a secret token. Tokens themselves are never stored.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Org {
    /// Database id.
    pub id: OrgId,
    /// URL name, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Home region: where its end customers' data lives.
    pub region: String,
    /// When it was created.
    pub created_at: Millis,
}

/// What is needed to create an organisation.
#[derive(Debug, Clone)]
pub struct NewOrg {
    /// URL name, already validated by the caller.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Home region.
    pub region: String,
}

/// One immutable published version of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessVersion {
    /// Database id of this version.
    pub id: VersionId,
    /// The process it belongs to.
    pub process_id: ProcessId,
    /// The organisation the process belongs to.
    pub org_id: OrgId,
    /// The process's URL name.
    pub process_slug: String,
    /// 1, 2, 3 … per process.
    pub number: i64,
    /// The title of this version.
    pub title: String,
    /// The definition document exactly as published (YAML or JSON).
    pub source: String,
    /// When it was published.
    pub created_at: Millis,
}

/// What is needed to publish a version. The caller has validated the source.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The process's URL name (from the definition's `slug`).
    pub process_slug: String,
    /// The definition's title.
    pub title: String,
    /// The definition document as published.
    pub source: String,
}

/// A process with its newest version, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessSummary {
    /// URL name.
    pub slug: String,
    /// Title of the newest version.
    pub title: String,
    /// Number of the newest version.
    pub latest_version: i64,
    /// When the newest version was published.
    pub updated_at: Millis,
}

/// A version without its source, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    /// 1, 2, 3 …
    pub number: i64,
    /// Title of this version.
    pub title: String,
    /// When it was published.
    pub created_at: Millis,
}

/// What is needed to create a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Hash of the resume token handed to the end customer.
    pub token: TokenHash,
    /// The version the session is filled on, for its whole life.
    pub version: VersionId,
    /// Prefilled answers (already validated), possibly empty.
    pub answers: Answers,
}

/// An end customer's session on one process version.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Database id.
    pub id: SessionId,
    /// The organisation.
    pub org_id: OrgId,
    /// The version it is filled on.
    pub version_id: VersionId,
    /// Current answers.
    pub answers: Answers,
    /// Who last wrote each answer, at which revision: what the merge rule decides by.
    pub writes: FieldWrites,
    /// Index of the step the person is on.
    pub current_step: i64,
    /// Counts applied changes: 0 at creation, +1 per applied batch.
    pub revision: i64,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// When it was submitted, if it was.
    pub submitted_at: Option<Millis>,
    /// Public id of its submission, if submitted.
    pub submission_id: Option<String>,
}

/// One batch of changes to a session's answers.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The client (browser tab, or "form" for plain HTML posts) that sent it, if known.
    pub client: Option<String>,
    /// That client's sequence number for this batch, if it numbers its batches.
    pub seq: Option<i64>,
    /// The session revision the client's view of these answers was made on (`None`: the
    /// client names none, as if it had seen revision 0). An answer someone else changed
    /// after it is not replaced: see [`crate::merge`].
    pub base: Option<i64>,
    /// Answers to set; a JSON `null` removes the answer.
    pub answers: Answers,
    /// The step the person is now on, if it changed.
    pub current_step: Option<i64>,
}

/// The result of [`crate::Store::apply_change`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeOutcome {
    /// The session as it is after the change.
    pub session: Session,
    /// True if this client's batch with this sequence number had been applied already.
    pub duplicate: bool,
    /// The fields of the change that the session does not hold as the change set them,
    /// because another writer changed them after the change's base (see [`crate::merge`]).
    /// Empty when everything was applied.
    pub conflicts: Vec<String>,
}

/// One entry of a session's append-only change log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    /// The session revision this change produced.
    pub revision: i64,
    /// The client that sent it, if known.
    pub client: Option<String>,
    /// The client's sequence number, if any.
    pub seq: Option<i64>,
    /// The revision the batch was made on, if it named one.
    pub base: Option<i64>,
    /// The answers the batch set (null = removed).
    pub answers: Answers,
    /// The step set by the batch, if any.
    pub current_step: Option<i64>,
    /// When it was committed.
    pub created_at: Millis,
}

/// What is needed to submit a session.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// Public id for the new submission (random, generated by the caller).
    pub public_id: String,
    /// The idempotency key the client sent, if any.
    pub idempotency_key: Option<String>,
    /// The answers to keep: only the visible fields, already validated completely.
    pub answers: Answers,
}

/// An immutable submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    /// Public id.
    pub id: String,
    /// The process's URL name.
    pub process_slug: String,
    /// The version number it was filled on.
    pub version: i64,
    /// The submitted answers.
    pub answers: Answers,
    /// When it was submitted.
    pub submitted_at: Millis,
}

/// The result of [`crate::Store::submit`].
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitOutcome {
    /// The session's one submission.
    pub submission: Submission,
    /// False if the session had been submitted before and this is the earlier submission.
    pub created: bool,
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist.
    #[error("not found")]
    NotFound,
    /// A unique name is taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// The session was submitted and takes no more changes.
    #[error("the session has been submitted and takes no more changes")]
    Submitted,
    /// The configuration names a database that cannot be used.
    #[error("{0}")]
    Config(String),
    /// The database cannot be reached or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The change writer has stopped (the store was closed, or the writer's thread ended):
    /// no change can be saved until the process restarts.
    #[error("the change writer has stopped; changes cannot be saved")]
    WriterStopped,
    /// Stored data could not be read back (for example answers that are not a JSON object).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True if the database itself is unreachable or failing (as opposed to a refusal such as
    /// `NotFound` or `Conflict`): callers answer 503 rather than 500 for these.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::WriterStopped
                | StoreError::Database(
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                        | sqlx::Error::Tls(_)
                )
        )
    }
}
