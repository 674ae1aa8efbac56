-- Webhooks become resources (API v2, docs/webhooks.md "Many webhooks"): up to 10 per partner, each with its own id,
-- secret, headers and format, and each enrollment bound to one. The v1 partner webhook is one of them (legacy = 1).
--
-- Every partner has exactly one legacy row, made with the partner (here for the partners there are): a v1 enrollment
-- (webhook_id NULL) delivers to it, so its deliveries have a webhook to wait for before the partner registers one. A
-- legacy row with removed_at set is "no webhook" to v1 and absent from v2; registering again brings back the same id,
-- so the deliveries waiting for it flow. previous_secret signs beside secret until previous_secret_until (a rotation's
-- overlap, Webhooks:RotationOverlap).
CREATE TABLE webhooks_v2 (
    webhook_id            TEXT     NOT NULL PRIMARY KEY,
    partner_id            TEXT     NOT NULL REFERENCES partners (partner_id),
    legacy                SMALLINT NOT NULL CHECK (legacy IN (0, 1)),
    name                  TEXT     NOT NULL,
    description           TEXT,
    webhook_url           TEXT     NOT NULL,
    secret                BYTEA    NOT NULL,
    previous_secret       BYTEA,
    previous_secret_until BIGINT,
    headers               TEXT     NOT NULL,
    payload_format        TEXT     NOT NULL,
    created_at            BIGINT   NOT NULL,
    updated_at            BIGINT   NOT NULL,
    disabled_at           BIGINT,
    disabled_reason       TEXT,
    failing_since         BIGINT,
    last_failure_at       BIGINT,
    removed_at            BIGINT
);

INSERT INTO webhooks_v2 (webhook_id, partner_id, legacy, name, webhook_url, secret, headers, payload_format, created_at, updated_at,
                         disabled_at, disabled_reason, failing_since, last_failure_at, removed_at)
SELECT 'wh_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16), p.partner_id, 1, 'v1', COALESCE(w.webhook_url, ''),
       COALESCE(w.secret, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')),
       COALESCE(w.headers, ''), COALESCE(w.payload_format, 'json'), COALESCE(w.created_at, p.created_at), COALESCE(w.updated_at, p.created_at),
       w.disabled_at, w.disabled_reason, w.failing_since, w.last_failure_at, CASE WHEN w.partner_id IS NULL THEN p.created_at END
FROM partners p LEFT JOIN webhooks w ON w.partner_id = p.partner_id;

DROP TABLE webhooks;
ALTER TABLE webhooks_v2 RENAME TO webhooks;
ALTER TABLE webhooks RENAME CONSTRAINT webhooks_v2_pkey TO webhooks_pkey;
CREATE UNIQUE INDEX webhooks_legacy ON webhooks (partner_id) WHERE legacy = 1;
CREATE UNIQUE INDEX webhooks_name ON webhooks (partner_id, name) WHERE legacy = 0;

-- An enrollment made in v2 names its webhook and can be paused (its webhook force-deleted); a v1 one has webhook_id
-- NULL and follows the partner's legacy webhook.
ALTER TABLE enrollments ADD COLUMN webhook_id TEXT;
ALTER TABLE enrollments ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused'));
CREATE INDEX enrollments_by_webhook ON enrollments (webhook_id) WHERE webhook_id IS NOT NULL;

-- A delivery goes to the webhook its enrollment had when the event was matched. enrollment_id is set for v2
-- enrollments only: their payloads carry it (with webhook_id, tenant_id and prospect_id), v1 payloads stay as they were.
ALTER TABLE deliveries ADD COLUMN webhook_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN enrollment_id TEXT;
UPDATE deliveries d SET webhook_id = w.webhook_id FROM webhooks w WHERE w.partner_id = d.partner_id AND w.legacy = 1;

DROP INDEX deliveries_due;
DROP INDEX deliveries_by_partner;
DROP INDEX deliveries_failed;
CREATE INDEX deliveries_due ON deliveries (webhook_id, next_attempt_at, delivery_pk) WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, delivery_pk);
CREATE INDEX deliveries_failed ON deliveries (webhook_id, finished_at) WHERE status = 'failed';
