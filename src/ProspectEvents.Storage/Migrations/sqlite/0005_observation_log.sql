-- The observation log (Store.ObservationLog.cs): per ingest batch, one row packing each prospect it touched as
-- 20-byte id, observed_at (Unix ms) and the fingerprint of its state. Rows since the last 'base' are folded over
-- it; a 'base' is the whole set, written by compaction in place of every older row. AUTOINCREMENT: a sequence
-- number is never reused after compaction deletes the rows below it, so readers can tell what they have seen.
CREATE TABLE observation_log (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    kind                TEXT    NOT NULL CHECK (kind IN ('batch', 'base')),
    fingerprint_version INTEGER NOT NULL,
    entries             BLOB    NOT NULL
);

-- States are numbered (state_pk) in the order ingest first saw them, instead of keyed by the random prospect id:
-- first sight of a million prospects appends rows rather than scattering them over every page of the table. The
-- prospect-to-row map is the observation log's (every entry carries state_pk), so no index by prospect is kept.
CREATE TABLE prospect_states_by_pk (
    state_pk       INTEGER  NOT NULL PRIMARY KEY,
    prospect_id    BLOB NOT NULL,
    observed_at    INTEGER  NOT NULL,
    full_name      TEXT,
    job_title      TEXT,
    company_id     TEXT,
    company_name   TEXT,
    company_domain TEXT,
    job_start_date TEXT,
    linkedin_url   TEXT
);

INSERT INTO prospect_states_by_pk
SELECT row_number() OVER (ORDER BY prospect_id), prospect_id, observed_at, full_name, job_title, company_id, company_name,
       company_domain, job_start_date, linkedin_url
FROM prospect_states;

DROP TABLE prospect_states;
ALTER TABLE prospect_states_by_pk RENAME TO prospect_states;
