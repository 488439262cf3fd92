-- Tasks: an item assigned to a reader, with the task state machine's state (core/rules.h).
CREATE TABLE tasks (
  id               TEXT    PRIMARY KEY,
  project_id       TEXT    NOT NULL REFERENCES projects (id),
  item_id          TEXT    NOT NULL REFERENCES items (id),
  assignee         TEXT    NOT NULL,
  state            TEXT    NOT NULL CHECK (state IN ('open', 'claimed', 'submitted', 'in_review',
                                                     'accepted', 'rejected', 'escalated',
                                                     'adjudicated')),
  lease_expires_at INTEGER,
  revision         INTEGER NOT NULL CHECK (revision >= 1),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_by_item ON tasks (item_id, id);
CREATE INDEX tasks_by_assignee ON tasks (assignee, state);
