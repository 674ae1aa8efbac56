-- What a fetch may skip: for each slot of prospects (the first 22 bits of their id), the newest minute any of their
-- events is keyed at in events_by_prospect_rows. A fetch asking for events from a later minute need not seek the
-- prospect's range: partners poll with timestamp_from at their last poll, when most prospects have nothing new.
-- The fetch keeps the table in memory (SqliteStore.FetchSummary, 4 bytes a slot) and catches up through seq, which
-- grows with every change (one writer: a later transaction's rows always get a higher seq). Rows only ever move to a
-- later minute; deleted events leave them as they are, which errs towards seeking.
--
-- slot = fetch_key >> 41 (bits 62-41: the top 22 of the key's 30 prospect bits); minute = bits 32-8 of the key,
-- never earlier than the event's own minute (a key past a full bucket is later still).
CREATE TABLE event_summary (
    slot       INTEGER PRIMARY KEY,
    max_minute INTEGER NOT NULL,
    seq        INTEGER NOT NULL
);

CREATE INDEX event_summary_seq ON event_summary (seq);

INSERT INTO event_summary (slot, max_minute, seq)
SELECT fetch_key >> 41, max((fetch_key >> 8) & 33554431), 1 FROM events_by_prospect_rows WHERE true GROUP BY fetch_key >> 41;

CREATE TRIGGER event_summary_insert AFTER INSERT ON events_by_prospect_rows
BEGIN
    INSERT INTO event_summary (slot, max_minute, seq)
    VALUES (NEW.fetch_key >> 41, (NEW.fetch_key >> 8) & 33554431, (SELECT coalesce(max(seq), 0) + 1 FROM event_summary))
    ON CONFLICT (slot) DO UPDATE SET max_minute = excluded.max_minute, seq = excluded.seq
    WHERE excluded.max_minute > event_summary.max_minute;
END;
