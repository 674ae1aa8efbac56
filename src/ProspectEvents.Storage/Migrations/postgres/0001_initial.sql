-- Times are Unix milliseconds (BIGINT) and prospect ids 20-byte BYTEA, in both providers,
-- so the shared SQL in Store stays dialect-free.
CREATE TABLE partners (
    partner_id  TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    key_id      TEXT    NOT NULL PRIMARY KEY,
    partner_id  TEXT    NOT NULL REFERENCES partners (partner_id),
    scope       TEXT    NOT NULL CHECK (scope IN ('partner', 'admin')),
    key_hash    BYTEA   NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- enrollment_pk is internal and grows in insert order, so the prospects of new enrollments are appended at the
-- end of the enrollment_prospects key instead of scattered over it; enrollment_id is the random public id.
CREATE TABLE enrollments (
    enrollment_pk  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrollment_id  TEXT    NOT NULL UNIQUE,
    partner_id     TEXT    NOT NULL REFERENCES partners (partner_id),
    enrollment_key TEXT    NOT NULL,
    event_types    INTEGER NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (partner_id, enrollment_key)
);

-- One row per monitored prospect of an enrollment; expires_at is NULL when the enrollment had no ttl_days.
CREATE TABLE enrollment_prospects (
    enrollment_pk BIGINT  NOT NULL,
    prospect_id   BYTEA   NOT NULL,
    added_at      BIGINT NOT NULL,
    expires_at    BIGINT,
    PRIMARY KEY (enrollment_pk, prospect_id)
);

-- No index by prospect yet: a random-keyed secondary index makes every enrollment write several times dearer
-- (measured in docs/benchmarks.md); event fan-out will add the lookup structure it needs, measured with it.
