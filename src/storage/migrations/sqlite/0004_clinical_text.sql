-- Clinical notes (docs/notes.md) and span labels (docs/spans.md). Notes: how each project
-- de-identifies text before storing it, and one row per stored note item. The note's text is the
-- item's (encrypted) content, already de-identified; offsets are Unicode code points into it.

CREATE TABLE text_settings (
  project_id      TEXT    PRIMARY KEY REFERENCES projects (id),
  deid_mode       TEXT    NOT NULL CHECK (deid_mode IN ('surrogate', 'tag')),
  clinician_names TEXT    NOT NULL CHECK (json_valid(clinician_names) AND json_type(clinician_names) = 'array'),
  updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE notes (
  item_id      TEXT    PRIMARY KEY REFERENCES items (id),
  project_id   TEXT    NOT NULL REFERENCES projects (id),
  source_hash  TEXT    NOT NULL,
  deid_mode    TEXT    NOT NULL CHECK (deid_mode IN ('surrogate', 'tag')),
  deid_edition TEXT    NOT NULL,
  chars        INTEGER NOT NULL CHECK (chars >= 1),
  phi_json     TEXT    NOT NULL CHECK (json_valid(phi_json) AND json_type(phi_json) = 'array'),
  created_at   INTEGER NOT NULL
) STRICT;
-- A source note is stored once per project (re-ingesting a file reports duplicates).
CREATE UNIQUE INDEX notes_by_source ON notes (project_id, source_hash);

-- Span labels (docs/spans.md): temporality and experiencer beside the assertion, and relations
-- to other labels of the item ([{"type", "target"}]) as the schema's relation types allow.
ALTER TABLE annotations ADD COLUMN temporality TEXT NOT NULL DEFAULT 'current'
  CHECK (temporality IN ('current', 'historical', 'future'));
ALTER TABLE annotations ADD COLUMN experiencer TEXT NOT NULL DEFAULT 'patient'
  CHECK (experiencer IN ('patient', 'family', 'other'));
ALTER TABLE annotations ADD COLUMN relations_json TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(relations_json) AND json_type(relations_json) = 'array');

-- Lab results (docs/labs.md) are items of data type labs, one per patient and ingest; the
-- reading room finds a patient's labs by their pseudonymous key.
CREATE INDEX items_by_patient ON items (project_id, patient_key, data_type, id);
