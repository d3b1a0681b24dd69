-- Holdfast's initial schema, PostgreSQL dialect. Keep it in step with
-- migrations/sqlite/0001_initial.sql: same tables, columns, constraints and indexes.
-- Never edit a migration once it has landed; add a new one.
--
-- Times are milliseconds since the Unix epoch (UTC). Answers are JSON objects stored as text,
-- exactly as in SQLite, so that both backends read back the same bytes.

CREATE TABLE admin_tokens (
    hash        BYTEA   NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    created_at  BIGINT  NOT NULL
);

CREATE TABLE orgs (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE processes (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES orgs (id),
    slug        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (org_id, slug)
);

CREATE TABLE process_versions (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    process_id  BIGINT  NOT NULL REFERENCES processes (id),
    number      BIGINT  NOT NULL CHECK (number >= 1),
    title       TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (process_id, number)
);

CREATE TABLE sessions (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash    BYTEA   NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    org_id        BIGINT  NOT NULL REFERENCES orgs (id),
    version_id    BIGINT  NOT NULL REFERENCES process_versions (id),
    answers       TEXT    NOT NULL,
    current_step  BIGINT  NOT NULL DEFAULT 0,
    revision      BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    submitted_at  BIGINT
);

CREATE INDEX sessions_version ON sessions (version_id);
CREATE INDEX sessions_org_updated ON sessions (org_id, updated_at);

-- The append-only change log: one row per applied batch, keyed by the revision it produced.
CREATE TABLE session_changes (
    session_id    BIGINT  NOT NULL REFERENCES sessions (id),
    revision      BIGINT  NOT NULL,
    client        TEXT,
    seq           BIGINT,
    answers       TEXT    NOT NULL,
    current_step  BIGINT,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (session_id, revision)
);

-- A client's numbered batch is applied at most once.
CREATE UNIQUE INDEX session_changes_client_seq ON session_changes (session_id, client, seq)
    WHERE client IS NOT NULL AND seq IS NOT NULL;

CREATE TABLE submissions (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id        TEXT    NOT NULL UNIQUE,
    -- A session has at most one submission, also when two nodes submit it at once.
    session_id       BIGINT  NOT NULL UNIQUE REFERENCES sessions (id),
    org_id           BIGINT  NOT NULL REFERENCES orgs (id),
    process_id       BIGINT  NOT NULL REFERENCES processes (id),
    version_id       BIGINT  NOT NULL REFERENCES process_versions (id),
    idempotency_key  TEXT,
    answers          TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL
);

CREATE INDEX submissions_process_created ON submissions (process_id, created_at, id);
CREATE INDEX submissions_org_created ON submissions (org_id, created_at, id);
