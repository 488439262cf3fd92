-- AI pre-labels (docs/workflow.md, "AI pre-labels"): model suggestions, each reader's decision
-- on them, the workflow settings for anchoring and active learning, and item-scoped API tokens
-- (the model back-end protocol's expiring token for fetching one item's data).

CREATE TABLE prelabels (
  id                   TEXT    PRIMARY KEY,
  project_id           TEXT    NOT NULL REFERENCES projects (id),
  item_id              TEXT    NOT NULL REFERENCES items (id),
  model_name           TEXT    NOT NULL CHECK (length(model_name) BETWEEN 1 AND 100),
  model_version        TEXT    NOT NULL CHECK (length(model_version) BETWEEN 1 AND 100),
  guideline_version_id TEXT    NOT NULL REFERENCES guideline_versions (id),
  evidence_kind        TEXT    NOT NULL,
  evidence_json        TEXT    NOT NULL CHECK (json_valid(evidence_json)),
  label_class          TEXT    NOT NULL,
  code_system          TEXT    NOT NULL,
  code                 TEXT    NOT NULL,
  assertion            TEXT    NOT NULL,
  attributes_json      TEXT    NOT NULL CHECK (json_valid(attributes_json)),
  score                REAL    CHECK (score IS NULL OR score BETWEEN 0 AND 1),
  scores_json          TEXT    NOT NULL CHECK (json_valid(scores_json)),
  created_at           INTEGER NOT NULL,
  created_by           TEXT    NOT NULL
) STRICT;
CREATE INDEX prelabels_by_item ON prelabels (item_id, id);
CREATE INDEX prelabels_by_model ON prelabels (project_id, model_name, model_version);

-- One decision per reader and pre-label; a pre-label without one is pending for that reader.
CREATE TABLE prelabel_decisions (
  id              TEXT    PRIMARY KEY,
  prelabel_id     TEXT    NOT NULL REFERENCES prelabels (id),
  project_id      TEXT    NOT NULL REFERENCES projects (id),
  item_id         TEXT    NOT NULL REFERENCES items (id),
  reader          TEXT    NOT NULL REFERENCES users (id),
  task_id         TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('accepted', 'corrected', 'rejected')),
  annotation_id   TEXT    NOT NULL,
  correction_size REAL    CHECK (correction_size IS NULL OR correction_size BETWEEN 0 AND 1),
  reason          TEXT    NOT NULL,
  decided_at      INTEGER NOT NULL,
  CHECK ((status = 'rejected') = (annotation_id = '')),
  CHECK ((status = 'corrected') = (correction_size IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX prelabel_decisions_one_per_reader ON prelabel_decisions (prelabel_id, reader);
CREATE INDEX prelabel_decisions_by_project ON prelabel_decisions (project_id, id);

ALTER TABLE workflow_settings ADD COLUMN task_order TEXT NOT NULL DEFAULT 'fifo'
  CHECK (task_order IN ('fifo', 'random', 'least_sure'));
ALTER TABLE workflow_settings ADD COLUMN prelabel_hidden_share REAL NOT NULL DEFAULT 0
  CHECK (prelabel_hidden_share BETWEEN 0 AND 1);

-- '' = the token reaches every item of its project; otherwise only this item.
ALTER TABLE api_tokens ADD COLUMN item_id TEXT NOT NULL DEFAULT '';
