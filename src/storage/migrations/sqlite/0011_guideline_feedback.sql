-- Guideline feedback (docs/workflow.md, "Guideline feedback"): where a reviewer or adjudicator
-- found that the published guideline did not fit an item, by class and kind, so managers can
-- count the recurring exceptions before writing the next version. Append-only.

CREATE TABLE guideline_feedback (
  id                   TEXT    PRIMARY KEY,
  project_id           TEXT    NOT NULL REFERENCES projects (id),
  item_id              TEXT    NOT NULL REFERENCES items (id),
  label_class          TEXT    NOT NULL,
  guideline_version_id TEXT    NOT NULL REFERENCES guideline_versions (id),
  kind                 TEXT    NOT NULL CHECK (kind IN ('unclear_definition', 'missing_edge_case',
                                                        'criteria_conflict', 'needs_example', 'other')),
  note                 TEXT    NOT NULL CHECK (length(note) <= 4000),
  author               TEXT    NOT NULL,
  created_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX guideline_feedback_by_project ON guideline_feedback (project_id, id);
CREATE TRIGGER guideline_feedback_no_update BEFORE UPDATE ON guideline_feedback
BEGIN
  SELECT RAISE(ABORT, 'guideline feedback is append-only');
END;
