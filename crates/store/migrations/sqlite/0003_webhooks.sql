-- Webhooks, SQLite dialect. Keep it in step with migrations/postgres/0003_webhooks.sql: same
-- tables, columns, constraints and indexes. Never edit a migration once it has landed; add a
-- new one.
--
-- Times are milliseconds since the Unix epoch (UTC).

-- An organisation's endpoint. The secret is shared with the receiver and signs every body,
-- so it is kept as it was shown (a hash could not sign). Removing an endpoint keeps its row
-- (the delivery log refers to it) and sets removed_at.
CREATE TABLE webhook_endpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    url         TEXT    NOT NULL CHECK (length(url) <= 2048),
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    removed_at  INTEGER
);

CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id);

-- An organisation registers a URL once.
CREATE UNIQUE INDEX webhook_endpoints_url ON webhook_endpoints (org_id, url)
    WHERE removed_at IS NULL;

-- The outbox: one row per maintenance event, written once (key is unique) by whichever node
-- notices it first, together with its deliveries. An event that follows a window's update
-- names it (update_id), so that every update is announced exactly once; reminders have none.
-- The body is the JSON every endpoint receives, byte for byte.
CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id   TEXT    NOT NULL UNIQUE,
    key         TEXT    NOT NULL UNIQUE,
    update_id   INTEGER UNIQUE REFERENCES maintenance_updates (id),
    window_id   INTEGER NOT NULL REFERENCES maintenance_windows (id),
    event_type  TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Updates older than this id were recorded before webhooks existed: they are not announced.
CREATE TABLE webhook_outbox_start (
    first_update  INTEGER NOT NULL
);

INSERT INTO webhook_outbox_start (first_update)
    SELECT COALESCE(MAX(id), 0) + 1 FROM maintenance_updates;

-- One event to one endpoint. A node claims a due delivery by setting lease and locked_until;
-- another node takes it over only once locked_until has passed.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         INTEGER NOT NULL REFERENCES webhook_events (id),
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    state            TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    locked_until     INTEGER,
    lease            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (event_id, endpoint_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id);

-- The delivery log: every attempt, with what the endpoint answered (or why it could not).
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    attempt      INTEGER NOT NULL CHECK (attempt >= 1),
    started_at   INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL CHECK (duration_ms >= 0),
    status_code  INTEGER,
    error        TEXT
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
