//! Holdfast's storage: one interface, [`Store`], with two backends that behave the same —
//! embedded SQLite (the default, nothing to install) and PostgreSQL (for many stateless nodes).
//!
//! This crate owns the schema (versioned migrations per dialect under `migrations/`, never
//! edited once landed), the transactions, and the rules the database itself enforces (one
//! submission per session, one change per client sequence number). It knows nothing about HTTP
//! or about the process definition format: definitions are stored as their source text, and
//! answers as JSON objects.
//!
//! Times cross this boundary as [`Millis`] (milliseconds since the Unix epoch, UTC); the caller
//! owns the clock, so tests can control it.

#![forbid(unsafe_code)]

mod group_commit;
pub mod maintenance;
pub mod merge;
mod model;
mod postgres;
mod rows;
mod sqlite;

pub use maintenance::MaintenanceStore;
pub use maintenance::webhooks::WebhookStore;
pub use merge::{FieldWrite, FieldWrites};
pub use model::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use std::path::Path;
use std::sync::Arc;

/// Opens the store a deployment is configured for.
///
/// `database` is `None` for the embedded default (`DATA_DIR/holdfast.sqlite3`), or a URL:
/// `postgres://…` / `postgresql://…` for PostgreSQL, `sqlite://PATH` for an explicit SQLite file.
/// Migrations are applied before this returns.
pub async fn open(data_dir: &Path, database: Option<&str>) -> Result<Arc<dyn Store>, StoreError> {
    match database {
        None => Ok(Arc::new(
            SqliteStore::open(&data_dir.join("holdfast.sqlite3")).await?,
        )),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PostgresStore::connect(url).await?))
        }
        Some(url) if url.starts_with("sqlite://") => Ok(Arc::new(
            SqliteStore::open(Path::new(url.trim_start_matches("sqlite://"))).await?,
        )),
        Some(other) => Err(StoreError::Config(format!(
            "unsupported database URL {:?}: use postgres://… or sqlite://PATH (or leave it out for the embedded default)",
            redact_url(other)
        ))),
    }
}

/// Hides the password of a URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The storage interface. Both backends implement it with the same behaviour; the shared test
/// suite in `tests/` runs against each.
#[async_trait::async_trait]
pub trait Store: MaintenanceStore + WebhookStore + Send + Sync + 'static {
    /// Which backend this is, for logs and `/metrics` ("sqlite" or "postgres").
    fn backend(&self) -> &'static str;

    /// Checks that the database answers and that the change writer runs (used by `/readyz`).
    /// A stopped change writer is [`StoreError::WriterStopped`].
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stops the change writer once the changes it has queued are applied, then closes every
    /// connection, waiting for those in use. The store refuses work afterwards.
    async fn close(&self);

    // ---- admin tokens -------------------------------------------------------------------

    /// Stores the SHA-256 hash of an admin token. Adding a hash that exists already is a no-op.
    async fn add_admin_token(&self, hash: TokenHash, now: Millis) -> Result<(), StoreError>;

    /// Every stored admin token hash (the caller compares in constant time).
    async fn admin_token_hashes(&self) -> Result<Vec<TokenHash>, StoreError>;

    // ---- organisations ------------------------------------------------------------------

    /// Creates an organisation. `Conflict` if the slug is taken.
    async fn create_org(&self, new: NewOrg, now: Millis) -> Result<Org, StoreError>;

    /// The organisation with this slug, if any.
    async fn org(&self, slug: &str) -> Result<Option<Org>, StoreError>;

    /// Every organisation, ordered by slug.
    async fn list_orgs(&self) -> Result<Vec<Org>, StoreError>;

    // ---- process definitions --------------------------------------------------------------

    /// Publishes a new immutable version of a process of `org`, creating the process on its
    /// first version. Version numbers count up from 1 per process, with no gaps, also when two
    /// nodes publish at once.
    async fn publish_version(
        &self,
        org: OrgId,
        new: NewVersion,
        now: Millis,
    ) -> Result<ProcessVersion, StoreError>;

    /// The newest version of a process of `org`, if the process exists.
    async fn latest_version(
        &self,
        org: OrgId,
        process_slug: &str,
    ) -> Result<Option<ProcessVersion>, StoreError>;

    /// One version by its id.
    async fn version(&self, id: VersionId) -> Result<Option<ProcessVersion>, StoreError>;

    /// The processes of an organisation, ordered by slug, each with its newest version number.
    async fn list_processes(&self, org: OrgId) -> Result<Vec<ProcessSummary>, StoreError>;

    /// Every version of a process, oldest first (without their sources). Empty if the process
    /// does not exist.
    async fn list_versions(
        &self,
        org: OrgId,
        process_slug: &str,
    ) -> Result<Vec<VersionSummary>, StoreError>;

    // ---- sessions ---------------------------------------------------------------------------

    /// Creates a session on a process version, identified by the hash of its resume token,
    /// with optional prefilled answers (revision 0, step 0).
    async fn create_session(&self, new: NewSession, now: Millis) -> Result<Session, StoreError>;

    /// The session whose resume token has this hash.
    async fn session_by_token(&self, token: &TokenHash) -> Result<Option<Session>, StoreError>;

    /// Applies one change batch to a session in one transaction (which may carry other
    /// sessions' changes too: group commit), durably committed before it returns: merges
    /// `change.answers` into the stored answers (a JSON `null` removes an answer), sets the
    /// current step if given, increments the revision and appends the batch to the session's
    /// append-only change log.
    ///
    /// If `change.client` and `change.seq` are both set and that client's batch with that
    /// sequence number was applied before, nothing changes and the outcome says
    /// `duplicate: true`. A submitted session refuses changes with `Submitted`; an unknown
    /// token is `NotFound`.
    async fn apply_change(
        &self,
        token: &TokenHash,
        change: Change,
        now: Millis,
    ) -> Result<ChangeOutcome, StoreError>;

    /// The change log of a session, oldest first.
    async fn changes(&self, session: SessionId) -> Result<Vec<ChangeRecord>, StoreError>;

    /// Submits a session: stores an immutable submission with the given answers and marks the
    /// session submitted, in one transaction. A session has at most one submission: if it was
    /// submitted before (whatever the key), the existing submission comes back with
    /// `created: false`.
    async fn submit(
        &self,
        token: &TokenHash,
        submit: NewSubmission,
        now: Millis,
    ) -> Result<SubmitOutcome, StoreError>;

    /// The submissions of a process of `org` (all versions), oldest first.
    async fn list_submissions(
        &self,
        org: OrgId,
        process_slug: &str,
    ) -> Result<Vec<Submission>, StoreError>;
}
