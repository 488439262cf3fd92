-- Caliper SQLite schema, version 1.
--
-- Conventions: ids are opaque TEXT; times are INTEGER microseconds since the Unix epoch (UTC);
-- enums are the snake_case names of core/rules.h ToString; lists of enum or permission names
-- are JSON arrays of strings. Tables are STRICT so a wrongly typed value is refused.
-- Applied by the migration runner in src/storage/sqlite/sqlite_store.cpp inside one
-- transaction, which also records it in schema_version.

CREATE TABLE schema_version (
  number     INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;

-- ---- people and access ---------------------------------------------------------------------

CREATE TABLE users (
  id                   TEXT    PRIMARY KEY,
  username             TEXT    NOT NULL UNIQUE,
  display_name         TEXT    NOT NULL,
  password_hash        TEXT    NOT NULL,
  is_admin             INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
  disabled             INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
  locked_until         INTEGER,
  -- JSON array of qualification names, e.g. ["radiologist"]
  qualifications       TEXT    NOT NULL DEFAULT '[]'
                               CHECK (json_valid(qualifications) AND json_type(qualifications) = 'array'),
  created_at           INTEGER NOT NULL
) STRICT;

-- Sign-in attempts, kept for lock-out (by username) and throttling (by address). The username
-- need not belong to a user.
CREATE TABLE login_attempts (
  id             INTEGER PRIMARY KEY,
  username       TEXT    NOT NULL,
  source_address TEXT    NOT NULL,
  at             INTEGER NOT NULL,
  success        INTEGER NOT NULL CHECK (success IN (0, 1))
) STRICT;
CREATE INDEX login_attempts_by_username ON login_attempts (username, at);
CREATE INDEX login_attempts_by_address ON login_attempts (source_address, at);

CREATE TABLE sessions (
  id                  TEXT    PRIMARY KEY,
  user_id             TEXT    NOT NULL REFERENCES users (id),
  token_hash          TEXT    NOT NULL UNIQUE,
  csrf_hash           TEXT    NOT NULL,
  source_address      TEXT    NOT NULL,
  created_at          INTEGER NOT NULL,
  last_seen_at        INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  revoked_at          INTEGER
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE projects (
  id          TEXT    PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  description TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT    NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  id          TEXT    PRIMARY KEY,
  name        TEXT    NOT NULL,
  user_id     TEXT    NOT NULL REFERENCES users (id),
  project_id  TEXT    NOT NULL REFERENCES projects (id),
  -- JSON array of permission names
  permissions TEXT    NOT NULL CHECK (json_valid(permissions) AND json_type(permissions) = 'array'),
  token_hash  TEXT    NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER
) STRICT;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, id);

CREATE TABLE memberships (
  project_id TEXT    NOT NULL REFERENCES projects (id),
  user_id    TEXT    NOT NULL REFERENCES users (id),
  -- JSON arrays of role names and data type names
  roles      TEXT    NOT NULL CHECK (json_valid(roles) AND json_type(roles) = 'array'),
  scopes     TEXT    NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_id)
) STRICT;
CREATE INDEX memberships_by_user ON memberships (user_id, project_id);

-- ---- data ----------------------------------------------------------------------------------

CREATE TABLE items (
  id            TEXT    PRIMARY KEY,
  project_id    TEXT    NOT NULL REFERENCES projects (id),
  data_type     TEXT    NOT NULL
                        CHECK (data_type IN ('imaging', 'pathology', 'notes', 'labs', 'waveforms')),
  modality      TEXT    NOT NULL,
  patient_key   TEXT    NOT NULL,
  cohort_json   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(cohort_json)),
  content_blob  TEXT    NOT NULL,
  content_type  TEXT    NOT NULL,
  content_bytes INTEGER NOT NULL CHECK (content_bytes >= 0),
  created_at    INTEGER NOT NULL,
  created_by    TEXT    NOT NULL
) STRICT;
CREATE INDEX items_by_project ON items (project_id, id);

-- ---- annotations ---------------------------------------------------------------------------

CREATE TABLE annotations (
  id                   TEXT    PRIMARY KEY,
  project_id           TEXT    NOT NULL REFERENCES projects (id),
  item_id              TEXT    NOT NULL REFERENCES items (id),
  task_id              TEXT    NOT NULL,
  author               TEXT    NOT NULL,
  guideline_version_id TEXT    NOT NULL,
  evidence_kind        TEXT    NOT NULL,
  evidence_json        TEXT    NOT NULL,
  label_class          TEXT    NOT NULL,
  code_system          TEXT    NOT NULL,
  code                 TEXT    NOT NULL,
  confidence           REAL    CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
  assertion            TEXT    NOT NULL
      CHECK (assertion IN ('present', 'absent', 'possible', 'conditional', 'hypothetical')),
  status               TEXT    NOT NULL
      CHECK (status IN ('provisional', 'confirmed', 'unconfirmed', 'consensus', 'adjudicated')),
  origin               TEXT    NOT NULL,
  -- optimistic concurrency: UpdateAnnotation matches the expected revision
  revision             INTEGER NOT NULL,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX annotations_by_item ON annotations (item_id, id);

-- ---- audit ---------------------------------------------------------------------------------

-- The audit chain. seq is assigned by the store as max(seq) + 1 inside the write transaction,
-- so it has no gaps. Rows are append-only: the triggers refuse UPDATE and DELETE.
CREATE TABLE audit_events (
  seq            INTEGER PRIMARY KEY CHECK (seq >= 1),
  time           INTEGER NOT NULL,
  actor          TEXT    NOT NULL,
  session_id     TEXT    NOT NULL,
  source_address TEXT    NOT NULL,
  action         TEXT    NOT NULL,
  object_type    TEXT    NOT NULL,
  object_id      TEXT    NOT NULL,
  outcome        TEXT    NOT NULL,
  details_json   TEXT    NOT NULL,
  prev_hash      TEXT    NOT NULL,
  hash           TEXT    NOT NULL
) STRICT;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TABLE audit_checkpoints (
  seq       INTEGER PRIMARY KEY REFERENCES audit_events (seq),
  hash      TEXT    NOT NULL,
  signature TEXT    NOT NULL,
  time      INTEGER NOT NULL
) STRICT;

-- ---- keys ----------------------------------------------------------------------------------

-- Project keys wrapped by the master key. Not tied to projects by a foreign key: the key
-- hierarchy is managed by security/keys and may be restored independently.
CREATE TABLE project_keys (
  project_id TEXT    PRIMARY KEY,
  wrapped    BLOB    NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  created_at INTEGER NOT NULL
) STRICT;

-- Data keys (one per project and pseudonymous patient) wrapped by their project key. A
-- destroyed (crypto-shredded) key keeps its row with an empty `wrapped` and destroyed_at set.
CREATE TABLE data_keys (
  id                  TEXT    PRIMARY KEY,
  project_id          TEXT    NOT NULL,
  patient_key         TEXT    NOT NULL,
  wrapped             BLOB    NOT NULL,
  project_key_version INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  destroyed_at        INTEGER,
  UNIQUE (project_id, patient_key)
) STRICT;
