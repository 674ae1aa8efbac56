-- Days the anniversary sweep has run for (YYYY-MM-DD), so a restarted scheduler catches up on missed days
-- without sweeping a day twice.
CREATE TABLE anniversary_sweeps (
    day    TEXT    NOT NULL PRIMARY KEY,
    ran_at BIGINT NOT NULL
);
