-- When the current build of an approved export started (docs/export.md, "A build cut off").
-- An export still `approved` long after its build started was cut off (the process stopped
-- mid-build) and may be built again; NULL before any build.

ALTER TABLE exports ADD COLUMN build_started_at INTEGER;

-- Exports approved before this column: their build started at the approval. (A built export
-- is immutable, so only the others are touched.)
UPDATE exports SET build_started_at = decided_at WHERE status IN ('approved', 'failed');
