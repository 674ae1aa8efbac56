-- A fetch (POST /v1/prospects/events) seeks each asked prospect's events. Through events_fetch, an index whose
-- entries hold every column (~330 bytes), each seek walked ~6 levels: SQLite keeps whole index entries in interior
-- pages too, about 11 to a 4 KiB page (at 1M events: 6,754 interior pages), and compares the keys with memcmp. A
-- rowid table keeps only the 8-byte keys in its interior pages (~240 to a page): this copy of the columns a fetch
-- reads is keyed so that a prospect's events are neighbours, in time order, and a seek walks 3-4 levels comparing
-- integers (docs/benchmarks.md, Fetch). It replaces events_fetch.
--
-- fetch_key (SqliteStore.FetchKey): bits 62-33 are the first 30 bits of the prospect id, bits 32-8 the minute of
-- event_time since 2020-01-01 (clamped to 0 .. 2^25 - 1), bits 7-0 tell apart the events of one such bucket. A key
-- can be shared by prospects (their first 30 bits equal) and events in one bucket: a fetch checks prospect_id and
-- event_time of each row. Should a bucket hold 256 events, the next goes after the newest key of its prefix, which
-- keeps it inside what a fetch reads: from the bucket of timestamp_from to the end of the prefix.
CREATE TABLE events_by_prospect_rows (
    fetch_key   INTEGER PRIMARY KEY,
    prospect_id BLOB    NOT NULL,
    event_time  INTEGER NOT NULL,
    event_name  TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    data        TEXT    NOT NULL
);

-- The rule that keys a row, written once: an insert into this view adds the row to events_by_prospect_rows. Every
-- insert into events, whichever path, goes through it (events are never updated or deleted), and so does the copy
-- of the events stored before, one row at a time in key order (the rule's subqueries see the rows added before).
CREATE VIEW events_by_prospect_feed AS SELECT prospect_id, event_time, event_name, event_id, data FROM events_by_prospect_rows;
CREATE TRIGGER events_by_prospect_feed_insert INSTEAD OF INSERT ON events_by_prospect_feed
BEGIN
    INSERT INTO events_by_prospect_rows (fetch_key, prospect_id, event_time, event_name, event_id, data)
    SELECT CASE
            WHEN last IS NULL THEN bucket
            WHEN last < bucket + 255 THEN last + 1
            ELSE (SELECT fetch_key + 1 FROM events_by_prospect_rows
                  WHERE fetch_key BETWEEN prefix AND prefix + 8589934591 ORDER BY fetch_key DESC LIMIT 1)
        END, NEW.prospect_id, NEW.event_time, NEW.event_name, NEW.event_id, NEW.data
    FROM (SELECT prefix, bucket, (SELECT fetch_key FROM events_by_prospect_rows
                                  WHERE fetch_key BETWEEN bucket AND bucket + 255 ORDER BY fetch_key DESC LIMIT 1) AS last
          FROM (SELECT prefix, prefix | (min(max((NEW.event_time - 1577836800000) / 60000, 0), 33554431) << 8) AS bucket
                FROM (SELECT ((((instr('0123456789ABCDEF', substr(h, 1, 1)) - 1) << 28) | ((instr('0123456789ABCDEF', substr(h, 2, 1)) - 1) << 24) | ((instr('0123456789ABCDEF', substr(h, 3, 1)) - 1) << 20) | ((instr('0123456789ABCDEF', substr(h, 4, 1)) - 1) << 16) | ((instr('0123456789ABCDEF', substr(h, 5, 1)) - 1) << 12) | ((instr('0123456789ABCDEF', substr(h, 6, 1)) - 1) << 8) | ((instr('0123456789ABCDEF', substr(h, 7, 1)) - 1) << 4) | ((instr('0123456789ABCDEF', substr(h, 8, 1)) - 1) << 0)) >> 2) << 33 AS prefix
                      FROM (SELECT hex(substr(NEW.prospect_id, 1, 4)) AS h))));
END;

CREATE TRIGGER events_by_prospect_rows_insert AFTER INSERT ON events
BEGIN
    INSERT INTO events_by_prospect_feed (prospect_id, event_time, event_name, event_id, data)
    VALUES (NEW.prospect_id, NEW.event_time, NEW.event_name, NEW.event_id, NEW.data);
END;

INSERT INTO events_by_prospect_feed (prospect_id, event_time, event_name, event_id, data)
SELECT prospect_id, event_time, event_name, event_id, data FROM events ORDER BY prospect_id, event_time;

DROP INDEX events_fetch;
