//! What the change writer knows of the sessions it has just written, so that the next batch
//! need not read them again.
//!
//! A session that keeps changing is in nearly every batch. Reading it back each time — its row
//! by its token, its answers parsed from JSON, and a lookup in the change log for each
//! (client, seq) — was about a quarter of the writer's time. Instead the writer keeps, after
//! each commit, the sessions it wrote (in the state it wrote) and, per (session, client), the
//! highest seq applied.
//!
//! It is only ever right or empty:
//! - Another connection committing to the file (a session created or submitted through the
//!   write pool, another process) changes SQLite's `PRAGMA data_version` for this connection.
//!   Each batch reads it under the write lock, before anything else, and forgets everything
//!   when it changed.
//! - It is filled only after a commit succeeded, with what was committed; any failure, and the
//!   careful one-change-at-a-time path, forget everything.
//! - A seq above the highest applied for its (session, client) cannot have been applied: every
//!   change to the session since that highest was known went through this writer and updated
//!   it. Anything else (a seq at or below it: an out-of-order or repeated batch) is looked up
//!   in the change log as before.

use std::collections::HashMap;

use crate::model::{Session, SessionId, TokenHash};

/// At most this many sessions are kept (a few kilobytes each); past it, the writer starts over.
const KEPT_SESSIONS: usize = 4_096;

/// The change writer's knowledge of recently written sessions. See the module.
#[derive(Default)]
pub(super) struct Known {
    /// `PRAGMA data_version` of the writer's connection when this was last checked.
    data_version: Option<i64>,
    /// Sessions as last committed by this writer, by token hash.
    sessions: HashMap<TokenHash, Session>,
    /// The highest seq applied per (session, client); absent when not known.
    highest_seq: HashMap<(SessionId, String), Option<i64>>,
}

impl Known {
    /// Starts a batch that saw `data_version`: forgets everything if another connection has
    /// committed since the last batch.
    pub(super) fn check(&mut self, data_version: i64) {
        if self.data_version != Some(data_version) {
            self.forget();
            self.data_version = Some(data_version);
        }
    }

    /// Forgets everything, for example after a failed batch.
    pub(super) fn forget(&mut self) {
        self.data_version = None;
        self.sessions.clear();
        self.highest_seq.clear();
    }

    /// Takes the session with this token out, as last committed, if it is known. (It is put
    /// back, changed or not, once the batch has committed.)
    pub(super) fn take_session(&mut self, token: &TokenHash) -> Option<Session> {
        self.sessions.remove(token)
    }

    /// The highest seq applied to `session` by `client` (`Some(None)`: none), if known.
    pub(super) fn highest_seq(&self, session: SessionId, client: &str) -> Option<Option<i64>> {
        // A lookup by a borrowed (SessionId, &str) would need a custom key type; the clone of
        // a client id is small next to the SQL it saves.
        self.highest_seq.get(&(session, client.to_owned())).copied()
    }

    /// Records what the change log says is the highest seq of `client` on `session`.
    pub(super) fn set_highest_seq(&mut self, session: SessionId, client: &str, seq: Option<i64>) {
        self.highest_seq.insert((session, client.to_owned()), seq);
    }

    /// After a commit: `session`, with this token, is as committed.
    pub(super) fn committed_session(&mut self, token: TokenHash, session: Session) {
        if self.sessions.len() >= KEPT_SESSIONS && !self.sessions.contains_key(&token) {
            self.sessions.clear();
        }
        self.sessions.insert(token, session);
    }

    /// After a commit: `seq` of `client` was applied to `session`. Only a known highest seq
    /// is raised; an unknown one stays unknown.
    pub(super) fn committed_seq(&mut self, session: SessionId, client: &str, seq: i64) {
        if let Some(highest) = self.highest_seq.get_mut(&(session, client.to_owned())) {
            *highest = Some(highest.map_or(seq, |known| known.max(seq)));
        }
        if self.highest_seq.len() > KEPT_SESSIONS * 4 {
            self.highest_seq.clear();
        }
    }
}
