-- What we last knew of each prospect (ProspectState): the newest snapshot applied, unknown fields filled from
-- earlier ones. Times are Unix milliseconds; job_start_date is the feed's text (YYYY-MM-DD or YYYY-MM).
CREATE TABLE prospect_states (
    prospect_id    BLOB    NOT NULL PRIMARY KEY,
    observed_at    INTEGER NOT NULL,
    full_name      TEXT,
    job_title      TEXT,
    company_id     TEXT,
    company_name   TEXT,
    company_domain TEXT,
    job_start_date TEXT,
    linkedin_url   TEXT
) WITHOUT ROWID;

-- Detected events, shared by all partners. event_id is deterministic, so re-ingesting inserts nothing new.
CREATE TABLE events (
    event_id    TEXT    NOT NULL PRIMARY KEY,
    event_name  TEXT    NOT NULL,
    prospect_id BLOB    NOT NULL,
    event_time  INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    detected_at INTEGER NOT NULL,
    data        TEXT    NOT NULL
);

CREATE INDEX events_by_prospect ON events (prospect_id, event_time);
