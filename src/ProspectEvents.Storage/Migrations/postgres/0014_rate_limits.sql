-- Per-key rate limits held across every process on the database (RateLimiting, docs/api.md "Rate limit"): the permits
-- each API key took in each segment of its sliding window, summed over all processes. One row per key and slot (the
-- segment number modulo the segments of a window), reused as the window moves on, so a key never has more rows than
-- its window has segments. Processes take permits in chunks, so a row is written once per chunk, not per request.
CREATE TABLE rate_limit_segments (
    key_id  TEXT    NOT NULL,
    slot    INTEGER NOT NULL,
    segment BIGINT  NOT NULL, -- Unix milliseconds divided by the segment length
    taken   INTEGER NOT NULL, -- permits taken in that segment, by every process together
    granted INTEGER NOT NULL, -- what the last take of the row granted, which that take reads back
    PRIMARY KEY (key_id, slot)
);
