-- A batch row lists its repeats apart (Store.ObservationLog.cs): 20-byte id and observed_at, 28 bytes each, where
-- a full entry takes 64. Most observations of a steady feed are repeats, so the log grows less than half as fast
-- per snapshot and is compacted less often. Rows written before keep every prospect in entries.
ALTER TABLE observation_log ADD COLUMN repeats BLOB NOT NULL DEFAULT x'';
