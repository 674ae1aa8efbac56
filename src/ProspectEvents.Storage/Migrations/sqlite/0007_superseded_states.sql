-- A state that changes is written as a new prospect_states row (the next state_pk) instead of being updated in
-- place: appending stays on the table's last pages, where rewriting a row dirtied a page at a random place of it
-- per changed prospect. The row it replaces is listed here until a reclaim pass deletes both (Store.States.cs).
-- No index and no key of its own: rows are only appended, and read whole (reclaim reads the list, then deletes by
-- it). An index by state_pk would take back the random writes the append saves.
CREATE TABLE superseded_states (
    state_pk INTEGER NOT NULL
);
