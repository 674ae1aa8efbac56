-- A fetch (POST /v1/prospects/events) reads every column of a prospect's events in a time range. Through
-- events_by_prospect each event then came from the table, where rows lie in the order they were written: about one
-- page an event, whichever prospect's, so the cost of a fetch grew with the table (docs/benchmarks.md, Fetch). This
-- index holds every column a fetch reads: a prospect's events are neighbours in it and the table is not read. It
-- serves every lookup events_by_prospect served (same leading columns), which it replaces.
CREATE INDEX events_fetch ON events (prospect_id, event_time, event_name, event_id, data);
DROP INDEX events_by_prospect;
