-- The retention job (Events:RetentionDays): one row per pass, so that the processes sharing a database run one pass
-- a day between them, and the operator can see what the latest passes deleted. Times are Unix ms. Each batch adds
-- its counts and moves progressed_at, so a pass that died shows what it did, and is taken over once it has stopped
-- moving. Only the latest rows are kept (Store.KeptRetentionPasses).
CREATE TABLE retention_passes (
    pass_pk       INTEGER NOT NULL PRIMARY KEY,
    started_at    INTEGER NOT NULL,
    cutoff        INTEGER NOT NULL,
    progressed_at INTEGER NOT NULL,
    finished_at   INTEGER,
    events        INTEGER NOT NULL DEFAULT 0,
    deliveries    INTEGER NOT NULL DEFAULT 0,
    expired       INTEGER NOT NULL DEFAULT 0
);
