-- The labelling workflow (docs/workflow.md): guideline versions, per-project workflow
-- settings, reviews and adjudications; tasks become claimable from a pool.

-- A project's guideline versions. A draft (version 0) is edited in place under optimistic
-- concurrency (revision); publishing numbers it and freezes it (the trigger refuses any later
-- change). At most one draft per project; published numbers are unique per project.
CREATE TABLE guideline_versions (
  id           TEXT    PRIMARY KEY,
  project_id   TEXT    NOT NULL REFERENCES projects (id),
  version      INTEGER NOT NULL CHECK (version >= 0),
  status       TEXT    NOT NULL CHECK (status IN ('draft', 'published')),
  schema_json  TEXT    NOT NULL CHECK (json_valid(schema_json)),
  based_on     TEXT    NOT NULL,
  revision     INTEGER NOT NULL CHECK (revision >= 1),
  created_at   INTEGER NOT NULL,
  created_by   TEXT    NOT NULL,
  published_at INTEGER,
  CHECK ((status = 'draft') = (version = 0)),
  CHECK ((status = 'published') = (published_at IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX guideline_versions_number ON guideline_versions (project_id, version)
  WHERE status = 'published';
CREATE UNIQUE INDEX guideline_versions_one_draft ON guideline_versions (project_id)
  WHERE status = 'draft';
CREATE TRIGGER guideline_versions_published_are_immutable
BEFORE UPDATE ON guideline_versions WHEN OLD.status = 'published'
BEGIN
  SELECT RAISE(ABORT, 'a published guideline version is immutable');
END;

CREATE TABLE workflow_settings (
  project_id             TEXT    PRIMARY KEY REFERENCES projects (id),
  readers_per_item       INTEGER NOT NULL CHECK (readers_per_item BETWEEN 1 AND 20),
  required_qualification TEXT    NOT NULL,  -- '' = none
  -- JSON array of data type names; [] = every type
  data_types             TEXT    NOT NULL CHECK (json_valid(data_types) AND json_type(data_types) = 'array'),
  lease_minutes          INTEGER NOT NULL CHECK (lease_minutes BETWEEN 1 AND 10080),
  updated_at             INTEGER NOT NULL
) STRICT;

-- A reader holds at most one task of an item (also across processes sharing the database).
CREATE UNIQUE INDEX tasks_one_per_reader ON tasks (item_id, assignee) WHERE assignee != '';
CREATE INDEX tasks_by_project_state ON tasks (project_id, state, created_at, id);

CREATE TABLE reviews (
  id                      TEXT    PRIMARY KEY,
  task_id                 TEXT    NOT NULL REFERENCES tasks (id),
  annotation_id           TEXT    NOT NULL,
  reviewer                TEXT    NOT NULL,
  decision                TEXT    NOT NULL CHECK (decision IN ('accept', 'correct', 'reject', 'escalate')),
  reason                  TEXT    NOT NULL,
  corrected_annotation_id TEXT    NOT NULL,
  created_at              INTEGER NOT NULL
) STRICT;
CREATE INDEX reviews_by_task ON reviews (task_id, id);

CREATE TABLE adjudications (
  id                   TEXT    PRIMARY KEY,
  project_id           TEXT    NOT NULL REFERENCES projects (id),
  item_id              TEXT    NOT NULL REFERENCES items (id),
  adjudicator          TEXT    NOT NULL,
  source_annotation_id TEXT    NOT NULL,
  final_annotation_id  TEXT    NOT NULL REFERENCES annotations (id),
  rationale            TEXT    NOT NULL,
  created_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX adjudications_by_item ON adjudications (item_id, id);
