-- What the operator page (/dashboard) reads.
--
-- ingest_runs: one row per ingest (HTTP POST /v1/admin/observations or the ingest verb), written when it ends.
-- Only the latest are kept (Store.KeptIngestRuns): the table is a window on recent work, not an audit log.
CREATE TABLE ingest_runs (
    ingest_pk    INTEGER NOT NULL PRIMARY KEY,
    source       TEXT    NOT NULL CHECK (source IN ('http', 'cli')),
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    observations INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    stale        INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    seconds      REAL    NOT NULL,
    error        TEXT
);

-- Webhook health counts the attempts of the last hour and day: without this, that read scanned every attempt ever made.
CREATE INDEX delivery_attempts_recent ON delivery_attempts (attempted_at);
-- The latest dead letters over all webhooks; failed deliveries are few, so the index is small.
CREATE INDEX deliveries_failed_recent ON deliveries (finished_at) WHERE status = 'failed';
