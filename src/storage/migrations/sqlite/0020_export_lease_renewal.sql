-- When a running build last renewed its lease (docs/export.md, "A build cut off"). A build
-- renews it while it runs, so only a build that stopped renewing counts as cut off; NULL until
-- the first renewal.

ALTER TABLE exports ADD COLUMN build_renewed_at INTEGER;
