//! What both backends share: the shapes rows come back in, their conversion into the model
//! (where stored JSON is checked), the answer merge, the SQL column lists that are written the
//! same in both dialects, and the classification of database errors.
//!
//! Nothing here talks to a database: transactions, locking and placeholders stay in each
//! backend's module.

use crate::model::{
    Answers, ChangeRecord, Org, OrgId, ProcessId, ProcessSummary, ProcessVersion, Session,
    SessionId, StoreError, Submission, TokenHash, VersionId, VersionSummary,
};
use serde_json::Value;

// ---- column lists -----------------------------------------------------------------------------
//
// Macros rather than consts because sqlx only takes `&'static str` SQL: `concat!` glues these
// to each backend's `WHERE` clause at compile time.

/// Columns of an organisation, for [`OrgRow`].
macro_rules! org_select {
    () => {
        "SELECT id, slug, name, region, created_at FROM orgs"
    };
}
pub(crate) use org_select;

/// A version joined with its process, for [`VersionRow`]; filter on `v.` and `p.`.
macro_rules! version_select {
    () => {
        "SELECT v.id, v.process_id, p.org_id, p.slug AS process_slug, v.number, v.title, \
         v.source, v.created_at \
         FROM process_versions v JOIN processes p ON p.id = v.process_id"
    };
}
pub(crate) use version_select;

/// The columns of [`SessionRow`], from `sessions s` joined with `submissions sub`.
macro_rules! session_columns {
    () => {
        "s.id, s.org_id, s.version_id, s.answers, s.current_step, s.revision, \
         s.created_at, s.updated_at, s.submitted_at, sub.public_id AS submission_id, \
         s.field_writes"
    };
}
pub(crate) use session_columns;

/// A session with the public id of its submission, for [`SessionRow`]; filter on `s.`.
macro_rules! session_select {
    () => {
        concat!(
            "SELECT ",
            $crate::rows::session_columns!(),
            " FROM sessions s LEFT JOIN submissions sub ON sub.session_id = s.id"
        )
    };
}
pub(crate) use session_select;

/// What `submit` needs to know about a session; filter on `s.`.
macro_rules! submit_target_select {
    () => {
        "SELECT s.id AS session_id, s.org_id, s.version_id, v.process_id, \
         p.slug AS process_slug, v.number AS version \
         FROM sessions s \
         JOIN process_versions v ON v.id = s.version_id \
         JOIN processes p ON p.id = v.process_id"
    };
}
pub(crate) use submit_target_select;

/// A submission with its process slug and version number, for [`SubmissionRow`]; filter on
/// `sub.` and `p.`.
macro_rules! submission_select {
    () => {
        "SELECT sub.public_id, p.slug AS process_slug, v.number AS version, sub.answers, \
         sub.created_at \
         FROM submissions sub \
         JOIN processes p ON p.id = sub.process_id \
         JOIN process_versions v ON v.id = sub.version_id"
    };
}
pub(crate) use submission_select;

/// The change log columns, for [`ChangeRow`].
macro_rules! change_select {
    () => {
        "SELECT revision, client, seq, base, answers, current_step, created_at FROM session_changes"
    };
}
pub(crate) use change_select;

// ---- rows -------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: i64,
    slug: String,
    name: String,
    region: String,
    created_at: i64,
}

