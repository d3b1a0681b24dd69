-- Holdfast's initial schema, SQLite dialect. Keep it in step with
-- migrations/postgres/0001_initial.sql: same tables, columns, constraints and indexes.
-- Never edit a migration once it has landed; add a new one.
--
-- Times are milliseconds since the Unix epoch (UTC). Answers are JSON objects stored as text.
-- AUTOINCREMENT keeps ids from being reused after deletes, as PostgreSQL identities are.

CREATE TABLE admin_tokens (
    hash        BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    created_at  INTEGER NOT NULL
);

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE processes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    slug        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, slug)
);

CREATE TABLE process_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    process_id  INTEGER NOT NULL REFERENCES processes (id),
    number      INTEGER NOT NULL CHECK (number >= 1),
    title       TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (process_id, number)
);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    org_id        INTEGER NOT NULL REFERENCES orgs (id),
    version_id    INTEGER NOT NULL REFERENCES process_versions (id),
    answers       TEXT    NOT NULL,
    current_step  INTEGER NOT NULL DEFAULT 0,
    revision      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    submitted_at  INTEGER
);

CREATE INDEX sessions_version ON sessions (version_id);
CREATE INDEX sessions_org_updated ON sessions (org_id, updated_at);

-- The append-only change log: one row per applied batch, keyed by the revision it produced.
CREATE TABLE session_changes (
    session_id    INTEGER NOT NULL REFERENCES sessions (id),
    revision      INTEGER NOT NULL,
    client        TEXT,
    seq           INTEGER,
    answers       TEXT    NOT NULL,
    current_step  INTEGER,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, revision)
);

-- A client's numbered batch is applied at most once.
CREATE UNIQUE INDEX session_changes_client_seq ON session_changes (session_id, client, seq)
    WHERE client IS NOT NULL AND seq IS NOT NULL;

CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id        TEXT    NOT NULL UNIQUE,
    -- A session has at most one submission, also when two nodes submit it at once.
    session_id       INTEGER NOT NULL UNIQUE REFERENCES sessions (id),
    org_id           INTEGER NOT NULL REFERENCES orgs (id),
    process_id       INTEGER NOT NULL REFERENCES processes (id),
    version_id       INTEGER NOT NULL REFERENCES process_versions (id),
    idempotency_key  TEXT,
    answers          TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);

CREATE INDEX submissions_process_created ON submissions (process_id, created_at, id);
CREATE INDEX submissions_org_created ON submissions (org_id, created_at, id);
