-- What the quality sweep and every submit keep (docs/quality.md, "Stored soft labels and QA
-- findings"): the fused probability that a class is present on an item (Dawid–Skene over
-- every reading of the project), and the QA rule findings, item by item on submit and for the
-- whole project on a sweep. Both are replaced, never edited: a row says what the last run saw.

CREATE TABLE soft_labels (
  item_id     TEXT    NOT NULL REFERENCES items (id),
  project_id  TEXT    NOT NULL REFERENCES projects (id),
  label_class TEXT    NOT NULL,
  method      TEXT    NOT NULL CHECK (method IN ('dawid_skene')),
  probability REAL    NOT NULL CHECK (probability BETWEEN 0 AND 1),
  readings    INTEGER NOT NULL CHECK (readings >= 0),   -- the item's readings the fit saw
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (item_id, label_class, method)
) STRICT;
CREATE INDEX soft_labels_by_project ON soft_labels (project_id, item_id);

CREATE TABLE qa_findings (
  id            TEXT    PRIMARY KEY,
  project_id    TEXT    NOT NULL REFERENCES projects (id),
  item_id       TEXT    NOT NULL DEFAULT '',   -- '' for a project-level finding (class balance)
  rule          TEXT    NOT NULL,
  severity      TEXT    NOT NULL,
  label_class   TEXT    NOT NULL DEFAULT '',
  annotation_id TEXT    NOT NULL DEFAULT '',
  message       TEXT    NOT NULL,
  fix           TEXT    NOT NULL,
  source        TEXT    NOT NULL CHECK (source IN ('submit', 'sweep')),
  found_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX qa_findings_by_project ON qa_findings (project_id, item_id, id);