impl From<OrgRow> for Org {
    fn from(row: OrgRow) -> Self {
        Org {
            id: OrgId(row.id),
            slug: row.slug,
            name: row.name,
            region: row.region,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    id: i64,
    process_id: i64,
    org_id: i64,
    process_slug: String,
    number: i64,
    title: String,
    source: String,
    created_at: i64,
}

impl From<VersionRow> for ProcessVersion {
    fn from(row: VersionRow) -> Self {
        ProcessVersion {
            id: VersionId(row.id),
            process_id: ProcessId(row.process_id),
            org_id: OrgId(row.org_id),
            process_slug: row.process_slug,
            number: row.number,
            title: row.title,
            source: row.source,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProcessSummaryRow {
    slug: String,
    title: String,
    latest_version: i64,
    updated_at: i64,
}

impl From<ProcessSummaryRow> for ProcessSummary {
    fn from(row: ProcessSummaryRow) -> Self {
        ProcessSummary {
            slug: row.slug,
            title: row.title,
            latest_version: row.latest_version,
            updated_at: row.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct VersionSummaryRow {
    number: i64,
    title: String,
    created_at: i64,
}

impl From<VersionSummaryRow> for VersionSummary {
    fn from(row: VersionSummaryRow) -> Self {
        VersionSummary {
            number: row.number,
            title: row.title,
            created_at: row.created_at,
        }
    }
}

/// A session as stored, selected with `session_columns!`.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) id: i64,
    pub(crate) org_id: i64,
    pub(crate) version_id: i64,
    pub(crate) answers: String,
    pub(crate) current_step: i64,
    pub(crate) revision: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) submitted_at: Option<i64>,
    pub(crate) submission_id: Option<String>,
    pub(crate) field_writes: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId(row.id),
            org_id: OrgId(row.org_id),
            version_id: VersionId(row.version_id),
            answers: parse_answers(&row.answers, || format!("session {}", row.id))?,
            writes: crate::merge::parse_writes(&row.field_writes).map_err(|error| {
                StoreError::Corrupt(format!(
                    "the answer writes of session {} are not valid: {error}",
                    row.id
                ))
            })?,
            current_step: row.current_step,
            revision: row.revision,
            created_at: row.created_at,
            updated_at: row.updated_at,
            submitted_at: row.submitted_at,
            submission_id: row.submission_id,
        })
    }
}

/// A session of a change batch, with the token hash it was found by.
#[derive(sqlx::FromRow)]
pub(crate) struct BatchSessionRow {
    pub(crate) token_hash: Vec<u8>,
    #[sqlx(flatten)]
    pub(crate) session: SessionRow,
}

/// Reads the sessions of a change batch into what [`crate::group_commit::plan`] needs: each
/// session by its token hash, or the error its stored data gives.
pub(crate) fn batch_sessions(
    rows: Vec<BatchSessionRow>,
) -> Result<std::collections::HashMap<TokenHash, Result<Session, StoreError>>, StoreError> {
    rows.into_iter()
        .map(|row| Ok((token_hash(row.token_hash)?, Session::try_from(row.session))))
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    revision: i64,
    client: Option<String>,
    seq: Option<i64>,
    base: Option<i64>,
    answers: String,
    current_step: Option<i64>,
    created_at: i64,
}

impl TryFrom<ChangeRow> for ChangeRecord {
    type Error = StoreError;

    fn try_from(row: ChangeRow) -> Result<Self, StoreError> {
        Ok(ChangeRecord {
            answers: parse_answers(&row.answers, || format!("change {}", row.revision))?,
            revision: row.revision,
            client: row.client,
            seq: row.seq,
            base: row.base,
            current_step: row.current_step,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SubmissionRow {
    public_id: String,
    process_slug: String,
    version: i64,
    answers: String,
    created_at: i64,
}

impl TryFrom<SubmissionRow> for Submission {
    type Error = StoreError;

    fn try_from(row: SubmissionRow) -> Result<Self, StoreError> {
        Ok(Submission {
            answers: parse_answers(&row.answers, || format!("submission {:?}", row.public_id))?,
            id: row.public_id,
            process_slug: row.process_slug,
            version: row.version,
            submitted_at: row.created_at,
        })
    }
}

/// The session a submission is being made for.
#[derive(sqlx::FromRow)]
pub(crate) struct SubmitTarget {
    pub(crate) session_id: i64,
    pub(crate) org_id: i64,
    pub(crate) version_id: i64,
    pub(crate) process_id: i64,
    pub(crate) process_slug: String,
    pub(crate) version: i64,
}

// ---- values -----------------------------------------------------------------------------------

/// Reads stored answers back; anything but a JSON object means the row is corrupt.
/// `owner` names the row for the message ("session 12").
pub(crate) fn parse_answers(
    text: &str,
    owner: impl FnOnce() -> String,
) -> Result<Answers, StoreError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(answers)) => Ok(answers),
        Ok(_) => Err(StoreError::Corrupt(format!(
            "the answers of {} are not a JSON object",
            owner()
        ))),
        Err(error) => Err(StoreError::Corrupt(format!(
            "the answers of {} are not valid JSON: {error}",
            owner()
        ))),
    }
}

/// Answers as they are stored: compact JSON text.
pub(crate) fn answers_json(answers: &Answers) -> String {
    // Serialising a map of JSON values cannot fail: its keys are strings, its values JSON.
    serde_json::to_string(answers)
        .unwrap_or_else(|error| unreachable!("answers are always JSON: {error}"))
}

/// A stored token hash; anything but 32 bytes means the row is corrupt.
pub(crate) fn token_hash(bytes: Vec<u8>) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(TokenHash)
        .map_err(|_| {
            StoreError::Corrupt(format!(
                "a stored token hash has {} bytes instead of 32",
                bytes.len()
            ))
        })
}

// ---- errors -----------------------------------------------------------------------------------

/// True if the database refused a write because a unique constraint was violated.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|error| error.is_unique_violation())
}

/// True if the database refused a write because a referenced row does not exist.
pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|error| error.is_foreign_key_violation())
}

/// Maps a unique violation to `Conflict(what)` and any other error to `Database`.
pub(crate) fn conflict_on_unique(
    what: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| {
        if is_unique_violation(&error) {
            StoreError::Conflict(what())
        } else {
            StoreError::Database(error)
        }
    }
}

/// Maps a foreign key violation (a referenced row is missing) to `NotFound` and any other error
/// to `Database`.
pub(crate) fn not_found_on_foreign_key(error: sqlx::Error) -> StoreError {
    if is_foreign_key_violation(&error) {
        StoreError::NotFound
    } else {
        StoreError::Database(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answers(value: Value) -> Answers {
        match value {
            Value::Object(map) => map,
            _ => Answers::new(),
        }
    }

    #[test]
    fn stored_answers_must_be_an_object() {
        assert!(parse_answers("{\"a\":1}", String::new).is_ok());
        assert!(matches!(
            parse_answers("[1]", String::new),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            parse_answers("{", String::new),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn answers_round_trip() {
        let original =
            answers(json!({"name": "Ada", "age": 36, "tags": ["x"], "nested": {"k": null}}));
        let text = answers_json(&original);
        assert_eq!(parse_answers(&text, String::new).ok(), Some(original));
    }

    #[test]
    fn token_hashes_are_32_bytes() {
        assert!(token_hash(vec![7; 32]).is_ok());
        assert!(matches!(
            token_hash(vec![7; 31]),
            Err(StoreError::Corrupt(_))
        ));
    }
}
