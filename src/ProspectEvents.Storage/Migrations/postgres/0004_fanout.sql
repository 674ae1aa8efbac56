-- Fan-out: which enrollments each new event goes to (docs/architecture.md, "Fan-out").
--
-- enrollment_prospects has no index by prospect: a random-keyed secondary index made every enrollment write several
-- times dearer (docs/benchmarks.md). A background indexer copies the prospects into prospect_enrollments in sorted
-- batches instead. Every write that adds or replaces an enrollment's prospects bumps its revision and sets unindexed;
-- the indexer clears unindexed if the revision is still the one it copied. Fan-out reads the prospects of the
-- unindexed enrollments directly, so an event matches an enrollment whether or not the indexer has caught up.
-- unindexed is a column of its own, not a comparison of two revisions, so PostgreSQL can estimate how many rows
-- it selects (it took a comparison for nearly all rows and scanned enrollment_prospects whole).
ALTER TABLE enrollments
    ADD COLUMN revision  BIGINT  NOT NULL DEFAULT 1,
    ADD COLUMN unindexed INTEGER NOT NULL DEFAULT 1;
CREATE INDEX enrollments_unindexed ON enrollments (enrollment_pk) WHERE unindexed = 1;

-- May keep rows of prospects since removed (PATCH, DELETE): fan-out checks every candidate against
-- enrollment_prospects and enrollments.
CREATE TABLE prospect_enrollments (
    prospect_id   BYTEA  NOT NULL,
    enrollment_pk BIGINT NOT NULL,
    PRIMARY KEY (prospect_id, enrollment_pk)
);

-- One row per event and enrollment it matched when it was detected, written in the transaction that stored the
-- event. partner_id and enrollment_key are kept as they were then: the enrollment may later be renamed or deleted.
CREATE TABLE event_matches (
    event_id       TEXT   NOT NULL,
    enrollment_pk  BIGINT NOT NULL,
    partner_id     TEXT   NOT NULL,
    enrollment_key TEXT   NOT NULL,
    PRIMARY KEY (event_id, enrollment_pk)
);

-- The latest events, for the operator's stats.
CREATE INDEX events_by_detection ON events (detected_at, event_id);
