-- Review sampling (docs/workflow.md, "Review sampling"): the share of complete, agreeing
-- readings that go to a reviewer; the others are accepted without one (task event
-- waive_review). 1 keeps every reading for review, as before this migration.

ALTER TABLE workflow_settings ADD COLUMN review_rate REAL NOT NULL DEFAULT 1
    CHECK (review_rate BETWEEN 0 AND 1);
