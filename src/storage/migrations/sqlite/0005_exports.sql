-- Dataset exports (docs/export.md): request -> approval by another user -> an immutable
-- snapshot (an encrypted blob) -> one-time, time-limited download tokens.

CREATE TABLE exports (
  id              TEXT    PRIMARY KEY,
  project_id      TEXT    NOT NULL REFERENCES projects (id),
  version         INTEGER NOT NULL CHECK (version >= 1),
  spec_json       TEXT    NOT NULL CHECK (json_valid(spec_json)),
  reason          TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('requested', 'approved', 'denied', 'built', 'failed')),
  requested_by    TEXT    NOT NULL REFERENCES users (id),
  requested_at    INTEGER NOT NULL,
  decided_by      TEXT    NOT NULL,  -- '' until approved or denied
  decided_at      INTEGER,
  decision_note   TEXT    NOT NULL,
  snapshot_blob   TEXT    NOT NULL,  -- '' until built
  snapshot_bytes  INTEGER NOT NULL,
  manifest_sha256 TEXT    NOT NULL,
  error           TEXT    NOT NULL,
  revision        INTEGER NOT NULL CHECK (revision >= 1),
  UNIQUE (project_id, version),
  -- The two-person rule, also in the schema: nobody decides their own request.
  CHECK (decided_by = '' OR decided_by <> requested_by),
  CHECK ((status = 'requested') = (decided_by = ''))
) STRICT;

-- A built snapshot never changes.
CREATE TRIGGER exports_built_are_immutable
BEFORE UPDATE ON exports WHEN OLD.status = 'built'
BEGIN
  SELECT RAISE(ABORT, 'a built export is immutable');
END;

CREATE TABLE export_tokens (
  id          TEXT    PRIMARY KEY,
  export_id   TEXT    NOT NULL REFERENCES exports (id),
  token_hash  TEXT    NOT NULL UNIQUE,
  issued_to   TEXT    NOT NULL REFERENCES users (id),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) STRICT;
