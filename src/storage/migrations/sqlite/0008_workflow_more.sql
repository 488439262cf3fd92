-- More of the labelling workflow (docs/workflow.md): why an item went to adjudication by
-- itself, the superseded versions of annotations (their history), gold items, and outcome
-- events (ground truth that arrives later), and the replies kept for Idempotency-Keys.

-- One row per class and trigger that fired when an item's k-th reading was submitted.
CREATE TABLE adjudication_triggers (
  id           TEXT    PRIMARY KEY,
  project_id   TEXT    NOT NULL REFERENCES projects (id),
  item_id      TEXT    NOT NULL REFERENCES items (id),
  label_class  TEXT    NOT NULL,
  reason       TEXT    NOT NULL
      CHECK (reason IN ('class_mismatch', 'grade_distance', 'dice_below', 'span_mismatch', 'low_confidence')),
  detail       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX adjudication_triggers_by_item ON adjudication_triggers (item_id, id);

-- An annotation as it was before a change replaced it: the columns of `annotations` at that
-- revision, and who replaced it, when and why. Rows are append-only (the triggers refuse
-- UPDATE and DELETE): history is never rewritten.
CREATE TABLE annotation_versions (
  id                   TEXT    NOT NULL REFERENCES annotations (id),
  project_id           TEXT    NOT NULL,
  item_id              TEXT    NOT NULL,
  task_id              TEXT    NOT NULL,
  author               TEXT    NOT NULL,
  guideline_version_id TEXT    NOT NULL,
  evidence_kind        TEXT    NOT NULL,
  evidence_json        TEXT    NOT NULL,
  label_class          TEXT    NOT NULL,
  code_system          TEXT    NOT NULL,
  code                 TEXT    NOT NULL,
  confidence           REAL,
  assertion            TEXT    NOT NULL,
  status               TEXT    NOT NULL,
  origin               TEXT    NOT NULL,
  revision             INTEGER NOT NULL,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL,
  temporality          TEXT    NOT NULL,
  experiencer          TEXT    NOT NULL,
  relations_json       TEXT    NOT NULL,
  replaced_by          TEXT    NOT NULL,
  replaced_at          INTEGER NOT NULL,
  reason               TEXT    NOT NULL,
  PRIMARY KEY (id, revision)
) STRICT;
CREATE TRIGGER annotation_versions_no_update BEFORE UPDATE ON annotation_versions
BEGIN
  SELECT RAISE(ABORT, 'annotation versions are append-only');
END;
CREATE TRIGGER annotation_versions_no_delete BEFORE DELETE ON annotation_versions
BEGIN
  SELECT RAISE(ABORT, 'annotation versions are append-only');
END;

-- Items with a known answer, mixed into readers' tasks at the settings' gold_rate. Nothing a
-- reader receives says an item is gold.
CREATE TABLE gold_items (
  item_id      TEXT    PRIMARY KEY REFERENCES items (id),
  project_id   TEXT    NOT NULL REFERENCES projects (id),
  -- JSON array of the class ids the answer names (may be empty: nothing to find)
  answer       TEXT    NOT NULL CHECK (json_valid(answer) AND json_type(answer) = 'array'),
  set_by       TEXT    NOT NULL,
  set_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX gold_items_by_project ON gold_items (project_id, item_id);

ALTER TABLE workflow_settings ADD COLUMN gold_rate REAL NOT NULL DEFAULT 0
    CHECK (gold_rate BETWEEN 0 AND 1);

-- Evidence that arrived after labelling: it confirms or refutes a class (or one value of it)
-- for one item (item_id) or for every item of a pseudonymous patient (item_id NULL).
CREATE TABLE outcomes (
  id            TEXT    PRIMARY KEY,
  project_id    TEXT    NOT NULL REFERENCES projects (id),
  item_id       TEXT    REFERENCES items (id),
  patient_key   TEXT    NOT NULL,
  evidence_type TEXT    NOT NULL,
  label_class   TEXT    NOT NULL,
  value         TEXT    NOT NULL,
  confirms      INTEGER NOT NULL CHECK (confirms IN (0, 1)),
  observed_at   INTEGER NOT NULL,
  recorded_by   TEXT    NOT NULL,
  recorded_at   INTEGER NOT NULL,
  CHECK ((item_id IS NULL) != (patient_key = ''))
) STRICT;
CREATE INDEX outcomes_by_project ON outcomes (project_id, id);

-- The first answer to a request made with an Idempotency-Key, per user and key.
CREATE TABLE idempotent_replies (
  user_id    TEXT    NOT NULL,
  key        TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  scope      TEXT    NOT NULL,
  status     INTEGER NOT NULL,
  body       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
) STRICT;
