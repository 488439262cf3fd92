-- Repeat reads for intra-reader reliability (docs/workflow.md, "Repeat reads"): after a
-- wash-out (days, or readings the reader has made since), a reader reads an item again,
-- blind to their first reading. A repeat is a task of kind 'repeat' that belongs to its
-- reader from the start (open, assignee set); it never counts as one of the item's readings.

ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'reading' CHECK (kind IN ('reading', 'repeat'));
ALTER TABLE tasks ADD COLUMN repeat_of TEXT NOT NULL DEFAULT '';          -- the reading repeated
ALTER TABLE tasks ADD COLUMN due_at INTEGER;                              -- claimable from then
ALTER TABLE tasks ADD COLUMN due_after_readings INTEGER;                  -- once the reader has made this many readings

-- One reading and at most one repeat per reader and item.
DROP INDEX tasks_one_per_reader;
CREATE UNIQUE INDEX tasks_one_per_reader ON tasks (item_id, assignee, kind) WHERE assignee != '';
CREATE INDEX tasks_repeats_by_reader ON tasks (project_id, assignee, kind, state) WHERE kind = 'repeat';

ALTER TABLE workflow_settings ADD COLUMN repeat_rate REAL NOT NULL DEFAULT 0 CHECK (repeat_rate BETWEEN 0 AND 1);
ALTER TABLE workflow_settings ADD COLUMN washout_days INTEGER NOT NULL DEFAULT 0 CHECK (washout_days BETWEEN 0 AND 3650);
ALTER TABLE workflow_settings ADD COLUMN washout_readings INTEGER NOT NULL DEFAULT 0
    CHECK (washout_readings BETWEEN 0 AND 100000);
