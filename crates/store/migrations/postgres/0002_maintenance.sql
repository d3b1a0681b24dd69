-- Maintenance windows, PostgreSQL dialect. Keep it in step with
-- migrations/sqlite/0002_maintenance.sql: same tables, columns, constraints and indexes.
-- Never edit a migration once it has landed; add a new one.
--
-- Times are milliseconds since the Unix epoch (UTC). Regions are "all" or a comma-separated
-- list of region names (which never contain commas). Flags are 0 or 1.

-- A plan: one announcement with one or more phases (windows).
CREATE TABLE maintenance_plans (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    impact_minutes  BIGINT  NOT NULL CHECK (impact_minutes >= 0),
    -- JSON list of strings: the advantages the notice lists (empty: the standard ones).
    advantages      TEXT    NOT NULL,
    -- The plan document as it was submitted (YAML or JSON); empty for unscheduled downtime.
    source          TEXT    NOT NULL,
    -- 1 for the plan recorded by an unscheduled `maintenance begin`.
    unscheduled     BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

-- A phase of a plan: one environment, one or more regions, one time span.
CREATE TABLE maintenance_windows (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id         BIGINT  NOT NULL REFERENCES maintenance_plans (id),
    phase           BIGINT  NOT NULL CHECK (phase >= 1),
    name            TEXT    NOT NULL,
    environment     TEXT    NOT NULL,
    regions         TEXT    NOT NULL,
    starts_at       BIGINT  NOT NULL,
    ends_at         BIGINT  NOT NULL,
    impact_minutes  BIGINT  NOT NULL CHECK (impact_minutes >= 0),
    message         TEXT    NOT NULL,
    cancelled_at    BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CHECK (ends_at > starts_at),
    UNIQUE (plan_id, phase)
);

CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at);

-- The update history of a window. `key` makes automatic updates (status changes by the clock,
-- recorded by whichever node sees them first) happen once.
CREATE TABLE maintenance_updates (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    window_id   BIGINT  NOT NULL REFERENCES maintenance_windows (id),
    status      TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    key         TEXT,
    created_at  BIGINT  NOT NULL
);

CREATE UNIQUE INDEX maintenance_updates_key ON maintenance_updates (window_id, key)
    WHERE key IS NOT NULL;

-- A downtime: from `maintenance begin` to `maintenance end`. While one is open (ended_at IS
-- NULL), every node it covers refuses the requests of its environment.
CREATE TABLE maintenance_downtimes (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    window_id         BIGINT  NOT NULL REFERENCES maintenance_windows (id),
    environment       TEXT    NOT NULL,
    regions           TEXT    NOT NULL,
    started_at        BIGINT  NOT NULL,
    ended_at          BIGINT,
    expected_end      BIGINT,
    -- SHA-256 of the operator bypass secret.
    bypass_hash       BYTEA   NOT NULL CHECK (length(bypass_hash) = 32),
    requests_refused  BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX maintenance_downtimes_open ON maintenance_downtimes (ended_at);

-- The end customers' sessions that were in progress when a downtime began.
CREATE TABLE maintenance_downtime_sessions (
    downtime_id  BIGINT  NOT NULL REFERENCES maintenance_downtimes (id),
    session_id   BIGINT  NOT NULL REFERENCES sessions (id),
    PRIMARY KEY (downtime_id, session_id)
);

-- Every node sharing the database: what it serves, when it was last seen, and the newest
-- downtime it has applied and drained (0 for none).
CREATE TABLE maintenance_nodes (
    node_id      TEXT    NOT NULL PRIMARY KEY,
    environment  TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    seen_at      BIGINT  NOT NULL,
    drained      BIGINT  NOT NULL DEFAULT 0
);

-- Activity per hour, for `maintenance suggest`.
CREATE INDEX session_changes_created ON session_changes (created_at);
