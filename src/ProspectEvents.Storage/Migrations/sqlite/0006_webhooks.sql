-- Webhooks and their deliveries (docs/webhooks.md).
--
-- One webhook per partner, as the anchor has it. The secret is kept as its 32 raw bytes: both signature schemes key
-- their HMAC with them. failing_since is the start of the current run of failed attempts (null after a success):
-- a webhook failing for Webhooks:DisableAfter is disabled. A run also ends when no attempt failed for that long
-- (last_failure_at): a quiet webhook that failed once last week is not "failing for 5 days" at its next failure.
CREATE TABLE webhooks (
    partner_id      TEXT    NOT NULL PRIMARY KEY REFERENCES partners (partner_id),
    webhook_url     TEXT    NOT NULL,
    secret          BLOB    NOT NULL,
    headers         TEXT    NOT NULL,
    payload_format  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    disabled_at     INTEGER,
    disabled_reason TEXT,
    failing_since   INTEGER,
    last_failure_at INTEGER
);

-- The outbox. It replaces event_matches: one row per event and enrollment it matched, written in the transaction
-- that stored the event, so a match is a delivery and nothing can be detected without being delivered.
-- delivery_pk grows with time, so the rows the dispatcher touches (the latest) sit together at the right edge.
-- next_attempt_at is when a pending delivery is due; claiming it moves next_attempt_at to the end of the lease,
-- so a delivery whose worker died is due again then. attempts counts every attempt ever made (and numbers the
-- delivery_attempts rows); the retry schedule counts from schedule_base, which a replay moves up to attempts.
CREATE TABLE deliveries (
    delivery_pk     INTEGER NOT NULL PRIMARY KEY,
    delivery_id     TEXT    NOT NULL UNIQUE,
    event_id        TEXT    NOT NULL,
    enrollment_pk   INTEGER NOT NULL,
    partner_id      TEXT    NOT NULL,
    enrollment_key  TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    schedule_base   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    finished_at     INTEGER,
    UNIQUE (event_id, enrollment_pk)
);
-- In claim order: deliveries of one ingest batch share next_attempt_at, and a claim must not sort them all.
CREATE INDEX deliveries_due ON deliveries (partner_id, next_attempt_at, delivery_pk) WHERE status = 'pending';
CREATE INDEX deliveries_by_partner ON deliveries (partner_id, delivery_pk);
CREATE INDEX deliveries_failed ON deliveries (partner_id, finished_at) WHERE status = 'failed';

INSERT INTO deliveries (delivery_id, event_id, enrollment_pk, partner_id, enrollment_key, status, created_at, next_attempt_at)
SELECT 'msg_' || lower(hex(randomblob(12))), m.event_id, m.enrollment_pk, m.partner_id, m.enrollment_key, 'pending', e.detected_at, e.detected_at
FROM event_matches m JOIN events e ON e.event_id = m.event_id
ORDER BY e.detected_at, m.event_id, m.enrollment_pk;
DROP TABLE event_matches;

-- Every attempt, for the delivery log: the HTTP status (null when no answer came), how long it took, the error and
-- the first bytes of the answer.
CREATE TABLE delivery_attempts (
    delivery_pk  INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    response     TEXT,
    PRIMARY KEY (delivery_pk, attempt)
) WITHOUT ROWID;
