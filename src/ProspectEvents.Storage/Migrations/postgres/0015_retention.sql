-- The retention job (Events:RetentionDays): one row per pass, so that the processes sharing a database run one pass
-- a day between them, and the operator can see what the latest passes deleted. Times are Unix ms. Each batch adds
-- its counts and moves progressed_at, so a pass that died shows what it did, and is taken over once it has stopped
-- moving. Only the latest rows are kept (Store.KeptRetentionPasses).
CREATE TABLE retention_passes (
    pass_pk       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at    BIGINT  NOT NULL,
    cutoff        BIGINT  NOT NULL,
    progressed_at BIGINT  NOT NULL,
    finished_at   BIGINT,
    events        BIGINT  NOT NULL DEFAULT 0,
    deliveries    BIGINT  NOT NULL DEFAULT 0,
    expired       BIGINT  NOT NULL DEFAULT 0
);
