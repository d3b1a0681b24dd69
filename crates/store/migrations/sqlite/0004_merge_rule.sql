-- The merge rule (src/merge.rs): who last wrote each answer of a session, at which revision,
-- as a JSON object {field: {"r": revision, "c": client, "s": seq}}; and the revision each
-- logged change was made on.
ALTER TABLE sessions ADD COLUMN field_writes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE session_changes ADD COLUMN base INTEGER;
-- Changes logged before the rule were applied last-write-wins: -1 says so (a report that
-- replays a session's log applies them that way).
UPDATE session_changes SET base = -1;
