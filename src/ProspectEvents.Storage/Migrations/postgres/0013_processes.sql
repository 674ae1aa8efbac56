-- The serve processes sharing this database (Store.Processes.cs): each registers on start, beats every
-- Processes:HeartbeatInterval and removes its row on a clean stop. A row whose beat is older than three of its
-- intervals is a process gone (killed, or its host lost) and is ignored. schema_version is the highest migration the
-- process's build knows: a process that finds the schema past it stops its ingest and scheduled jobs ('outdated').
CREATE TABLE processes (
    process_id          TEXT    NOT NULL PRIMARY KEY,
    host                TEXT    NOT NULL,
    pid                 INTEGER NOT NULL,
    roles               TEXT    NOT NULL,
    build               TEXT    NOT NULL,
    schema_version      INTEGER NOT NULL,
    fingerprint_version INTEGER NOT NULL,
    state               TEXT    NOT NULL CHECK (state IN ('running', 'outdated')),
    started_at          BIGINT  NOT NULL,
    heartbeat_at        BIGINT  NOT NULL,
    heartbeat_ms        BIGINT  NOT NULL
);
